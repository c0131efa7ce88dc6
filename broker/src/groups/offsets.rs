//! Committed offsets: for each group, topic and partition, the offset its
//! consumers will resume from, with the leader epoch and metadata they gave.
//!
//! A commit is applied here and also handed back (`OffsetCommitted`) so the door
//! can write it durably before answering; on start those records are replayed.
//! This file must never drop a commit it applied, nor keep one for a group that
//! was deleted.

use std::collections::BTreeMap;

/// One partition's committed position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    /// The next record the group will read.
    pub offset: i64,
    /// The leader epoch of the record before it, or -1.
    pub leader_epoch: i32,
    /// What the consumer attached (Kafka's offset metadata).
    pub metadata: Option<String>,
}

/// A commit to write durably (and to replay on start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitted {
    pub group: String,
    pub offset: CommittedOffset,
}

/// Every group's committed offsets.
#[derive(Debug, Default)]
pub(crate) struct Offsets {
    table: BTreeMap<(String, String, i32), CommittedOffset>,
}

impl Offsets {
    /// Records a commit (the newer one wins).
    pub(crate) fn apply(&mut self, committed: &OffsetCommitted) {
        let key = (
            committed.group.clone(),
            committed.offset.topic.clone(),
            committed.offset.partition,
        );
        self.table.insert(key, committed.offset.clone());
    }

    /// The committed offsets of `group`: of each partition in `partitions`
    /// (`None` where nothing was committed), or of every partition it committed.
    pub(crate) fn fetch(
        &self,
        group: &str,
        partitions: Option<&[(String, i32)]>,
    ) -> Vec<(String, i32, Option<CommittedOffset>)> {
        match partitions {
            Some(partitions) => partitions
                .iter()
                .map(|(topic, partition)| {
                    let key = (group.to_owned(), topic.clone(), *partition);
                    (topic.clone(), *partition, self.table.get(&key).cloned())
                })
                .collect(),
            None => self
                .table
                .iter()
                .filter(|((owner, _, _), _)| owner == group)
                .map(|((_, topic, partition), offset)| {
                    (topic.clone(), *partition, Some(offset.clone()))
                })
                .collect(),
        }
    }

    /// Forgets one partition's committed offset (a tombstone replayed).
    pub(crate) fn remove(&mut self, group: &str, topic: &str, partition: i32) {
        self.table
            .remove(&(group.to_owned(), topic.to_owned(), partition));
    }

    /// Forgets a deleted group's offsets.
    pub(crate) fn remove_group(&mut self, group: &str) {
        self.table.retain(|(owner, _, _), _| owner != group);
    }
}
