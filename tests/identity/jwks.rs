//! `GET /.well-known/jwks.json` and signing-key rotation.

use serde_json::Value;
use shopnow_testkit::api_test;

use crate::support::*;

async fn jwks(app: &shopnow_testkit::TestApp) -> Value {
    let resp = app.get("/.well-known/jwks.json").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    json_body(resp).await
}

api_test!(async fn jwks_publishes_the_dev_key_as_an_okp_key(app) {
    let body = jwks(&app).await;
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert_eq!(keys[0]["kid"], "dev-1");
    assert!(keys[0].get("d").is_none(), "private key material published");
});

api_test_with!(
    test_key_options()
        .variable("jwt_signing_key", SEED_B)
        .variable("jwt_key_id", KID_B)
        .variable("jwt_previous_public_keys", &public_key_entry(SEED_A, KID_A)),
    async fn rotation_signs_with_the_new_key_and_still_accepts_the_previous_one(app) {
        let body = jwks(&app).await;
        let mut kids: Vec<&str> = body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
        kids.sort_unstable();
        assert_eq!(kids, [KID_A, KID_B]);

        let (user, tokens) = signed_in(&app, &email(&app, "ada")).await;
        let header = tokens.access_token.split('.').next().unwrap().to_owned();
        let header: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
        ).unwrap();
        assert_eq!(header["kid"], KID_B);

        // A token from before the rotation (old key A) still works until it expires.
        let old = Mint::valid(&user.id).sign();
        assert_eq!(get_me(&app, &old).await.status(), 200);
        // A key that was never published does not.
        let unknown = Mint { seed: SEED_B, kid: "test-c", ..Mint::valid(&user.id) }.sign();
        assert_eq!(get_me(&app, &unknown).await.status(), 401);
    }
);
