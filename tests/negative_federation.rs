//! The federation suite, check by check, against servers that break exactly one rule: a
//! mutant of the reference server for each behaviour, wiremock for answers no mutant gives.

mod support;

use agentcert_engine::profile::Mode;
use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use serde_json::json;
use support::*;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "federation.valid-assertion-accepted",
    "federation.untrusted-issuer-refused",
    "federation.wrong-aud-refused",
    "federation.expired-refused",
    "federation.missing-exp-refused",
    "federation.bad-signature-refused",
    "federation.alg-none-refused",
    "federation.hs256-public-key-refused",
    "federation.replay-refused",
    "federation.rotated-key-accepted",
];

#[tokio::test]
async fn reference_server_passes_federation() {
    let results = run_reference(&[], IDS).await;
    assert!(results.capabilities["jwt-bearer"].enabled, "{:?}", results.capabilities["jwt-bearer"]);
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

// --- Mutants of the reference server -------------------------------------------------------

#[tokio::test]
async fn untrusted_issuer_accepted_is_caught() {
    assert_fault_caught(Fault::JwtBearerAcceptUntrustedIssuer, "federation.untrusted-issuer-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn ignored_aud_is_caught() {
    assert_fault_caught(Fault::JwtBearerIgnoreAud, "federation.wrong-aud-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn expired_assertion_accepted_is_caught() {
    assert_fault_caught(Fault::JwtBearerAcceptExpired, "federation.expired-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_exp_accepted_is_caught() {
    assert_fault_caught(Fault::JwtBearerAllowMissingExp, "federation.missing-exp-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn skipped_signature_is_caught() {
    assert_fault_caught(Fault::JwtBearerSkipSignature, "federation.bad-signature-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn alg_none_accepted_is_caught() {
    assert_fault_caught(Fault::JwtBearerAcceptNoneAlg, "federation.alg-none-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn hs256_keyed_with_public_key_is_caught() {
    assert_fault_caught(Fault::JwtBearerAcceptHs256PublicKey, "federation.hs256-public-key-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn replay_accepted_is_caught() {
    assert_fault_caught(Fault::JwtBearerAllowReplay, "federation.replay-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn rotated_key_not_picked_up_is_caught() {
    let results = run_reference(&[Fault::JwtBearerNoKeyRefresh], &["federation.rotated-key-accepted"]).await;
    assert_verdict(&results, "federation.rotated-key-accepted", Verdict::Fail);
    assert!(result(&results, "federation.rotated-key-accepted").reason.contains("still refused"));
}

#[tokio::test]
async fn untrusted_partner_in_profile_skips_the_suite() {
    let target = agentcert::embedded::start(&[]).await.unwrap();
    let (server, mut profile, roles) = target.into_parts();
    if let Some(p) = profile.partner.as_mut() {
        p.trusted = false;
    }
    let results = run_profile(profile, roles, &checks(&["federation.valid-assertion-accepted"])).await;
    server.shutdown().await;
    assert_verdict(&results, "federation.valid-assertion-accepted", Verdict::Skip);
    assert!(result(&results, "federation.valid-assertion-accepted").reason.contains("[partner]"));
}

// --- Shapes, from wiremock -----------------------------------------------------------------

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` as the harness form-encodes it (not
/// to be confused with the client-assertion type, which also ends in jwt-bearer).
const JWT_BEARER_GRANT_FORM: &str = "grant-type%3Ajwt-bearer";

/// An authorization server advertising the jwt-bearer grant whose token endpoint answers
/// client credentials with a token and jwt-bearer requests as the test mounts them.
async fn mock_as() -> MockServer {
    let server = MockServer::start().await;
    let i = server.uri();
    let md = json!({
        "issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
        "grant_types_supported": ["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
    });
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(md))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/token")).respond_with(token()).with_priority(5).mount(&server).await;
    server
}

fn token() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300}))
}

fn error(code: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": code}))
}

async fn verdict_at(server: &MockServer, id: &str, mode: Mode) -> Verdict {
    let mut profile = reference_profile_at(&server.uri());
    profile.target.mode = mode;
    let results = run_profile(profile, None, &checks(&[id])).await;
    let r = result(&results, id);
    eprintln!("{id}: {:?}: {}", r.verdict, r.reason);
    r.verdict
}

#[tokio::test]
async fn valid_assertion_refused_is_caught() {
    let server = mock_as().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains(JWT_BEARER_GRANT_FORM))
        .respond_with(error("invalid_grant"))
        .with_priority(1)
        .mount(&server)
        .await;
    assert_eq!(verdict_at(&server, "federation.valid-assertion-accepted", Mode::Strict).await, Verdict::Fail);
}

#[tokio::test]
async fn replay_refused_with_wrong_code_fails_strict_and_warns_lenient() {
    for (mode, verdict) in [(Mode::Strict, Verdict::Fail), (Mode::Lenient, Verdict::Warn)] {
        let server = mock_as().await;
        // The first use gets a token; every later jwt-bearer request invalid_request.
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains(JWT_BEARER_GRANT_FORM))
            .respond_with(token())
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains(JWT_BEARER_GRANT_FORM))
            .respond_with(error("invalid_request"))
            .with_priority(2)
            .mount(&server)
            .await;
        assert_eq!(verdict_at(&server, "federation.replay-refused", mode).await, verdict, "{mode:?}");
    }
}
