//! Spin-backed implementations of the identity ports.

pub mod sql_repository;
