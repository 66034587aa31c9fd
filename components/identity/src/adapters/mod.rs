//! Spin-backed implementations of the identity ports.

pub mod kv_throttle;
pub mod sql_repository;
