//! reception-app
