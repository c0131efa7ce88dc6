//! `sinew log`: an operator's window into a log directory, in the spirit of
//! kafka-dump-log, and a way for scripts to append to one.
//!
//! `append` reads records from standard input and prints each offset once the
//! record is acknowledged (applying retention settings as it goes); `compact` keeps
//! only the newest record per key; `read`, `verify` and `info` must never modify the
//! directory (they open it read-only, without even taking the writer's lock).

use clap::{Args, Subcommand, ValueEnum};
use sinew_log::{
    Compaction, FsyncPolicy, Log, LogConfig, LogError, NewRecord, inspect, open_read_only,
};
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Records gathered into one batch at most (lines that arrive while an fsync is in
/// flight share the next one).
const MAX_BATCH_RECORDS: usize = 1000;
/// Bytes gathered into one batch at most.
const MAX_BATCH_BYTES: usize = 512 * 1024;

/// Look inside a log directory, or append to it.
#[derive(Debug, Args)]
pub struct LogCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Append one record per line of standard input; print each record's offset
    /// once it is acknowledged under the fsync policy.
    Append(AppendArguments),
    /// Print records as "OFFSET<TAB>VALUE" (or "OFFSET<TAB>KEY<TAB>VALUE"), up to
    /// the end of the log.
    Read(ReadArguments),
    /// Keep only the newest record of each key (tombstones expire after
    /// --tombstone-retention-ms): rolls the active segment first, so every record
    /// up to the end of the log is compacted. Offsets never change.
    Compact(CompactArguments),
    /// Check every batch and index; print a summary; exit 1 on damage.
    Verify(DirectoryArgument),
    /// Show segments, offsets, sizes and whether the last shutdown was clean.
    Info(DirectoryArgument),
}

#[derive(Debug, Args)]
struct DirectoryArgument {
    /// The log directory.
    #[arg(long)]
    dir: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Fsync {
    /// Fsync every append (group commit): offsets are printed once durable.
    Always,
    /// Fsync in the background every --fsync-interval milliseconds.
    Interval,
    /// Leave it to the operating system.
    Never,
}

#[derive(Debug, Args)]
struct AppendArguments {
    /// The log directory (created if missing).
    #[arg(long)]
    dir: PathBuf,
    /// When to fsync.
    #[arg(long, value_enum, default_value = "always")]
    fsync: Fsync,
    /// Milliseconds between fsyncs with --fsync interval.
    #[arg(long, default_value_t = 1000)]
    fsync_interval: u64,
    /// Split each line at the first occurrence of this string: key before, value after.
    #[arg(long)]
    key_delimiter: Option<String>,
    /// Delete whole segments whose newest record is older than this many
    /// milliseconds (never the active segment).
    #[arg(long)]
    retention_ms: Option<u64>,
    /// Delete the oldest segments while the log would still hold this many bytes
    /// without them (never the active segment).
    #[arg(long)]
    retention_bytes: Option<u64>,
    /// Start a new segment when the active one would grow past this many bytes.
    #[arg(long)]
    segment_bytes: Option<u64>,
}

#[derive(Debug, Args)]
struct CompactArguments {
    /// The log directory.
    #[arg(long)]
    dir: PathBuf,
    /// How long a tombstone (a key with no value) is kept after the first
    /// compaction that keeps it, in milliseconds.
    #[arg(long, default_value_t = 24 * 60 * 60 * 1000)]
    tombstone_retention_ms: u64,
}

#[derive(Debug, Args)]
struct ReadArguments {
    /// The log directory.
    #[arg(long)]
    dir: PathBuf,
    /// The first offset to print (default: the start of the log).
    #[arg(long)]
    from: Option<u64>,
    /// Print at most this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Print keys too.
    #[arg(long)]
    keys: bool,
}

/// Runs `sinew log ...`.
pub fn run(command: LogCommand) -> ExitCode {
    let result = match command.action {
        Action::Append(arguments) => append(arguments),
        Action::Read(arguments) => read(arguments),
        Action::Compact(arguments) => compact(arguments),
        Action::Verify(arguments) => verify(arguments),
        Action::Info(arguments) => info(arguments),
    };
    match result {
        Ok(code) => code,
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Log(error)) => {
            eprintln!("sinew log: {error}");
            ExitCode::FAILURE
        }
        Err(Failure::Io(error)) => {
            eprintln!("sinew log: {error}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug)]
enum Failure {
    Log(LogError),
    Io(io::Error),
    /// Whoever read our output went away: not an error for a filter.
    BrokenPipe,
}

impl From<LogError> for Failure {
    fn from(error: LogError) -> Self {
        Failure::Log(error)
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Io(error)
        }
    }
}

fn now_milliseconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn to_record(mut line: Vec<u8>, delimiter: Option<&[u8]>, timestamp: i64) -> NewRecord {
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    let split = delimiter
        .filter(|delimiter| !delimiter.is_empty())
        .and_then(|delimiter| {
            line.windows(delimiter.len())
                .position(|window| window == delimiter)
                .map(|at| (at, delimiter.len()))
        });
    match split {
        Some((at, length)) => {
            let value = line.split_off(at + length);
            line.truncate(at);
            NewRecord::new(Some(line), value, timestamp)
        }
        None => NewRecord::new(None, line, timestamp),
    }
}

fn append(arguments: AppendArguments) -> Result<ExitCode, Failure> {
    let fsync = match arguments.fsync {
        Fsync::Always => FsyncPolicy::Always,
        Fsync::Interval => {
            FsyncPolicy::Interval(Duration::from_millis(arguments.fsync_interval.max(1)))
        }
        Fsync::Never => FsyncPolicy::Never,
    };
    let defaults = LogConfig::default();
    let config = LogConfig {
        fsync,
        retention_age: arguments.retention_ms.map(Duration::from_millis),
        retention_bytes: arguments.retention_bytes,
        segment_bytes: arguments.segment_bytes.unwrap_or(defaults.segment_bytes),
        ..defaults
    };
    let retention = config.retention_age.is_some() || config.retention_bytes.is_some();
    let (log, report) = Log::open(&arguments.dir, config)?;
    if !report.truncations.is_empty() || !report.rebuilt_indexes.is_empty() {
        eprintln!("sinew log: recovered {report}");
    }
    // Lines are read on their own thread, so lines that arrive during an fsync
    // are waiting, all together, when it returns.
    let (sender, receiver) = mpsc::sync_channel::<io::Result<Vec<u8>>>(MAX_BATCH_RECORDS);
    std::thread::spawn(move || {
        let mut input = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match input.read_until(b'\n', &mut line) {
                Ok(0) => return,
                Ok(_) => {
                    if sender.send(Ok(line)).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            }
        }
    });
    let delimiter = arguments.key_delimiter.as_deref().map(str::as_bytes);
    let mut stdout = io::stdout().lock();
    while let Ok(first) = receiver.recv() {
        let mut lines = vec![first?];
        let mut bytes = lines.iter().map(Vec::len).sum::<usize>();
        while lines.len() < MAX_BATCH_RECORDS && bytes < MAX_BATCH_BYTES {
            match receiver.try_recv() {
                Ok(line) => {
                    let line = line?;
                    bytes += line.len();
                    lines.push(line);
                }
                Err(_) => break,
            }
        }
        let timestamp = now_milliseconds();
        let records: Vec<NewRecord> = lines
            .into_iter()
            .map(|line| to_record(line, delimiter, timestamp))
            .collect();
        let acknowledgement = log.append(&records)?;
        for offset in acknowledgement.base_offset..=acknowledgement.last_offset {
            writeln!(stdout, "{offset}")?;
        }
        stdout.flush()?;
    }
    // The background cleaner applies retention as segments roll; once more at the
    // end, so the log a script finds afterwards is as short as the settings say.
    if retention {
        log.apply_retention(SystemTime::now())?;
    }
    log.close()?;
    Ok(ExitCode::SUCCESS)
}

fn compact(arguments: CompactArguments) -> Result<ExitCode, Failure> {
    let config = LogConfig {
        compaction: Some(Compaction {
            tombstone_retention: Duration::from_millis(arguments.tombstone_retention_ms),
            ..Compaction::default()
        }),
        cleaner_interval: None,
        ..LogConfig::default()
    };
    let (log, report) = Log::open(&arguments.dir, config)?;
    if !report.truncations.is_empty() || !report.rebuilt_indexes.is_empty() {
        eprintln!("sinew log: recovered {report}");
    }
    log.roll()?;
    let report = log.compact(SystemTime::now())?;
    log.close()?;
    writeln!(io::stdout().lock(), "{report}")?;
    Ok(ExitCode::SUCCESS)
}

fn read(arguments: ReadArguments) -> Result<ExitCode, Failure> {
    let (reader, report) = open_read_only(&arguments.dir)?;
    let mut next = arguments.from.unwrap_or_else(|| reader.start_offset());
    let mut remaining = arguments.count.unwrap_or(u64::MAX);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    while remaining > 0 {
        let batches = reader.read(next, 1 << 20)?;
        let Some(after) = batches.next_offset() else {
            break;
        };
        for record in batches.records()? {
            if record.offset < next || remaining == 0 {
                continue;
            }
            write!(stdout, "{}\t", record.offset)?;
            if arguments.keys {
                stdout.write_all(record.key.as_deref().unwrap_or_default())?;
                stdout.write_all(b"\t")?;
            }
            stdout.write_all(record.value.as_deref().unwrap_or_default())?;
            stdout.write_all(b"\n")?;
            remaining -= 1;
        }
        next = after;
    }
    stdout.flush()?;
    if report.is_whole() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("sinew log: stopped before damage: {report}");
        Ok(ExitCode::FAILURE)
    }
}

fn verify(arguments: DirectoryArgument) -> Result<ExitCode, Failure> {
    let verification = inspect::verify(&arguments.dir)?;
    let mut stdout = io::stdout().lock();
    write!(stdout, "{verification}")?;
    Ok(if verification.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn info(arguments: DirectoryArgument) -> Result<ExitCode, Failure> {
    let info = inspect::info(&arguments.dir)?;
    write!(io::stdout().lock(), "{info}")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_the_first_delimiter() {
        let record = to_record(b"user-1=a=b\n".to_vec(), Some(b"="), 5);
        assert_eq!(record.key.as_deref(), Some(&b"user-1"[..]));
        assert_eq!(record.value.as_deref(), Some(&b"a=b"[..]));
        let record = to_record(b"no delimiter".to_vec(), Some(b"::"), 5);
        assert_eq!(record.key, None);
        assert_eq!(record.value.as_deref(), Some(&b"no delimiter"[..]));
        let record = to_record(b"k::v".to_vec(), Some(b"::"), 5);
        assert_eq!(record.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(record.value.as_deref(), Some(&b"v"[..]));
    }
}
