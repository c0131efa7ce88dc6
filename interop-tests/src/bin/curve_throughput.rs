//! `curve_throughput`: encrypted PUSH/PULL throughput over TCP, Sinew's CURVE
//! against libzmq 4.3.5's in one run, as `side_by_side` measures plain
//! throughput: the receiver times its first to its last message, the sender is
//! a second process (this binary re-executed), the implementations take turns
//! to go first, and each figure is the median of the runs.
//!
//! libzmq is the build pyzmq bundles (CURVE on libsodium), opened with dlopen,
//! since the `zmq` crate's vendored libzmq has no CURVE; its sender sends
//! messages made with zmq_msg_init_size, as remote_thr does, and its receiver
//! reuses one zmq_msg_t, as local_thr does. Sinew sends clones of one payload.
//! This program reports figures; it must never be part of a timed assertion.

use clap::{Parser, Subcommand};
use sinew::curve::{KeyPair, PublicKey, SecretKey};
use sinew::{Context, SocketType};
use std::ffi::{CString, c_char, c_int, c_void};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The high-water mark at both ends, as in `side_by_side`.
const HIGH_WATER_MARK: i32 = 1000;

/// Encrypted throughput of Sinew and libzmq, side by side.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    child: Option<Child>,
    /// Runs per implementation and size (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Message sizes in bytes (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [64, 1024, 64 * 1024, 1024 * 1024])]
    sizes: Vec<usize>,
    /// Tiny counts and one run: a smoke test, not a measurement.
    #[arg(long)]
    quick: bool,
    /// The libzmq builds to measure (comma-separated paths; `pyzmq` for the one
    /// pyzmq bundles). Default: Debian's libzmq5 (on libsodium23) and pyzmq's.
    #[arg(long, value_delimiter = ',', default_values_t = [SYSTEM_LIBZMQ.to_owned(), "pyzmq".to_owned()])]
    libzmq: Vec<String>,
}

/// Debian's libzmq5 (`apt-get install libzmq5`), CURVE on the system libsodium.
const SYSTEM_LIBZMQ: &str = "/usr/lib/x86_64-linux-gnu/libzmq.so.5";

#[derive(Debug, Subcommand)]
enum Child {
    /// The sending end of one measurement (started by this program).
    #[command(hide = true)]
    Send {
        #[arg(long)]
        implementation: String,
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        size: usize,
        #[arg(long)]
        count: u64,
        #[arg(long)]
        server_key: String,
        #[arg(long)]
        secret_key: String,
    },
}

/// One implementation's two ends.
trait Implementation {
    /// Binds a CURVE server PULL on 127.0.0.1 and returns its endpoint, then
    /// (through `started`) lets the sender start, and times `count` messages.
    fn receive(
        &self,
        keys: &KeyPair,
        size: usize,
        count: u64,
        started: &mut dyn FnMut(&str) -> Result<std::process::Child, String>,
    ) -> Result<f64, String>;

    /// Connects a CURVE client PUSH to `endpoint` and sends `count` messages.
    fn send(
        &self,
        endpoint: &str,
        keys: &KeyPair,
        server: &PublicKey,
        size: usize,
        count: u64,
    ) -> Result<(), String>;
}

struct Sinew;

impl Implementation for Sinew {
    fn receive(
        &self,
        keys: &KeyPair,
        size: usize,
        count: u64,
        started: &mut dyn FnMut(&str) -> Result<std::process::Child, String>,
    ) -> Result<f64, String> {
        let context = Context::new();
        let pull = context.socket(SocketType::Pull).map_err(text)?;
        pull.set_receive_high_water_mark(HIGH_WATER_MARK as u32)
            .map_err(text)?;
        pull.set_curve_server(true).map_err(text)?;
        pull.set_curve_secret_key(keys.secret().clone())
            .map_err(text)?;
        pull.set_receive_timeout(Some(Duration::from_secs(30)))
            .map_err(text)?;
        pull.bind("tcp://127.0.0.1:0").map_err(text)?;
        let endpoint = pull.last_endpoint().ok_or("no endpoint")?;
        let mut sender = started(&endpoint)?;
        let mut first = None;
        for _ in 0..count {
            let message = pull.recv().map_err(text)?;
            if message.size_bytes() != size {
                return Err(format!(
                    "received {} bytes, not {size}",
                    message.size_bytes()
                ));
            }
            first.get_or_insert_with(Instant::now);
        }
        let elapsed = first.map(|first| first.elapsed()).unwrap_or_default();
        finish(&mut sender)?;
        Ok((count - 1) as f64 / elapsed.as_secs_f64())
    }

    fn send(
        &self,
        endpoint: &str,
        keys: &KeyPair,
        server: &PublicKey,
        size: usize,
        count: u64,
    ) -> Result<(), String> {
        let context = Context::new();
        let push = context.socket(SocketType::Push).map_err(text)?;
        push.set_send_high_water_mark(HIGH_WATER_MARK as u32)
            .map_err(text)?;
        push.set_curve_secret_key(keys.secret().clone())
            .map_err(text)?;
        push.set_curve_public_key(*keys.public()).map_err(text)?;
        push.set_curve_server_key(*server).map_err(text)?;
        push.set_linger(None).map_err(text)?;
        push.connect(endpoint).map_err(text)?;
        let payload = bytes::Bytes::from(vec![0u8; size]);
        for _ in 0..count {
            push.send(payload.clone())
                .map_err(|error| error.to_string())?;
        }
        Ok(())
    }
}

fn text(error: sinew::Error) -> String {
    error.to_string()
}

/// libzmq's C API, the few calls used here, from pyzmq's bundled library.
struct Libzmq {
    ctx_new: unsafe extern "C" fn() -> *mut c_void,
    ctx_term: unsafe extern "C" fn(*mut c_void) -> c_int,
    socket: unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void,
    close: unsafe extern "C" fn(*mut c_void) -> c_int,
    setsockopt: unsafe extern "C" fn(*mut c_void, c_int, *const c_void, usize) -> c_int,
    getsockopt: unsafe extern "C" fn(*mut c_void, c_int, *mut c_void, *mut usize) -> c_int,
    bind: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    connect: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    msg_init: unsafe extern "C" fn(*mut Msg) -> c_int,
    msg_init_size: unsafe extern "C" fn(*mut Msg, usize) -> c_int,
    msg_send: unsafe extern "C" fn(*mut Msg, *mut c_void, c_int) -> c_int,
    msg_recv: unsafe extern "C" fn(*mut Msg, *mut c_void, c_int) -> c_int,
    msg_size: unsafe extern "C" fn(*const Msg) -> usize,
    msg_close: unsafe extern "C" fn(*mut Msg) -> c_int,
}

/// zmq_msg_t: 64 opaque bytes, 8-aligned.
#[repr(C, align(8))]
struct Msg([u8; 64]);

const ZMQ_PUSH: c_int = 8;
const ZMQ_PULL: c_int = 7;
const ZMQ_LINGER: c_int = 17;
const ZMQ_SNDHWM: c_int = 23;
const ZMQ_RCVHWM: c_int = 24;
const ZMQ_RCVTIMEO: c_int = 27;
const ZMQ_LAST_ENDPOINT: c_int = 32;
const ZMQ_CURVE_SERVER: c_int = 47;
const ZMQ_CURVE_PUBLICKEY: c_int = 48;
const ZMQ_CURVE_SECRETKEY: c_int = 49;
const ZMQ_CURVE_SERVERKEY: c_int = 50;

impl Libzmq {
    /// Where pyzmq's bundled libzmq is (installed by
    /// interop-tests/requirements.txt).
    fn pyzmq_path() -> Result<String, String> {
        let output = Command::new("python3")
            .args([
                "-c",
                "import glob, os, zmq; print(glob.glob(os.path.join(os.path.dirname(zmq.__file__), '..', 'pyzmq.libs', 'libzmq*'))[0])",
            ])
            .output()
            .map_err(|error| format!("python3: {error}"))?;
        let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() || path.is_empty() {
            return Err(
                "pyzmq's libzmq not found (pip install -r interop-tests/requirements.txt)"
                    .to_owned(),
            );
        }
        Ok(path)
    }

    /// Opens the libzmq at `path`.
    fn open(path: &str) -> Result<Libzmq, String> {
        let shown = path.to_owned();
        let path = CString::new(path).map_err(|error| error.to_string())?;
        // SAFETY: dlopen of a shared library by path; its initialisers are libzmq's.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            return Err(format!("dlopen of {shown} failed"));
        }
        let symbol = |name: &str| -> Result<*mut c_void, String> {
            let name = CString::new(name).map_err(|error| error.to_string())?;
            // SAFETY: dlsym on the handle just opened.
            let address = unsafe { libc::dlsym(handle, name.as_ptr()) };
            if address.is_null() {
                Err(format!("libzmq has no {name:?}"))
            } else {
                Ok(address)
            }
        };
        // SAFETY: each symbol is libzmq 4.3's function of that name, whose C
        // signature the field's type repeats (zmq.h).
        unsafe fn function<F: Copy>(address: *mut c_void) -> F {
            assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
            // SAFETY: (for the caller) `address` is a function of type `F`.
            unsafe { std::mem::transmute_copy(&address) }
        }
        unsafe {
            Ok(Libzmq {
                ctx_new: function(symbol("zmq_ctx_new")?),
                ctx_term: function(symbol("zmq_ctx_term")?),
                socket: function(symbol("zmq_socket")?),
                close: function(symbol("zmq_close")?),
                setsockopt: function(symbol("zmq_setsockopt")?),
                getsockopt: function(symbol("zmq_getsockopt")?),
                bind: function(symbol("zmq_bind")?),
                connect: function(symbol("zmq_connect")?),
                msg_init: function(symbol("zmq_msg_init")?),
                msg_init_size: function(symbol("zmq_msg_init_size")?),
                msg_send: function(symbol("zmq_msg_send")?),
                msg_recv: function(symbol("zmq_msg_recv")?),
                msg_size: function(symbol("zmq_msg_size")?),
                msg_close: function(symbol("zmq_msg_close")?),
            })
        }
    }

    /// A socket of `kind` with the high-water marks and the CURVE options.
    unsafe fn socket(
        &self,
        context: *mut c_void,
        kind: c_int,
        options: &[(c_int, &[u8])],
    ) -> Result<*mut c_void, String> {
        // SAFETY (for the caller): `context` is a live libzmq context.
        let socket = unsafe { (self.socket)(context, kind) };
        if socket.is_null() {
            return Err("zmq_socket failed".to_owned());
        }
        let mark = HIGH_WATER_MARK.to_ne_bytes();
        let timeout = 30_000i32.to_ne_bytes();
        let common: [(c_int, &[u8]); 3] = [
            (ZMQ_SNDHWM, &mark),
            (ZMQ_RCVHWM, &mark),
            (ZMQ_RCVTIMEO, &timeout),
        ];
        for (option, value) in common.iter().chain(options) {
            // SAFETY: a live socket and a value of the option's size.
            let rc =
                unsafe { (self.setsockopt)(socket, *option, value.as_ptr().cast(), value.len()) };
            if rc != 0 {
                return Err(format!("zmq_setsockopt {option} failed"));
            }
        }
        Ok(socket)
    }
}

struct LibzmqCurve(Libzmq);

impl Implementation for LibzmqCurve {
    fn receive(
        &self,
        keys: &KeyPair,
        size: usize,
        count: u64,
        started: &mut dyn FnMut(&str) -> Result<std::process::Child, String>,
    ) -> Result<f64, String> {
        let zmq = &self.0;
        let on = 1i32.to_ne_bytes();
        let secret = keys.secret().to_z85();
        // SAFETY: every call below is on the context and socket made here,
        // with buffers of the sizes passed; both are closed before returning.
        unsafe {
            let context = (zmq.ctx_new)();
            let pull = zmq.socket(
                context,
                ZMQ_PULL,
                &[
                    (ZMQ_CURVE_SERVER, &on),
                    (ZMQ_CURVE_SECRETKEY, secret.as_bytes()),
                ],
            )?;
            let address = CString::new("tcp://127.0.0.1:*").map_err(|error| error.to_string())?;
            if (zmq.bind)(pull, address.as_ptr()) != 0 {
                return Err("zmq_bind failed".to_owned());
            }
            let mut endpoint = [0u8; 256];
            let mut length = endpoint.len();
            if (zmq.getsockopt)(
                pull,
                ZMQ_LAST_ENDPOINT,
                endpoint.as_mut_ptr().cast(),
                &mut length,
            ) != 0
            {
                return Err("ZMQ_LAST_ENDPOINT failed".to_owned());
            }
            let endpoint =
                String::from_utf8_lossy(&endpoint[..length.saturating_sub(1)]).into_owned();
            let mut sender = started(&endpoint)?;
            let mut message = Msg([0; 64]);
            (zmq.msg_init)(&mut message);
            let mut first = None;
            for _ in 0..count {
                if (zmq.msg_recv)(&mut message, pull, 0) < 0 {
                    return Err("zmq_msg_recv failed (or timed out)".to_owned());
                }
                if (zmq.msg_size)(&message) != size {
                    return Err("libzmq received a message of another size".to_owned());
                }
                first.get_or_insert_with(Instant::now);
            }
            let elapsed = first.map(|first| first.elapsed()).unwrap_or_default();
            (zmq.msg_close)(&mut message);
            (zmq.close)(pull);
            (zmq.ctx_term)(context);
            finish(&mut sender)?;
            Ok((count - 1) as f64 / elapsed.as_secs_f64())
        }
    }

    fn send(
        &self,
        endpoint: &str,
        keys: &KeyPair,
        server: &PublicKey,
        size: usize,
        count: u64,
    ) -> Result<(), String> {
        let zmq = &self.0;
        let (public, secret, server) = (
            keys.public().to_z85(),
            keys.secret().to_z85(),
            server.to_z85(),
        );
        let linger = (-1i32).to_ne_bytes();
        // SAFETY: as in `receive`.
        unsafe {
            let context = (zmq.ctx_new)();
            let push = zmq.socket(
                context,
                ZMQ_PUSH,
                &[
                    (ZMQ_CURVE_PUBLICKEY, public.as_bytes()),
                    (ZMQ_CURVE_SECRETKEY, secret.as_bytes()),
                    (ZMQ_CURVE_SERVERKEY, server.as_bytes()),
                    (ZMQ_LINGER, &linger),
                ],
            )?;
            let endpoint = CString::new(endpoint).map_err(|error| error.to_string())?;
            if (zmq.connect)(push, endpoint.as_ptr()) != 0 {
                return Err("zmq_connect failed".to_owned());
            }
            for _ in 0..count {
                let mut message = Msg([0; 64]);
                (zmq.msg_init_size)(&mut message, size);
                if (zmq.msg_send)(&mut message, push, 0) < 0 {
                    return Err("zmq_msg_send failed".to_owned());
                }
            }
            (zmq.close)(push);
            (zmq.ctx_term)(context);
        }
        Ok(())
    }
}

/// Waits for the sender to exit cleanly.
fn finish(sender: &mut std::process::Child) -> Result<(), String> {
    let status = sender.wait().map_err(|error| error.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the sender failed: {status}"))
    }
}

/// How many messages a run takes at `size`: about a quarter of a second of
/// libzmq's pace on this machine, at least 1000.
fn count_for(size: usize, quick: bool) -> u64 {
    if quick {
        return 100;
    }
    match size {
        0..=256 => 400_000,
        257..=4096 => 200_000,
        4097..=131_072 => 10_000,
        _ => 1_000,
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.child {
        Some(Child::Send {
            implementation,
            endpoint,
            size,
            count,
            server_key,
            secret_key,
        }) => run_sender(
            &implementation,
            &endpoint,
            size,
            count,
            &server_key,
            &secret_key,
        ),
        None => run(&cli),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("curve_throughput: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn implementation(name: &str) -> Result<Box<dyn Implementation>, String> {
    match name {
        "sinew" => Ok(Box::new(Sinew)),
        "libzmq=pyzmq" => Ok(Box::new(LibzmqCurve(Libzmq::open(&Libzmq::pyzmq_path()?)?))),
        other if other.starts_with("libzmq=") => Ok(Box::new(LibzmqCurve(Libzmq::open(
            &other["libzmq=".len()..],
        )?))),
        other => Err(format!("unknown implementation {other}")),
    }
}

fn run_sender(
    name: &str,
    endpoint: &str,
    size: usize,
    count: u64,
    server_key: &str,
    secret_key: &str,
) -> Result<(), String> {
    let server = PublicKey::from_z85(server_key).map_err(|error| error.to_string())?;
    let keys =
        KeyPair::from_secret(SecretKey::from_z85(secret_key).map_err(|error| error.to_string())?);
    implementation(name)?.send(endpoint, &keys, &server, size, count)
}

fn run(cli: &Cli) -> Result<(), String> {
    let mut names = vec!["sinew".to_owned()];
    // `--libzmq=` (empty) measures Sinew alone.
    names.extend(
        cli.libzmq
            .iter()
            .filter(|path| !path.is_empty())
            .map(|path| format!("libzmq={path}")),
    );
    let implementations: Vec<Box<dyn Implementation>> = names
        .iter()
        .map(|name| implementation(name))
        .collect::<Result<_, _>>()?;
    let runs = if cli.quick { 1 } else { cli.runs.max(1) };
    let others = &names[1..];
    let heading: Vec<String> = others.iter().map(|name| format!("{name} CURVE")).collect();
    let ratios: Vec<String> = others.iter().map(|name| format!("Sinew/{name}")).collect();
    println!(
        "| size | Sinew CURVE | {} | {} | spread (Sinew first) |",
        heading.join(" | "),
        ratios.join(" | ")
    );
    println!(
        "|---|---|{}{}---|",
        "---|".repeat(others.len()),
        "---|".repeat(others.len())
    );
    for &size in &cli.sizes {
        let count = count_for(size, cli.quick);
        let mut rates = vec![Vec::new(); names.len()];
        for run in 0..runs {
            for turn in 0..names.len() {
                let index = (run + turn) % names.len();
                let server = KeyPair::generate().map_err(|error| error.to_string())?;
                let client = KeyPair::generate().map_err(|error| error.to_string())?;
                let mut start = |endpoint: &str| {
                    Command::new(std::env::current_exe().map_err(|error| error.to_string())?)
                        .arg("send")
                        .arg(format!("--implementation={}", names[index]))
                        .args(["--endpoint", endpoint])
                        .args(["--size", &size.to_string(), "--count", &count.to_string()])
                        // `=`: a Z85 key may start with '-'.
                        .arg(format!("--server-key={}", server.public().to_z85()))
                        .arg(format!(
                            "--secret-key={}",
                            client.secret().to_z85().as_str()
                        ))
                        .stdin(Stdio::null())
                        .spawn()
                        .map_err(|error| error.to_string())
                };
                let rate = implementations[index].receive(&server, size, count, &mut start)?;
                rates[index].push(rate);
            }
        }
        let medians: Vec<f64> = rates.iter_mut().map(|runs| median(runs)).collect();
        let figures: Vec<String> = medians.iter().map(|rate| rate_text(*rate, size)).collect();
        let ratios: Vec<String> = medians[1..]
            .iter()
            .map(|rate| format!("{:.2}x", medians.first().copied().unwrap_or(0.0) / rate))
            .collect();
        let spreads: Vec<String> = rates
            .iter()
            .map(|runs| format!("{:.0}%", spread(runs) * 100.0))
            .collect();
        println!(
            "| {} | {} | {} | {} |",
            size_text(size),
            figures.join(" | "),
            ratios.join(" | "),
            spreads.join(" / ")
        );
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn spread(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    let middle = median(&mut sorted);
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    (high - low) / middle
}

fn size_text(size: usize) -> String {
    match size {
        size if size >= 1 << 20 && size % (1 << 20) == 0 => format!("{} MiB", size >> 20),
        size if size >= 1 << 10 && size % (1 << 10) == 0 => format!("{} KiB", size >> 10),
        size => format!("{size} B"),
    }
}

fn rate_text(rate: f64, size: usize) -> String {
    let bytes = rate * size as f64;
    let messages = if rate >= 1e6 {
        format!("{:.2} M msg/s", rate / 1e6)
    } else {
        format!("{:.1} k msg/s", rate / 1e3)
    };
    let volume = if bytes >= 1e9 {
        format!("{:.2} GB/s", bytes / 1e9)
    } else {
        format!("{:.0} MB/s", bytes / 1e6)
    };
    format!("{messages}, {volume}")
}
