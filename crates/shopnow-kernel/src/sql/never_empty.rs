//! Workaround for Spin 4.0.0–4.0.2's PostgreSQL `query` that never returns when a statement
//! matches no rows (spinframework/spin#3671, fixed upstream by #3673 after 4.0.2): every `query`
//! the PostgreSQL adapter sends is rewritten so that it always returns at least one row, and the
//! marker column that says whether a row is real is stripped from the answer. Pure string and row
//! handling; the adapter that applies it lives in `shopnow-spin`. Decision, measured cost and how
//! to remove it: `docs/adr/0001-postgres-queries-never-return-zero-rows.md`.
//!
//! ```text
//! WITH __shopnow_q AS (<statement>)
//! SELECT __shopnow_r.* FROM (VALUES (1)) AS __shopnow_one (n)
//! LEFT JOIN LATERAL (SELECT 1 AS __shopnow_present, __shopnow_q.* FROM __shopnow_q) AS __shopnow_r ON true
//! ```
//!
//! The one-row `VALUES` is the outer side of a nested-loop left join with no join clause (the
//! only plan PostgreSQL has for it), so the statement's rows come out in the statement's own order;
//! with no rows the join yields a single row of NULLs, marker included. A data-modifying statement
//! (`INSERT/UPDATE/DELETE ... RETURNING`) runs exactly once as a top-level CTE, and row locks
//! (`FOR UPDATE`) are taken as before. Rejected: `UNION ALL` with a NULL row (it needs each
//! column's type), and issuing `execute` first to count (two round trips, and a race between them).

use super::{DbError, DbErrorKind, Row, SqlValue};

/// Name of the marker column the rewrite puts first in every row.
pub const PRESENT_COLUMN: &str = "__shopnow_present";

/// `sql` rewritten so it returns at least one row; see the module docs. A trailing `;` is dropped
/// (it would end the statement inside the CTE's parentheses).
///
/// # Errors
/// [`DbErrorKind::Other`] for a statement that starts with `WITH`: a data-modifying CTE inside
/// the wrapper's CTE is not allowed by PostgreSQL, so such statements must be written another
/// way (none in this repository is; the strict test host would catch a regression).
pub fn never_empty(sql: &str) -> Result<String, DbError> {
    let body = sql.trim().trim_end_matches(';').trim_end();
    let starts_with_with = body.get(..5).is_some_and(|head| {
        head.eq_ignore_ascii_case("with ") || head.eq_ignore_ascii_case("with\n")
    });
    if starts_with_with {
        return Err(DbError::new(
            DbErrorKind::Other,
            "a query starting with WITH cannot be guarded against an empty result (Spin 4.0.2 #3671)",
        ));
    }
    Ok(format!(
        "WITH __shopnow_q AS ({body}) SELECT __shopnow_r.* FROM (VALUES (1)) AS __shopnow_one (n) \
         LEFT JOIN LATERAL (SELECT 1 AS {PRESENT_COLUMN}, __shopnow_q.* FROM __shopnow_q) AS __shopnow_r ON true"
    ))
}

/// The statement's own rows from the rewritten statement's: the marker column dropped, and the
/// single all-NULL row of an empty result dropped.
///
/// # Errors
/// [`DbErrorKind::Conversion`] when a row lacks the marker or it is neither NULL nor 1 (the
/// statement was not rewritten by [`never_empty`]).
pub fn strip_marker(rows: Vec<Row>) -> Result<Vec<Row>, DbError> {
    let mut out = Vec::with_capacity(rows.len());
    for Row(mut values) in rows {
        if values.is_empty() {
            return Err(DbError::new(
                DbErrorKind::Conversion,
                "guarded query returned a row without its marker column",
            ));
        }
        match values.remove(0) {
            SqlValue::Int(1) => out.push(Row(values)),
            SqlValue::Null => {}
            other => {
                return Err(DbError::new(
                    DbErrorKind::Conversion,
                    format!("guarded query marker is {other:?}, expected 1 or NULL"),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_becomes_a_cte_behind_a_one_row_left_join() {
        let sql = never_empty("SELECT id FROM users WHERE email = $1;\n").unwrap();
        assert_eq!(
            sql,
            "WITH __shopnow_q AS (SELECT id FROM users WHERE email = $1) SELECT __shopnow_r.* FROM (VALUES (1)) AS __shopnow_one (n) \
             LEFT JOIN LATERAL (SELECT 1 AS __shopnow_present, __shopnow_q.* FROM __shopnow_q) AS __shopnow_r ON true"
        );
    }

    #[test]
    fn a_statement_starting_with_with_is_refused() {
        for sql in [
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "with\nx AS (SELECT 1) SELECT 1",
        ] {
            assert!(never_empty(sql).is_err(), "{sql}");
        }
        assert!(never_empty("SELECT 1 FROM withdrawals").is_ok());
    }

    #[test]
    fn real_rows_lose_the_marker_and_the_empty_row_disappears() {
        let rows = vec![
            Row(vec![SqlValue::Int(1), SqlValue::Text("a".into())]),
            Row(vec![SqlValue::Int(1), SqlValue::Null]),
        ];
        assert_eq!(
            strip_marker(rows).unwrap(),
            vec![
                Row(vec![SqlValue::Text("a".into())]),
                Row(vec![SqlValue::Null])
            ]
        );
        let empty = vec![Row(vec![SqlValue::Null, SqlValue::Null])];
        assert!(strip_marker(empty).unwrap().is_empty());
    }

    #[test]
    fn a_row_without_a_valid_marker_is_an_error() {
        assert!(strip_marker(vec![Row(vec![])]).is_err());
        assert!(strip_marker(vec![Row(vec![SqlValue::Int(2)])]).is_err());
    }
}
