//! The import-circle checker that the crates' layering tests share (each
//! includes this file with `#[path]`): it reads a crate's `src/`, takes every
//! `crate::a::...` and `super::b` path outside comments, string literals and the
//! unit-test module, builds the graph of modules, and finds a cycle. It must never
//! accept a cycle, however short; it reads files and nothing else.

#![allow(dead_code)] // each crate's test uses the parts it needs

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module name to the modules it names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source with comments, string literals and the unit-test module removed.
pub fn code_of(path: &Path) -> String {
    let text =
        fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    // Unit tests may reach anywhere: the module graph is the shipped code's.
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
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for next in chars.by_ref() {
                    if last == '*' && next == '/' {
                        break;
                    }
                    last = next;
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

/// The first path segment after each `prefix::` (or each item of
/// `prefix::{a, b::c}`).
pub fn targets(code: &str, prefix: &str) -> Vec<String> {
    let needle = format!("{prefix}::");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                found.push(identifier(item.trim()));
            }
        } else {
            found.push(identifier(rest));
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

pub fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every `.rs` file under `directory`.
pub fn files_under(directory: &Path) -> Vec<PathBuf> {
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

/// The module a path under `directory` belongs to: its first component, without
/// `.rs`.
pub fn module_of(directory: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(directory).expect("under the directory");
    let first = relative.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_owned()
}

/// The graph of the top-level modules of `src/`.
pub fn crate_graph(source: &Path) -> Graph {
    let files = files_under(source);
    let mut graph = Graph::new();
    let modules: BTreeSet<String> = files
        .iter()
        .map(|path| module_of(source, path))
        .filter(|name| name != "lib")
        .collect();
    for path in &files {
        let module = module_of(source, path);
        if module == "lib" {
            continue;
        }
        let code = code_of(path);
        let mut named: Vec<String> = targets(&code, "crate");
        // `super::x` in a file directly under src/ names a sibling module.
        if path.parent() == Some(source) {
            named.extend(targets(&code, "super"));
        }
        let edges = graph.entry(module.clone()).or_default();
        for target in named {
            if target != module && modules.contains(&target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// The graph of the files of one directory module (`mod.rs` left out: it declares
/// the others, so it may name them all).
pub fn directory_graph(source: &Path, directory: &Path) -> Graph {
    let parent = module_of(source, directory);
    let mut graph = Graph::new();
    let siblings: BTreeSet<String> = files_under(directory)
        .iter()
        .filter(|path| path.parent() == Some(directory))
        .map(|path| module_of(directory, path))
        .filter(|name| name != "mod")
        .collect();
    for path in files_under(directory) {
        if path.parent() != Some(directory) {
            continue;
        }
        let module = module_of(directory, &path);
        if module == "mod" {
            continue;
        }
        let code = code_of(&path);
        let mut named = targets(&code, "super");
        let inside = format!("crate::{parent}");
        named.extend(targets(&code, &inside));
        let edges = graph.entry(module.clone()).or_default();
        for target in named {
            if target != module && siblings.contains(&target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A circle in `graph`, if there is one, as the modules around it.
pub fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        graph: &Graph,
        node: &str,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|entry| entry == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(graph, node, &mut marks, &mut path) {
            return Some(cycle);
        }
    }
    None
}
