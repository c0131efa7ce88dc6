//! Crash-safe small files: the store's metadata (a topic's `topic.json`, the
//! producer id counter) is replaced whole, by writing a temporary file, syncing it,
//! renaming it over the old one and syncing the directory, so that after a crash a
//! reader finds the old contents or the new, never a mix or nothing.
//!
//! This file must never leave a half-written file under a real name, and never
//! report a write as done before the rename is durable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The suffix of a file being written; such files are removed when the store opens.
pub(crate) const TEMPORARY_SUFFIX: &str = ".tmp";

/// Replaces `directory/name` with `contents`, durably: a temporary file, fsync,
/// rename, fsync of the directory.
pub(crate) fn write_atomically(directory: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    let temporary = directory.join(format!("{name}{TEMPORARY_SUFFIX}"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, directory.join(name))?;
    sync_directory(directory)
}

/// Makes the creates, renames and removals in `directory` durable.
pub(crate) fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

/// Creates `directory` (and its parents) if missing, and makes its name durable in
/// its parent.
pub(crate) fn create_directory(directory: &Path) -> io::Result<()> {
    if directory.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(directory)?;
    match directory.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_directory(parent),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_contents_and_no_temporary_is_left() {
        let directory = std::env::temp_dir().join(format!("sinew-files-{}", std::process::id()));
        create_directory(&directory).unwrap();
        write_atomically(&directory, "meta.json", b"old").unwrap();
        write_atomically(&directory, "meta.json", b"new").unwrap();
        assert_eq!(fs::read(directory.join("meta.json")).unwrap(), b"new");
        assert!(!directory.join("meta.json.tmp").exists());
        fs::remove_dir_all(&directory).unwrap();
    }
}
