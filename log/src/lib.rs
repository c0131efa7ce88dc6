//! `sinew-log`: an embedded, append-only, segmented log that stores record batches in
//! Kafka's RecordBatch v2 layout and survives crashes.
//!
//! Nothing is built here yet. It must never depend on anything else of Sinew's: the
//! log is usable on its own.
