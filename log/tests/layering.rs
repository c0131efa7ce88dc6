//! The log crate's modules point one way: no circle of imports among the
//! top-level modules of `src/` (partition, append, handle, cleaner, compaction,
//! retention, reader, segment, ...). The partition sits below the threaded handle
//! and the cleaner, and nothing below it names them.
//!
//! It reads the sources, takes every `crate::a` path outside comments, string
//! literals and the unit-test module, and looks for a cycle; a module that reaches
//! up makes it fail and names the circle. This file must never accept a cycle,
//! however short.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module name to the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source with comments, string literals and the unit-test module removed.
fn code_of(path: &Path) -> String {
    let text =
        fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let test_module = [
        "#[cfg(test)]\nmod tests",
        "#[cfg(test)]\npub(crate) mod tests",
    ]
    .iter()
    .filter_map(|start| text.find(start))
    .min();
    let text = match test_module {
        Some(at) => &text[..at],
        None => &text[..],
    };
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for next in chars.by_ref() {
                    if !escaped && next == '"' {
                        break;
                    }
                    escaped = !escaped && next == '\\';
                }
                code.push_str("\"\"");
            }
            _ => code.push(c),
        }
    }
    code
}

/// The first path segment after each `crate::` (or each item of `crate::{a, b::c}`).
fn targets(code: &str) -> Vec<String> {
    let needle = "crate::";
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(needle) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(inner.split(',').map(|item| identifier(item.trim())));
        } else {
            found.push(identifier(rest));
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every `.rs` file under `directory`.
fn files_under(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![directory.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in fs::read_dir(&next).expect("readable source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module a file belongs to.
fn module_of(source: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(source).expect("under src");
    let first = relative.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_owned()
}

fn graph_of(source: &Path) -> Graph {
    let files = files_under(source);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|path| module_of(source, path))
        .filter(|name| name != "lib")
        .collect();
    let mut graph = Graph::new();
    for path in &files {
        let module = module_of(source, path);
        if module == "lib" {
            continue;
        }
        let edges = graph.entry(module.clone()).or_default();
        for target in targets(&code_of(path)) {
            if target != module && modules.contains(&target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|name| name == node).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_modules_of_the_log_crate_form_no_circle() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&source);
    if let Some(cycle) = find_cycle(&graph) {
        panic!("a circle of imports: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_partition_names_neither_the_handle_nor_the_cleaner_nor_its_threads() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&source);
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
        targets("use crate::{x, y::z};\nlet a = crate::w::f();"),
        ["x", "y", "w"]
    );
}
