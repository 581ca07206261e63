//! Tooling around the reception service: the demo data generator ([`demo`]) behind
//! `reception demo`, and the HTTP load generator ([`load`]) behind `reception bench http`.
//!
//! Both drive the real paths: the demo goes through [`reception_app::App`]'s command
//! path (the domain judges every command), the load generator through the HTTP API.

pub mod demo;
pub mod load;
