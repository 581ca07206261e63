//! HTTP integration tests against the real router on a free port with a real sled
//! store in a temp dir; one test binary, one module per concern.

mod admin;
mod analysis;
mod bad_requests;
mod basics;
mod bounded;
mod complaints;
mod cube;
mod notifications;
mod process;
mod read_side;
mod replay;
mod roles;
mod visit_flow;
