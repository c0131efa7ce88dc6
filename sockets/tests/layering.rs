//! The crate's modules point one way: no circle of imports among the modules of
//! `src/` (context, reactor, session, engine, transport, socket, ...), nor among
//! the files of any one directory module.
//!
//! It reads the sources, takes every `crate::a::...` and `super::b` path outside
//! comments and unit tests, and looks for a cycle. A layer that reaches up (say,
//! the transport naming the socket core) makes it fail and names the circle. This
//! file must never accept a cycle, however short.

#[path = "../../testing/layering.rs"]
mod layering;

use layering::{Graph, code_of, crate_graph, directory_graph, find_cycle, targets};
use std::fs;
use std::path::{Path, PathBuf};

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_crates_modules_form_no_circle_of_imports() {
    let graph = crate_graph(&source());
    assert!(graph.len() >= 10, "the modules were found: {graph:?}");
    assert!(
        graph["socket"].contains("context") && graph["session"].contains("engine"),
        "the edges were found: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("a circle of imports: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_files_of_each_directory_module_form_no_circle() {
    let source = source();
    let directories: Vec<PathBuf> = fs::read_dir(&source)
        .expect("src")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.is_dir())
        .collect();
    assert!(directories.len() >= 5, "{directories:?}");
    for directory in directories {
        let graph = directory_graph(&source, &directory);
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "a circle of imports in {}: {}",
                directory.display(),
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_checker_finds_a_circle_and_reads_grouped_paths() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    graph.entry("d".into()).or_default().insert("a".into());
    let cycle = find_cycle(&graph).expect("a -> b -> c -> a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    graph.get_mut("c").expect("c").clear();
    assert_eq!(find_cycle(&graph), None);
    assert_eq!(
        targets(
            "use crate::{pipe::X, zmtp};\nlet x = my_crate::no;",
            "crate"
        ),
        ["pipe", "zmtp"]
    );
    assert_eq!(
        code_of_text("// crate::gone\nlet s = \"crate::gone\"; crate::kept"),
        "\nlet s = \"\"; crate::kept"
    );
}

/// `code_of` on a string, for the test above.
fn code_of_text(text: &str) -> String {
    let path = std::env::temp_dir().join(format!("sinew-layering-{}.rs", std::process::id()));
    fs::write(&path, text).expect("temp file");
    let code = code_of(&path);
    let _ = fs::remove_file(&path);
    code
}
