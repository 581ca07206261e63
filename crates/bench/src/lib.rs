//! reception-bench: the benchmarks of the store, the read side and replication, and the
//! synthetic event streams they (and the read side's tests) run on. Behind
//! `reception bench store|projections|nats` and this crate's examples; the service
//! never links it.
//!
//! It measures through the service crates' public API; the raw ceilings the store and
//! the relay are held against (plain sled, plain JetStream) are written here.

pub mod nats;
pub mod projections;
pub mod store;
pub mod synth;
