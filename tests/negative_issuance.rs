//! The issuance suite, check by check, against servers that break exactly one rule: a
//! mutant of the reference server for each behaviour, wiremock for shapes no mutant makes.

mod support;

use agentcert_engine::profile::Mode;
use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "issuance.cc-success-shape",
    "issuance.token-type-bearer",
    "issuance.json-response",
    "issuance.no-store",
    "issuance.no-refresh-token",
    "issuance.expires-in-bounded",
    "issuance.scope-beyond-allowance-refused",
    "issuance.successive-tokens-differ",
    "issuance.unknown-client-refused",
    "issuance.wrong-secret-401-challenge",
    "issuance.no-credentials-refused",
    "issuance.two-methods-refused",
    "issuance.secret-by-other-method-refused",
    "issuance.client-id-alone-refused",
    "issuance.advertised-auth-methods-work",
    "issuance.assertion-replay-refused",
    "issuance.assertion-alg-none-refused",
    "issuance.assertion-hs256-public-key-refused",
    "issuance.assertion-wrong-aud-refused",
    "issuance.assertion-expired-refused",
    "issuance.error-json-registered-code",
    "issuance.unknown-grant-unsupported",
    "issuance.missing-grant-type-invalid-request",
    "issuance.duplicate-parameter-invalid-request",
    "issuance.non-form-body-invalid-request",
    "issuance.get-issues-no-token",
    "issuance.unknown-parameter-ignored",
    "issuance.private-key-jwt-accepted",
    "issuance.assertion-client-id-mismatch-refused",
    "issuance.typed-assertion-accepted",
    "issuance.empty-parameter-treated-as-omitted",
    "issuance.omitted-scope-default-or-invalid-scope",
    "issuance.malformed-resource-invalid-target",
    "issuance.multiple-resources-all-or-refused",
];

#[tokio::test]
async fn reference_server_passes_issuance() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

// --- Mutants of the reference server -------------------------------------------------------

#[tokio::test]
async fn token_type_mac_is_caught() {
    assert_fault_caught(Fault::CcTokenTypeMac, "issuance.token-type-bearer", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_no_store_is_caught() {
    assert_fault_caught(Fault::TokenMissingNoStore, "issuance.no-store", Verdict::Fail).await;
}

#[tokio::test]
async fn refresh_token_for_client_credentials_warns() {
    assert_fault_caught(Fault::CcRefreshToken, "issuance.no-refresh-token", Verdict::Warn).await;
}

#[tokio::test]
async fn day_long_token_is_caught() {
    assert_fault_caught(Fault::TokenLifetime24h, "issuance.expires-in-bounded", Verdict::Fail).await;
}

#[tokio::test]
async fn scope_beyond_allowance_granted_is_caught() {
    assert_fault_caught(Fault::CcIgnoreScopeAllowance, "issuance.scope-beyond-allowance-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn unknown_client_accepted_is_caught() {
    assert_fault_caught(Fault::AuthAcceptUnknownClient, "issuance.unknown-client-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn any_secret_accepted_is_caught() {
    assert_fault_caught(Fault::AuthAcceptAnySecret, "issuance.wrong-secret-401-challenge", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_www_authenticate_is_caught() {
    assert_fault_caught(Fault::AuthNoWwwAuthenticate, "issuance.wrong-secret-401-challenge", Verdict::Fail).await;
}

#[tokio::test]
async fn anonymous_request_answered_is_caught() {
    assert_fault_caught(Fault::AuthAllowAnonymous, "issuance.no-credentials-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn two_methods_accepted_warns() {
    assert_fault_caught(Fault::AuthAllowTwoMethods, "issuance.two-methods-refused", Verdict::Warn).await;
}

#[tokio::test]
async fn secret_by_unregistered_method_is_caught() {
    assert_fault_caught(Fault::AuthAllowUnregisteredMethod, "issuance.secret-by-other-method-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn bare_client_id_for_jwt_client_is_caught() {
    assert_fault_caught(Fault::AuthAllowUnregisteredMethod, "issuance.client-id-alone-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn assertion_replay_warns() {
    assert_fault_caught(Fault::AuthAssertionReplay, "issuance.assertion-replay-refused", Verdict::Warn).await;
}

#[tokio::test]
async fn unsigned_assertion_is_caught() {
    assert_fault_caught(Fault::AuthAssertionAnyAlg, "issuance.assertion-alg-none-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn hs256_public_key_assertion_is_caught() {
    assert_fault_caught(Fault::AuthAssertionAnyAlg, "issuance.assertion-hs256-public-key-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn foreign_audience_assertion_is_caught() {
    assert_fault_caught(Fault::AuthAssertionAnyAudience, "issuance.assertion-wrong-aud-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn expired_assertion_is_caught() {
    assert_fault_caught(Fault::AuthAssertionAcceptExpired, "issuance.assertion-expired-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn text_errors_are_caught() {
    assert_fault_caught(Fault::ErrorNotJson, "issuance.error-json-registered-code", Verdict::Fail).await;
}

#[tokio::test]
async fn unknown_grant_as_invalid_request_is_caught() {
    assert_fault_caught(Fault::ErrorUnsupportedGrantAsInvalidRequest, "issuance.unknown-grant-unsupported", Verdict::Fail).await;
}

#[tokio::test]
async fn duplicate_parameter_accepted_is_caught() {
    assert_fault_caught(Fault::ErrorAcceptDuplicateParams, "issuance.duplicate-parameter-invalid-request", Verdict::Fail).await;
}

#[tokio::test]
async fn any_content_type_accepted_is_caught() {
    assert_fault_caught(Fault::ErrorAcceptAnyContentType, "issuance.non-form-body-invalid-request", Verdict::Fail).await;
}

// --- Shapes, from wiremock -----------------------------------------------------------------

/// An authorization server whose token endpoint answers every POST with `token`; tests
/// mount more specific mocks (priority 1) on top.
async fn mock_as(methods: &[&str], token: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let i = server.uri();
    let md = json!({
        "issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
        "grant_types_supported": ["client_credentials"], "token_endpoint_auth_methods_supported": methods,
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
    Mock::given(method("POST")).and(path("/token")).respond_with(token).with_priority(5).mount(&server).await;
    server
}

fn token_body() -> Value {
    json!({"access_token": "opaque-token-value", "token_type": "Bearer", "expires_in": 300})
}

fn ok_token() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(token_body()).insert_header("cache-control", "no-store")
}

fn error(status: u16, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": code}))
}

async fn verdict_at(server: &MockServer, id: &str, mode: Mode) -> Verdict {
    let mut profile = reference_profile_at(&server.uri());
    profile.target.mode = mode;
    let results = run_profile(profile, None, &checks(&[id])).await;
    let r = result(&results, id);
    eprintln!("{id}: {:?}: {}", r.verdict, r.reason);
    r.verdict
}

const ALL_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "private_key_jwt"];

#[tokio::test]
async fn non_string_access_token_is_caught() {
    let body = json!({"access_token": 12345, "token_type": "Bearer", "expires_in": 300});
    let server = mock_as(ALL_METHODS, ResponseTemplate::new(200).set_body_json(body)).await;
    assert_eq!(verdict_at(&server, "issuance.cc-success-shape", Mode::Strict).await, Verdict::Fail);
}

#[tokio::test]
async fn token_response_as_text_is_caught() {
    let server = mock_as(ALL_METHODS, ResponseTemplate::new(200).set_body_raw(token_body().to_string(), "text/plain")).await;
    assert_eq!(verdict_at(&server, "issuance.json-response", Mode::Strict).await, Verdict::Fail);
}

#[tokio::test]
async fn same_token_twice_is_caught() {
    let server = mock_as(ALL_METHODS, ok_token()).await;
    assert_eq!(verdict_at(&server, "issuance.successive-tokens-differ", Mode::Strict).await, Verdict::Fail);
}

#[tokio::test]
async fn missing_grant_type_with_wrong_code_fails_strict_and_warns_lenient() {
    let server = mock_as(ALL_METHODS, error(400, "unsupported_grant_type")).await;
    assert_eq!(verdict_at(&server, "issuance.missing-grant-type-invalid-request", Mode::Strict).await, Verdict::Fail);
    assert_eq!(verdict_at(&server, "issuance.missing-grant-type-invalid-request", Mode::Lenient).await, Verdict::Warn);
}

#[tokio::test]
async fn token_over_get_is_caught() {
    let server = mock_as(ALL_METHODS, ok_token()).await;
    Mock::given(method("GET")).and(path("/token")).respond_with(ok_token()).mount(&server).await;
    assert_eq!(verdict_at(&server, "issuance.get-issues-no-token", Mode::Strict).await, Verdict::Fail);
}

#[tokio::test]
async fn unknown_parameter_refused_is_caught() {
    let server = mock_as(ALL_METHODS, ok_token()).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("agentcert_extension"))
        .respond_with(error(400, "invalid_request"))
        .with_priority(1)
        .mount(&server)
        .await;
    assert_eq!(verdict_at(&server, "issuance.unknown-parameter-ignored", Mode::Strict).await, Verdict::Fail);
}

#[tokio::test]
async fn advertised_method_that_fails_is_caught() {
    let server = mock_as(ALL_METHODS, ok_token()).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("client_assertion="))
        .respond_with(error(401, "invalid_client"))
        .with_priority(1)
        .mount(&server)
        .await;
    assert_eq!(verdict_at(&server, "issuance.advertised-auth-methods-work", Mode::Strict).await, Verdict::Fail);
}

// --- Assertions that must work, client_id, scope and resource (RFC 7521, RFC 7523, RFC 8707) --

#[tokio::test]
async fn issuer_audience_refused_is_caught() {
    assert_fault_caught(Fault::AuthAssertionAudTokenEndpointOnly, "issuance.private-key-jwt-accepted", Verdict::Fail).await;
}

#[tokio::test]
async fn client_id_of_another_client_with_an_assertion_is_caught() {
    assert_fault_caught(Fault::AuthAssertionIgnoreClientId, "issuance.assertion-client-id-mismatch-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn typed_assertion_refused_warns() {
    // CAUTH-005 is a SHOULD.
    assert_fault_caught(Fault::AuthAssertionRejectTyped, "issuance.typed-assertion-accepted", Verdict::Warn).await;
}

#[tokio::test]
async fn empty_scope_not_treated_as_omitted_is_caught() {
    assert_fault_caught(Fault::FormKeepEmptyParams, "issuance.empty-parameter-treated-as-omitted", Verdict::Fail).await;
}

#[tokio::test]
async fn default_scope_beyond_allowance_is_caught() {
    assert_fault_caught(Fault::CcDefaultScopeAll, "issuance.omitted-scope-default-or-invalid-scope", Verdict::Fail).await;
}

#[tokio::test]
async fn resource_with_fragment_accepted_is_caught() {
    assert_fault_caught(Fault::ResourceIgnoreFragment, "issuance.malformed-resource-invalid-target", Verdict::Fail).await;
}

#[tokio::test]
async fn second_resource_dropped_is_caught() {
    assert_fault_caught(Fault::MultiTargetKeepFirst, "issuance.multiple-resources-all-or-refused", Verdict::Fail).await;
}
