//! Broker-wide idempotent producer ids, allocated durably: the file
//! `DATA/producer-ids` holds a limit below which every id may have been handed out,
//! and it is raised a block at a time (1000 ids by default) before any id of the new
//! block is given. After a crash the store starts at the recorded limit, so an id is
//! never handed out twice; at most a block's worth of ids is skipped.
//!
//! This file must never hand out an id whose block is not durably recorded.

use super::error::StoreError;
use super::files::write_atomically;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The counter's file name, in the data directory.
pub const PRODUCER_IDS_FILE: &str = "producer-ids";
/// Ids reserved per write of the counter.
pub const DEFAULT_BLOCK: u64 = 1000;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CounterFile {
    /// Every id below this may have been handed out.
    limit: i64,
}

/// The allocator: the next id, and the durable limit of the current block.
#[derive(Debug)]
pub(crate) struct ProducerIds {
    directory: PathBuf,
    next: i64,
    limit: i64,
    block: i64,
}

impl ProducerIds {
    /// Reads the counter in `directory` (none yet: ids start at 0).
    pub(crate) fn open(directory: &Path, block: u64) -> Result<ProducerIds, StoreError> {
        let path = directory.join(PRODUCER_IDS_FILE);
        let limit = match fs::read(&path) {
            Ok(bytes) => {
                let file: CounterFile =
                    serde_json::from_slice(&bytes).map_err(|error| StoreError::Metadata {
                        path: path.clone(),
                        reason: error.to_string(),
                    })?;
                if file.limit < 0 {
                    return Err(StoreError::Metadata {
                        path,
                        reason: format!("negative producer id limit {}", file.limit),
                    });
                }
                file.limit
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => 0,
            Err(error) => {
                return Err(StoreError::io(format!("reading {}", path.display()))(error));
            }
        };
        Ok(ProducerIds {
            directory: directory.to_owned(),
            next: limit,
            limit,
            block: i64::try_from(block.max(1)).unwrap_or(i64::MAX),
        })
    }

    /// A new id: the next of the current block, after recording a new block
    /// durably if this one is used up.
    pub(crate) fn allocate(&mut self) -> Result<i64, StoreError> {
        if self.next >= self.limit {
            let limit = self
                .next
                .checked_add(self.block)
                .ok_or_else(|| StoreError::InvalidRequest("producer ids are exhausted".into()))?;
            let contents = serde_json::to_vec(&CounterFile { limit }).unwrap_or_default();
            write_atomically(&self.directory, PRODUCER_IDS_FILE, &contents).map_err(
                StoreError::io(format!(
                    "recording producer ids in {}",
                    self.directory.display()
                )),
            )?;
            self.limit = limit;
        }
        let id = self.next;
        self.next += 1;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_after_a_reopen_and_blocks_are_written_first() {
        let directory =
            std::env::temp_dir().join(format!("sinew-producer-ids-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        let mut ids = ProducerIds::open(&directory, 3).unwrap();
        assert_eq!(ids.allocate().unwrap(), 0);
        // The block 0..3 is recorded before 0 is handed out.
        let recorded = fs::read_to_string(directory.join(PRODUCER_IDS_FILE)).unwrap();
        assert_eq!(recorded, r#"{"limit":3}"#);
        assert_eq!(ids.allocate().unwrap(), 1);
        drop(ids); // a crash: 2 was never handed out, and is skipped
        let mut ids = ProducerIds::open(&directory, 3).unwrap();
        assert_eq!(ids.allocate().unwrap(), 3);
        for expected in 4..8 {
            assert_eq!(ids.allocate().unwrap(), expected);
        }
        let recorded = fs::read_to_string(directory.join(PRODUCER_IDS_FILE)).unwrap();
        assert_eq!(recorded, r#"{"limit":9}"#);
        fs::write(directory.join(PRODUCER_IDS_FILE), b"{\"limit\":-4}").unwrap();
        assert!(matches!(
            ProducerIds::open(&directory, 3),
            Err(StoreError::Metadata { .. })
        ));
        fs::remove_dir_all(&directory).unwrap();
    }
}
