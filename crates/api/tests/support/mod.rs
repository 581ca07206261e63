//! Support shared by the api crate's tests.

pub mod openapi_check;
