//! Synthetic but valid event streams for tests and benchmarks (placeholder).
