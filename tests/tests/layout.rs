//! The shape of the codebase, checked over the source text: no import cycles between
//! the top-level modules of a crate, no function longer than a screen or two, no
//! benchmark code in the service crates, no unused dependency.
//!
//! These read files rather than compiler output so that they run in every `cargo test`
//! without extra tools; the heuristics are deliberately simple and err on the side of
//! reporting (a finding names the file and line to look at).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest function allowed in the domain crate, in lines.
const MAX_DOMAIN_FN_LINES: usize = 150;
/// The longest function allowed in the other crates' `src`, in lines.
const MAX_FN_LINES: usize = 200;
/// Crates on the service's path: no benchmark or data-synthesis code, no `/proc` reads.
const SERVICE_CRATES: &[&str] = &["domain", "store", "projections", "app", "nats", "api"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

fn crates() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The top-level module a file of `src` belongs to (`None` for the crate root).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Lines of code without `//` comments (doc comments included) and without the
/// `#[cfg(test)]` module at the end of a file, which may import anything.
fn code_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        out.push(line.split("//").next().unwrap_or(""));
    }
    out
}

/// `crate::name` references of a file, as top-level module names: paths such as
/// `crate::a::f()` and every name directly inside `use crate::{a, b::c, ...}`, also when
/// the braces span lines.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let code = code_lines(text).join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut refs = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // names at depth 0 of the group: after its `{` and after each `,`
            let mut depth = 0;
            let mut segment_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => segment_start = true,
                    c if c.is_whitespace() => {}
                    _ if segment_start => {
                        segment_start = false;
                        let name = ident(&group[j..]);
                        if !name.is_empty() {
                            refs.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                refs.insert(name);
            }
        }
        rest = after;
    }
    refs
}

/// A cycle in `graph`, as the path of modules around it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str()) {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_crate_has_an_import_cycle_between_its_top_level_modules() {
    let mut cycles = Vec::new();
    for krate in crates() {
        let src = krate.join("src");
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let files = rust_files(&src);
        let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(&src, f)).collect();
        for file in &files {
            let Some(from) = top_module(&src, file) else {
                continue;
            };
            let text = std::fs::read_to_string(file).unwrap();
            let edges = graph.entry(from.clone()).or_default();
            for to in crate_refs(&text) {
                if to != from && modules.contains(&to) {
                    edges.insert(to);
                }
            }
        }
        if let Some(cycle) = find_cycle(&graph) {
            cycles.push(format!("{}: {}", krate.display(), cycle.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let refs = crate_refs(
        "use crate::{common::{Fen, Text},\n    policy};\nfn f() { crate::x::y(); } // crate::z",
    );
    assert_eq!(
        refs,
        ["common", "policy", "x"]
            .map(String::from)
            .into_iter()
            .collect()
    );
}

/// Functions of a file with their first line and length. A function starts at a line
/// whose first word (after visibility and qualifiers) is `fn` and ends where its braces
/// balance; braces inside string and char literals are skipped roughly.
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let t = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ")
            .trim_start_matches("const ")
            .trim_start_matches("async ")
            .trim_start_matches("unsafe ");
        let Some(rest) = t.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i64;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let code = strip_literals(l.split("//").next().unwrap_or(""));
            if !opened && code.contains(';') && !code.contains('{') {
                break; // a declaration without a body
            }
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                out.push((i + 1, name.clone(), j - i + 1));
                break;
            }
        }
    }
    out
}

fn strip_literals(code: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_str, c) {
            (true, '\\') => {
                chars.next();
            }
            (true, '"') => in_str = false,
            (true, _) => {}
            (false, '"') => in_str = true,
            (false, '\'') => {
                // a char literal such as '{' or '\'' (lifetimes have no closing quote)
                let look: String = chars.clone().take(3).collect();
                if let Some(escaped) = look.strip_prefix('\\') {
                    if let Some(end) = escaped.find('\'') {
                        for _ in 0..end + 2 {
                            chars.next();
                        }
                    }
                } else if look.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                }
            }
            (false, c) => out.push(c),
        }
    }
    out
}

#[test]
fn no_function_outgrows_two_screens() {
    let mut long = Vec::new();
    for krate in crates() {
        let limit = if krate.ends_with("domain") {
            MAX_DOMAIN_FN_LINES
        } else {
            MAX_FN_LINES
        };
        for file in rust_files(&krate.join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, name, len) in functions(&text) {
                if len > limit {
                    long.push(format!(
                        "{}:{line} fn {name}: {len} lines (limit {limit})",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(long.is_empty(), "functions too long:\n{}", long.join("\n"));
}

#[test]
fn the_function_measure_counts_lines() {
    let text =
        "fn a() {\n    let s = \"}\";\n    if x { y }\n}\nfn b();\npub fn c() -> char { '{' }\n";
    assert_eq!(
        functions(text),
        vec![(1, "a".to_string(), 4), (6, "c".to_string(), 1)]
    );
}

#[test]
fn service_crates_carry_no_benchmark_code_and_read_no_proc_files() {
    let mut found = Vec::new();
    for name in SERVICE_CRATES {
        let src = workspace().join("crates").join(name).join("src");
        for file in rust_files(&src) {
            let stem = file.file_stem().unwrap().to_string_lossy().to_string();
            if stem.contains("bench") || stem == "synth" {
                found.push(format!("{}: a benchmark module", file.display()));
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in code_lines(&text).iter().enumerate() {
                if line.contains("\"/proc/") || line.contains("pub fn bench_") {
                    found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "benchmark code in service crates:\n{}",
        found.join("\n")
    );
}

/// Dependency names of one `[...dependencies]` table of a manifest, with the names a
/// crate lists under `[package.metadata.cargo-machete] ignored` (the same key the
/// `cargo machete` tool reads).
fn manifest_deps(manifest: &str) -> (Vec<(String, String)>, BTreeSet<String>) {
    let mut deps = Vec::new();
    let mut ignored = BTreeSet::new();
    let mut section = String::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.trim_matches(['[', ']']).to_string();
            continue;
        }
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if section == "package.metadata.cargo-machete" && t.starts_with("ignored") {
            for part in t.split(['[', ']', ',', '"']) {
                let p = part.trim();
                if !p.is_empty() && !p.starts_with("ignored") && p != "=" {
                    ignored.insert(p.to_string());
                }
            }
            continue;
        }
        if section.ends_with("dependencies") && !section.starts_with("workspace") {
            if let Some((name, _)) = t.split_once('=') {
                let name = name.trim().trim_matches('"').to_string();
                let package = t
                    .split("package")
                    .nth(1)
                    .and_then(|r| r.split('"').nth(1))
                    .map(str::to_string);
                deps.push((section.clone(), package.unwrap_or(name)));
            }
        }
    }
    (deps, ignored)
}

#[test]
fn every_declared_dependency_is_used() {
    let mut unused = Vec::new();
    let mut manifests: Vec<PathBuf> = crates().iter().map(|c| c.join("Cargo.toml")).collect();
    manifests.push(workspace().join("tests").join("Cargo.toml"));
    for manifest in manifests {
        let dir = manifest.parent().unwrap();
        let (deps, ignored) = manifest_deps(&std::fs::read_to_string(&manifest).unwrap());
        let mut text = String::new();
        for sub in ["src", "tests", "examples", "benches", "api"] {
            for f in rust_files(&dir.join(sub)) {
                text.push_str(&std::fs::read_to_string(f).unwrap());
            }
        }
        if let Ok(build) = std::fs::read_to_string(dir.join("build.rs")) {
            text.push_str(&build);
        }
        for (section, dep) in deps {
            let ident = dep.replace('-', "_");
            if ignored.contains(&dep) {
                continue;
            }
            if !text.contains(&format!("{ident}::"))
                && !text.contains(&format!("use {ident}"))
                && !text.contains(&format!("extern crate {ident}"))
                && !text.contains(&format!("{ident}!"))
                && !text.contains(&format!("#[{ident}"))
                && !text.contains(&format!("#[derive({ident}"))
            {
                unused.push(format!("{}: [{section}] {dep}", manifest.display()));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "unused dependencies:\n{}",
        unused.join("\n")
    );
}
