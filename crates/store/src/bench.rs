//! The store benchmark (`reception bench store`): filled in below.
