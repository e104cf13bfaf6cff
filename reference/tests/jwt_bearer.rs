//! The JWT bearer grant (RFC 7523 §2.1) over HTTP: partner assertions, their validation
//! (§3, errors per §3.1) and key rotation at the partner.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_partner_assertion_yields_a_token_for_the_partner_subject() {
    let (s, p) = start_trusting_partner(&[]).await;
    let r = s.jwt_bearer(agent_a(), &p.assertion(&s, json!({})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["token_type"].as_str(), r.body["scope"].as_str()), (Some("Bearer"), Some("calendar.read")));
    assert!(r.body.get("refresh_token").is_none());
    assert_eq!(r.headers["cache-control"], "no-store");
    let (header, claims) = decode(&r.token());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!((claims["sub"].as_str(), claims["client_id"].as_str()), (Some("partner-agent-7"), Some("agent-a")));
    assert_eq!(claims["sub_id"], json!({ "format": "iss_sub", "iss": p.issuer, "sub": "partner-agent-7" }));
    assert_eq!(claims["aud"], "https://api.example.test");
    // The token endpoint URL is an acceptable audience too (§3 item 3), and so is a narrower scope.
    let r = s.jwt_bearer(agent_a(), &p.assertion(&s, json!({ "aud": s.url("token") })), &[("scope", "calendar.read")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Introspection reads it active, for the partner's subject.
    let i = s.introspect(resource_server(), &r.token()).await;
    assert_eq!((i.body["active"].as_bool(), i.body["sub"].as_str()), (Some(true), Some("partner-agent-7")));
}

#[tokio::test]
async fn invalid_assertions_get_invalid_grant() {
    let (s, p) = start_trusting_partner(&[]).await;
    let now = now();
    let stranger = sign("agent-x.key.pem", p.claims(&s, json!({ "iss": "https://stranger.example.test" })));
    let tampered = {
        let t = p.assertion(&s, json!({}));
        let parts: Vec<&str> = t.split('.').collect();
        let claims = p.claims(&s, json!({ "sub": "partner-admin" }));
        format!("{}.{}.{}", parts[0], base64_json(&claims), parts[2])
    };
    let cases = [
        (stranger, "untrusted issuer"),
        (p.assertion(&s, json!({ "aud": "https://elsewhere.example" })), "aud"),
        (p.assertion(&s, json!({ "aud": [] })), "empty aud"),
        (p.assertion(&s, json!({ "exp": now - 600 })), "expired"),
        (p.assertion(&s, json!({ "exp": null })), "no exp"),
        (p.assertion(&s, json!({ "nbf": now + 600 })), "nbf in the future"),
        (p.assertion(&s, json!({ "iat": now + 600 })), "iat in the future"),
        (p.assertion(&s, json!({ "sub": null })), "no sub"),
        (p.assertion(&s, json!({ "jti": null })), "no jti"),
        (p.assertion(&s, json!({ "iss": null })), "no iss"),
        (tampered, "bad signature"),
        (unsecured(&p.claims(&s, json!({}))), "alg none"),
        (hs256_with_partner_pem(&p.claims(&s, json!({}))), "HS256 keyed with the public key"),
        ("not-a-jwt".to_string(), "not a JWT"),
        (format!("{}.{}", p.assertion(&s, json!({})), p.assertion(&s, json!({}))), "two JWTs"),
    ];
    for (assertion, what) in cases {
        let r = s.jwt_bearer(agent_a(), &assertion, &[]).await;
        assert_eq!((r.status, r.error()), (400, "invalid_grant"), "{what}: {}", r.text);
    }
    // A valid assertion is single-use.
    let once = p.assertion(&s, json!({}));
    assert_eq!(s.jwt_bearer(agent_a(), &once, &[]).await.status, 200);
    let r = s.jwt_bearer(agent_a(), &once, &[]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"), "replay");
}

#[tokio::test]
async fn request_errors_are_not_grant_errors() {
    let (s, p) = start_trusting_partner(&[]).await;
    let r = s.post("token", agent_a(), &[("grant_type", JWT_BEARER_GRANT)]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"), "no assertion");
    let r = s.jwt_bearer(agent_b(), &p.assertion(&s, json!({})), &[]).await;
    assert_eq!((r.status, r.error()), (400, "unauthorized_client"), "agent-b is not registered for the grant");
    let r = s.jwt_bearer(agent_a(), &p.assertion(&s, json!({})), &[("scope", "calendar.write")]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_scope"), "beyond the partner's subjects_scope");
    let r = s.jwt_bearer(Auth::None, &p.assertion(&s, json!({})), &[]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"), "this server requires client authentication");
}

#[tokio::test]
async fn a_rotated_partner_key_is_learnt_by_refetching_the_jwks_once() {
    let (s, p) = start_trusting_partner(&[]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &p.assertion(&s, json!({})), &[]).await.status, 200);
    assert_eq!(p.fetches(), 1);
    p.rotate();
    let r = s.jwt_bearer(agent_a(), &p.assertion(&s, json!({})), &[]).await;
    assert_eq!(r.status, 200, "the new kid triggers a refetch: {}", r.text);
    assert_eq!(p.fetches(), 2);
    // Another unknown kid right away is refused without fetching again (rate limit).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("partner-3".into());
    let pem = std::fs::read(fixtures().join("keys/agent-b.key.pem")).unwrap();
    let unknown = jsonwebtoken::encode(&header, &p.claims(&s, json!({})), &jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap()).unwrap();
    let r = s.jwt_bearer(agent_a(), &unknown, &[]).await;
    assert_eq!((r.status, r.error(), p.fetches()), (400, "invalid_grant", 2));
    // The old key stays valid while the partner still publishes it.
    assert_eq!(s.jwt_bearer(agent_a(), &sign_partner_1(&p, &s), &[]).await.status, 200);
}

fn base64_json(v: &serde_json::Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// An assertion signed with the partner's first key (kid partner-1), after rotation.
fn sign_partner_1(p: &Partner, s: &Server) -> String {
    let pem = std::fs::read(fixtures().join("keys/partner.key.pem")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("partner-1".into());
    jsonwebtoken::encode(&header, &p.claims(s, json!({})), &jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
}
