//! `sinew cat`'s security flags: CURVE keys for a server or a client, and PLAIN
//! credentials for a client, set on the socket before it binds or connects (the
//! ZMQ_CURVE_* and ZMQ_PLAIN_* options). Keys are given in Z85, as `sinew keygen`
//! prints them.
//!
//! This file must never print a secret, and refuses a key that is not 40
//! characters of Z85 with a message naming the flag.

use clap::Args;
use sinew::Socket;
use sinew::curve::{PublicKey, SecretKey};

/// The security flags of `sinew cat`.
#[derive(Debug, Args)]
pub struct SecurityArgs {
    /// Act as a CURVE server (with --curve-secret-key): clients must know this
    /// socket's public key (ZMQ_CURVE_SERVER).
    #[arg(long)]
    curve_server: bool,
    /// This socket's CURVE secret key, Z85 (ZMQ_CURVE_SECRETKEY).
    #[arg(long, value_name = "Z85")]
    curve_secret_key: Option<String>,
    /// This socket's CURVE public key, Z85 (ZMQ_CURVE_PUBLICKEY; a client's).
    #[arg(long, value_name = "Z85")]
    curve_public_key: Option<String>,
    /// The CURVE server's public key, Z85: makes this socket a CURVE client
    /// (ZMQ_CURVE_SERVERKEY).
    #[arg(long, value_name = "Z85")]
    curve_server_key: Option<String>,
    /// A PLAIN client's user name (ZMQ_PLAIN_USERNAME).
    #[arg(long, value_name = "USER")]
    plain_user: Option<String>,
    /// A PLAIN client's password (ZMQ_PLAIN_PASSWORD).
    #[arg(long, value_name = "PASSWORD")]
    plain_password: Option<String>,
}

impl SecurityArgs {
    /// Sets the options the flags name on `socket`; the error names the flag.
    pub fn apply(&self, socket: &Socket) -> Result<(), String> {
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
        Ok(())
    }
}
