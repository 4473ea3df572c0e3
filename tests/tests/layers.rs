//! The architecture's dependency rules, checked: the simulator's crates depend on each other only
//! downwards (the compiler enforces what Cargo.toml allows; this test pins what Cargo.toml may
//! say), and no two source files of a crate import each other, directly or around a longer loop.
//!
//! A file's imports are the `crate::…` and `super::…` paths it names outside its tests; a path
//! counts as an import of the deepest module file it reaches. A submodule naming its own parent
//! (`super::World`) is part of that module and not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace's own crates and the workspace crates each depends on (normal dependencies).
fn crate_graph() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let pkgs = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> =
        pkgs.iter().filter_map(|p| p["name"].as_str()).map(str::to_string).collect();
    pkgs.iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| names.contains(*n))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().unwrap_or_default().to_string(), deps)
        })
        .collect()
}

#[test]
fn simulator_crates_depend_only_downwards() {
    let g = crate_graph();
    let allowed: &[(&str, &[&str])] = &[
        ("sim-core", &[]),
        ("zookeeper", &["sim-core"]),
        ("kafka", &["sim-core", "zookeeper"]),
        ("stream", &["sim-core", "zookeeper", "kafka"]),
        ("shell", &["sim-core"]),
        ("sim", &["sim-core", "zookeeper", "kafka", "stream", "shell"]),
        // Pictures read traces: the schema, never a protocol.
        ("viz", &["sim-core"]),
    ];
    for (name, may) in allowed {
        let deps = g.get(*name).unwrap_or_else(|| panic!("no crate {name} in the workspace"));
        let extra: Vec<&String> = deps.iter().filter(|d| !may.contains(&d.as_str())).collect();
        assert!(extra.is_empty(), "{name} may depend only on {may:?}, but depends on {extra:?}");
    }
    // Nothing below the course layer reaches up to it.
    for (name, deps) in &g {
        if allowed.iter().any(|(n, _)| n == name) && name != "sim" {
            assert!(!deps.contains("sim"), "{name} depends on sim");
        }
    }
}

/// Module path (relative to `src`, without `mod`/`lib`/`main`) → file.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(src).expect("under src").with_extension("");
                let mut parts: Vec<String> =
                    rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    parts.pop();
                }
                out.insert(parts, p);
            }
        }
    }
    out
}

/// The `crate::`/`super::` paths a file names, outside comments and its test module.
fn paths_named(text: &str) -> Vec<Vec<String>> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let mut out = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !line.is_char_boundary(i) {
                i += 1;
                continue;
            }
            let starts = line[i..].starts_with("crate::") || line[i..].starts_with("super::");
            let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if starts && word_start {
                let end = line[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .map_or(line.len(), |e| i + e);
                out.push(
                    line[i..end].split("::").filter(|s| !s.is_empty()).map(String::from).collect(),
                );
                i = end;
            } else {
                i += 1;
            }
        }
    }
    out
}

/// Cycles among the files of one crate: each is a list of module paths.
fn file_cycles(src: &Path) -> Vec<Vec<String>> {
    let mods = modules(src);
    let mut edges: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> = BTreeMap::new();
    for (m, file) in &mods {
        let text = std::fs::read_to_string(file).expect("readable source");
        for path in paths_named(&text) {
            let (mut base, rest): (Vec<String>, &[String]) = match path.first().map(String::as_str)
            {
                Some("crate") => (Vec::new(), &path[1..]),
                _ => {
                    let ups = path.iter().take_while(|p| *p == "super").count();
                    let mut base = m.clone();
                    // `super` names the parent of the module the file is (a mod.rs is its
                    // directory's module, so the same rule holds).
                    for _ in 0..ups {
                        base.pop();
                    }
                    (base, &path[ups..])
                }
            };
            base.extend(rest.iter().cloned());
            let target =
                (0..=base.len()).rev().find_map(|n| mods.get_key_value(&base[..n]).map(|(k, _)| k));
            if let Some(t) = target {
                // Not itself, and not one of its ancestors (a submodule using its parent).
                if t != m && !(t.len() < m.len() && m.starts_with(t)) {
                    edges.entry(m).or_default().insert(t);
                }
            }
        }
    }
    // Tarjan's strongly connected components.
    struct St<'a> {
        edges: &'a BTreeMap<&'a Vec<String>, BTreeSet<&'a Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, (usize, usize)>,
        stack: Vec<&'a Vec<String>>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a Vec<String>) {
        s.index.insert(v, (s.next, s.next));
        s.next += 1;
        s.stack.push(v);
        let succ: Vec<&Vec<String>> = s.edges.get(v).into_iter().flatten().copied().collect();
        for w in succ {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.index[w].1;
                let e = s.index.get_mut(v).expect("visited");
                e.1 = e.1.min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w].0;
                let e = s.index.get_mut(v).expect("visited");
                e.1 = e.1.min(iw);
            }
        }
        if s.index[v].0 == s.index[v].1 {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                comp.push(if w.is_empty() { "(crate root)".to_string() } else { w.join("/") });
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s =
        St { edges: &edges, index: BTreeMap::new(), stack: Vec::new(), next: 0, out: Vec::new() };
    for m in mods.keys() {
        if !s.index.contains_key(m) {
            visit(&mut s, m);
        }
    }
    s.out
}

#[test]
fn no_two_files_import_each_other() {
    let crates = [
        "sim/core/src",
        "sim/zookeeper/src",
        "sim/kafka/src",
        "sim/stream/src",
        "sim/shell/src",
        "sim/src",
        "lab/src",
        "viz/src",
    ];
    let mut found = Vec::new();
    for c in crates {
        for cycle in file_cycles(&root().join(c)) {
            found.push(format!("{c}: {}", cycle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles between files:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let dir = std::env::temp_dir().join(format!("layers-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).expect("temp dir");
    std::fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\n").expect("write");
    std::fs::write(dir.join("a/mod.rs"), "pub mod c;\nuse crate::b::B;\n").expect("write");
    std::fs::write(dir.join("a/c.rs"), "use super::A; // a child naming its parent is fine\n")
        .expect("write");
    std::fs::write(dir.join("b.rs"), "use crate::a::c::C;\n").expect("write");
    assert_eq!(file_cycles(&dir), Vec::<Vec<String>>::new());
    std::fs::write(dir.join("a/c.rs"), "use crate::b::B;\n").expect("write");
    std::fs::write(dir.join("b.rs"), "pub fn f() { crate::a::c::g() }\n").expect("write");
    assert_eq!(file_cycles(&dir), vec![vec!["a/c".to_string(), "b".to_string()]]);
    let _ = std::fs::remove_dir_all(&dir);
}
