//! `sinew group list|describe|reset-offsets`: Kafka consumer groups, as
//! `kafka-consumer-groups.sh` shows and resets them, over Kafka's protocol on
//! `sinew_broker::client::kafka::Admin` (sinew-broker's Kafka door, or Kafka).
//!
//! stdout carries only what was asked for (aligned tables); errors go to stderr
//! as one line, with exit status 1. It must never commit offsets for a group
//! that has members, and never print progress on stdout: scripts read it.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use sinew_broker::client::kafka::{
    Admin, ConsumerAssignment, DEFAULT_BOOTSTRAP, DescribedGroup, EARLIEST_TIMESTAMP, ErrorCode,
    LATEST_TIMESTAMP, Offsets, TopicPartition,
};
use sinew_broker::doors::kafka::AUTHORIZED_OPERATIONS_OMITTED;

/// Where a Kafka broker is, and how long to wait for it.
#[derive(Debug, Args)]
struct KafkaArgs {
    /// A Kafka broker (sinew-broker's Kafka door, or Kafka's): HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_BOOTSTRAP)]
    bootstrap: String,
    /// How long to wait for each answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    timeout: u64,
}

/// `sinew group`'s subcommands.
#[derive(Debug, Args)]
pub struct GroupCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print every consumer group with its state and protocol type.
    List(ListArgs),
    /// Print a group's state and members (with their partitions), then each
    /// partition's committed offset, end offset and lag.
    Describe(DescribeArgs),
    /// Commit new offsets for a topic's partitions, for a group with no members.
    ResetOffsets(ResetArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    kafka: KafkaArgs,
}

#[derive(Debug, Args)]
struct DescribeArgs {
    /// The group's id.
    group: String,
    #[command(flatten)]
    kafka: KafkaArgs,
}

#[derive(Debug, Args)]
struct ResetArgs {
    /// The group's id.
    group: String,
    /// The topic whose offsets are reset.
    #[arg(long)]
    topic: String,
    /// Only these partitions (default: all of the topic's).
    #[arg(long, value_name = "P,...", value_delimiter = ',')]
    partitions: Vec<i32>,
    #[command(flatten)]
    target: Target,
    /// Print the new offsets without committing them.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    kafka: KafkaArgs,
}

/// Where the offsets go: exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// Each partition's first offset.
    #[arg(long)]
    to_earliest: bool,
    /// Each partition's end (the next record's offset).
    #[arg(long)]
    to_latest: bool,
    /// This offset, within each partition's earliest and end.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
    to_offset: Option<i64>,
}

/// Runs `sinew group`.
pub fn run(command: GroupCommand) -> ExitCode {
    let result = match command.action {
        Action::List(args) => list(&args),
        Action::Describe(args) => describe(&args),
        Action::ResetOffsets(args) => reset_offsets(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sinew group: {message}");
            ExitCode::FAILURE
        }
    }
}

fn admin(kafka: &KafkaArgs) -> Result<Admin, String> {
    Admin::connect(&kafka.bootstrap, Duration::from_millis(kafka.timeout))
        .map_err(|error| error.to_string())
}

fn list(args: &ListArgs) -> Result<(), String> {
    let groups = admin(&args.kafka)?
        .list_groups()
        .map_err(|error| error.to_string())?;
    let mut table = Table::new(["GROUP", "STATE", "PROTOCOL-TYPE"]);
    for group in groups {
        table.row([
            group.group_id,
            or_dash(group.group_state),
            or_dash(group.protocol_type),
        ]);
    }
    table.print()
}

fn describe(args: &DescribeArgs) -> Result<(), String> {
    let mut admin = admin(&args.kafka)?;
    let group = described(&mut admin, &args.group)?;
    let committed = admin
        .committed_offsets(&args.group)
        .map_err(|error| error.to_string())?;
    if group.group_state == "Dead" && group.members.is_empty() && committed.is_empty() {
        return Err(format!("group {} does not exist", args.group));
    }
    let mut members = Table::new(["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"]);
    let mut owners: BTreeMap<TopicPartition, String> = BTreeMap::new();
    for member in &group.members {
        let assignment = if group.protocol_type == "consumer" {
            ConsumerAssignment::decode(member.member_assignment.clone()).ok()
        } else {
            None
        };
        let shown = match &assignment {
            Some(assignment) if !assignment.topics.is_empty() => assignment
                .topics
                .iter()
                .map(|topic| format!("{}:{}", topic.topic, joined(&topic.partitions)))
                .collect::<Vec<_>>()
                .join(" "),
            Some(_) => "-".to_owned(),
            None if member.member_assignment.is_empty() => "-".to_owned(),
            None => format!("({} bytes)", member.member_assignment.len()),
        };
        for topic in assignment.iter().flat_map(|assignment| &assignment.topics) {
            for partition in &topic.partitions {
                let key = TopicPartition {
                    topic: topic.topic.clone(),
                    partition: *partition,
                };
                owners.insert(key, member.member_id.clone());
            }
        }
        members.row([
            member.member_id.clone(),
            or_dash(member.client_id.clone()),
            or_dash(member.client_host.clone()),
            shown,
        ]);
    }
    let mut partitions: Vec<TopicPartition> = committed.keys().cloned().collect();
    partitions.extend(owners.keys().cloned());
    partitions.sort();
    partitions.dedup();
    let ends = end_offsets(&mut admin, &partitions)?;
    let mut offsets = Table::new(["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "MEMBER-ID"]);
    for key in &partitions {
        let committed = committed.get(key).copied();
        let end = ends.get(key).copied();
        let lag = committed.zip(end).map(|(committed, end)| end - committed);
        offsets.row([
            key.topic.clone(),
            key.partition.to_string(),
            or_dash_number(committed),
            or_dash_number(end),
            or_dash_number(lag),
            owners.get(key).cloned().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "group {} state={} protocol-type={} protocol={} members={}\n",
        args.group,
        or_dash(group.group_state.clone()),
        or_dash(group.protocol_type.clone()),
        or_dash(group.protocol_data.clone()),
        group.members.len()
    )
    .map_err(output_error)?;
    members.write(&mut out).map_err(output_error)?;
    writeln!(out).map_err(output_error)?;
    offsets.write(&mut out).map_err(output_error)
}

/// The group as its coordinator describes it; a group a newer broker says it
/// does not know is Dead, as older ones say.
fn described(admin: &mut Admin, group: &str) -> Result<DescribedGroup, String> {
    match admin.describe_group(group) {
        Ok(described) => Ok(described),
        Err(error) if error.code() == Some(ErrorCode::GroupIdNotFound) => Ok(DescribedGroup {
            error_code: ErrorCode::None,
            group_id: group.to_owned(),
            group_state: "Dead".to_owned(),
            protocol_type: String::new(),
            protocol_data: String::new(),
            members: Vec::new(),
            authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }),
        Err(error) => Err(error.to_string()),
    }
}

/// Each partition's end offset; a topic that cannot be looked up (deleted
/// since its offsets were committed) has none.
fn end_offsets(admin: &mut Admin, partitions: &[TopicPartition]) -> Result<Offsets, String> {
    let mut by_topic: BTreeMap<&str, Vec<TopicPartition>> = BTreeMap::new();
    for key in partitions {
        by_topic.entry(&key.topic).or_default().push(key.clone());
    }
    let mut ends = Offsets::new();
    for (_, keys) in by_topic {
        match admin.list_offsets(&keys, LATEST_TIMESTAMP) {
            Ok(found) => ends.extend(found),
            Err(error) if error.code().is_some() => {}
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok(ends)
}

fn reset_offsets(args: &ResetArgs) -> Result<(), String> {
    let mut admin = admin(&args.kafka)?;
    let group = described(&mut admin, &args.group)?;
    if !matches!(group.group_state.as_str(), "Empty" | "Dead") {
        return Err(format!(
            "offsets can only be reset while group {} is inactive (Empty or Dead), but it is \
             {} with {} member(s): stop its consumers first",
            args.group,
            group.group_state,
            group.members.len()
        ));
    }
    let existing = admin
        .partitions(&args.topic)
        .map_err(|error| error.to_string())?;
    let chosen = if args.partitions.is_empty() {
        existing
    } else {
        let mut chosen = args.partitions.clone();
        chosen.sort_unstable();
        chosen.dedup();
        if let Some(missing) = chosen.iter().find(|p| !existing.contains(p)) {
            return Err(format!("topic {} has no partition {missing}", args.topic));
        }
        chosen
    };
    let keys: Vec<TopicPartition> = chosen
        .into_iter()
        .map(|partition| TopicPartition {
            topic: args.topic.clone(),
            partition,
        })
        .collect();
    let mut look_up = |timestamp| {
        admin
            .list_offsets(&keys, timestamp)
            .map_err(|error| error.to_string())
    };
    let target = &args.target;
    let offsets = if target.to_earliest {
        look_up(EARLIEST_TIMESTAMP)?
    } else if target.to_latest {
        look_up(LATEST_TIMESTAMP)?
    } else {
        let wanted = target.to_offset.unwrap_or(0);
        let earliest = look_up(EARLIEST_TIMESTAMP)?;
        let latest = look_up(LATEST_TIMESTAMP)?;
        earliest
            .into_iter()
            .map(|(key, low)| {
                let high = latest.get(&key).copied().unwrap_or(low).max(low);
                (key, wanted.clamp(low, high))
            })
            .collect()
    };
    if !args.dry_run {
        admin
            .commit_offsets(&args.group, &offsets)
            .map_err(|error| error.to_string())?;
    }
    let mut table = Table::new(["TOPIC", "PARTITION", "NEW-OFFSET"]);
    for (key, offset) in offsets {
        table.row([key.topic, key.partition.to_string(), offset.to_string()]);
    }
    table.print()
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}

fn or_dash_number(number: Option<i64>) -> String {
    number.map_or_else(|| "-".to_owned(), |number| number.to_string())
}

fn joined(partitions: &[i32]) -> String {
    let texts: Vec<String> = partitions.iter().map(i32::to_string).collect();
    texts.join(",")
}

fn output_error(error: std::io::Error) -> String {
    format!("cannot write output: {error}")
}

/// Rows under a header, each column as wide as its widest cell, two spaces
/// apart; the last column is not padded (it may hold spaces).
struct Table<const N: usize> {
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    fn new(header: [&str; N]) -> Table<N> {
        Table {
            rows: vec![header.map(str::to_owned)],
        }
    }

    fn row(&mut self, row: [String; N]) {
        self.rows.push(row);
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut widths = [0; N];
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in &self.rows {
            let mut line = String::new();
            for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
                if index + 1 == N {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    fn print(&self) -> Result<(), String> {
        self.write(&mut std::io::stdout().lock())
            .map_err(output_error)
    }
}
