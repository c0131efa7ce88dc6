//! `Broker`: the whole broker started inside a program, on threads of its own.
//!
//! `Broker::start` checks the configuration, locks the data directory, binds every
//! door (the native door's ROUTER in a sinew `Context` the program can reach, so
//! its sockets can talk to an `inproc://` endpoint) and runs the server loop on a
//! thread named `sinew-broker`; the store runs on its own threads behind it.
//! `shutdown` (or dropping the `Broker`) stops the loop as the binary's SIGTERM
//! does: no new clients, pending requests answered, clients flushed, the store
//! closed, the loop thread joined, and the data directory's lock released, so the
//! same directory can be opened again at once.
//!
//! This module must never install signal handlers (the binary's `main` does that,
//! through `stopper`), never block but in `wait`, `shutdown` and `Drop`, and never
//! hold broker logic: it only starts, stops and joins the server.

use crate::config::{Config, ConfigError};
use crate::data_dir::{DataDir, DataDirError};
use crate::server::{Server, StartError, Stopper};
use sinew::Context;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Why a broker could not start, or how it ended badly.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A setting has a value the broker cannot run with.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The data directory cannot be used (another broker holds it, or it cannot
    /// be created).
    #[error("{0}")]
    DataDir(#[from] DataDirError),
    /// A door could not bind, or the store could not open.
    #[error("{0}")]
    Start(#[from] StartError),
    /// The loop's thread could not be started.
    #[error("cannot start the broker's thread: {0}")]
    Thread(io::Error),
    /// The loop failed, or the store failed on closing.
    #[error("the broker stopped on an error: {0}")]
    Run(io::Error),
    /// The loop's thread panicked (a bug: the broker never panics on input).
    #[error("the broker's thread panicked")]
    Panicked,
}

/// A running broker inside this program. Stopped and joined by `shutdown`, or
/// when dropped.
///
/// Clients in the same program connect a sinew DEALER made from
/// [`Broker::context`] to [`Broker::native_endpoint`] and speak
/// `broker/docs/protocol.md` (the codec is `crate::doors::native`). An
/// `inproc://` endpoint joins sockets of one `Context` only: start the broker with
/// [`Broker::start_in`] to use a context the program already has.
///
/// ```
/// use sinew::{Message, SocketType};
/// use sinew_broker::doors::native::{
///     Request, RequestBody, ResponseBody, decode_response, encode_request,
/// };
/// use sinew_broker::{Broker, config::Config};
///
/// let data = std::env::temp_dir().join(format!("sinew-doc-{}", std::process::id()));
/// let broker = Broker::start(&Config::embedded(&data))?;
/// let dealer = broker.context().socket(SocketType::Dealer)?;
/// dealer.connect(broker.native_endpoint())?;
/// let request = Request { correlation_id: 1, body: RequestBody::ListTopics };
/// dealer.send(Message::from_frames(encode_request(&request)))?;
/// let reply = dealer.recv_with_timeout(Some(std::time::Duration::from_secs(10)))?;
/// let response = decode_response(reply.frames())?;
/// assert_eq!(response.body, ResponseBody::ListTopics(Vec::new()));
/// broker.shutdown()?;
/// # std::fs::remove_dir_all(&data)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Broker {
    context: Context,
    native_endpoint: String,
    nats_address: Option<SocketAddr>,
    kafka_address: Option<SocketAddr>,
    http_address: Option<SocketAddr>,
    data_dir: PathBuf,
    stopper: Stopper,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Broker {
    /// Starts a broker with `config` in a new sinew `Context` (reach it with
    /// [`Broker::context`]). Returns once every door is bound and the store is
    /// open: a client may connect at once.
    pub fn start(config: &Config) -> Result<Broker, BrokerError> {
        Broker::start_in(config, &Context::new())
    }

    /// Starts a broker with `config`, its native door a socket of `context`: the
    /// program's sockets of that context reach an `inproc://` endpoint. Shutting
    /// the context down (`Context::shutdown`) stops the door from serving; stop
    /// the broker first.
    pub fn start_in(config: &Config, context: &Context) -> Result<Broker, BrokerError> {
        config.check()?;
        let data = DataDir::lock(&config.data_dir)?;
        let server = Server::bind(config, context)?;
        let native_endpoint = server.native_endpoint().to_owned();
        let nats_address = server.nats_address();
        let kafka_address = server.kafka_address();
        let http_address = server.http_address();
        let stopper = server.stopper();
        let thread = std::thread::Builder::new()
            .name("sinew-broker".to_owned())
            .spawn(move || {
                let result = server.run();
                // The lock goes only once the store is closed.
                drop(data);
                result
            })
            .map_err(BrokerError::Thread)?;
        Ok(Broker {
            context: context.clone(),
            native_endpoint,
            nats_address,
            kafka_address,
            http_address,
            data_dir: config.data_dir.clone(),
            stopper,
            thread: Some(thread),
        })
    }

    /// The sinew context of the native door's socket: make the sockets that talk
    /// to an `inproc://` endpoint from it.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Where the native door listens, with a port 0 filled in (connect a DEALER
    /// here).
    pub fn native_endpoint(&self) -> &str {
        &self.native_endpoint
    }

    /// Where the Kafka door listens, with a port 0 filled in; `None` if it is off.
    pub fn kafka_address(&self) -> Option<SocketAddr> {
        self.kafka_address
    }

    /// Where the NATS door listens, with a port 0 filled in; `None` if it is off.
    pub fn nats_address(&self) -> Option<SocketAddr> {
        self.nats_address
    }

    /// Where monitoring is served, with a port 0 filled in; `None` if it is off.
    pub fn http_address(&self) -> Option<SocketAddr> {
        self.http_address
    }

    /// The data directory, locked while the broker runs.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What stops this broker from another thread (the binary's signal handler):
    /// `wait` then returns.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Stops the broker: no new clients, pending requests answered, clients
    /// flushed (for at most 5 seconds), the store closed; then joins its thread
    /// and releases the data directory. The error is how the loop or the store
    /// ended, if badly.
    pub fn shutdown(mut self) -> Result<(), BrokerError> {
        self.stopper.stop();
        self.join()
    }

    /// Waits until the broker stops (through its `stopper`, or on an error), as
    /// the binary does.
    pub fn wait(mut self) -> Result<(), BrokerError> {
        self.join()
    }

    fn join(&mut self) -> Result<(), BrokerError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        match thread.join() {
            Ok(result) => result.map_err(BrokerError::Run),
            Err(_) => Err(BrokerError::Panicked),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if self.thread.is_none() {
            return;
        }
        self.stopper.stop();
        if let Err(error) = self.join() {
            tracing::error!(%error, "stopping the embedded broker");
        }
    }
}
