//! The access-token suite (RFC 9068), check by check, against servers that break exactly one
//! rule: a mutant of the reference server for each behaviour, and a wiremock server handing
//! out a token the test signs itself for claims no mutant gets wrong.

mod support;

use agentcert_engine::jose::{now, random_id, unsigned, SigningKey};
use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "access-token.typ-at-jwt",
    "access-token.signed-asymmetric",
    "access-token.kid-in-jwks",
    "access-token.jwks-alg-agrees",
    "access-token.signature-verifies",
    "access-token.required-claims",
    "access-token.iss-is-issuer",
    "access-token.aud-is-resource",
    "access-token.scope-claim-matches",
    "access-token.lifetime-matches-expires-in",
    "access-token.client-id-is-requester",
    "access-token.sub-identifies-client",
    "access-token.jti-unique",
    "access-token.distinct-aud-per-resource",
    "access-token.refused-as-client-assertion",
];

#[tokio::test]
async fn reference_server_passes_access_token() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

// --- Mutants of the reference server -------------------------------------------------------

#[tokio::test]
async fn typ_jwt_is_caught() {
    assert_fault_caught(Fault::TokenTypJwt, "access-token.typ-at-jwt", Verdict::Fail).await;
}

#[tokio::test]
async fn kid_not_in_jwks_is_caught() {
    assert_fault_caught(Fault::TokenKidNotInJwks, "access-token.kid-in-jwks", Verdict::Fail).await;
}

#[tokio::test]
async fn jwk_alg_disagreeing_with_header_is_caught() {
    assert_fault_caught(Fault::TokenAlgHeaderMismatch, "access-token.jwks-alg-agrees", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_client_id_is_caught() {
    assert_fault_caught(Fault::TokenNoClientId, "access-token.required-claims", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_jti_is_caught() {
    assert_fault_caught(Fault::TokenNoJti, "access-token.required-claims", Verdict::Fail).await;
}

#[tokio::test]
async fn iss_with_trailing_slash_is_caught() {
    assert_fault_caught(Fault::TokenIssTrailingSlash, "access-token.iss-is-issuer", Verdict::Fail).await;
}

#[tokio::test]
async fn exp_disagreeing_with_expires_in_is_caught() {
    assert_fault_caught(Fault::TokenExpMismatch, "access-token.lifetime-matches-expires-in", Verdict::Fail).await;
}

#[tokio::test]
async fn reused_jti_is_caught() {
    assert_fault_caught(Fault::TokenReusedJti, "access-token.jti-unique", Verdict::Fail).await;
}

// --- Tokens the test signs itself, from wiremock -------------------------------------------

/// What the mock's token endpoint hands out.
enum Token {
    /// Signed by the published key, with these claim overrides (`null` removes one).
    Signed(Value),
    /// Signed by a key that is published under another key's kid.
    WrongKey,
    /// alg none.
    Unsigned,
}

/// An authorization server with one published ES256 key whose token endpoint answers every
/// POST with agent A's token for the default resource, scope calendar.read.
async fn mock_as(token: Token) -> MockServer {
    let server = MockServer::start().await;
    let i = server.uri();
    let key = SigningKey::generate().unwrap();
    let iat = now();
    let mut claims = json!({
        "iss": i, "exp": iat + 300, "aud": "https://api.example.test", "sub": "agent-a",
        "client_id": "agent-a", "iat": iat, "jti": random_id(), "scope": "calendar.read",
    });
    let (jwks, access_token) = match token {
        Token::Signed(overrides) => {
            agentcert_engine::home_issuer::merge(&mut claims, overrides);
            (key.jwks(), key.sign(Some("at+jwt"), &claims).unwrap())
        }
        Token::WrongKey => {
            let other = SigningKey::generate().unwrap();
            let mut jwk = key.public_jwk().clone();
            jwk["kid"] = json!(other.kid());
            (json!({"keys": [jwk]}), other.sign(Some("at+jwt"), &claims).unwrap())
        }
        Token::Unsigned => (key.jwks(), unsigned(&claims)),
    };
    let md = json!({"issuer": i, "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks")});
    let body = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "scope": "calendar.read"});
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(md))
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/jwks")).respond_with(ResponseTemplate::new(200).set_body_json(jwks)).mount(&server).await;
    Mock::given(method("POST")).and(path("/token")).respond_with(ResponseTemplate::new(200).set_body_json(body)).mount(&server).await;
    server
}

async fn verdict_at(server: &MockServer, id: &str) -> Verdict {
    let results = run_profile(reference_profile_at(&server.uri()), None, &checks(&[id])).await;
    let r = result(&results, id);
    eprintln!("{id}: {:?}: {}", r.verdict, r.reason);
    r.verdict
}

#[tokio::test]
async fn well_formed_mock_token_passes() {
    // The baseline for the mocks below: each breaks one claim of this token and nothing else.
    let server = mock_as(Token::Signed(json!({}))).await;
    for id in [
        "access-token.signed-asymmetric",
        "access-token.signature-verifies",
        "access-token.aud-is-resource",
        "access-token.scope-claim-matches",
        "access-token.client-id-is-requester",
        "access-token.sub-identifies-client",
    ] {
        assert_eq!(verdict_at(&server, id).await, Verdict::Pass, "{id}");
    }
}

#[tokio::test]
async fn unsigned_token_is_caught() {
    let server = mock_as(Token::Unsigned).await;
    assert_eq!(verdict_at(&server, "access-token.signed-asymmetric").await, Verdict::Fail);
}

#[tokio::test]
async fn signature_by_another_key_is_caught() {
    let server = mock_as(Token::WrongKey).await;
    assert_eq!(verdict_at(&server, "access-token.signature-verifies").await, Verdict::Fail);
}

#[tokio::test]
async fn aud_other_than_resource_warns() {
    let server = mock_as(Token::Signed(json!({"aud": "agent-a"}))).await;
    assert_eq!(verdict_at(&server, "access-token.aud-is-resource").await, Verdict::Warn);
}

#[tokio::test]
async fn scope_claim_wider_than_grant_warns() {
    let server = mock_as(Token::Signed(json!({"scope": "calendar.read calendar.write"}))).await;
    assert_eq!(verdict_at(&server, "access-token.scope-claim-matches").await, Verdict::Warn);
}

#[tokio::test]
async fn client_id_of_another_client_is_caught() {
    let server = mock_as(Token::Signed(json!({"client_id": "agent-b"}))).await;
    assert_eq!(verdict_at(&server, "access-token.client-id-is-requester").await, Verdict::Fail);
}

#[tokio::test]
async fn sub_not_the_client_warns() {
    let server = mock_as(Token::Signed(json!({"sub": "alice"}))).await;
    assert_eq!(verdict_at(&server, "access-token.sub-identifies-client").await, Verdict::Warn);
}

#[tokio::test]
async fn same_aud_for_every_resource_is_caught() {
    assert_fault_caught(Fault::CcDropResource, "access-token.distinct-aud-per-resource", Verdict::Fail).await;
}

#[tokio::test]
async fn access_token_accepted_as_client_assertion_is_caught() {
    assert_fault_caught(Fault::AuthAssertionAcceptOwnAccessToken, "access-token.refused-as-client-assertion", Verdict::Fail).await;
}
