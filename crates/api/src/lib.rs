//! reception-api
