//! reception-projections
