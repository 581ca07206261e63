//! Checks that the repository's `schemas/` directory holds exactly the JSON Schemas the
//! Rust types generate. `UPDATE_SCHEMAS=1 cargo test -p reception-domain --test schemas`
//! rewrites them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use reception_domain::schemas::schema_files;

const UPDATE_HINT: &str =
    "run `UPDATE_SCHEMAS=1 cargo test -p reception-domain --test schemas` to regenerate them";
/// The generated subdirectories of `schemas/`; anything else there is left alone.
const GENERATED: [&str; 2] = ["events", "commands"];

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// Every file under `root`'s generated subdirectories: relative path → contents.
fn read_tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned());
                let rel: Vec<String> = rel.collect();
                out.insert(rel.join("/"), fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    for sub in GENERATED {
        walk(&root.join(sub), root, &mut out);
    }
    out
}

fn write_tree(root: &Path) {
    for sub in GENERATED {
        let dir = root.join(sub);
        if dir.exists() {
            fs::remove_dir_all(&dir).unwrap();
        }
    }
    for file in schema_files() {
        let path = root.join(&file.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, file.contents).unwrap();
    }
}

/// At most eight names, then how many more.
fn summary(paths: &[&String]) -> String {
    let shown: Vec<&str> = paths.iter().take(8).map(|p| p.as_str()).collect();
    match paths.len() {
        0 => "none".into(),
        n if n > shown.len() => format!("{shown:?} and {} more", n - shown.len()),
        _ => format!("{shown:?}"),
    }
}

#[test]
fn schemas_directory_is_up_to_date() {
    let checked_in = schemas_dir();
    if std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1") {
        write_tree(&checked_in);
    }
    let temp = std::env::temp_dir().join(format!("reception-schemas-{}", std::process::id()));
    write_tree(&temp);
    let expected = read_tree(&temp);
    fs::remove_dir_all(&temp).unwrap();
    let actual = read_tree(&checked_in);

    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !actual.contains_key(*k))
        .collect();
    let stale: Vec<&String> = actual
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    let changed: Vec<&String> = expected
        .keys()
        .filter(|k| actual.get(*k).is_some_and(|a| a != &expected[*k]))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty() && changed.is_empty(),
        "schemas/ is out of date: missing {}, no longer generated {}, changed {}; {UPDATE_HINT}",
        summary(&missing),
        summary(&stale),
        summary(&changed),
    );
}

#[test]
fn every_complaint_and_front_desk_type_has_a_schema() {
    let paths: Vec<String> = schema_files().into_iter().map(|f| f.path).collect();
    for event in [
        "ComplaintRaised",
        "ComplaintAssigned",
        "ComplaintReported",
        "ComplaintAnalysed",
        "ComplaintFeedbackGiven",
        "ComplaintSolutionAgreed",
        "ComplaintEscalated",
        "ComplaintResolved",
        "ComplaintReturnVisitDone",
        "ComplaintClosed",
        "VisitorSignedIn",
        "VisitorSignedOut",
    ] {
        assert!(
            paths.contains(&format!("events/{event}.v1.json")),
            "no schema for {event}"
        );
    }
    for name in reception_domain::complaint::ComplaintCommand::NAMES {
        assert!(
            paths.contains(&format!("commands/complaint/{name}.json")),
            "no schema for complaint {name}"
        );
    }
    for name in ["sign-in", "sign-out"] {
        assert!(
            paths.contains(&format!("commands/frontdesk/{name}.json")),
            "no schema for {name}"
        );
    }
}

#[test]
fn schemas_describe_the_fields_and_their_constraints() {
    let files = schema_files();
    let raise = files
        .iter()
        .find(|f| f.path == "commands/complaint/raise.json")
        .unwrap();
    let raise: serde_json::Value = serde_json::from_str(&raise.contents).unwrap();
    let mut required: Vec<&str> = raise["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(
        required,
        ["category", "customer", "description", "severity"]
    );
    assert_eq!(raise["properties"]["category"]["minLength"], 1);
    assert_eq!(raise["additionalProperties"], false);
    let sign_in = files
        .iter()
        .find(|f| f.path == "commands/frontdesk/sign-in.json")
        .unwrap();
    let sign_in: serde_json::Value = serde_json::from_str(&sign_in.contents).unwrap();
    assert_eq!(sign_in["properties"]["party_size"]["minimum"], 1.0);
    // the files are stable: generating twice gives the same bytes
    assert_eq!(files, schema_files());
}
