//! The security options of a socket, as libzmq names them: ZMQ_PLAIN_SERVER,
//! ZMQ_PLAIN_USERNAME, ZMQ_PLAIN_PASSWORD, ZMQ_CURVE_SERVER, ZMQ_CURVE_PUBLICKEY,
//! ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY, ZMQ_ZAP_DOMAIN and
//! ZMQ_ZAP_ENFORCE_DOMAIN. As in libzmq, the mechanism is the one the last of
//! these options named (a user name makes a PLAIN client, PLAIN_SERVER a PLAIN
//! server, a server key a CURVE client, CURVE_SERVER a CURVE server), and each
//! applies to connections made after it is set.
//!
//! This file only records settings; `Options::connection_config` turns them
//! into each connection's `Security`. It must never print a secret.

use super::Socket;
use crate::curve::{PublicKey, SecretKey};
use crate::error::Result;
use crate::options::MechanismChoice;
use bytes::Bytes;

impl Socket {
    /// ZMQ_PLAIN_SERVER: act as a PLAIN server (clients must be admitted by a
    /// ZAP handler; with none, as in libzmq, every client is refused), or, off,
    /// as a PLAIN client.
    pub fn set_plain_server(&self, on: bool) -> Result<()> {
        self.core().update_options(|options| {
            options.security.mechanism = MechanismChoice::Plain;
            options.security.plain_server = on;
        })
    }

    /// ZMQ_PLAIN_USERNAME: a PLAIN client's user name (`None`: back to NULL).
    pub fn set_plain_username(&self, username: Option<&[u8]>) -> Result<()> {
        self.core().update_options(|options| {
            let security = &mut options.security;
            match username {
                Some(name) => {
                    security.mechanism = MechanismChoice::Plain;
                    security.plain_server = false;
                    security.plain_username = Bytes::copy_from_slice(name);
                }
                None => security.mechanism = MechanismChoice::Null,
            }
        })
    }

    /// ZMQ_PLAIN_PASSWORD: a PLAIN client's password (`None`: back to NULL).
    pub fn set_plain_password(&self, password: Option<&[u8]>) -> Result<()> {
        self.core().update_options(|options| {
            let security = &mut options.security;
            match password {
                Some(word) => {
                    security.mechanism = MechanismChoice::Plain;
                    security.plain_server = false;
                    security.plain_password = Bytes::copy_from_slice(word);
                }
                None => security.mechanism = MechanismChoice::Null,
            }
        })
    }

    /// ZMQ_CURVE_SERVER: act as a CURVE server (with the secret key set by
    /// [`set_curve_secret_key`](Self::set_curve_secret_key)), or, off, as a CURVE
    /// client.
    pub fn set_curve_server(&self, on: bool) -> Result<()> {
        self.core().update_options(|options| {
            options.security.mechanism = MechanismChoice::Curve;
            options.security.curve_server = on;
        })
    }

    /// ZMQ_CURVE_PUBLICKEY: this socket's long-term public key (a client's; a
    /// server's is derived from its secret key).
    pub fn set_curve_public_key(&self, key: PublicKey) -> Result<()> {
        self.core().update_options(|options| {
            options.security.mechanism = MechanismChoice::Curve;
            options.security.curve_public_key = Some(key);
        })
    }

    /// ZMQ_CURVE_SECRETKEY: this socket's long-term secret key.
    pub fn set_curve_secret_key(&self, key: SecretKey) -> Result<()> {
        self.core().update_options(|options| {
            options.security.mechanism = MechanismChoice::Curve;
            options.security.curve_secret_key = Some(key);
        })
    }

    /// ZMQ_CURVE_SERVERKEY: the server's public key, which makes this socket a
    /// CURVE client.
    pub fn set_curve_server_key(&self, key: PublicKey) -> Result<()> {
        self.core().update_options(|options| {
            let security = &mut options.security;
            security.mechanism = MechanismChoice::Curve;
            security.curve_server = false;
            security.curve_server_key = Some(key);
        })
    }

    /// ZMQ_ZAP_DOMAIN: the domain put in this server's ZAP requests.
    pub fn set_zap_domain(&self, domain: &[u8]) -> Result<()> {
        self.core()
            .update_options(|options| options.security.zap_domain = Bytes::copy_from_slice(domain))
    }

    /// ZMQ_ZAP_ENFORCE_DOMAIN: a CURVE server with a ZAP domain refuses every
    /// client when no ZAP handler is bound (off by default: it admits any client
    /// key). As in libzmq 4.3, a CURVE server with this on and no domain asks no
    /// handler and admits every client that knows its key.
    pub fn set_zap_enforce_domain(&self, on: bool) -> Result<()> {
        self.core()
            .update_options(|options| options.security.zap_enforce_domain = on)
    }
}
