//! The dashboard shows the domain's identifiers as words: every event type, board flag,
//! board stage, visit stage, preparation task and event payload field has an entry in
//! both catalogues, so a new one never reaches a reception desk as a raw identifier.

use std::collections::BTreeSet;

use reception_domain::board::{BOARD_STAGES, FLAGS};
use reception_domain::deadlines::TASKS;
use reception_domain::vocabulary::types::ALL as EVENT_TYPES;

fn catalogue(lang: &str) -> BTreeSet<String> {
    let path = format!("{}/assets/i18n/{lang}.json", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_slice(&raw).expect("a catalogue is JSON");
    v.as_object()
        .expect("a catalogue is an object")
        .keys()
        .cloned()
        .collect()
}

/// Every key the domain's identifiers need, as `<family>.<id>`.
fn needed() -> Vec<String> {
    let visit_stages = [
        "requested",
        "preparing",
        "on_site",
        "departed",
        "closed",
        "cancelled",
        "rejected",
    ];
    let events = EVENT_TYPES.iter().map(|t| format!("ev.{t}"));
    let flags = FLAGS.iter().map(|f| format!("flag.{f}"));
    let stages = BOARD_STAGES
        .iter()
        .chain(visit_stages.iter())
        .map(|s| format!("stage.{s}"));
    let tasks = TASKS.iter().map(|t| format!("task.{t}"));
    let task_steps = TASKS.iter().map(|t| format!("step.task_{t}"));
    let steps = [
        "approve_request",
        "amend_request",
        "assign_level",
        "minutes",
        "follow_up",
    ]
    .iter()
    .map(|s| format!("step.{s}"));
    events
        .chain(event_fields())
        .chain(flags)
        .chain(stages)
        .chain(tasks)
        .chain(task_steps)
        .chain(steps)
        .collect()
}

/// `field.<name>` for every payload field of every event schema the visit page may
/// describe; ids and the policy version are never shown in words.
fn event_fields() -> Vec<String> {
    let dir = format!("{}/../../schemas/events", env!("CARGO_MANIFEST_DIR"));
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let schema: serde_json::Value = serde_json::from_slice(&raw).expect("a schema is JSON");
        if let Some(props) = schema["properties"].as_object() {
            names.extend(props.keys().cloned());
        }
    }
    assert!(names.len() > 50, "the event schemas were read: {names:?}");
    names
        .into_iter()
        .filter(|n| !n.ends_with("_id") && n != "id" && n != "policy_version")
        .map(|n| format!("field.{n}"))
        .collect()
}

#[test]
fn every_domain_identifier_has_words_in_both_languages() {
    for lang in ["zh-CN", "en"] {
        let have = catalogue(lang);
        let missing: Vec<String> = needed().into_iter().filter(|k| !have.contains(k)).collect();
        assert!(missing.is_empty(), "{lang}.json lacks {missing:?}");
    }
}
