//! `payments-sim`: a payment provider for local runs and tests, in the same Spin application.
//! Never deployed to production (its SpinApp is not built; orders points `payment_base_url` at a
//! real provider there).
//!
//! API (the one `HttpPaymentGateway` speaks), under `/payments-sim` from outside and at the root
//! through service chaining (`http://payments-sim.spin.internal`); every call needs
//! `Authorization: Bearer <secret_key>`:
//! - `POST /v1/authorizations` `{reference, amount: {amount, currency}, token}` (the reference
//!   is the order id, also sent as `Idempotency-Key`): 201 `authorized`, 402 `declined`;
//!   repeating it returns the stored result (200) without authorising again. Tokens: `tok_ok`
//!   approves, `tok_decline` declines, `tok_error` answers 500 (nothing stored), `tok_slow`
//!   answers after 2 s — and then only if no void arrived meanwhile.
//! - `POST /v1/authorizations/{reference}/void`: 200; voids an authorisation, or records a void
//!   first so that a late authorisation for the reference is refused (answers `voided`).
//! - `POST /v1/authorizations/{reference}/refund`: 200 `refunded` for an authorised payment.
//! - `GET /v1/authorizations/{reference}`: the payment with its counters (`authorize_calls`,
//!   `approvals`), so tests can assert "never charged twice" and "voided".
//!
//! State is a table in its own SQLite database (`payments_sim`), written in transactions.

use serde::{Deserialize, Serialize};
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::Clock as _;
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::sql::{
    Database, DbError, Migration, Row, SqlValue, Statement, transaction, with_migrations,
};
use shopnow_kernel::{ApiError, FieldErrors};
use shopnow_money::Money;
use shopnow_spin::{AnyDatabase, Config, SystemClock};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;
use subtle::ConstantTimeEq as _;

/// Label of the simulator's SQLite database.
const DB_LABEL: &str = "payments_sim";

/// Prefix of the public route.
const PUBLIC_PREFIX: &str = "/payments-sim";

/// How long `tok_slow` takes.
const SLOW_MS: u64 = 2_000;

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "payments",
    statements: &[Statement::Portable(
        "CREATE TABLE IF NOT EXISTS payments (\
         reference TEXT PRIMARY KEY, \
         id TEXT NOT NULL, \
         status TEXT NOT NULL, \
         amount BIGINT, \
         currency TEXT, \
         authorize_calls BIGINT NOT NULL, \
         approvals BIGINT NOT NULL, \
         created_at BIGINT NOT NULL, \
         updated_at BIGINT NOT NULL)",
    )],
}];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeWire {
    reference: Option<String>,
    amount: Option<Money>,
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundWire {
    #[expect(
        dead_code,
        reason = "accepted for API fidelity; the simulator refunds in full"
    )]
    amount: Option<Money>,
}

/// A payment as the simulator shows it.
#[derive(Serialize)]
struct Payment {
    id: String,
    reference: String,
    status: String,
    amount: Option<i64>,
    currency: Option<String>,
    authorize_calls: i64,
    approvals: i64,
}

fn payment_from_row(row: &Row) -> Result<Payment, DbError> {
    Ok(Payment {
        reference: row.text(0)?,
        id: row.text(1)?,
        status: row.text(2)?,
        amount: row.opt_int(3)?,
        currency: row.opt_text(4)?,
        authorize_calls: row.int(5)?,
        approvals: row.int(6)?,
    })
}

fn load(db: &dyn Database, reference: &str) -> Result<Option<Payment>, DbError> {
    db.query(
        "SELECT reference, id, status, amount, currency, authorize_calls, approvals \
         FROM payments WHERE reference = $1",
        &[SqlValue::Text(reference.to_owned())],
    )?
    .first()
    .map(payment_from_row)
    .transpose()
}

fn valid_reference(reference: &str) -> bool {
    shopnow_kernel::RequestId::parse(reference).is_some()
}

struct Sim {
    db: AnyDatabase,
}

impl Sim {
    fn run<T>(&self, op: impl FnMut(&dyn Database) -> Result<T, DbError>) -> Result<T, ApiError> {
        with_migrations(&self.db, MIGRATIONS, SystemClock.now_ms(), op).map_err(ApiError::from)
    }

    /// Counts the call and, unless the reference already has a result, stores `status`.
    /// Returns the payment and whether this call created it.
    fn record(
        &self,
        reference: &str,
        amount: Money,
        status: &str,
    ) -> Result<(Payment, bool), ApiError> {
        let now = SystemClock.now_ms();
        self.run(|db| {
            transaction(db, |tx| {
                let existing = load(tx, reference)?;
                let created = existing.is_none();
                if created {
                    tx.execute(
                        "INSERT INTO payments (reference, id, status, amount, currency, \
                         authorize_calls, approvals, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)",
                        &[
                            SqlValue::Text(reference.to_owned()),
                            SqlValue::Text(format!("auth_{reference}")),
                            SqlValue::Text(status.to_owned()),
                            SqlValue::Int(amount.amount()),
                            SqlValue::Text(amount.currency().code().to_owned()),
                            SqlValue::Int(i64::from(status == "authorized")),
                            SqlValue::Int(now),
                        ],
                    )?;
                } else {
                    tx.execute(
                        "UPDATE payments SET authorize_calls = authorize_calls + 1, \
                         updated_at = $2 WHERE reference = $1",
                        &[SqlValue::Text(reference.to_owned()), SqlValue::Int(now)],
                    )?;
                }
                let payment = load(tx, reference)?
                    .ok_or_else(|| DbError::new(shopnow_kernel::sql::DbErrorKind::Other, "lost"))?;
                Ok((payment, created))
            })
        })
    }

    fn set_status(
        &self,
        reference: &str,
        from: &[&str],
        to: &str,
    ) -> Result<Option<Payment>, ApiError> {
        let now = SystemClock.now_ms();
        self.run(|db| {
            transaction(db, |tx| {
                match load(tx, reference)? {
                    Some(p) if from.contains(&p.status.as_str()) => {
                        tx.execute(
                            "UPDATE payments SET status = $2, updated_at = $3 WHERE reference = $1",
                            &[
                                SqlValue::Text(reference.to_owned()),
                                SqlValue::Text(to.to_owned()),
                                SqlValue::Int(now),
                            ],
                        )?;
                    }
                    Some(_) => {}
                    None if to == "voided" => {
                        // A void before (or instead of) the authorisation: remember it, so a
                        // late authorisation for this reference is refused.
                        tx.execute(
                            "INSERT INTO payments (reference, id, status, amount, currency, \
                             authorize_calls, approvals, created_at, updated_at) \
                             VALUES ($1, $2, 'voided', NULL, NULL, 0, 0, $3, $3)",
                            &[
                                SqlValue::Text(reference.to_owned()),
                                SqlValue::Text(format!("auth_{reference}")),
                                SqlValue::Int(now),
                            ],
                        )?;
                    }
                    None => return Ok(None),
                }
                load(tx, reference)
            })
        })
    }
}

fn authenticate(request: &HttpRequest, secret: &str) -> Result<(), ApiError> {
    let presented = request.bearer_token()?;
    if !secret.is_empty() && bool::from(presented.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::InvalidToken {
            reason: "wrong simulator secret key".into(),
        })
    }
}

fn authorize(request: &HttpRequest, sim: &Sim) -> Result<HttpResponse, ApiError> {
    let (wire, mut errors) = parse_body::<AuthorizeWire>(request, BODY_LIMIT)?;
    let reference = required(wire.reference, "reference", &mut errors);
    if reference.as_deref().is_some_and(|r| !valid_reference(r)) {
        errors.add(
            "reference",
            "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
        );
    }
    let amount = required(wire.amount, "amount", &mut errors);
    let token = required(wire.token, "token", &mut errors);
    let (reference, amount, token) = errors.finish(|| Some((reference?, amount?, token?)))?;
    if let Some(key) = request.header("idempotency-key")
        && key != reference
    {
        let mut errors = FieldErrors::new();
        errors.add("reference", "must equal the Idempotency-Key header");
        return Err(errors.into_error());
    }
    let status = match token.as_str() {
        "tok_decline" => "declined",
        "tok_error" => return Err(ApiError::internal("simulated provider failure (tok_error)")),
        "tok_slow" => {
            std::thread::sleep(std::time::Duration::from_millis(SLOW_MS));
            "authorized"
        }
        _ => "authorized",
    };
    let (payment, created) = sim.record(&reference, amount, status)?;
    let code = match (payment.status.as_str(), created) {
        ("declined", _) => 402,
        (_, true) => 201,
        (_, false) => 200,
    };
    HttpResponse::json(code, &payment)
}

fn reference_of(raw: &str) -> Result<String, ApiError> {
    if valid_reference(raw) {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::NotFound)
    }
}

fn route(request: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let secret = Config.get_or("secret_key", "");
    authenticate(request, &secret)?;
    let path = request
        .path
        .strip_prefix(PUBLIC_PREFIX)
        .unwrap_or(&request.path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let sim = Sim {
        db: AnyDatabase::open("", DB_LABEL)?,
    };
    match (request.method, segments.as_slice()) {
        (Method::Post, ["v1", "authorizations"]) => authorize(request, &sim),
        (Method::Get, ["v1", "authorizations", reference]) => {
            let reference = reference_of(reference)?;
            let payment = sim
                .run(|db| load(db, &reference))?
                .ok_or(ApiError::NotFound)?;
            HttpResponse::json(200, &payment)
        }
        (Method::Post, ["v1", "authorizations", reference, "void"]) => {
            let reference = reference_of(reference)?;
            let payment = sim
                .set_status(&reference, &["authorized"], "voided")?
                .ok_or(ApiError::NotFound)?;
            HttpResponse::json(200, &payment)
        }
        (Method::Post, ["v1", "authorizations", reference, "refund"]) => {
            let reference = reference_of(reference)?;
            if !request.body.is_empty() {
                parse_body::<RefundWire>(request, BODY_LIMIT)?;
            }
            let payment = sim
                .set_status(&reference, &["authorized"], "refunded")?
                .ok_or(ApiError::NotFound)?;
            if payment.status != "refunded" {
                return Err(ApiError::Conflict {
                    detail: "Only an authorised payment can be refunded.".into(),
                });
            }
            HttpResponse::json(200, &payment)
        }
        _ => Err(ApiError::NotFound),
    }
}

/// Largest request body, bytes.
const BODY_LIMIT: usize = 4096;

#[http_component]
fn handle_payments_sim(request: IncomingRequest) -> Response {
    shopnow_spin::serve("payments-sim", request, BODY_LIMIT, route)
}
