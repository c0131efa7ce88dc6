//! The two small files beside the segments: `recovery-point` (up to which offset
//! everything was fsynced, and where the log starts) and `clean-shutdown` (present
//! only while the log is closed cleanly).
//!
//! The recovery point written here must never be larger than what the segments
//! already hold durably, which is why it is written only after a segment sync. It
//! is kept in two checksummed slots written in turn, so a torn write leaves the
//! other slot readable, and it needs no fsync of its own: any slot that survives a
//! crash names a point that was durable when it was written.

use crate::storage::{Directory, Storage};
use std::io;
use std::sync::Arc;

/// File holding the recovery point and the log start offset.
pub(crate) const CHECKPOINT_FILE: &str = "recovery-point";
/// File whose presence says the last shutdown was clean.
pub(crate) const CLEAN_SHUTDOWN_FILE: &str = "clean-shutdown";

const SLOT_SIZE: usize = 32;
const SLOTS: u64 = 2;

/// What the checkpoint file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Every batch below this offset was fsynced and checked.
    pub recovery_point: u64,
    /// The first offset the log holds (retention moves it forward).
    pub start_offset: u64,
    /// The writer's offset-index interval, so a reader can tell a short index from
    /// a sparse one.
    pub index_interval_bytes: u32,
}

/// The open checkpoint file of a writer.
#[derive(Debug)]
pub(crate) struct CheckpointFile {
    storage: Arc<dyn Storage>,
    sequence: u64,
    last: Checkpoint,
}

impl CheckpointFile {
    /// Reads the newest valid slot of an existing checkpoint file, if any.
    pub(crate) fn read(directory: &dyn Directory) -> io::Result<Option<(Checkpoint, u64)>> {
        let storage = match directory.open(CHECKPOINT_FILE) {
            Ok(storage) => storage,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        read_slots(storage.as_ref())
    }

    /// Opens (creating if needed) the checkpoint file and writes `checkpoint` as the
    /// newest slot, synced. The caller syncs the directory if the file is new.
    pub(crate) fn open(directory: &dyn Directory, checkpoint: Checkpoint) -> io::Result<Self> {
        let storage = directory.create(CHECKPOINT_FILE)?;
        let sequence = read_slots(storage.as_ref())?.map_or(0, |(_, sequence)| sequence);
        let mut file = CheckpointFile {
            storage,
            sequence,
            last: checkpoint,
        };
        file.force(checkpoint)?;
        file.storage.sync()?;
        Ok(file)
    }

    /// The last checkpoint written.
    #[cfg(test)]
    pub(crate) fn last(&self) -> Checkpoint {
        self.last
    }

    /// Records a new recovery point and start offset if they move forward. Not
    /// synced: see the module doc for why that is safe.
    pub(crate) fn advance(&mut self, recovery_point: u64, start_offset: u64) -> io::Result<()> {
        let merged = Checkpoint {
            recovery_point: recovery_point.max(self.last.recovery_point),
            start_offset: start_offset.max(self.last.start_offset),
            index_interval_bytes: self.last.index_interval_bytes,
        };
        if merged == self.last {
            return Ok(());
        }
        self.force(merged)
    }

    /// Writes `checkpoint` into the next slot.
    fn force(&mut self, checkpoint: Checkpoint) -> io::Result<()> {
        self.sequence += 1;
        let slot = encode_slot(self.sequence, checkpoint);
        let position = (self.sequence % SLOTS) * SLOT_SIZE as u64;
        self.storage.write_at(&slot, position)?;
        self.last = checkpoint;
        Ok(())
    }

    /// Makes the newest slot durable.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.storage.sync()
    }
}

fn encode_slot(sequence: u64, checkpoint: Checkpoint) -> [u8; SLOT_SIZE] {
    let mut slot = [0u8; SLOT_SIZE];
    slot[..8].copy_from_slice(&sequence.to_be_bytes());
    slot[8..16].copy_from_slice(&checkpoint.recovery_point.to_be_bytes());
    slot[16..24].copy_from_slice(&checkpoint.start_offset.to_be_bytes());
    slot[24..28].copy_from_slice(&checkpoint.index_interval_bytes.to_be_bytes());
    let crc = crate::crc::crc32c(&slot[..28]);
    slot[28..32].copy_from_slice(&crc.to_be_bytes());
    slot
}

fn decode_slot(slot: &[u8; SLOT_SIZE]) -> Option<(Checkpoint, u64)> {
    let field = |range: std::ops::Range<usize>| -> Option<u64> {
        let bytes: [u8; 8] = slot.get(range)?.try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    };
    let covered = slot.get(..28)?;
    let stored: [u8; 4] = slot.get(28..32)?.try_into().ok()?;
    let interval: [u8; 4] = slot.get(24..28)?.try_into().ok()?;
    if crate::crc::crc32c(covered) != u32::from_be_bytes(stored) {
        return None;
    }
    let sequence = field(0..8)?;
    if sequence == 0 {
        return None;
    }
    let checkpoint = Checkpoint {
        recovery_point: field(8..16)?,
        start_offset: field(16..24)?,
        index_interval_bytes: u32::from_be_bytes(interval),
    };
    Some((checkpoint, sequence))
}

fn read_slots(storage: &dyn Storage) -> io::Result<Option<(Checkpoint, u64)>> {
    let length = storage.len()?;
    let mut newest: Option<(Checkpoint, u64)> = None;
    for slot_index in 0..SLOTS {
        let position = slot_index * SLOT_SIZE as u64;
        if position + SLOT_SIZE as u64 > length {
            continue;
        }
        let mut slot = [0u8; SLOT_SIZE];
        storage.read_at(&mut slot, position)?;
        if let Some(found) = decode_slot(&slot)
            && newest.is_none_or(|(_, sequence)| found.1 > sequence)
        {
            newest = Some(found);
        }
    }
    Ok(newest)
}

/// Whether the clean-shutdown marker is present.
pub(crate) fn clean_shutdown(directory: &dyn Directory) -> io::Result<bool> {
    Ok(directory
        .list()?
        .iter()
        .any(|name| name == CLEAN_SHUTDOWN_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryDirectory;

    #[test]
    fn the_newest_valid_slot_wins() {
        let directory = MemoryDirectory::new();
        let first = Checkpoint {
            recovery_point: 10,
            start_offset: 0,
            index_interval_bytes: 4096,
        };
        let mut file = CheckpointFile::open(&directory, first).expect("open");
        let second = Checkpoint {
            recovery_point: 20,
            start_offset: 0,
            index_interval_bytes: 4096,
        };
        file.advance(20, 0).expect("advance");
        assert_eq!(
            CheckpointFile::read(&directory)
                .expect("read")
                .map(|(c, _)| c),
            Some(second)
        );
        // Tear the newest slot: the older one is still there.
        let mut bytes = directory.contents(CHECKPOINT_FILE).expect("file");
        let newest = (2 % SLOTS) as usize * SLOT_SIZE;
        bytes[newest + 9] ^= 0xff;
        directory.replace_contents(CHECKPOINT_FILE, bytes);
        assert_eq!(
            CheckpointFile::read(&directory)
                .expect("read")
                .map(|(c, _)| c),
            Some(first)
        );
    }

    #[test]
    fn a_checkpoint_never_moves_backwards() {
        let directory = MemoryDirectory::new();
        let high = Checkpoint {
            recovery_point: 50,
            start_offset: 0,
            index_interval_bytes: 4096,
        };
        let mut file = CheckpointFile::open(&directory, high).expect("open");
        file.advance(40, 0).expect("advance");
        assert_eq!(file.last(), high);
    }
}
