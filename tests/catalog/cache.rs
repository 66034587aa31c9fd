//! The read-through product cache: invalidation on every write, and reads without it.
