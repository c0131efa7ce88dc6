//! The data directory: created if missing, and locked so that a second broker
//! on the same directory refuses to start with a clear error instead of sharing
//! (and corrupting) its files.
//!
//! The lock is an advisory file lock (`flock`) on `DIR/broker.lock`, released when
//! the process ends however it ends. This file must never delete anything.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "broker.lock";

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Another process holds the lock.
    #[error("another broker is using the data directory {0}")]
    InUse(PathBuf),
    /// The directory or its lock file could not be made or opened.
    #[error("cannot use the data directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// A locked data directory; the lock lasts as long as this value.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates the directory if needed and takes its lock.
    pub fn lock(path: &Path) -> Result<DataDir, DataDirError> {
        let io = |source| DataDirError::Io {
            path: path.to_owned(),
            source,
        };
        fs::create_dir_all(path).map_err(io)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path.join(LOCK_FILE))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(DataDir {
                path: path.to_owned(),
                _lock: file,
            }),
            Err(fs::TryLockError::WouldBlock) => Err(DataDirError::InUse(path.to_owned())),
            Err(fs::TryLockError::Error(source)) => Err(io(source)),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused() {
        let directory = std::env::temp_dir().join(format!("sinew-data-{}", std::process::id()));
        let first = DataDir::lock(&directory).unwrap();
        assert!(matches!(
            DataDir::lock(&directory),
            Err(DataDirError::InUse(_))
        ));
        drop(first);
        let again = DataDir::lock(&directory).unwrap();
        assert_eq!(again.path(), directory);
        drop(again);
        let _ = fs::remove_dir_all(&directory);
    }
}
