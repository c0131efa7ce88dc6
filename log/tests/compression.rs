//! Compressed batches: each codec's batches round-trip through the log (stored byte
//! for byte as sent, read back record for record); Snappy without framing, as
//! librdkafka sends it; batches encoded by a Kafka client library (the
//! `kafka-protocol` crate) in every codec it supports are accepted and read back;
//! and its decoder reads what the log stores, before and after compaction. It never
//! needs a Kafka broker: the library's encoder and decoder are called directly.

mod common;

use bytes::Bytes;
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression as KafkaCompression, Record as KafkaRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use sinew_log::batch::{self, BatchHeader, Compression};
use sinew_log::{
    Compaction, FsyncPolicy, Header, Log, LogConfig, MemoryDirectory, NewRecord, Record,
    encode_batch, encode_batch_with,
};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

fn config() -> LogConfig {
    LogConfig {
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

/// Fifty compressible records with keys, headers, a null value and a null key.
fn records() -> Vec<NewRecord> {
    (0..50u64)
        .map(|index| NewRecord {
            key: (index != 7).then(|| format!("user-{}", index % 9).into_bytes()),
            value: (index != 11).then(|| common::value_for(index).repeat(3)),
            timestamp: 1_700_000_000_000 + index as i64 * 3,
            headers: if index % 5 == 0 {
                vec![Header {
                    key: "trace".into(),
                    value: Some(format!("t-{index}").into_bytes()),
                }]
            } else {
                Vec::new()
            },
        })
        .collect()
}

fn assert_same(read: &[Record], sent: &[NewRecord], base_offset: u64, context: &str) {
    assert_eq!(read.len(), sent.len(), "{context}");
    for (index, (read, sent)) in read.iter().zip(sent).enumerate() {
        assert_eq!(read.offset, base_offset + index as u64, "{context}");
        assert_eq!(read.key, sent.key, "{context}: key at {index}");
        assert_eq!(read.value, sent.value, "{context}: value at {index}");
        assert_eq!(
            read.timestamp, sent.timestamp,
            "{context}: timestamp at {index}"
        );
        assert_eq!(read.headers, sent.headers, "{context}: headers at {index}");
    }
}

#[test]
fn each_codec_round_trips_through_the_log() {
    let directory = MemoryDirectory::new();
    let (log, _) = Log::open_in(Arc::new(directory.clone()), config()).expect("open");
    let sent = records();
    let plain = encode_batch(&sent).expect("encode");
    let mut stored = Vec::new();
    for codec in Compression::ALL {
        let encoded = encode_batch_with(&sent, codec).expect("encode");
        let header = batch::check(&encoded).expect("a valid batch");
        assert_eq!(header.compression(), Ok(codec));
        if codec != Compression::None {
            assert!(
                encoded.len() < plain.len() / 2,
                "{codec:?} did not compress: {} vs {}",
                encoded.len(),
                plain.len()
            );
        }
        let ack = log.append_batch(&encoded).expect("append");
        let batches = log.reader().read(ack.base_offset, 1 << 20).expect("read");
        // Stored as sent: only the base offset differs.
        assert_eq!(batches.bytes().get(8..), encoded.get(8..), "{codec:?}");
        let read = log
            .reader()
            .read_records(ack.base_offset, sent.len())
            .expect("decode");
        assert_same(&read, &sent, ack.base_offset, &format!("{codec:?}"));
        stored.push((codec, ack.base_offset));
    }
    log.close().expect("close");
    let (log, report) = Log::open_in(Arc::new(directory), config()).expect("reopen");
    assert!(report.is_whole(), "{report}");
    for (codec, base_offset) in stored {
        let read = log
            .reader()
            .read_records(base_offset, sent.len())
            .expect("decode");
        assert_same(
            &read,
            &sent,
            base_offset,
            &format!("{codec:?} after reopen"),
        );
    }
}

#[test]
fn snappy_without_framing_is_read_as_librdkafka_sends_it() {
    let sent = records();
    let plain = encode_batch(&sent).expect("encode");
    let compressed = snap::raw::Encoder::new()
        .compress_vec(&plain[batch::HEADER_SIZE..])
        .expect("snappy");
    let mut raw = plain[..batch::HEADER_SIZE].to_vec();
    raw.extend_from_slice(&compressed);
    let length = (raw.len() - batch::LOG_OVERHEAD) as i32;
    raw[8..12].copy_from_slice(&length.to_be_bytes());
    raw[21..23].copy_from_slice(&Compression::Snappy.attribute_bits().to_be_bytes());
    let crc = batch::compute_crc(&raw).expect("crc");
    raw[17..21].copy_from_slice(&crc.to_be_bytes());
    let (log, _) = Log::open_in(Arc::new(MemoryDirectory::new()), config()).expect("open");
    let ack = log.append_batch(&raw).expect("append raw snappy");
    let read = log.reader().read_records(0, 100).expect("decode");
    assert_same(&read, &sent, ack.base_offset, "raw snappy");
}

fn kafka_records(sent: &[NewRecord]) -> Vec<KafkaRecord> {
    sent.iter()
        .enumerate()
        .map(|(index, record)| {
            let mut headers = IndexMap::new();
            for header in &record.headers {
                headers.insert(
                    StrBytes::from_string(header.key.clone()),
                    header.value.clone().map(Bytes::from),
                );
            }
            KafkaRecord {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: index as i64,
                sequence: index as i32,
                timestamp: record.timestamp,
                key: record.key.clone().map(Bytes::from),
                value: record.value.clone().map(Bytes::from),
                headers,
            }
        })
        .collect()
}

const KAFKA_CODECS: [(KafkaCompression, Compression); 5] = [
    (KafkaCompression::None, Compression::None),
    (KafkaCompression::Gzip, Compression::Gzip),
    (KafkaCompression::Snappy, Compression::Snappy),
    (KafkaCompression::Lz4, Compression::Lz4),
    (KafkaCompression::Zstd, Compression::Zstd),
];

#[test]
fn batches_from_a_kafka_client_library_are_accepted_and_read_back() {
    let sent = records();
    let (log, _) = Log::open_in(Arc::new(MemoryDirectory::new()), config()).expect("open");
    for (kafka_codec, codec) in KAFKA_CODECS {
        let mut encoded = Vec::new();
        RecordBatchEncoder::encode(
            &mut encoded,
            &kafka_records(&sent),
            &RecordEncodeOptions {
                version: 2,
                compression: kafka_codec,
            },
        )
        .expect("kafka-protocol encodes");
        let header = BatchHeader::parse(&encoded).expect("a header");
        assert_eq!(header.compression(), Ok(codec));
        assert_eq!(header.size() as usize, encoded.len(), "one batch");
        let ack = log
            .append_batch(&encoded)
            .unwrap_or_else(|error| panic!("{codec:?}: {error}"));
        assert_eq!(ack.last_offset - ack.base_offset + 1, sent.len() as u64);
        let read = log
            .reader()
            .read_records(ack.base_offset, sent.len())
            .expect("decode");
        assert_same(&read, &sent, ack.base_offset, &format!("{codec:?}"));
    }
}

#[derive(Default)]
struct Stored {
    bytes: Vec<u8>,
    headers: Vec<BatchHeader>,
}

impl Stored {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn headers(&self) -> &[BatchHeader] {
        &self.headers
    }
}

/// Decodes stored bytes (one or more batches) with the kafka-protocol crate.
fn kafka_decode(bytes: &[u8]) -> Vec<KafkaRecord> {
    let mut buffer = Bytes::copy_from_slice(bytes);
    RecordBatchDecoder::decode_all(&mut buffer)
        .expect("kafka-protocol decodes what the log stores")
        .into_iter()
        .flat_map(|set| set.records)
        .collect()
}

#[test]
fn a_kafka_client_library_decodes_what_the_log_stores_even_compacted() {
    let mut sent = records();
    for record in &mut sent {
        record
            .key
            .get_or_insert_with(|| b"no-longer-keyless".to_vec());
    }
    // The newest record of user-2 is a tombstone.
    sent[47].value = None;
    let config = LogConfig {
        compaction: Some(Compaction::default()),
        ..config()
    };
    let (log, _) = Log::open_in(Arc::new(MemoryDirectory::new()), config).expect("open");
    for codec in Compression::ALL {
        log.append_batch(&encode_batch_with(&sent, codec).expect("encode"))
            .expect("append");
    }
    // Every stored batch, segment after segment.
    let everything = |log: &Log| {
        let mut all = Stored::default();
        let mut next = log.reader().start_offset();
        loop {
            let batches = log.reader().read(next, 1 << 30).expect("read");
            let Some(after) = batches.next_offset() else {
                break all;
            };
            all.bytes.extend_from_slice(batches.bytes());
            all.headers.extend_from_slice(batches.headers());
            next = after;
        }
    };
    let decoded = kafka_decode(everything(&log).bytes());
    assert_eq!(decoded.len(), sent.len() * Compression::ALL.len());
    for (offset, record) in decoded.iter().enumerate() {
        let original = &sent[offset % sent.len()];
        assert_eq!(record.offset, offset as i64);
        assert_eq!(record.key.as_deref(), original.key.as_deref());
        assert_eq!(record.value.as_deref(), original.value.as_deref());
    }
    // Compacted, batches lose records (keeping their codec), some become empty,
    // and the tombstone's batch carries a delete horizon: still valid Kafka.
    log.roll().expect("roll");
    let report = log
        .compact(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        .expect("compact");
    assert!(report.records_removed > 0, "{report}");
    let stored = everything(&log);
    let decoded = kafka_decode(stored.bytes());
    let ours = log.reader().read_records(0, usize::MAX).expect("decode");
    assert_eq!(decoded.len(), ours.len());
    for (theirs, ours) in decoded.iter().zip(&ours) {
        assert_eq!(theirs.offset as u64, ours.offset);
        assert_eq!(theirs.key.as_deref(), ours.key.as_deref());
        assert_eq!(theirs.value.as_deref(), ours.value.as_deref());
        assert_eq!(theirs.timestamp, ours.timestamp);
    }
    let codecs: Vec<Compression> = stored
        .headers()
        .iter()
        .map(|header| header.compression().expect("known codec"))
        .collect();
    assert!(
        codecs.contains(&Compression::Zstd),
        "the newest records stay in their zstd batch: {codecs:?}"
    );
    assert!(
        stored
            .headers()
            .iter()
            .any(|header| header.delete_horizon().is_some())
    );
    // A segment whose last batch loses every record keeps it empty, so the segment
    // still ends where the next begins; Kafka clients read such batches too.
    let single = |value: &[u8]| {
        encode_batch_with(
            &[NewRecord::new(Some(b"x".to_vec()), value.to_vec(), 1)],
            Compression::Lz4,
        )
        .expect("encode")
    };
    log.append_batch(&single(b"1")).expect("append");
    log.roll().expect("roll");
    log.append_batch(&single(b"2")).expect("append");
    log.roll().expect("roll");
    log.compact(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        .expect("compact");
    let stored = everything(&log);
    assert!(
        stored
            .headers()
            .iter()
            .any(|header| header.record_count == 0),
        "an emptied batch"
    );
    let decoded = kafka_decode(stored.bytes());
    let ours = log.reader().read_records(0, usize::MAX).expect("decode");
    let offsets = |records: Vec<u64>| records;
    assert_eq!(
        offsets(decoded.iter().map(|record| record.offset as u64).collect()),
        offsets(ours.iter().map(|record| record.offset).collect())
    );
    assert_eq!(
        ours.last().and_then(|record| record.value.clone()),
        Some(b"2".to_vec())
    );
}
