//! ipc://: Unix domain sockets, by path or (on Linux) by abstract name.
//!
//! As libzmq does, binding removes a file left at the path by an earlier run, and
//! `ipc://*` binds a fresh path in the temporary directory. Unlike libzmq 4.3
//! (which removes only the files of `ipc://*`), a listener removes its file when it
//! closes, so no stale socket file is left behind. This file must never remove a path it did not bind: the
//! file is removed only if it is still the one this listener created (same device
//! and inode), since a new socket may have bound the path meanwhile.

use super::endpoint::IpcAddress;
use crate::error::Error;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ANY: AtomicU64 = AtomicU64::new(0);

fn socket_address(address: &IpcAddress) -> io::Result<SocketAddr> {
    match address {
        IpcAddress::Path(path) => SocketAddr::from_pathname(path),
        IpcAddress::Abstract(name) => abstract_address(name),
        IpcAddress::Any => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "ipc://* has no address until bound",
        )),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_address(name: &[u8]) -> io::Result<SocketAddr> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_address(_name: &[u8]) -> io::Result<SocketAddr> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract socket names exist only on Linux",
    ))
}

/// The socket file a listener created, to remove when it closes.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl SocketFile {
    fn created_at(path: &Path) -> Option<SocketFile> {
        let metadata = std::fs::symlink_metadata(path).ok()?;
        Some(SocketFile {
            path: path.to_owned(),
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    /// Removes the file, if it is still the one this listener created.
    pub fn remove(&self) {
        let still_ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|metadata| metadata.dev() == self.device && metadata.ino() == self.inode);
        if still_ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds a listener; returns it, the endpoint it is bound to, and the file to
/// remove when it closes.
pub fn bind(
    address: &IpcAddress,
    text: &str,
) -> Result<(mio::net::UnixListener, String, Option<SocketFile>), Error> {
    let (address, endpoint, owned_path) = match address {
        IpcAddress::Any => {
            let path = std::env::temp_dir().join(format!(
                "sinew-{}-{}.ipc",
                std::process::id(),
                NEXT_ANY.fetch_add(1, Ordering::Relaxed)
            ));
            let endpoint = format!("ipc://{}", path.display());
            (IpcAddress::Path(path.clone()), endpoint, Some(path))
        }
        IpcAddress::Path(path) => {
            // A socket file left by an earlier run would make bind fail.
            let _ = std::fs::remove_file(path);
            (address.clone(), text.to_owned(), Some(path.clone()))
        }
        IpcAddress::Abstract(_) => (address.clone(), text.to_owned(), None),
    };
    let socket_address = socket_address(&address).map_err(|error| Error::InvalidEndpoint {
        endpoint: text.to_owned(),
        reason: error.to_string(),
    })?;
    let listener =
        UnixListener::bind_addr(&socket_address).map_err(|error| match error.kind() {
            io::ErrorKind::AddrInUse => Error::AddressInUse(text.to_owned()),
            io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => {
                Error::AddressNotAvailable(format!("{text}: {error}"))
            }
            _ => Error::Io(error),
        })?;
    listener.set_nonblocking(true)?;
    let socket_file = owned_path.as_deref().and_then(SocketFile::created_at);
    Ok((
        mio::net::UnixListener::from_std(listener),
        endpoint,
        socket_file,
    ))
}

/// Opens a non-blocking connection.
pub fn connect(address: &IpcAddress) -> io::Result<mio::net::UnixStream> {
    mio::net::UnixStream::connect_addr(&socket_address(address)?)
}
