//! The topics on disk and in memory: `DATA/topics/NAME/topic.json` and one
//! sinew-log directory per partition, `DATA/topics/NAME/PARTITION/`.
//!
//! A topic exists once its `topic.json` does: creating one opens its partitions
//! first and writes the file last, so a crash leaves a whole topic or a directory
//! without a file, which the next open removes. Deleting one renames its directory
//! into `DATA/deleted/` (durably) before removing the files, and the next open
//! empties `deleted/`. Every partition is opened in parallel on scoped threads, and
//! one that cannot be opened stops the store with an error naming it.
//!
//! It runs on the storage thread only. It must never create a missing partition
//! directory of an existing topic (that would hide lost data behind an empty log),
//! and never read the clock.

use super::error::StoreError;
use super::files::{TEMPORARY_SUFFIX, create_directory, sync_directory, write_atomically};
use super::topic::{MAX_PARTITIONS, TOPIC_FILE, TopicConfig, Visibility};
use crate::kafka::validate_topic_name;
use sinew_log::{LogConfig, Partition};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Where topics live, in the data directory.
pub const TOPICS_DIRECTORY: &str = "topics";
/// Where deleted topics wait to be removed, in the data directory.
pub const DELETED_DIRECTORY: &str = "deleted";

/// One partition, for the cleaner.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: u32,
    pub(crate) log: Arc<Partition>,
}

/// Every open partition, as the cleaner sees it: replaced whole when topics come
/// and go, so the cleaner takes a snapshot without holding up the storage thread.
pub(crate) type Registry = Arc<Mutex<Arc<Vec<Member>>>>;

/// One open topic.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) name: Arc<str>,
    pub(crate) config: TopicConfig,
    pub(crate) partitions: Vec<Arc<Partition>>,
    round_robin: u32,
}

impl Topic {
    /// Partition `index`, or `UnknownPartition`.
    pub(crate) fn partition(&self, index: u32) -> Result<&Arc<Partition>, StoreError> {
        self.partitions
            .get(index as usize)
            .ok_or_else(|| StoreError::UnknownPartition {
                topic: self.config.name.clone(),
                partition: index,
                partitions: self.config.partitions,
            })
    }

    /// The offset after the last record consumers may see in `log`.
    pub(crate) fn visible_end(&self, log: &Partition) -> u64 {
        match self.config.visibility {
            Visibility::Durable => log.durable_offset(),
            Visibility::Written { .. } => log.end_offset(),
        }
    }

    /// The partition for records without a key or a partition: each in turn.
    pub(crate) fn next_round_robin(&mut self) -> u32 {
        let chosen = self.round_robin % self.config.partitions.max(1);
        self.round_robin = chosen.wrapping_add(1);
        chosen
    }
}

/// Every topic, and where they live.
#[derive(Debug)]
pub(crate) struct Catalog {
    root: PathBuf,
    topics: BTreeMap<String, Topic>,
    registry: Registry,
    deletions: u64,
    open_threads: usize,
}

/// One partition to open.
struct Job {
    topic: String,
    partition: u32,
    path: PathBuf,
    config: LogConfig,
}

impl Catalog {
    /// Opens every topic under `root`, its partitions on up to `open_threads`
    /// threads at once; cleans up what a crash left behind (a topic without its
    /// file, deleted topics, temporary files).
    pub(crate) fn open(root: &Path, open_threads: usize) -> Result<Catalog, StoreError> {
        let topics_directory = root.join(TOPICS_DIRECTORY);
        let deleted = root.join(DELETED_DIRECTORY);
        create_directory(&topics_directory).map_err(StoreError::io(format!(
            "creating {}",
            topics_directory.display()
        )))?;
        if deleted.is_dir() {
            fs::remove_dir_all(&deleted).map_err(StoreError::io(format!(
                "removing deleted topics in {}",
                deleted.display()
            )))?;
        }
        let mut configs = Vec::new();
        let entries = fs::read_dir(&topics_directory).map_err(StoreError::io(format!(
            "listing {}",
            topics_directory.display()
        )))?;
        for entry in entries {
            let entry = entry.map_err(StoreError::io(format!(
                "listing {}",
                topics_directory.display()
            )))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !path.is_dir() || validate_topic_name(&name).is_err() {
                tracing::warn!(path = %path.display(), "ignoring what is not a topic directory");
                continue;
            }
            let _ = fs::remove_file(path.join(format!("{TOPIC_FILE}{TEMPORARY_SUFFIX}")));
            let file = path.join(TOPIC_FILE);
            let bytes = match fs::read(&file) {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(topic = %name, "removing a topic whose creation did not finish");
                    fs::remove_dir_all(&path)
                        .map_err(StoreError::io(format!("removing {}", path.display())))?;
                    continue;
                }
                Err(error) => {
                    return Err(StoreError::io(format!("reading {}", file.display()))(error));
                }
            };
            let metadata = |reason: String| StoreError::Metadata {
                path: file.clone(),
                reason,
            };
            let config = TopicConfig::from_file(&bytes).map_err(metadata)?;
            if config.name != name {
                return Err(metadata(format!(
                    "the file names topic {:?} but lives in the directory of {name:?}",
                    config.name
                )));
            }
            config
                .validate()
                .map_err(|error| metadata(error.to_string()))?;
            configs.push((config, path));
        }
        let mut jobs = Vec::new();
        for (config, path) in &configs {
            for partition in 0..config.partitions {
                let directory = path.join(partition.to_string());
                if !directory.is_dir() {
                    return Err(StoreError::Damaged {
                        topic: config.name.clone(),
                        partition,
                        path: directory,
                        reason: "the partition's directory is missing".to_owned(),
                        others: 0,
                    });
                }
                jobs.push(Job {
                    topic: config.name.clone(),
                    partition,
                    path: directory,
                    config: config.log_config(),
                });
            }
        }
        let mut opened = open_all(jobs, open_threads)?.into_iter();
        let mut topics = BTreeMap::new();
        for (config, _) in configs {
            let partitions = opened.by_ref().take(config.partitions as usize).collect();
            topics.insert(
                config.name.clone(),
                Topic {
                    name: Arc::from(config.name.as_str()),
                    config,
                    partitions,
                    round_robin: 0,
                },
            );
        }
        let catalog = Catalog {
            root: root.to_owned(),
            topics,
            registry: Registry::default(),
            deletions: 0,
            open_threads,
        };
        catalog.publish();
        Ok(catalog)
    }

    /// What the cleaner cleans.
    pub(crate) fn registry(&self) -> Registry {
        self.registry.clone()
    }

    /// Topic `name`, or `UnknownTopic`.
    pub(crate) fn topic(&self, name: &str) -> Result<&Topic, StoreError> {
        self.topics
            .get(name)
            .ok_or_else(|| StoreError::UnknownTopic(name.to_owned()))
    }

    /// Topic `name` to change (its round robin), or `UnknownTopic`.
    pub(crate) fn topic_mut(&mut self, name: &str) -> Result<&mut Topic, StoreError> {
        self.topics
            .get_mut(name)
            .ok_or_else(|| StoreError::UnknownTopic(name.to_owned()))
    }

    /// Every topic's name, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        self.topics.keys().cloned().collect()
    }

    /// Creates a topic: its partitions first, its file last.
    pub(crate) fn create(&mut self, config: TopicConfig) -> Result<&Topic, StoreError> {
        config.validate()?;
        if self.topics.contains_key(&config.name) {
            return Err(StoreError::TopicExists(config.name));
        }
        let path = self.root.join(TOPICS_DIRECTORY).join(&config.name);
        if path.exists() {
            // A creation that failed or crashed half way: start again.
            fs::remove_dir_all(&path)
                .map_err(StoreError::io(format!("removing {}", path.display())))?;
        }
        create_directory(&path).map_err(StoreError::io(format!("creating {}", path.display())))?;
        let jobs = (0..config.partitions)
            .map(|partition| Job {
                topic: config.name.clone(),
                partition,
                path: path.join(partition.to_string()),
                config: config.log_config(),
            })
            .collect();
        let partitions = open_all(jobs, self.open_threads)?;
        write_atomically(&path, TOPIC_FILE, &config.to_file()).map_err(StoreError::io(format!(
            "writing {}",
            path.join(TOPIC_FILE).display()
        )))?;
        let name = config.name.clone();
        let topic = Topic {
            name: Arc::from(name.as_str()),
            config,
            partitions,
            round_robin: 0,
        };
        self.topics.insert(name.clone(), topic);
        self.publish();
        self.topic(&name)
    }

    /// Grows a topic to `total` partitions (Kafka's CreatePartitions): the new
    /// partitions are opened first and the file rewritten last, so a crash leaves
    /// the topic as it was (with stray directories past its count, which the next
    /// growth replaces). Existing partitions, and the keys they hold, stay.
    pub(crate) fn add_partitions(&mut self, name: &str, total: u32) -> Result<&Topic, StoreError> {
        let current = self.topic(name)?.config.partitions;
        if total <= current || total > MAX_PARTITIONS {
            return Err(StoreError::InvalidPartitions {
                topic: name.to_owned(),
                current,
                requested: total,
            });
        }
        let path = self.root.join(TOPICS_DIRECTORY).join(name);
        let mut config = self.topic(name)?.config.clone();
        config.partitions = total;
        let mut jobs = Vec::new();
        for partition in current..total {
            let directory = path.join(partition.to_string());
            if directory.exists() {
                // Left by a growth that crashed before its file was written.
                fs::remove_dir_all(&directory)
                    .map_err(StoreError::io(format!("removing {}", directory.display())))?;
            }
            jobs.push(Job {
                topic: name.to_owned(),
                partition,
                path: directory,
                config: config.log_config(),
            });
        }
        let opened = open_all(jobs, self.open_threads)?;
        write_atomically(&path, TOPIC_FILE, &config.to_file()).map_err(StoreError::io(format!(
            "writing {}",
            path.join(TOPIC_FILE).display()
        )))?;
        let topic = self.topic_mut(name)?;
        topic.partitions.extend(opened);
        topic.config = config;
        self.publish();
        self.topic(name)
    }

    /// Deletes a topic: out of the catalog, its directory renamed into `deleted/`
    /// durably, then removed.
    pub(crate) fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        let topic = self
            .topics
            .remove(name)
            .ok_or_else(|| StoreError::UnknownTopic(name.to_owned()))?;
        self.publish();
        drop(topic);
        let topics_directory = self.root.join(TOPICS_DIRECTORY);
        let deleted = self.root.join(DELETED_DIRECTORY);
        create_directory(&deleted)
            .map_err(StoreError::io(format!("creating {}", deleted.display())))?;
        self.deletions += 1;
        let doomed = deleted.join(format!("{name}.{}", self.deletions));
        let from = topics_directory.join(name);
        fs::rename(&from, &doomed)
            .and_then(|()| sync_directory(&topics_directory))
            .and_then(|()| sync_directory(&deleted))
            .map_err(StoreError::io(format!("moving {} away", from.display())))?;
        if let Err(error) = fs::remove_dir_all(&doomed) {
            // The next open removes it.
            tracing::warn!(path = %doomed.display(), %error, "cannot remove a deleted topic yet");
        }
        Ok(())
    }

    /// Closes every partition cleanly (synced, with the clean-shutdown marker),
    /// each attempted; the first error is returned.
    pub(crate) fn close(&mut self) -> Result<(), StoreError> {
        let mut first = None;
        for topic in self.topics.values() {
            for (index, log) in topic.partitions.iter().enumerate() {
                if let Err(error) = log.close()
                    && first.is_none()
                {
                    first = Some(StoreError::Log {
                        topic: topic.config.name.clone(),
                        partition: index as u32,
                        source: error,
                    });
                }
            }
        }
        self.topics.clear();
        self.publish();
        first.map_or(Ok(()), Err)
    }

    fn publish(&self) {
        let members = self
            .topics
            .values()
            .flat_map(|topic| {
                topic
                    .partitions
                    .iter()
                    .enumerate()
                    .map(|(index, log)| Member {
                        topic: topic.name.clone(),
                        partition: index as u32,
                        log: log.clone(),
                    })
            })
            .collect();
        *self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(members);
    }
}

/// Opens every job's partition on up to `threads` scoped threads; the partitions in
/// the jobs' order, or an error naming the first that failed (and how many others
/// did).
fn open_all(jobs: Vec<Job>, threads: usize) -> Result<Vec<Arc<Partition>>, StoreError> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Partition, String>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let threads = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(job), Some(slot)) = (jobs.get(index), results.get(index)) else {
                        break;
                    };
                    let opened = Partition::open(&job.path, job.config.clone())
                        .map(|(log, _report)| log)
                        .map_err(|error| error.to_string());
                    *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(opened);
                }
            });
        }
    });
    let mut opened = Vec::with_capacity(jobs.len());
    let mut failures = Vec::new();
    for (job, slot) in jobs.into_iter().zip(results) {
        match slot
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            Some(Ok(log)) => opened.push(Arc::new(log)),
            Some(Err(reason)) => failures.push((job, reason)),
            None => failures.push((job, "the opening thread stopped".to_owned())),
        }
    }
    let others = failures.len().saturating_sub(1);
    match failures.into_iter().next() {
        None => Ok(opened),
        Some((job, reason)) => Err(StoreError::Damaged {
            topic: job.topic,
            partition: job.partition,
            path: job.path,
            reason,
            others,
        }),
    }
}
