//! reception-nats
