//! Broker-wide idempotent producer ids, allocated durably: the file
//! `DATA/producer-ids` holds a limit below which every id may have been handed out,
//! and it is raised a block at a time (1000 ids by default) before any id of the new
//! block is given. After a crash the store starts at the recorded limit, so an id is
//! never handed out twice; at most a block's worth of ids is skipped.
//!
//! The same file holds the current epoch of every id whose epoch was raised (an
//! INIT_PRODUCER_ID for an id the client holds): the new epoch is recorded before
//! it is given, so after a restart the older epoch is still fenced on every
//! partition, including those the new epoch has not written to yet. Ids never
//! raised are at epoch 0 and take no room.
//!
//! This file must never hand out an id whose block is not durably recorded, nor an
//! epoch that is not durably recorded.

use super::error::StoreError;
use super::files::write_atomically;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// The current epoch of each id whose epoch was raised.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    epochs: BTreeMap<i64, i16>,
}

/// Why an id's epoch could not be raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpochRefusal {
    /// The broker never gave out this id.
    UnknownProducer,
    /// The client holds an epoch older than the current one: a newer instance
    /// fenced it.
    Fenced { current: i16 },
    /// The client holds an epoch the broker never gave out.
    NotGiven { current: i16 },
}

/// The allocator: the next id, and the durable limit of the current block.
#[derive(Debug)]
pub(crate) struct ProducerIds {
    directory: PathBuf,
    next: i64,
    limit: i64,
    block: i64,
    epochs: BTreeMap<i64, i16>,
}

impl ProducerIds {
    /// Reads the counter in `directory` (none yet: ids start at 0).
    pub(crate) fn open(directory: &Path, block: u64) -> Result<ProducerIds, StoreError> {
        let path = directory.join(PRODUCER_IDS_FILE);
        let (limit, epochs) = match fs::read(&path) {
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
                if let Some((id, epoch)) = file
                    .epochs
                    .iter()
                    .find(|&(&id, &epoch)| id < 0 || id >= file.limit || epoch < 0)
                {
                    return Err(StoreError::Metadata {
                        path,
                        reason: format!("producer {id} at epoch {epoch}"),
                    });
                }
                (file.limit, file.epochs)
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => (0, BTreeMap::new()),
            Err(error) => {
                return Err(StoreError::io(format!("reading {}", path.display()))(error));
            }
        };
        Ok(ProducerIds {
            directory: directory.to_owned(),
            next: limit,
            limit,
            block: i64::try_from(block.max(1)).unwrap_or(i64::MAX),
            epochs,
        })
    }

    /// The current epoch of `id` if it was ever raised (else it is 0).
    pub(crate) fn current_epoch(&self, id: i64) -> Option<i16> {
        self.epochs.get(&id).copied()
    }

    /// The next epoch for an id the client holds at `epoch`, recorded durably
    /// before it is returned: `(id, epoch + 1)`, or a new id at epoch 0 once the
    /// epoch would pass `i16::MAX`, as Kafka does.
    pub(crate) fn raise_epoch(
        &mut self,
        id: i64,
        epoch: i16,
    ) -> Result<Result<(i64, i16), EpochRefusal>, StoreError> {
        if id < 0 || id >= self.next {
            return Ok(Err(EpochRefusal::UnknownProducer));
        }
        let current = self.current_epoch(id).unwrap_or(0);
        if epoch < current {
            return Ok(Err(EpochRefusal::Fenced { current }));
        }
        if epoch > current {
            return Ok(Err(EpochRefusal::NotGiven { current }));
        }
        let Some(next) = current.checked_add(1) else {
            // A fresh id; the old one stays at its last epoch, fenced for good
            // only by never being given again.
            return self.allocate().map(|id| Ok((id, 0)));
        };
        let mut epochs = self.epochs.clone();
        epochs.insert(id, next);
        self.record(self.limit, &epochs)?;
        self.epochs = epochs;
        Ok(Ok((id, next)))
    }

    /// Writes the counter file durably.
    fn record(&self, limit: i64, epochs: &BTreeMap<i64, i16>) -> Result<(), StoreError> {
        let contents = serde_json::to_vec(&CounterFile {
            limit,
            epochs: epochs.clone(),
        })
        .unwrap_or_default();
        write_atomically(&self.directory, PRODUCER_IDS_FILE, &contents).map_err(StoreError::io(
            format!("recording producer ids in {}", self.directory.display()),
        ))
    }

    /// A new id: the next of the current block, after recording a new block
    /// durably if this one is used up.
    pub(crate) fn allocate(&mut self) -> Result<i64, StoreError> {
        if self.next >= self.limit {
            let limit = self
                .next
                .checked_add(self.block)
                .ok_or_else(|| StoreError::InvalidRequest("producer ids are exhausted".into()))?;
            self.record(limit, &self.epochs)?;
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

    #[test]
    fn raised_epochs_are_recorded_before_they_are_given_and_roll_over_to_a_new_id() {
        let directory =
            std::env::temp_dir().join(format!("sinew-producer-epochs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&directory);
        fs::create_dir_all(&directory).unwrap();
        let mut ids = ProducerIds::open(&directory, 10).unwrap();
        let id = ids.allocate().unwrap();
        assert_eq!(ids.current_epoch(id), None);
        assert_eq!(ids.raise_epoch(id, 0).unwrap(), Ok((id, 1)));
        assert_eq!(
            ids.raise_epoch(id, 0).unwrap(),
            Err(EpochRefusal::Fenced { current: 1 })
        );
        assert_eq!(
            ids.raise_epoch(id, 5).unwrap(),
            Err(EpochRefusal::NotGiven { current: 1 })
        );
        assert_eq!(
            ids.raise_epoch(9, 0).unwrap(),
            Err(EpochRefusal::UnknownProducer)
        );
        let recorded = fs::read_to_string(directory.join(PRODUCER_IDS_FILE)).unwrap();
        assert_eq!(recorded, r#"{"limit":10,"epochs":{"0":1}}"#);
        drop(ids);
        let mut ids = ProducerIds::open(&directory, 10).unwrap();
        assert_eq!(ids.current_epoch(id), Some(1));
        // At the last epoch, the next one is a new id at epoch 0.
        ids.epochs.insert(id, i16::MAX);
        assert_eq!(ids.raise_epoch(id, i16::MAX).unwrap(), Ok((10, 0)));
        fs::write(
            directory.join(PRODUCER_IDS_FILE),
            br#"{"limit":10,"epochs":{"12":1}}"#,
        )
        .unwrap();
        assert!(matches!(
            ProducerIds::open(&directory, 10),
            Err(StoreError::Metadata { .. })
        ));
        fs::remove_dir_all(&directory).unwrap();
    }
}
