//! API test crate: the tests live under `identity/` (one folder per service); this library is empty.
