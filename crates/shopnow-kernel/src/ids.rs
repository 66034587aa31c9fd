//! Time, randomness and id ports (`Clock`, `RandomSource`, `IdSource`) and UUIDv7 minting.
//! Pure: the host adapters live in `shopnow-spin`; tests use the fixed implementations here.

use std::cell::Cell;

/// Milliseconds since the Unix epoch.
pub type EpochMillis = i64;

/// Current time.
pub trait Clock {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> EpochMillis;
}

/// Cryptographically secure random bytes.
pub trait RandomSource {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// [`RandomError`] when the host has no entropy to give.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The host could not provide randomness.
#[derive(Debug, thiserror::Error)]
#[error("random source unavailable: {0}")]
pub struct RandomError(pub String);

/// New unique ids.
pub trait IdSource {
    /// A new UUIDv7 as lower-case hyphenated text.
    ///
    /// # Errors
    /// [`RandomError`] when randomness is unavailable.
    fn new_id(&self) -> Result<String, RandomError>;
}

/// A UUIDv7 for `millis` with 10 random bytes (version and variant bits are set by `uuid`).
pub fn uuid_v7(millis: EpochMillis, random: &[u8; 10]) -> String {
    let millis = u64::try_from(millis).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, random)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Whether `text` is a hyphenated lower- or upper-case UUID.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// UUIDv7 ids from a clock and a random source.
#[derive(Debug, Clone)]
pub struct UuidV7Ids<C, R> {
    clock: C,
    random: R,
}

impl<C: Clock, R: RandomSource> UuidV7Ids<C, R> {
    /// Ids stamped by `clock`, randomised by `random`.
    pub fn new(clock: C, random: R) -> Self {
        Self { clock, random }
    }
}

impl<C: Clock, R: RandomSource> IdSource for UuidV7Ids<C, R> {
    fn new_id(&self) -> Result<String, RandomError> {
        let mut bytes = [0u8; 10];
        self.random.fill(&mut bytes)?;
        Ok(uuid_v7(self.clock.now_ms(), &bytes))
    }
}

/// A clock stopped at a given instant, movable by tests.
#[derive(Debug, Default)]
pub struct FixedClock(Cell<EpochMillis>);

impl FixedClock {
    /// A clock at `now_ms`.
    pub fn at(now_ms: EpochMillis) -> Self {
        Self(Cell::new(now_ms))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: EpochMillis) {
        self.0.set(self.0.get().saturating_add(ms));
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> EpochMillis {
        self.0.get()
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now_ms(&self) -> EpochMillis {
        (**self).now_ms()
    }
}

impl<T: RandomSource + ?Sized> RandomSource for &T {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        (**self).fill(buf)
    }
}

impl<T: IdSource + ?Sized> IdSource for &T {
    fn new_id(&self) -> Result<String, RandomError> {
        (**self).new_id()
    }
}

/// Deterministic "randomness" for tests: a counter spread over the buffer.
#[derive(Debug, Default)]
pub struct CountingRandom(Cell<u64>);

impl RandomSource for CountingRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        let n = self.0.get().wrapping_add(1);
        self.0.set(n);
        let bytes = n.to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = bytes.get(i % 8).copied().unwrap_or(0) ^ (i as u8);
        }
        Ok(())
    }
}

/// Sequential UUIDv7-shaped ids for tests.
#[derive(Debug, Default)]
pub struct SequentialIds(Cell<u64>);

impl IdSource for SequentialIds {
    fn new_id(&self) -> Result<String, RandomError> {
        let n = self.0.get().wrapping_add(1);
        self.0.set(n);
        Ok(format!("0190a000-0000-7000-8000-{n:012x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v7_is_version_7_and_time_ordered() {
        let a = uuid_v7(1_700_000_000_000, &[1; 10]);
        let b = uuid_v7(1_700_000_000_001, &[0; 10]);
        assert_eq!(a.chars().nth(14), Some('7'));
        assert!(a < b);
        assert!(is_uuid(&a));
    }

    #[test]
    fn sequential_ids_are_uuids() {
        let ids = SequentialIds::default();
        assert!(is_uuid(&ids.new_id().unwrap()));
    }
}
