//! Fetch: stored batches, as they are, from each partition asked for, with
//! Kafka's long poll and limits.
//!
//! Each partition is one store read of up to its `partition_max_bytes`. When
//! the reads hold fewer than `min_bytes`, no partition failed and `max_wait_ms`
//! has not passed, the fetch parks: it reads again when a partition's visible end
//! moves past what it saw (a store notice) or once more at its deadline, whatever
//! that finds. The answer keeps to `max_bytes` as KIP-74 says: the first
//! non-empty partition's batches are sent whole, later ones only as far as the
//! bytes left allow. Fetch sessions (KIP-227) are declined: the session id is
//! always 0, and a request naming a session gets FETCH_SESSION_ID_NOT_FOUND.
//! Nothing here may panic on a request or copy a record.

use super::work::{Outcome, Step, failure};
use crate::doors::kafka::{
    ErrorCode, FetchPartitionResponse, FetchRequest, FetchResponse, FetchTopicResponse,
    ResponseBody,
};
use crate::store::{Fetch, Fetched, Reply, Request, StoreError};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// A Fetch in progress.
#[derive(Debug)]
pub(super) struct FetchWork {
    request: FetchRequest,
    deadline: Instant,
    /// The wait is over: the next reads are answered whatever they find.
    last: bool,
    /// Per topic, per partition: its store read's index, or why there is none.
    sources: Vec<Vec<Result<usize, ErrorCode>>>,
    /// The partitions read in the last round and the visible end each had; a
    /// parked fetch reads again when one moves past it.
    pub(super) watched: Vec<(String, u32, u64)>,
}

impl FetchWork {
    pub(super) fn start(request: FetchRequest, _version: i16, now: Instant) -> (FetchWork, Step) {
        let wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
        let session = request.session_id;
        let mut work = FetchWork {
            request,
            deadline: now.checked_add(wait).unwrap_or(now),
            last: false,
            sources: Vec::new(),
            watched: Vec::new(),
        };
        if session != 0 {
            let response = FetchResponse {
                throttle_time_ms: 0,
                error_code: ErrorCode::FetchSessionIdNotFound,
                session_id: 0,
                responses: Vec::new(),
            };
            return (work, Step::Answer(ResponseBody::Fetch(response)));
        }
        let step = work.read();
        (work, step)
    }

    /// When a parked fetch's wait ends.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The store reads of one round (or the answer, when nothing is to be read).
    pub(super) fn read(&mut self) -> Step {
        let most = u64::try_from(self.request.max_bytes.max(1)).unwrap_or(1);
        let mut requests = Vec::new();
        self.sources = self
            .request
            .topics
            .iter()
            .map(|topic| {
                topic
                    .partitions
                    .iter()
                    .map(|partition| {
                        let index = u32::try_from(partition.partition)
                            .map_err(|_| ErrorCode::UnknownTopicOrPartition)?;
                        let offset = u64::try_from(partition.fetch_offset)
                            .map_err(|_| ErrorCode::OffsetOutOfRange)?;
                        let bytes = u64::try_from(partition.partition_max_bytes.max(1))
                            .unwrap_or(1)
                            .min(most);
                        requests.push(Request::Fetch(Fetch {
                            topic: topic.topic.clone(),
                            partition: index,
                            offset,
                            max_bytes: bytes,
                            decode: false,
                        }));
                        Ok(requests.len() - 1)
                    })
                    .collect()
            })
            .collect();
        if requests.is_empty() {
            return Step::Answer(self.answer(&[]));
        }
        Step::Store(requests)
    }

    /// A round's replies: the answer, or a wait for more data.
    pub(super) fn advance(&mut self, replies: Vec<Outcome>, now: Instant, stopping: bool) -> Step {
        let refused =
            self.sources.iter().flatten().any(Result::is_err) || replies.iter().any(Result::is_err);
        let found: u64 = replies
            .iter()
            .map(|reply| match reply {
                Ok(Reply::Fetched(fetched)) => fetched.batches.bytes().len() as u64,
                _ => 0,
            })
            .sum();
        let enough = found >= u64::try_from(self.request.min_bytes.max(0)).unwrap_or(0);
        if !self.last && !stopping && !refused && !enough && now < self.deadline {
            self.watched = self.watch(&replies);
            return Step::Park;
        }
        Step::Answer(self.answer(&replies))
    }

    /// Ends the wait: the next round is answered whatever it finds.
    pub(super) fn give_up_waiting(&mut self) {
        self.last = true;
    }

    fn watch(&self, replies: &[Outcome]) -> Vec<(String, u32, u64)> {
        let mut watched = Vec::new();
        for (topic, sources) in self.request.topics.iter().zip(&self.sources) {
            for (partition, source) in topic.partitions.iter().zip(sources) {
                if let (Ok(index), Ok(number)) = (source, u32::try_from(partition.partition))
                    && let Some(Ok(Reply::Fetched(fetched))) = replies.get(*index)
                {
                    watched.push((topic.topic.clone(), number, fetched.visible_end));
                }
            }
        }
        watched
    }

    fn answer(&self, replies: &[Outcome]) -> ResponseBody {
        let mut budget = u64::try_from(self.request.max_bytes.max(0)).unwrap_or(0);
        let mut first = true;
        let responses = self
            .request
            .topics
            .iter()
            .zip(&self.sources)
            .map(|(topic, sources)| FetchTopicResponse {
                topic: topic.topic.clone(),
                partitions: topic
                    .partitions
                    .iter()
                    .zip(sources)
                    .map(|(partition, source)| {
                        let outcome = source.map(|index| replies.get(index));
                        partition_answer(partition.partition, outcome, &mut budget, &mut first)
                    })
                    .collect(),
            })
            .collect();
        ResponseBody::Fetch(FetchResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            session_id: 0,
            responses,
        })
    }
}

fn partition_answer(
    partition: i32,
    outcome: Result<Option<&Outcome>, ErrorCode>,
    budget: &mut u64,
    first: &mut bool,
) -> FetchPartitionResponse {
    let mut answer = FetchPartitionResponse {
        partition_index: partition,
        error_code: ErrorCode::None,
        high_watermark: -1,
        last_stable_offset: -1,
        log_start_offset: -1,
        aborted_transactions: None,
        preferred_read_replica: -1,
        records: Some(Bytes::new()),
    };
    match outcome {
        Err(code) => answer.error_code = code,
        Ok(Some(Ok(Reply::Fetched(fetched)))) => {
            let visible = i64::try_from(fetched.visible_end).unwrap_or(i64::MAX);
            answer.high_watermark = visible;
            answer.last_stable_offset = visible;
            answer.log_start_offset = i64::try_from(fetched.start_offset).unwrap_or(i64::MAX);
            answer.records = Some(within_budget(fetched, budget, first));
        }
        Ok(Some(failed)) => {
            answer.error_code = failure(failed);
            if let Err(StoreError::OffsetOutOfRange {
                earliest, latest, ..
            }) = failed
            {
                answer.high_watermark = i64::try_from(*latest).unwrap_or(i64::MAX);
                answer.last_stable_offset = answer.high_watermark;
                answer.log_start_offset = i64::try_from(*earliest).unwrap_or(i64::MAX);
            }
        }
        Ok(None) => answer.error_code = ErrorCode::UnknownServerError,
    }
    answer
}

/// The batches a partition may send: all of the first non-empty partition's
/// (KIP-74), then whole batches while the response's byte budget lasts.
fn within_budget(fetched: &Fetched, budget: &mut u64, first: &mut bool) -> Bytes {
    let bytes = fetched.batches.to_bytes();
    if bytes.is_empty() {
        return bytes;
    }
    let mut taken = 0u64;
    for header in fetched.batches.headers() {
        if !*first && taken + header.size() > *budget {
            break;
        }
        *first = false;
        taken += header.size();
    }
    *budget = budget.saturating_sub(taken);
    let taken = usize::try_from(taken)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    bytes.slice(..taken)
}
