//! The discovery suite, check by check, against servers that break exactly one rule: a
//! mutant of the reference server for each behaviour, wiremock for shapes no mutant makes.

mod support;

use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "discovery.metadata-served",
    "discovery.issuer-identical",
    "discovery.required-members",
    "discovery.no-empty-arrays",
    "discovery.no-none-signing-alg",
    "discovery.agent-grants-listed",
    "discovery.asymmetric-client-auth",
    "discovery.introspection-revocation-advertised",
    "discovery.openid-configuration-consistent",
    "discovery.jwks-served",
    "discovery.jwks-public-keys-only",
    "discovery.jwks-kids-unique",
];

#[tokio::test]
async fn reference_server_passes_discovery() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

#[tokio::test]
async fn metadata_not_json_is_caught() {
    // RFC 8414 metadata as text/plain, OIDC discovery fine: the run goes on (it falls back to
    // OIDC), and the RFC 8414 check judges its own URL.
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(good_metadata(&uri).to_string(), "text/plain"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(good_metadata(&uri)))
        .mount(&server)
        .await;
    let results = run_profile(reference_profile_at(&uri), None, &checks(&["discovery.metadata-served"])).await;
    assert_verdict(&results, "discovery.metadata-served", Verdict::Fail);
}

#[tokio::test]
async fn a_server_with_no_json_metadata_at_all_stops_the_run() {
    // Neither document parses: this is not an authorization server, and the harness says so
    // (exit code 2) instead of failing every check.
    let target = agentcert::embedded::start(&[Fault::MetadataNotJson]).await.unwrap();
    let catalog = agentcert_suites::catalog();
    let err = agentcert_engine::runner::run(target.profile.clone(), None, &checks(IDS), &catalog, &Default::default(), &mut |_| {})
        .await
        .expect_err("no metadata, no run");
    assert!(matches!(err, agentcert_engine::HarnessError::NotAnAuthorizationServer { .. }), "{err}");
    assert!(err.to_string().contains("not an OAuth 2.0 authorization server"), "{err}");
}

#[tokio::test]
async fn issuer_with_trailing_slash_is_caught() {
    assert_fault_caught(Fault::MetadataIssuerTrailingSlash, "discovery.issuer-identical", Verdict::Fail).await;
}

#[tokio::test]
async fn empty_array_is_caught() {
    assert_fault_caught(Fault::MetadataEmptyArray, "discovery.no-empty-arrays", Verdict::Fail).await;
}

#[tokio::test]
async fn none_signing_alg_is_caught() {
    assert_fault_caught(Fault::MetadataNoneAlg, "discovery.no-none-signing-alg", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_token_exchange_grant_is_caught() {
    assert_fault_caught(Fault::MetadataOmitTokenExchangeGrant, "discovery.agent-grants-listed", Verdict::Fail).await;
}

#[tokio::test]
async fn no_asymmetric_auth_is_caught() {
    assert_fault_caught(Fault::MetadataNoAsymmetricAuth, "discovery.asymmetric-client-auth", Verdict::Fail).await;
}

#[tokio::test]
async fn unadvertised_introspection_is_caught() {
    assert_fault_caught(Fault::MetadataOmitIntrospection, "discovery.introspection-revocation-advertised", Verdict::Fail).await;
}

#[tokio::test]
async fn private_jwk_material_is_caught() {
    assert_fault_caught(Fault::JwksPrivateMaterial, "discovery.jwks-public-keys-only", Verdict::Fail).await;
}

#[tokio::test]
async fn duplicate_kid_is_caught() {
    assert_fault_caught(Fault::JwksDuplicateKid, "discovery.jwks-kids-unique", Verdict::Fail).await;
}

/// A server whose metadata and JWKS are whatever the test says, and whose token endpoint
/// does not exist.
type Doc = fn(&str) -> serde_json::Value;

async fn shaped_server(metadata: Doc, oidc: Option<Doc>, jwks: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    let md = metadata(&server.uri());
    let oidc = oidc.map(|f| f(&server.uri()));
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(md))
        .mount(&server)
        .await;
    if let Some(o) = oidc {
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(o))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET")).and(path("/jwks")).respond_with(ResponseTemplate::new(200).set_body_json(jwks)).mount(&server).await;
    server
}

fn good_metadata(issuer: &str) -> serde_json::Value {
    json!({"issuer": issuer, "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks")})
}

#[tokio::test]
async fn missing_jwks_uri_is_caught() {
    let server = shaped_server(|i| json!({"issuer": i, "token_endpoint": format!("{i}/token")}), None, json!({"keys": []})).await;
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&["discovery.required-members"])).await;
    assert_verdict(&results, "discovery.required-members", Verdict::Fail);
}

#[tokio::test]
async fn jwks_without_keys_array_is_caught() {
    let server = shaped_server(good_metadata, None, json!({"key": {"kty": "EC", "d": "c2VjcmV0"}})).await;
    let ids = ["discovery.jwks-served", "discovery.jwks-public-keys-only", "discovery.jwks-kids-unique"];
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&ids)).await;
    assert_verdict(&results, "discovery.jwks-served", Verdict::Fail);
    // No keys array: nothing can be judged safe, so none of the JWKS checks may pass.
    for id in ids {
        assert_verdict(&results, id, Verdict::Fail);
    }
}

#[tokio::test]
async fn inconsistent_openid_configuration_is_caught() {
    let oidc = |i: &str| json!({"issuer": i, "token_endpoint": format!("{i}/other-token"), "jwks_uri": format!("{i}/jwks")});
    let server = shaped_server(good_metadata, Some(oidc), json!({"keys": []})).await;
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&["discovery.openid-configuration-consistent"])).await;
    assert_verdict(&results, "discovery.openid-configuration-consistent", Verdict::Fail);
}

#[tokio::test]
async fn loopback_http_deployment_is_not_judged() {
    // The embedded reference server listens on http://127.0.0.1: a test deployment, whose
    // lack of TLS the check reports as a skip with its reason rather than a pass or a fail.
    let results = run_reference(&[], &["discovery.endpoints-use-tls"]).await;
    assert_verdict(&results, "discovery.endpoints-use-tls", Verdict::Skip);
    assert!(result(&results, "discovery.endpoints-use-tls").reason.contains("loopback test deployment"));
}

#[tokio::test]
async fn plain_http_endpoint_on_a_network_host_is_caught() {
    // http://as.example.com/token is never contacted: it is advertised as the introspection
    // endpoint, which nothing in this run calls (as the token_endpoint, the harness's JWT
    // probe would send it a token request).
    let md = |i: &str| json!({"issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"), "introspection_endpoint": "http://as.example.com/token"});
    let server = shaped_server(md, None, json!({"keys": []})).await;
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&["discovery.endpoints-use-tls"])).await;
    assert_verdict(&results, "discovery.endpoints-use-tls", Verdict::Fail);
    assert!(result(&results, "discovery.endpoints-use-tls").reason.contains("http://as.example.com/token"));
}

#[tokio::test]
async fn loopback_http_mixed_with_https_is_caught() {
    // Only an all-loopback deployment is a test setup; one endpoint left in the clear next to
    // https ones is a finding (the https URL is never contacted either).
    let md = |i: &str| json!({"issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"), "revocation_endpoint": "https://as.example.com/revoke"});
    let server = shaped_server(md, None, json!({"keys": []})).await;
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&["discovery.endpoints-use-tls"])).await;
    assert_verdict(&results, "discovery.endpoints-use-tls", Verdict::Fail);
}
