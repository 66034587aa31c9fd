//! Access-token verification on protected routes: every kind of tampering is a 401
//! `invalid-token` with `WWW-Authenticate: Bearer error="invalid_token"`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shopnow_testkit::assert_problem;

use crate::support::*;

async fn assert_rejected(app: &shopnow_testkit::TestApp, token: &str) {
    let resp = get_me(app, token).await;
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_problem(resp, 401, "invalid-token").await;
}

api_test_with!(test_key_options(), async fn a_token_minted_with_the_configured_key_is_accepted(app) {
    let user = register(&app, &email(&app, "ada")).await;
    let token = Mint::valid(&user.id).sign();
    assert_eq!(get_me(&app, &token).await.status(), 200);
});

api_test_with!(test_key_options(), async fn alg_none_is_rejected(app) {
    let user = register(&app, &email(&app, "ada")).await;
    let valid = Mint::valid(&user.id).sign();
    let payload = valid.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{KID_A}"}}"#));
    assert_rejected(&app, &format!("{header}.{payload}.")).await;
    let hs = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{KID_A}"}}"#));
    let sig = valid.split('.').nth(2).unwrap();
    assert_rejected(&app, &format!("{hs}.{payload}.{sig}")).await;
});

api_test_with!(test_key_options(), async fn a_token_signed_with_another_key_is_rejected(app) {
    let user = register(&app, &email(&app, "ada")).await;
    let forged = Mint { seed: SEED_B, ..Mint::valid(&user.id) }.sign();
    assert_rejected(&app, &forged).await;
});

api_test_with!(test_key_options(), async fn an_unknown_kid_is_rejected(app) {
    let user = register(&app, &email(&app, "ada")).await;
    assert_rejected(&app, &Mint { kid: "who-knows", ..Mint::valid(&user.id) }.sign()).await;
});

api_test_with!(test_key_options(), async fn expired_and_future_tokens_are_rejected(app) {
    let user = register(&app, &email(&app, "ada")).await;
    let expired = Mint { issued_at_ms: now_ms() - 3_600_000, ..Mint::valid(&user.id) }.sign();
    assert_rejected(&app, &expired).await;
    let future = Mint { issued_at_ms: now_ms() + 3_600_000, ..Mint::valid(&user.id) }.sign();
    assert_rejected(&app, &future).await;
});

api_test_with!(test_key_options(), async fn wrong_audience_or_issuer_is_rejected(app) {
    let user = register(&app, &email(&app, "ada")).await;
    assert_rejected(&app, &Mint { audience: "another-app", ..Mint::valid(&user.id) }.sign()).await;
    assert_rejected(&app, &Mint { issuer: "https://evil.example", ..Mint::valid(&user.id) }.sign()).await;
});

api_test_with!(test_key_options(), async fn a_tampered_payload_is_rejected(app) {
    let user = register(&app, &email(&app, "ada")).await;
    let valid = Mint::valid(&user.id).sign();
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("\"customer\"", "\"admin\""));
    assert_rejected(&app, &parts.join(".")).await;
    assert_rejected(&app, "garbage").await;
});

api_test_with!(test_key_options(), async fn tokens_issued_by_sign_in_carry_kid_and_claims(app) {
    let (user, tokens) = signed_in(&app, &email(&app, "ada")).await;
    let parts: Vec<&str> = tokens.access_token.split('.').collect();
    let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], KID_A);
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["roles"], serde_json::json!(["customer"]));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert!(claims["jti"].is_string());
});
