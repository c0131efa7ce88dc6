//! The file backend: a log directory on a real file system, with positioned I/O,
//! `pwritev` to write a batch in two pieces, fdatasync for files, fsync for the
//! directory, `flock` for the writer's lock and `fallocate` to reserve space ahead
//! of appends.
//!
//! A directory opened read-only must never modify anything: not a byte, not a name,
//! not even the lock file.

use super::{Directory, Storage, WriterLock, read_only_error};
use rustix::fs::FallocateFlags;
use rustix::io::Errno;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the file whose `flock` marks the directory's writer.
const LOCK_FILE: &str = "writer.lock";

/// A log directory on the file system.
#[derive(Debug, Clone)]
pub struct FileDirectory {
    path: PathBuf,
    read_only: bool,
}

impl FileDirectory {
    /// Opens `path` for reading and writing, creating it (and making its name
    /// durable) if it is missing.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.is_dir() {
            fs::create_dir_all(&path)?;
            if let Some(parent) = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                File::open(parent)?.sync_all()?;
            }
        }
        Ok(FileDirectory {
            path,
            read_only: false,
        })
    }

    /// Opens an existing directory for reading only: every modifying call fails.
    pub fn open_read_only(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a directory", path.display()),
            ));
        }
        Ok(FileDirectory {
            path,
            read_only: true,
        })
    }

    fn writable(&self) -> io::Result<()> {
        if self.read_only {
            Err(read_only_error())
        } else {
            Ok(())
        }
    }
}

impl Directory for FileDirectory {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn Storage>> {
        let file = OpenOptions::new()
            .read(true)
            .write(!self.read_only)
            .open(self.path.join(name))?;
        Ok(Arc::new(FileStorage::new(file, self.read_only)))
    }

    fn create(&self, name: &str) -> io::Result<Arc<dyn Storage>> {
        self.writable()?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.path.join(name))?;
        Ok(Arc::new(FileStorage::new(file, false)))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.writable()?;
        fs::remove_file(self.path.join(name))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.writable()?;
        fs::rename(self.path.join(from), self.path.join(to))
    }

    fn sync(&self) -> io::Result<()> {
        self.writable()?;
        File::open(&self.path)?.sync_all()
    }

    fn lock(&self) -> io::Result<Box<dyn WriterLock>> {
        self.writable()?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.path.join(LOCK_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(FileLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "another process holds the writer lock",
            )),
            Err(fs::TryLockError::Error(error)) => Err(error),
        }
    }
}

/// Holds the locked file; closing it releases the `flock`.
#[derive(Debug)]
struct FileLock {
    _file: File,
}

impl WriterLock for FileLock {}

/// One open file.
#[derive(Debug)]
struct FileStorage {
    file: File,
    read_only: bool,
}

impl FileStorage {
    fn new(file: File, read_only: bool) -> Self {
        FileStorage { file, read_only }
    }

    fn writable(&self) -> io::Result<()> {
        if self.read_only {
            Err(read_only_error())
        } else {
            Ok(())
        }
    }
}

impl Storage for FileStorage {
    fn read_at(&self, buffer: &mut [u8], position: u64) -> io::Result<()> {
        self.file.read_exact_at(buffer, position)
    }

    fn write_at(&self, bytes: &[u8], position: u64) -> io::Result<()> {
        self.writable()?;
        self.file.write_all_at(bytes, position)
    }

    fn write_two_at(&self, head: &[u8], tail: &[u8], position: u64) -> io::Result<()> {
        self.writable()?;
        let mut slices = [IoSlice::new(head), IoSlice::new(tail)];
        let mut remaining: &mut [IoSlice<'_>] = &mut slices;
        let mut position = position;
        while !remaining.is_empty() {
            match rustix::io::pwritev(&self.file, remaining, position) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(count) => {
                    position += count as u64;
                    IoSlice::advance_slices(&mut remaining, count);
                }
                Err(Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    fn preallocate(&self, length: u64) -> io::Result<bool> {
        self.writable()?;
        match rustix::fs::fallocate(&self.file, FallocateFlags::KEEP_SIZE, 0, length) {
            Ok(()) => Ok(true),
            Err(error) if error == Errno::OPNOTSUPP || error == Errno::NOSYS => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    fn set_len(&self, length: u64) -> io::Result<()> {
        self.writable()?;
        self.file.set_len(length)
    }

    fn sync(&self) -> io::Result<()> {
        self.writable()?;
        self.file.sync_data()
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
}
