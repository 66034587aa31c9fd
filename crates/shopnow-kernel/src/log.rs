//! Structured log lines, one builder for every service: `level=… service=… request_id=…
//! event=… key=value …`, a value with a space, quote, `=` or control character quoted as a Rust
//! string literal so a line always parses back into its fields. Pure: use cases log through the
//! [`Logger`] port, so a test can assert what was logged ([`RecordingLogger`]); the components
//! write lines to stderr (`shopnow_spin::StderrLogger`), which Spin collects per component.
//!
//! Values must hold no personal data or secrets: ids, statuses, counts and error causes only.

use std::cell::RefCell;

/// One log line under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    fields: Vec<(String, String)>,
}

impl LogLine {
    /// A line at `level` (`info`, `warn`, `error`) from `service` for request `request_id`.
    pub fn new(level: &str, service: &str, request_id: &str) -> Self {
        Self {
            fields: vec![
                ("level".into(), level.into()),
                ("service".into(), service.into()),
                ("request_id".into(), request_id.into()),
            ],
        }
    }

    /// Adds `key=value`.
    #[must_use]
    pub fn field(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.fields.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds `event=<event>`.
    #[must_use]
    pub fn event(self, event: &str) -> Self {
        self.field("event", event)
    }

    /// The value of the first field `key`, if any (for tests).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The line as written.
    pub fn render(&self) -> String {
        let mut line = String::new();
        for (key, value) in &self.fields {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(key);
            line.push('=');
            let plain = !value.is_empty()
                && !value
                    .chars()
                    .any(|c| c == ' ' || c == '"' || c == '=' || c.is_control());
            if plain {
                line.push_str(value);
            } else {
                line.push_str(&format!("{value:?}"));
            }
        }
        line
    }
}

/// Where log lines go.
pub trait Logger {
    /// Writes `line`.
    fn log(&self, line: LogLine);
}

/// Keeps every line, for tests.
#[derive(Debug, Default)]
pub struct RecordingLogger(RefCell<Vec<LogLine>>);

impl RecordingLogger {
    /// The lines logged so far.
    pub fn lines(&self) -> Vec<LogLine> {
        self.0.borrow().clone()
    }

    /// The events logged so far, in order.
    pub fn events(&self) -> Vec<String> {
        self.0
            .borrow()
            .iter()
            .filter_map(|l| l.get("event").map(str::to_owned))
            .collect()
    }
}

impl Logger for RecordingLogger {
    fn log(&self, line: LogLine) {
        self.0.borrow_mut().push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_key_values_and_quotes_what_would_break_the_line() {
        let line = LogLine::new("warn", "orders", "r-1")
            .event("compensation.failed")
            .field("order.id", "0190")
            .field("error", "catalog timed out after 150 ms")
            .field("note", "a=b \"c\"\nd")
            .field("empty", "");
        assert_eq!(
            line.render(),
            r#"level=warn service=orders request_id=r-1 event=compensation.failed order.id=0190 error="catalog timed out after 150 ms" note="a=b \"c\"\nd" empty="""#
        );
        assert_eq!(line.get("order.id"), Some("0190"));
        let logger = RecordingLogger::default();
        logger.log(line);
        assert_eq!(logger.events(), ["compensation.failed"]);
    }
}
