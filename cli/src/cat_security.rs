//! `sinew cat`'s security flags: CURVE keys for a server or a client, PLAIN
//! credentials for a client, set on the socket before it binds or connects (the
//! ZMQ_CURVE_* and ZMQ_PLAIN_* options); and, for a server, who is admitted
//! (`--curve-allow`, `--plain-allow`), decided by a `ZapHandler` started in the
//! socket's context. Keys are given in Z85, as `sinew keygen` prints them.
//!
//! Without an allow flag the servers do as libzmq's do without a ZAP handler:
//! a CURVE server admits any client that knows its key, a PLAIN server admits
//! no one. Keys and passwords may start with '-' (Z85 has it). This file must
//! never print a secret, and refuses a key that is not 40 characters of Z85
//! with a message naming the flag.

use clap::Args;
use sinew::curve::{PublicKey, SecretKey};
use sinew::zap::{Authenticator, CurveKeys};
use sinew::{Context, Socket, ZapHandler};

/// The security flags of `sinew cat`.
#[derive(Debug, Args)]
pub struct SecurityArgs {
    /// Act as a CURVE server (with --curve-secret-key): clients must know this
    /// socket's public key (ZMQ_CURVE_SERVER).
    #[arg(long)]
    curve_server: bool,
    /// This socket's CURVE secret key, Z85 (ZMQ_CURVE_SECRETKEY).
    #[arg(long, value_name = "Z85", allow_hyphen_values = true)]
    curve_secret_key: Option<String>,
    /// This socket's CURVE public key, Z85 (ZMQ_CURVE_PUBLICKEY; a client's).
    #[arg(long, value_name = "Z85", allow_hyphen_values = true)]
    curve_public_key: Option<String>,
    /// The CURVE server's public key, Z85: makes this socket a CURVE client
    /// (ZMQ_CURVE_SERVERKEY).
    #[arg(long, value_name = "Z85", allow_hyphen_values = true)]
    curve_server_key: Option<String>,
    /// Admit only the CURVE client with this public key, Z85 (repeatable; `*`
    /// admits any key, and names no user). Without it a CURVE server admits
    /// every client that knows its key, as libzmq's does without a ZAP handler.
    #[arg(long, value_name = "PUBLIC", allow_hyphen_values = true)]
    curve_allow: Vec<String>,
    /// Act as a PLAIN server (ZMQ_PLAIN_SERVER): clients are admitted by
    /// --plain-allow only (with none, as in libzmq, no one).
    #[arg(long)]
    plain_server: bool,
    /// Admit the PLAIN client with this user name and password (repeatable).
    #[arg(long, value_name = "USER:PASSWORD", allow_hyphen_values = true)]
    plain_allow: Vec<String>,
    /// A PLAIN client's user name (ZMQ_PLAIN_USERNAME).
    #[arg(long, value_name = "USER")]
    plain_user: Option<String>,
    /// A PLAIN client's password (ZMQ_PLAIN_PASSWORD).
    #[arg(long, value_name = "PASSWORD", allow_hyphen_values = true)]
    plain_password: Option<String>,
}

impl SecurityArgs {
    /// Sets the options the flags name on `socket` and, for the allow flags,
    /// starts the ZAP handler of `context` (keep it while the socket serves);
    /// the error names the flag.
    pub fn apply(&self, context: &Context, socket: &Socket) -> Result<Option<ZapHandler>, String> {
        let option = |flag: &str, error: sinew::Error| format!("{flag}: {error}");
        if let Some(user) = &self.plain_user {
            socket
                .set_plain_username(Some(user.as_bytes()))
                .map_err(|error| option("--plain-user", error))?;
            let password = self.plain_password.as_deref().unwrap_or("");
            socket
                .set_plain_password(Some(password.as_bytes()))
                .map_err(|error| option("--plain-password", error))?;
        }
        if let Some(text) = &self.curve_secret_key {
            let key = SecretKey::from_z85(text)
                .map_err(|error| format!("--curve-secret-key: {error}"))?;
            socket
                .set_curve_secret_key(key)
                .map_err(|error| option("--curve-secret-key", error))?;
        }
        if let Some(text) = &self.curve_public_key {
            let key = PublicKey::from_z85(text)
                .map_err(|error| format!("--curve-public-key: {error}"))?;
            socket
                .set_curve_public_key(key)
                .map_err(|error| option("--curve-public-key", error))?;
        }
        if let Some(text) = &self.curve_server_key {
            let key = PublicKey::from_z85(text)
                .map_err(|error| format!("--curve-server-key: {error}"))?;
            socket
                .set_curve_server_key(key)
                .map_err(|error| option("--curve-server-key", error))?;
        }
        if self.curve_server {
            if self.curve_secret_key.is_none() {
                return Err("--curve-server needs --curve-secret-key".to_owned());
            }
            socket
                .set_curve_server(true)
                .map_err(|error| option("--curve-server", error))?;
        }
        if self.plain_server {
            socket
                .set_plain_server(true)
                .map_err(|error| option("--plain-server", error))?;
        }
        self.start_handler(context)
    }

    /// The ZAP handler the allow flags call for, if any.
    fn start_handler(&self, context: &Context) -> Result<Option<ZapHandler>, String> {
        if self.curve_allow.is_empty() && self.plain_allow.is_empty() {
            return Ok(None);
        }
        if !self.curve_allow.is_empty() && !self.curve_server {
            return Err("--curve-allow needs --curve-server".to_owned());
        }
        if !self.plain_allow.is_empty() && !self.plain_server {
            return Err("--plain-allow needs --plain-server".to_owned());
        }
        let mut rules = Authenticator::new();
        for text in &self.curve_allow {
            if text == "*" {
                rules.set_curve_keys(CurveKeys::Any);
                continue;
            }
            let key =
                PublicKey::from_z85(text).map_err(|error| format!("--curve-allow: {error}"))?;
            rules.allow_curve_key(*key.as_bytes());
        }
        for pair in &self.plain_allow {
            let Some((user, password)) = pair.split_once(':') else {
                return Err("--plain-allow takes USER:PASSWORD".to_owned());
            };
            rules.set_password(user.to_owned(), password.to_owned());
        }
        ZapHandler::start(context, rules)
            .map(Some)
            .map_err(|error| format!("the ZAP handler did not start: {error}"))
    }
}
