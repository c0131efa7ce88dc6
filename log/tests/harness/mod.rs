//! A small test runner for the test targets whose tests kill child processes
//! (`harness = false` in Cargo.toml). One binary plays both parts. Run with the
//! child's environment variable set, it is the child, whose entry point is a plain
//! function: not a test, so it is never listed, never counted, and never passes by
//! returning early. Otherwise it runs its tests as libtest does: name filters,
//! `--exact`, `--skip`, `--list`, a line per test and the closing "test result"
//! line, and exit code 101 if any failed.
//!
//! Test code only. It must never hide a failure: a test that panics is reported as
//! failed and makes the process fail.

use std::ffi::OsString;
use std::io::Write;
use std::panic;
use std::process::ExitCode;
use std::time::Instant;

/// A test: its name, which filters match, and its body, which panics to fail.
#[derive(Debug, Clone, Copy)]
pub struct Test {
    pub name: &'static str,
    pub run: fn(),
}

/// The child's part: the environment variable that selects it, and its entry
/// point, which gets the variable's value.
#[derive(Debug, Clone, Copy)]
pub struct ChildRole {
    pub variable: &'static str,
    pub run: fn(OsString),
}

/// libtest options that take a value, which is not a filter.
const OPTIONS_WITH_VALUES: [&str; 6] = [
    "--test-threads",
    "--color",
    "--format",
    "--logfile",
    "--shuffle-seed",
    "-Z",
];

/// Which tests the command line selects.
#[derive(Debug, Default)]
struct Selection {
    filters: Vec<String>,
    skips: Vec<String>,
    exact: bool,
    list: bool,
    /// `--ignored`: none of these tests is ignored, so none runs.
    ignored_only: bool,
}

impl Selection {
    fn from_args(mut args: impl Iterator<Item = String>) -> Self {
        let mut selection = Selection::default();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => selection.exact = true,
                "--list" => selection.list = true,
                "--ignored" => selection.ignored_only = true,
                "--skip" => selection.skips.extend(args.next()),
                option if OPTIONS_WITH_VALUES.contains(&option) => {
                    args.next();
                }
                option if option.starts_with('-') => {
                    if let Some(skip) = option.strip_prefix("--skip=") {
                        selection.skips.push(skip.to_string());
                    }
                    // Anything else (--nocapture, --test-threads=1, -q, ...) changes
                    // nothing here: tests run one at a time, output uncaptured.
                }
                filter => selection.filters.push(filter.to_string()),
            }
        }
        selection
    }

    fn selects(&self, name: &str) -> bool {
        let matches = |pattern: &String| {
            if self.exact {
                name == pattern
            } else {
                name.contains(pattern.as_str())
            }
        };
        !self.ignored_only
            && (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skips.iter().any(matches)
    }
}

/// Runs as the child if its variable is set, otherwise runs the tests the command
/// line selects, one after another.
pub fn main(child: ChildRole, tests: &[Test]) -> ExitCode {
    if let Some(value) = std::env::var_os(child.variable) {
        (child.run)(value);
        return ExitCode::SUCCESS;
    }
    let selection = Selection::from_args(std::env::args().skip(1));
    let chosen: Vec<&Test> = tests
        .iter()
        .filter(|test| selection.selects(test.name))
        .collect();
    if selection.list {
        for test in &chosen {
            println!("{}: test", test.name);
        }
        return ExitCode::SUCCESS;
    }
    let plural = if chosen.len() == 1 { "" } else { "s" };
    println!("\nrunning {} test{plural}", chosen.len());
    let started = Instant::now();
    let mut failed = Vec::new();
    for test in &chosen {
        print!("test {} ... ", test.name);
        let _ = std::io::stdout().flush();
        let passed = panic::catch_unwind(test.run).is_ok();
        println!("{}", if passed { "ok" } else { "FAILED" });
        if !passed {
            failed.push(test.name);
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len(),
        tests.len() - chosen.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}
