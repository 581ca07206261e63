//! Helpers every resource module shares: [`AppState`], errors, extractors, answers,
//! `min_seq` waiting, command execution (idempotency, `If-Match`) and history reads.
//! Nothing here imports a resource module.

pub mod auth_limit;
pub mod cache;
pub mod command;
pub mod doc;
pub mod error;
pub mod extract;
pub mod history;
pub mod respond;
pub mod state;
pub mod wait;

pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use extract::{typed, Caller, CommandHeaders, JsonBody, MinSeq, Query};
pub use respond::{answer, parse_id, redact_phones, to_json};
pub use state::AppState;
pub use wait::{read_side, wait_for_head, wait_for_read_side};
