//! Where the log's bytes live: a small per-file trait (`Storage`: read at, write at,
//! write in two pieces, reserve space, set length, sync, length) and a
//! per-directory trait (`Directory`: create, open, list, remove, rename, sync,
//! lock), with a file backend and an in-memory crash model.
//!
//! The log reaches the disk only through these traits, so the crash model sees
//! every write. Implementations must never report a sync as done before the bytes
//! (or, for `Directory::sync`, the names) would survive a power loss.

mod file;
mod memory;

pub use file::FileDirectory;
pub use memory::MemoryDirectory;

use std::fmt;
use std::io;
use std::sync::Arc;

/// One file's bytes, addressed by position. Shared between the writer and readers,
/// so every method takes `&self` and positioned I/O never moves a shared cursor.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Fills `buffer` with the bytes at `position`; a short file is an error
    /// (`UnexpectedEof`).
    fn read_at(&self, buffer: &mut [u8], position: u64) -> io::Result<()>;
    /// Writes all of `bytes` at `position`, growing the file if needed.
    fn write_at(&self, bytes: &[u8], position: u64) -> io::Result<()>;
    /// Writes `head` and then `tail` at `position` as if they were one slice, so a
    /// caller can change the first bytes of what it writes without copying the
    /// rest. The file backend makes it one system call (`pwritev`).
    fn write_two_at(&self, head: &[u8], tail: &[u8], position: u64) -> io::Result<()> {
        let mut joined = Vec::with_capacity(head.len() + tail.len());
        joined.extend_from_slice(head);
        joined.extend_from_slice(tail);
        self.write_at(&joined, position)
    }
    /// Reserves disk space for the file up to `length` bytes without changing its
    /// length, so later writes there need no allocation; true if it did. A hint:
    /// the default does nothing, and a file system that cannot is no error.
    /// `set_len` to the current length gives unused space back.
    fn preallocate(&self, length: u64) -> io::Result<bool> {
        let _ = length;
        Ok(false)
    }
    /// Cuts or zero-extends the file to `length` bytes.
    fn set_len(&self, length: u64) -> io::Result<()>;
    /// Makes every earlier write and length change durable (fdatasync).
    fn sync(&self) -> io::Result<()>;
    /// The file's current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file holds no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// A flat directory of named files: one log.
pub trait Directory: Send + Sync + fmt::Debug {
    /// A name for messages (the path, for files).
    fn describe(&self) -> String;
    /// Whether every modifying call will be refused.
    fn read_only(&self) -> bool;
    /// Names of the files present, in no particular order.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Opens an existing file.
    fn open(&self, name: &str) -> io::Result<Arc<dyn Storage>>;
    /// Opens a file, creating it empty if it is missing. The new name is durable
    /// only after `sync`.
    fn create(&self, name: &str) -> io::Result<Arc<dyn Storage>>;
    /// Removes a file. The removal is durable only after `sync`.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Renames a file atomically, replacing `to`. Durable only after `sync`.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Makes every earlier create, remove and rename durable (fsync of the directory).
    fn sync(&self) -> io::Result<()>;
    /// Takes the single-writer lock; `WouldBlock` if another writer holds it. The
    /// lock lasts as long as the returned guard.
    fn lock(&self) -> io::Result<Box<dyn WriterLock>>;
}

/// Proof that this process is the directory's only writer; dropping it unlocks.
pub trait WriterLock: Send + Sync + fmt::Debug {}

/// The error every modifying call on a read-only directory returns.
pub(crate) fn read_only_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        "the log directory is open read-only",
    )
}
