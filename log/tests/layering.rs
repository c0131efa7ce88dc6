//! The log crate's modules point one way: no circle of imports among the
//! top-level modules of `src/` (partition, append, handle, cleaner, compaction,
//! retention, reader, segment, ...). The partition sits below the threaded handle
//! and the cleaner, and nothing below it names them.
//!
//! It reads the sources, takes every `crate::a` path outside comments, string
//! literals and the unit-test module, and looks for a cycle; a module that reaches
//! up makes it fail and names the circle. This file must never accept a cycle,
//! however short.

#[path = "../../testing/layering.rs"]
mod layering;

use layering::{Graph, crate_graph, find_cycle, targets};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn the_modules_of_the_log_crate_form_no_circle() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = crate_graph(&source);
    if let Some(cycle) = find_cycle(&graph) {
        panic!("a circle of imports: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_partition_names_neither_the_handle_nor_the_cleaner_nor_its_threads() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = crate_graph(&source);
    // Everything the partition reaches, directly or not.
    let mut reached = BTreeSet::new();
    let mut stack = vec!["partition".to_owned()];
    while let Some(module) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if reached.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    for above in [
        "handle",
        "background",
        "commit",
        "signal",
        "cleaner",
        "compaction",
        "retention",
    ] {
        assert!(
            !reached.contains(above),
            "the partition reaches {above}: {reached:?}"
        );
    }
}

#[test]
fn the_checker_finds_a_circle() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        targets("use crate::{x, y::z};\nlet a = crate::w::f();", "crate"),
        ["x", "y", "w"]
    );
}
