//! The in-memory crash model: a directory whose files keep what was written apart
//! from what was made durable, and which can lose power.
//!
//! A SIGKILL leaves the page cache intact, so only this model tests what fsync is
//! for. After `cut_power_after(n)` every operation past the n-th fails, as if the
//! machine had stopped; `crash(seed)` then builds the directory a reboot would find:
//! durable bytes and names are kept exactly, while writes and renames that were not
//! synced are kept, dropped, torn (a random subset of 512-byte sectors) or
//! zero-filled, in a random order. It must never lose a byte or a name that was
//! synced, and never invent bytes that were neither written nor zero.

use super::{Directory, Storage, WriterLock};
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const SECTOR: u64 = 512;

/// An in-memory log directory that models a disk's crash behaviour.
#[derive(Debug, Clone)]
pub struct MemoryDirectory {
    disk: Arc<Disk>,
}

#[derive(Debug, Default)]
struct Disk {
    names: Mutex<Names>,
    power: Power,
    locked: AtomicBool,
}

#[derive(Debug, Default)]
struct Names {
    /// What `list` and `open` see now.
    visible: BTreeMap<String, Inode>,
    /// What a crash keeps for sure.
    durable: BTreeMap<String, Inode>,
    /// Name changes since the last directory sync, in order; a crash keeps a prefix,
    /// as a journaling file system would.
    pending: Vec<NameChange>,
}

#[derive(Debug, Clone)]
enum NameChange {
    Create(String, Inode),
    Remove(String),
    Rename(String, String),
}

type Inode = Arc<Mutex<FileState>>;

#[derive(Debug, Default)]
struct FileState {
    current: Vec<u8>,
    durable: Vec<u8>,
    /// Writes and length changes since the last sync.
    pending: Vec<Change>,
}

#[derive(Debug, Clone)]
enum Change {
    Write { position: u64, bytes: Vec<u8> },
    SetLength(u64),
}

/// Counts modifying operations and fails them once the power is cut.
#[derive(Debug)]
struct Power {
    operations: AtomicU64,
    cut_after: AtomicU64,
}

impl Default for Power {
    fn default() -> Self {
        Power {
            operations: AtomicU64::new(0),
            cut_after: AtomicU64::new(u64::MAX),
        }
    }
}

impl Power {
    /// Counts one modifying operation; fails if the power is already off.
    fn operate(&self) -> io::Result<()> {
        let done = self.operations.fetch_add(1, Ordering::SeqCst);
        if done >= self.cut_after.load(Ordering::SeqCst) {
            self.operations.fetch_sub(1, Ordering::SeqCst);
            return Err(power_lost());
        }
        Ok(())
    }

    fn check(&self) -> io::Result<()> {
        if self.operations.load(Ordering::SeqCst) >= self.cut_after.load(Ordering::SeqCst) {
            return Err(power_lost());
        }
        Ok(())
    }
}

fn power_lost() -> io::Error {
    io::Error::other("simulated power loss")
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep going.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for MemoryDirectory {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDirectory {
    /// An empty directory with the power on.
    pub fn new() -> Self {
        MemoryDirectory {
            disk: Arc::new(Disk::default()),
        }
    }

    /// How many modifying operations (writes, length changes, syncs, name changes)
    /// have succeeded.
    pub fn operations(&self) -> u64 {
        self.disk.power.operations.load(Ordering::SeqCst)
    }

    /// Lets `operations` more modifying operations succeed in total, then fails
    /// every operation.
    pub fn cut_power_after(&self, operations: u64) {
        self.disk
            .power
            .cut_after
            .store(operations, Ordering::SeqCst);
    }

    /// The directory a reboot would find, chosen by `seed`. The power of the new
    /// directory is on; this one is left as it is.
    pub fn crash(&self, seed: u64) -> MemoryDirectory {
        let mut random = SplitMix(seed);
        let names = lock(&self.disk.names);
        let mut survivors = names.durable.clone();
        let kept = random.below(names.pending.len() as u64 + 1) as usize;
        for change in names.pending.iter().take(kept) {
            apply_name_change(&mut survivors, change);
        }
        let mut rebuilt: Vec<(Inode, Inode)> = Vec::new();
        let mut visible = BTreeMap::new();
        for (name, inode) in survivors {
            let existing = rebuilt.iter().find(|(old, _)| Arc::ptr_eq(old, &inode));
            let fresh = match existing {
                Some((_, fresh)) => fresh.clone(),
                None => {
                    let bytes = crash_contents(&lock(&inode), &mut random);
                    let fresh = Arc::new(Mutex::new(FileState {
                        current: bytes.clone(),
                        durable: bytes,
                        pending: Vec::new(),
                    }));
                    rebuilt.push((inode.clone(), fresh.clone()));
                    fresh
                }
            };
            visible.insert(name, fresh);
        }
        MemoryDirectory {
            disk: Arc::new(Disk {
                names: Mutex::new(Names {
                    durable: visible.clone(),
                    visible,
                    pending: Vec::new(),
                }),
                power: Power::default(),
                locked: AtomicBool::new(false),
            }),
        }
    }

    /// The current bytes of a file, for tests that inspect or damage a log.
    pub fn contents(&self, name: &str) -> Option<Vec<u8>> {
        let names = lock(&self.disk.names);
        names
            .visible
            .get(name)
            .map(|inode| lock(inode).current.clone())
    }

    /// Replaces a file's bytes, durably, as a disk fault would.
    pub fn replace_contents(&self, name: &str, bytes: Vec<u8>) {
        let names = lock(&self.disk.names);
        if let Some(inode) = names.visible.get(name) {
            let mut file = lock(inode);
            file.current = bytes.clone();
            file.durable = bytes;
            file.pending.clear();
        }
    }
}

fn apply_name_change(names: &mut BTreeMap<String, Inode>, change: &NameChange) {
    match change {
        NameChange::Create(name, inode) => {
            names.entry(name.clone()).or_insert_with(|| inode.clone());
        }
        NameChange::Remove(name) => {
            names.remove(name);
        }
        NameChange::Rename(from, to) => {
            if let Some(inode) = names.remove(from) {
                names.insert(to.clone(), inode);
            }
        }
    }
}

/// What a file holds after a crash: its durable bytes, then each unsynced change
/// (in a random order) kept, dropped, torn or zero-filled.
fn crash_contents(file: &FileState, random: &mut SplitMix) -> Vec<u8> {
    let mut bytes = file.durable.clone();
    let mut changes = file.pending.clone();
    random.shuffle(&mut changes);
    for change in changes {
        match change {
            Change::SetLength(length) => {
                if random.below(2) == 0 {
                    bytes.resize(length as usize, 0);
                }
            }
            Change::Write {
                position,
                bytes: written,
            } => match random.below(4) {
                0 => write_into(&mut bytes, position, &written),
                1 => {}
                2 => {
                    // Torn: some sectors made it, others did not.
                    let mut start = position;
                    let end = position + written.len() as u64;
                    while start < end {
                        let sector_end = ((start / SECTOR) + 1) * SECTOR;
                        let piece_end = sector_end.min(end);
                        if random.below(2) == 0 {
                            let from = (start - position) as usize;
                            let to = (piece_end - position) as usize;
                            if let Some(piece) = written.get(from..to) {
                                write_into(&mut bytes, start, piece);
                            }
                        }
                        start = piece_end;
                    }
                }
                _ => {
                    // Zero-filled: the length grew but the data never arrived.
                    let end = position as usize + written.len();
                    if end > bytes.len() {
                        bytes.resize(end, 0);
                    }
                }
            },
        }
    }
    bytes
}

fn write_into(target: &mut Vec<u8>, position: u64, bytes: &[u8]) {
    let start = position as usize;
    let end = start + bytes.len();
    if target.len() < end {
        target.resize(end, 0);
    }
    if let Some(window) = target.get_mut(start..end) {
        window.copy_from_slice(bytes);
    }
}

impl Directory for MemoryDirectory {
    fn describe(&self) -> String {
        "memory".to_string()
    }

    fn read_only(&self) -> bool {
        false
    }

    fn list(&self) -> io::Result<Vec<String>> {
        self.disk.power.check()?;
        Ok(lock(&self.disk.names).visible.keys().cloned().collect())
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn Storage>> {
        self.disk.power.check()?;
        let names = lock(&self.disk.names);
        let inode = names
            .visible
            .get(name)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, name.to_string()))?;
        Ok(Arc::new(MemoryFile {
            inode,
            disk: self.disk.clone(),
        }))
    }

    fn create(&self, name: &str) -> io::Result<Arc<dyn Storage>> {
        let mut names = lock(&self.disk.names);
        if let Some(inode) = names.visible.get(name).cloned() {
            self.disk.power.check()?;
            return Ok(Arc::new(MemoryFile {
                inode,
                disk: self.disk.clone(),
            }));
        }
        self.disk.power.operate()?;
        let inode: Inode = Arc::default();
        names.visible.insert(name.to_string(), inode.clone());
        names
            .pending
            .push(NameChange::Create(name.to_string(), inode.clone()));
        Ok(Arc::new(MemoryFile {
            inode,
            disk: self.disk.clone(),
        }))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut names = lock(&self.disk.names);
        if !names.visible.contains_key(name) {
            return Err(io::Error::new(io::ErrorKind::NotFound, name.to_string()));
        }
        self.disk.power.operate()?;
        names.visible.remove(name);
        names.pending.push(NameChange::Remove(name.to_string()));
        Ok(())
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut names = lock(&self.disk.names);
        if !names.visible.contains_key(from) {
            return Err(io::Error::new(io::ErrorKind::NotFound, from.to_string()));
        }
        self.disk.power.operate()?;
        if let Some(inode) = names.visible.remove(from) {
            names.visible.insert(to.to_string(), inode);
        }
        names
            .pending
            .push(NameChange::Rename(from.to_string(), to.to_string()));
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut names = lock(&self.disk.names);
        self.disk.power.operate()?;
        names.durable = names.visible.clone();
        names.pending.clear();
        Ok(())
    }

    fn lock(&self) -> io::Result<Box<dyn WriterLock>> {
        if self.disk.locked.swap(true, Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "another writer holds the lock",
            ));
        }
        Ok(Box::new(MemoryLock {
            disk: self.disk.clone(),
        }))
    }
}

#[derive(Debug)]
struct MemoryLock {
    disk: Arc<Disk>,
}

impl WriterLock for MemoryLock {}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        self.disk.locked.store(false, Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct MemoryFile {
    inode: Inode,
    disk: Arc<Disk>,
}

impl Storage for MemoryFile {
    fn read_at(&self, buffer: &mut [u8], position: u64) -> io::Result<()> {
        self.disk.power.check()?;
        let file = lock(&self.inode);
        let start = usize::try_from(position).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start + buffer.len();
        let source = file
            .current
            .get(start..end)
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buffer.copy_from_slice(source);
        Ok(())
    }

    fn write_at(&self, bytes: &[u8], position: u64) -> io::Result<()> {
        let mut file = lock(&self.inode);
        self.disk.power.operate()?;
        write_into(&mut file.current, position, bytes);
        file.pending.push(Change::Write {
            position,
            bytes: bytes.to_vec(),
        });
        Ok(())
    }

    fn set_len(&self, length: u64) -> io::Result<()> {
        let mut file = lock(&self.inode);
        self.disk.power.operate()?;
        file.current.resize(length as usize, 0);
        file.pending.push(Change::SetLength(length));
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut file = lock(&self.inode);
        self.disk.power.operate()?;
        file.durable = file.current.clone();
        file.pending.clear();
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        self.disk.power.check()?;
        Ok(lock(&self.inode).current.len() as u64)
    }
}

/// A small seeded generator (SplitMix64), so a crash replays from its seed.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next() % bound }
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            let other = self.below(index as u64 + 1) as usize;
            items.swap(index, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_bytes_and_names_survive_every_crash() {
        let directory = MemoryDirectory::new();
        let file = directory.create("a").expect("create");
        file.write_at(b"durable", 0).expect("write");
        file.sync().expect("sync");
        directory.sync().expect("sync directory");
        file.write_at(&[7u8; 2000], 7).expect("write");
        directory.create("b").expect("create");
        for seed in 0..200 {
            let after = directory.crash(seed);
            let bytes = after.contents("a").expect("a survives");
            assert_eq!(&bytes[..7], b"durable");
            assert!(bytes[7..].iter().all(|&byte| byte == 0 || byte == 7));
        }
    }

    #[test]
    fn unsynced_writes_are_sometimes_torn_zeroed_or_lost() {
        let directory = MemoryDirectory::new();
        let file = directory.create("a").expect("create");
        directory.sync().expect("sync directory");
        file.write_at(&[9u8; 2048], 0).expect("write");
        let mut outcomes = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let bytes = directory.crash(seed).contents("a").expect("a");
            let nines = bytes.iter().filter(|&&byte| byte == 9).count();
            outcomes.insert((bytes.len(), nines));
        }
        assert!(outcomes.contains(&(0, 0)), "lost");
        assert!(outcomes.contains(&(2048, 2048)), "kept");
        assert!(outcomes.contains(&(2048, 0)), "zero-filled");
        assert!(
            outcomes
                .iter()
                .any(|&(length, nines)| nines > 0 && nines < length),
            "torn"
        );
    }

    #[test]
    fn a_name_that_was_never_synced_can_vanish() {
        let directory = MemoryDirectory::new();
        let file = directory.create("a").expect("create");
        file.sync().expect("sync");
        let vanished = (0..100).any(|seed| directory.crash(seed).contents("a").is_none());
        assert!(vanished);
    }

    #[test]
    fn every_operation_fails_once_the_power_is_cut() {
        let directory = MemoryDirectory::new();
        directory.cut_power_after(1);
        let file = directory.create("a").expect("first operation");
        assert!(file.write_at(b"x", 0).is_err());
        assert!(file.sync().is_err());
        assert!(directory.sync().is_err());
        assert_eq!(directory.operations(), 1);
    }
}
