//! Every JSON Schema of every aggregate's event payloads and command bodies, laid out
//! as the files of the repository's `schemas/` directory (pure: no file is written here;
//! the `schemas` test writes and checks them).
//!
//! Layout: `events/<Type>.v<N>.json` and `commands/<aggregate>/<name>.json`, where
//! `<aggregate>` is the aggregate's [`Aggregate::KIND`].
//!
//! ```
//! let files = reception_domain::schemas::schema_files();
//! assert!(files.iter().any(|f| f.path == "events/ComplaintRaised.v1.json"));
//! assert!(files.iter().any(|f| f.path == "commands/complaint/raise.json"));
//! ```

use crate::aggregate::Aggregate;
use crate::common::{DomainCommand, DomainEvent, NamedSchema};
use crate::complaint::Complaint;
use crate::frontdesk::SignIn;
use crate::policy::PolicyState;

/// One generated schema file: its path under `schemas/` (with `/` separators) and its
/// contents (pretty JSON ending in a newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    pub path: String,
    pub contents: String,
}

fn render(schema: &NamedSchema) -> String {
    let mut s =
        serde_json::to_string_pretty(&schema.schema).expect("a JSON Schema always serializes");
    s.push('\n');
    s
}

fn aggregate_files<A: Aggregate>(out: &mut Vec<SchemaFile>) {
    for s in <A::Event as DomainEvent>::schemas() {
        out.push(SchemaFile {
            path: format!("events/{}.v{}.json", s.name, s.version),
            contents: render(&s),
        });
    }
    for s in <A::Command as DomainCommand>::schemas() {
        out.push(SchemaFile {
            path: format!("commands/{}/{}.json", A::KIND, s.name),
            contents: render(&s),
        });
    }
}

/// Payload schemas of versions the domain no longer writes but still reads (through
/// the upcasters): kept as they were published, so a stored event of that version is
/// still described.
const SUPERSEDED: &[(&str, &str)] = &[
    (
        "events/ReceptionRequested.v1.json",
        include_str!("../../../schemas/events/ReceptionRequested.v1.json"),
    ),
    (
        "events/ExpenseRecorded.v1.json",
        include_str!("../../../schemas/events/ExpenseRecorded.v1.json"),
    ),
];

/// Every schema file, sorted by path.
///
/// # Panics
/// When two schemas would land on the same path (two event types or commands with the
/// same name): that is a bug in the aggregates, caught by the `schemas` test.
pub fn schema_files() -> Vec<SchemaFile> {
    let mut out = Vec::new();
    aggregate_files::<Complaint>(&mut out);
    aggregate_files::<SignIn>(&mut out);
    aggregate_files::<PolicyState>(&mut out);
    aggregate_files::<crate::visit::Visit>(&mut out);
    aggregate_files::<crate::staff::Directory>(&mut out);
    aggregate_files::<crate::notification::RulesState>(&mut out);
    out.extend(SUPERSEDED.iter().map(|(path, contents)| SchemaFile {
        path: path.to_string(),
        contents: contents.to_string(),
    }));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in out.windows(2) {
        assert!(
            pair[0].path != pair[1].path,
            "two schemas share the path {}",
            pair[0].path
        );
    }
    out
}
