//! The revocation suite, check by check: mutants of the reference server for behaviour, and
//! wiremock for a server that honestly cannot revoke access tokens (RFC 7009 §2.2.1).

mod support;

use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "revocation.revoked-token-inactive",
    "revocation.revoked-token-not-exchangeable",
    "revocation.unknown-token-gets-200",
    "revocation.wrong-hint-still-revokes",
    "revocation.bogus-hint-ignored",
    "revocation.requires-client-authentication",
    "revocation.other-client-cannot-revoke",
    "revocation.no-false-200",
    "revocation.cascades-to-exchanged-tokens",
    "revocation.get-refused",
    "revocation.missing-token-invalid-request",
];

#[tokio::test]
async fn reference_server_passes_revocation() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

// A 200 that revokes nothing: each check waits out revoke_within, so each runs on its own.
#[tokio::test]
async fn noop_revocation_is_caught_at_introspection() {
    assert_fault_caught(Fault::RevokeNoop, "revocation.revoked-token-inactive", Verdict::Fail).await;
}

#[tokio::test]
async fn noop_revocation_is_a_false_200() {
    assert_fault_caught(Fault::RevokeNoop, "revocation.no-false-200", Verdict::Fail).await;
}

#[tokio::test]
async fn noop_revocation_is_caught_at_the_token_endpoint() {
    assert_fault_caught(Fault::RevokeNoop, "revocation.revoked-token-not-exchangeable", Verdict::Fail).await;
}

#[tokio::test]
async fn introspection_ignoring_revocation_is_caught() {
    assert_fault_caught(Fault::IntrospectIgnoreRevocation, "revocation.revoked-token-inactive", Verdict::Fail).await;
}

#[tokio::test]
async fn unknown_token_400_is_caught() {
    assert_fault_caught(Fault::RevokeUnknown400, "revocation.unknown-token-gets-200", Verdict::Fail).await;
}

#[tokio::test]
async fn strictly_honoured_hint_is_caught() {
    assert_fault_caught(Fault::RevokeHonourHintStrictly, "revocation.wrong-hint-still-revokes", Verdict::Fail).await;
}

#[tokio::test]
async fn bogus_hint_refused_is_caught() {
    assert_fault_caught(Fault::RevokeBogusHint400, "revocation.bogus-hint-ignored", Verdict::Fail).await;
}

#[tokio::test]
async fn unauthenticated_revocation_is_caught() {
    assert_fault_caught(Fault::RevokeNoAuth, "revocation.requires-client-authentication", Verdict::Fail).await;
}

#[tokio::test]
async fn cross_client_revocation_is_caught() {
    assert_fault_caught(Fault::RevokeAnyClient, "revocation.other-client-cannot-revoke", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_cascade_warns() {
    // REV-010 is a SHOULD: a warning.
    assert_fault_caught(Fault::RevokeNoCascade, "revocation.cascades-to-exchanged-tokens", Verdict::Warn).await;
}

/// A server with opaque access tokens that cannot revoke them and says so.
async fn honest_unrevocable_server() -> MockServer {
    let server = MockServer::start().await;
    let i = server.uri();
    let md = json!({
        "issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
        "introspection_endpoint": format!("{i}/introspect"), "revocation_endpoint": format!("{i}/revoke"),
    });
    let token = json!({"access_token": "opaque-9a7e", "token_type": "Bearer", "expires_in": 300});
    let active = json!({"active": true, "client_id": "agent-a", "scope": "calendar.read"});
    let unsupported = json!({"error": "unsupported_token_type", "error_description": "access tokens cannot be revoked"});
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(md))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/token")).respond_with(ResponseTemplate::new(200).set_body_json(token)).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/introspect"))
        .respond_with(ResponseTemplate::new(200).set_body_json(active))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(400).set_body_json(unsupported))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn unsupported_token_type_is_honest_but_not_a_revocation() {
    let server = honest_unrevocable_server().await;
    let ids = ["revocation.no-false-200", "revocation.revoked-token-inactive", "revocation.wrong-hint-still-revokes"];
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&ids)).await;
    // Declaring it is what RFC 7009 §2.2.1 asks of such a server…
    assert_verdict(&results, "revocation.no-false-200", Verdict::Pass);
    // …but the checks that need revocation fail with that reason, neither passing nor erroring.
    for id in ["revocation.revoked-token-inactive", "revocation.wrong-hint-still-revokes"] {
        assert_verdict(&results, id, Verdict::Fail);
        assert!(result(&results, id).reason.contains("cannot revoke access tokens"), "{}", result(&results, id).reason);
    }
}

#[tokio::test]
async fn revocation_by_get_is_caught() {
    assert_fault_caught(Fault::RevokeAcceptGet, "revocation.get-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn revocation_without_token_answered_200_is_caught() {
    assert_fault_caught(Fault::RevokeMissingTokenOk, "revocation.missing-token-invalid-request", Verdict::Fail).await;
}
