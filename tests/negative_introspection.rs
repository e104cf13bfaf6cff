//! The introspection suite, check by check: mutants of the reference server for behaviour,
//! wiremock for answer shapes no mutant makes (a string `active`, an error for an unknown
//! token).

mod support;

use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "introspection.active-token-claims",
    "introspection.unknown-token-inactive",
    "introspection.inactive-has-no-other-members",
    "introspection.garbage-token-inactive",
    "introspection.requires-authentication",
    "introspection.unentitled-client-sees-nothing",
    "introspection.forged-token-inactive",
    "introspection.expired-token-inactive",
    "introspection.wrong-hint-still-found",
    "introspection.delegated-token-shows-act",
];

#[tokio::test]
async fn reference_server_passes_introspection() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

/// A server with opaque tokens whose introspection endpoint answers `introspection` to
/// every request.
async fn opaque_server(introspection: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let i = server.uri();
    let md = json!({
        "issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
        "introspection_endpoint": format!("{i}/introspect"),
    });
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(md))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []})))
        .mount(&server)
        .await;
    let token = json!({"access_token": "opaque-4f1c", "token_type": "Bearer", "expires_in": 300, "scope": "calendar.read"});
    Mock::given(method("POST")).and(path("/token")).respond_with(ResponseTemplate::new(200).set_body_json(token)).mount(&server).await;
    Mock::given(method("POST")).and(path("/introspect")).respond_with(introspection).mount(&server).await;
    server
}

async fn run_opaque(introspection: Value, id: &str) -> Verdict {
    let server = opaque_server(ResponseTemplate::new(200).set_body_json(introspection)).await;
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&[id])).await;
    result(&results, id).verdict
}

#[tokio::test]
async fn string_active_is_caught() {
    let exp = agentcert_engine::jose::now() + 300;
    let body = json!({"active": "true", "scope": "calendar.read", "client_id": "agent-a", "exp": exp});
    assert_eq!(run_opaque(body, "introspection.active-token-claims").await, Verdict::Fail);
}

#[tokio::test]
async fn wrong_client_id_is_caught() {
    let exp = agentcert_engine::jose::now() + 300;
    let body = json!({"active": true, "scope": "calendar.read", "client_id": "agent-b", "exp": exp});
    assert_eq!(run_opaque(body, "introspection.active-token-claims").await, Verdict::Fail);
}

#[tokio::test]
async fn bare_active_true_warns() {
    // scope, client_id and exp are OPTIONAL in RFC 7662 §2.2: their absence is a warning.
    assert_eq!(run_opaque(json!({"active": true}), "introspection.active-token-claims").await, Verdict::Warn);
}

#[tokio::test]
async fn error_for_unknown_token_is_caught() {
    let server = opaque_server(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_token"}))).await;
    let id = "introspection.unknown-token-inactive";
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&[id])).await;
    assert_verdict(&results, id, Verdict::Fail);
}

#[tokio::test]
async fn string_false_for_unknown_token_is_caught() {
    assert_eq!(run_opaque(json!({"active": "false"}), "introspection.unknown-token-inactive").await, Verdict::Fail);
}

#[tokio::test]
async fn extra_members_on_inactive_answer_warn() {
    // RFC 7662 §2.2 SHOULD NOT: a warning.
    assert_fault_caught(Fault::IntrospectInactiveExtraMembers, "introspection.inactive-has-no-other-members", Verdict::Warn).await;
}

#[tokio::test]
async fn server_error_on_garbage_is_caught() {
    assert_fault_caught(Fault::IntrospectNoVerify, "introspection.garbage-token-inactive", Verdict::Fail).await;
}

#[tokio::test]
async fn unauthenticated_introspection_is_caught() {
    assert_fault_caught(Fault::IntrospectNoAuth, "introspection.requires-authentication", Verdict::Fail).await;
}

#[tokio::test]
async fn any_client_introspecting_warns() {
    // RFC 7662 §4 SHOULD (specific authorization of callers): a warning.
    assert_fault_caught(Fault::IntrospectAnyClient, "introspection.unentitled-client-sees-nothing", Verdict::Warn).await;
}

#[tokio::test]
async fn unverified_signature_is_caught() {
    assert_fault_caught(Fault::IntrospectNoVerify, "introspection.forged-token-inactive", Verdict::Fail).await;
}

#[tokio::test]
async fn ignored_expiry_is_caught() {
    assert_fault_caught(Fault::IntrospectIgnoreExpiry, "introspection.expired-token-inactive", Verdict::Fail).await;
}

#[tokio::test]
async fn strictly_honoured_hint_is_caught() {
    assert_fault_caught(Fault::IntrospectHonourHintStrictly, "introspection.wrong-hint-still-found", Verdict::Fail).await;
}

#[tokio::test]
async fn delegated_token_without_act_is_caught() {
    assert_fault_caught(Fault::ExchangeDropAct, "introspection.delegated-token-shows-act", Verdict::Fail).await;
}

#[tokio::test]
async fn delegated_token_with_actor_as_sub_is_caught() {
    assert_fault_caught(Fault::ExchangeSubIsActor, "introspection.delegated-token-shows-act", Verdict::Fail).await;
}
