//! Per-request step timings: the SQL, key-value and outbound HTTP adapters open a span around
//! each host call, and a handler that called [`start`] reads them back with [`finish`] as one
//! `key=value` rendering for its log line (`event=checkout.steps`, `event=reservation.steps`;
//! [`logged`] writes it). No spin-sdk, so it is unit-tested natively.
//!
//! A component instance is single-threaded and serves one request, so the recorder is a
//! thread-local. Until a handler calls [`start`] nothing is recorded and no label is built: every
//! other route pays one thread-local check per host call. Rejected alternative: `tracing` with a
//! subscriber — a dependency and more machinery per span for what one `Vec` does here.
//!
//! A span is recorded when its guard drops, so steps are listed in the order they end; for the
//! sequential code of a handler that is the order they run in. Concurrent outbound requests
//! ([`HttpClient::send_all`](shopnow_kernel::outbound::HttpClient::send_all)) overlap: their
//! steps add up to more than the wall time they took.

use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;

/// Most steps kept per request; later ones are counted (`dropped_steps=`) but not listed, so a
/// runaway loop cannot grow the log line without bound. A largest checkout (100 items from 100
/// sellers: a line and a fulfilment inserted and a fulfilment updated per item) runs about 330.
const MAX_STEPS: usize = 400;

/// Steps a recorder has room for before it reallocates (a checkout takes about 20).
const INITIAL_STEPS: usize = 32;

/// Longest label rendered, in characters; longer ones are cut. Room for the longest route label
/// (`http:POST:catalog-internal.spin.internal/internal/v1/reservations/{id}/restock`, 78).
const MAX_LABEL_CHARS: usize = 120;

/// Placeholder for a path segment that is an id (UUIDs, numbers), so labels group by route.
const ID_SEGMENT: &str = "{id}";

struct Recorder {
    started: Instant,
    steps: Vec<(Cow<'static, str>, u64)>,
    dropped: u32,
}

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

/// Begins recording this request's steps, discarding anything recorded before.
pub fn start() {
    let recorder = Recorder {
        started: Instant::now(),
        steps: Vec::with_capacity(INITIAL_STEPS),
        dropped: 0,
    };
    // The borrow can only fail while another borrow is live, which no caller here holds across
    // a call; losing the timings then is better than trapping the instance.
    let _ = RECORDER.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = Some(recorder);
        }
    });
}

/// Whether [`start`] was called and [`finish`] not yet.
pub fn is_recording() -> bool {
    RECORDER
        .try_with(|cell| cell.try_borrow().is_ok_and(|slot| slot.is_some()))
        .unwrap_or(false)
}

/// Stops recording and renders what was recorded: `total_us=<since start> steps=<n>` then one
/// `<label>=<microseconds>` per step in order (labels repeat when a step does), plus
/// `dropped_steps=<n>` when more than [`MAX_STEPS`] steps ran. `None` when [`start`] was not called.
pub fn finish() -> Option<String> {
    let recorder = RECORDER
        .try_with(|cell| cell.try_borrow_mut().ok().and_then(|mut slot| slot.take()))
        .ok()
        .flatten()?;
    Some(render(
        micros(recorder.started),
        &recorder.steps,
        recorder.dropped,
    ))
}

/// Runs `handle` with its steps recorded and writes one log line to stderr for it, whatever its
/// outcome: `level=info service=<service> request_id=<id> event=<event> status=<status>`, then
/// what [`finish`] renders (`docs/operations.md`).
///
/// # Errors
/// Whatever `handle` returns, unchanged.
pub fn logged(
    service: &str,
    event: &str,
    request: &HttpRequest,
    handle: impl FnOnce() -> Result<HttpResponse, ApiError>,
) -> Result<HttpResponse, ApiError> {
    start();
    let result = handle();
    if let Some(steps) = finish() {
        let status = match &result {
            Ok(response) => response.status,
            Err(err) => err.status(),
        };
        // The steps are already `label=µs` pairs: appended as they are.
        let line = shopnow_kernel::log::LogLine::new("info", service, request.request_id.as_str())
            .event(event)
            .field("status", status)
            .render();
        eprintln!("{line} {steps}");
    }
    result
}

/// An open span; it records its label and duration when dropped, if the request is still being
/// recorded then.
#[must_use = "the span ends when the guard is dropped: bind it to a named variable"]
#[derive(Debug)]
pub struct SpanGuard {
    open: Option<(Cow<'static, str>, Instant)>,
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if let Some((label, begun)) = self.open.take() {
            record(label, micros(begun));
        }
    }
}

/// A span labelled `label` (`kind:detail`, e.g. `kv:get`).
pub fn span(label: &'static str) -> SpanGuard {
    span_with(|| Cow::Borrowed(label))
}

/// A span whose label `label()` builds only while recording, so unrecorded requests allocate
/// nothing.
pub fn span_with(label: impl FnOnce() -> Cow<'static, str>) -> SpanGuard {
    SpanGuard {
        open: is_recording().then(|| (label(), Instant::now())),
    }
}

/// A span for the SQL `statement`, labelled by [`sql_label`].
pub fn sql(statement: &str) -> SpanGuard {
    span_with(|| Cow::Owned(sql_label(statement)))
}

/// A span for an outbound `method` request to `url`, labelled by [`http_label`].
pub fn http(method: &str, url: &str) -> SpanGuard {
    span_with(|| Cow::Owned(http_label(method, url)))
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn record(label: Cow<'static, str>, us: u64) {
    let _ = RECORDER.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut()
            && let Some(recorder) = slot.as_mut()
        {
            if recorder.steps.len() < MAX_STEPS {
                recorder.steps.push((label, us));
            } else {
                recorder.dropped = recorder.dropped.saturating_add(1);
            }
        }
    });
}

fn render(total_us: u64, steps: &[(Cow<'static, str>, u64)], dropped: u32) -> String {
    let mut out = String::with_capacity(32 + steps.len() * 32);
    // Writing into a `String` cannot fail.
    let _ = write!(out, "total_us={total_us} steps={}", steps.len());
    if dropped > 0 {
        let _ = write!(out, " dropped_steps={dropped}");
    }
    for (label, us) in steps {
        out.push(' ');
        push_sanitised(&mut out, label);
        let _ = write!(out, "={us}");
    }
    out
}

/// Appends `label` so the line stays `key=value` parseable: no whitespace, quotes, `=` or
/// non-ASCII characters (each becomes `_`), at most [`MAX_LABEL_CHARS`] characters.
fn push_sanitised(out: &mut String, label: &str) {
    if label.is_empty() {
        out.push('_');
        return;
    }
    for c in label.chars().take(MAX_LABEL_CHARS) {
        let keep = c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '`' | '=' | '\\');
        out.push(if keep { c } else { '_' });
    }
}

/// `sql:<verb>[:<first table>]`: the statement's verb in lower case and, for SELECT, INSERT,
/// UPDATE and DELETE, the first table it names (`sql:select:orders`, `sql:insert:order_lines`,
/// `sql:begin`, `sql:commit`). Parameters and the rest of the statement never appear.
pub fn sql_label(statement: &str) -> String {
    let mut words = statement
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
        .filter(|w| !w.is_empty());
    let Some(verb) = words.next() else {
        return "sql:empty".to_owned();
    };
    if !verb.chars().all(|c| c.is_ascii_alphabetic()) {
        return "sql:other".to_owned();
    }
    let verb = verb.to_ascii_lowercase();
    let table = match verb.as_str() {
        "select" | "delete" | "with" => table_after(words, "from"),
        "insert" => table_after(words, "into"),
        "update" => words
            .find(|w| !w.eq_ignore_ascii_case("only"))
            .map(table_name),
        _ => None,
    };
    match table {
        Some(table) if !table.is_empty() => format!("sql:{verb}:{table}"),
        _ => format!("sql:{verb}"),
    }
}

/// The table named after the first `keyword` that is not followed by a subquery.
fn table_after<'a>(mut words: impl Iterator<Item = &'a str>, keyword: &str) -> Option<String> {
    loop {
        words.find(|w| w.eq_ignore_ascii_case(keyword))?;
        match words.next() {
            Some(w) if w.eq_ignore_ascii_case("select") || w.eq_ignore_ascii_case("lateral") => {}
            Some(w) => return Some(table_name(w)),
            None => return None,
        }
    }
}

/// A table name in lower case without quotes (`"Orders"` → `orders`, keeps a schema prefix).
fn table_name(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `http:<METHOD>:<host><path>`: the URL without scheme, credentials, query or fragment, each
/// id segment of the path replaced by `{id}` (`http:GET:catalog.spin.internal/v1/products/{id}`),
/// so a label names a route, never an order, a product or a secret.
pub fn http_label(method: &str, url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let mut label = String::with_capacity(8 + method.len() + host.len() + path.len());
    label.push_str("http:");
    label.push_str(method);
    label.push(':');
    label.push_str(host);
    for segment in path.split('/').skip(1) {
        label.push('/');
        label.push_str(if is_id(segment) { ID_SEGMENT } else { segment });
    }
    label
}

/// Whether a path segment is an id rather than a route word: all digits, or at least 8
/// characters with a digit among them (UUIDs, opaque tokens; not `v1`).
fn is_id(segment: &str) -> bool {
    let digits = segment.chars().any(|c| c.is_ascii_digit());
    digits && (segment.chars().all(|c| c.is_ascii_digit()) || segment.chars().count() >= 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_labels_keep_the_verb_and_the_first_table() {
        let cases = [
            ("BEGIN", "sql:begin"),
            ("BEGIN IMMEDIATE", "sql:begin"),
            ("COMMIT", "sql:commit"),
            ("ROLLBACK", "sql:rollback"),
            (
                "SELECT id, status FROM orders WHERE id = $1 FOR UPDATE",
                "sql:select:orders",
            ),
            (
                "INSERT INTO order_lines (order_id, line_no) VALUES ($1, $2)",
                "sql:insert:order_lines",
            ),
            ("insert into outbox(id) values ($1)", "sql:insert:outbox"),
            (
                "UPDATE idempotency_keys SET outcome = $3 WHERE user_id = $1",
                "sql:update:idempotency_keys",
            ),
            (
                "DELETE FROM idempotency_keys WHERE expires_at <= $1",
                "sql:delete:idempotency_keys",
            ),
            (
                "SELECT f.id, o.shipping_address\n FROM fulfilments f JOIN orders o ON o.id = f.order_id",
                "sql:select:fulfilments",
            ),
            ("SELECT COUNT(*) FROM \"Orders\"", "sql:select:orders"),
            (
                "SELECT n FROM (SELECT COUNT(*) AS n FROM order_lines) t",
                "sql:select:order_lines",
            ),
            ("SELECT 1", "sql:select"),
            ("  \n ", "sql:empty"),
            ("/* hint */ SELECT 1", "sql:other"),
        ];
        for (statement, label) in cases {
            assert_eq!(sql_label(statement), label, "{statement}");
        }
    }

    #[test]
    fn http_labels_drop_ids_queries_and_credentials() {
        assert_eq!(
            http_label(
                "GET",
                "http://catalog.spin.internal/v1/products/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b?x=1"
            ),
            "http:GET:catalog.spin.internal/v1/products/{id}"
        );
        assert_eq!(
            http_label(
                "POST",
                "http://catalog-internal.spin.internal/internal/v1/reservations/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/commit"
            ),
            "http:POST:catalog-internal.spin.internal/internal/v1/reservations/{id}/commit"
        );
        assert_eq!(
            http_label(
                "POST",
                "https://user:secret@pay.example.com:8443/v1/orders/42"
            ),
            "http:POST:pay.example.com:8443/v1/orders/{id}"
        );
        assert_eq!(
            http_label("GET", "http://pay.example.com"),
            "http:GET:pay.example.com"
        );
    }

    #[test]
    fn rendering_lists_every_step_in_order_with_sanitised_labels() {
        let steps = [
            (Cow::Borrowed("sql:begin"), 40),
            (Cow::Borrowed("sql:insert:orders"), 812),
            (Cow::Borrowed("kv:get"), 7),
            (Cow::Owned("odd label=\"x\"".to_owned()), 3),
            (Cow::Borrowed("sql:insert:orders"), 90),
        ];
        assert_eq!(
            render(5123, &steps, 0),
            "total_us=5123 steps=5 sql:begin=40 sql:insert:orders=812 kv:get=7 odd_label__x_=3 sql:insert:orders=90"
        );
        assert_eq!(render(9, &[], 2), "total_us=9 steps=0 dropped_steps=2");
        let mut long = String::new();
        push_sanitised(&mut long, &"x".repeat(200));
        assert_eq!(long.len(), MAX_LABEL_CHARS);
    }

    #[test]
    fn spans_are_recorded_only_between_start_and_finish() {
        drop(span("kv:get"));
        assert_eq!(finish(), None);
        start();
        drop(span("kv:get"));
        {
            let _statement = sql("SELECT id FROM orders WHERE id = $1");
            let _call = http("GET", "http://catalog.spin.internal/v1/products/12345678");
        }
        let line = finish().unwrap_or_default();
        let keys: Vec<&str> = line
            .split(' ')
            .filter_map(|pair| pair.split_once('=').map(|(k, _)| k))
            .collect();
        assert_eq!(
            keys,
            [
                "total_us",
                "steps",
                "kv:get",
                "http:GET:catalog.spin.internal/v1/products/{id}",
                "sql:select:orders"
            ]
        );
        assert!(!is_recording());
        drop(span("kv:set"));
        assert_eq!(finish(), None);
    }

    #[test]
    fn steps_beyond_the_limit_are_counted_not_listed() {
        start();
        for _ in 0..MAX_STEPS + 3 {
            drop(span("kv:get"));
        }
        let line = finish().unwrap_or_default();
        assert!(line.contains(&format!("steps={MAX_STEPS} dropped_steps=3")));
        assert_eq!(line.matches("kv:get=").count(), MAX_STEPS);
    }
}
