//! Client authentication and the client credentials grant, over HTTP.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

#[tokio::test]
async fn client_credentials_with_all_three_auth_methods() {
    let s = start(&[]).await;
    let jwks = s.get(&s.url("jwks")).await.body;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();

    for (auth, client_id, scope) in [
        (agent_a(), "agent-a", "calendar.read calendar.write mail.read"),
        (agent_b(), "agent-b", "calendar.read"),
        (agent_x(), "agent-x", "calendar.read"),
    ] {
        let r = s.client_credentials(auth, &[]).await;
        assert_eq!(r.status, 200, "{client_id}: {}", r.text);
        assert_eq!(r.headers["cache-control"], "no-store");
        assert_eq!(r.headers["pragma"], "no-cache");
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 300);
        assert_eq!(r.body["scope"], scope);
        assert!(r.body.get("refresh_token").is_none(), "RFC 6749 §4.4.3");

        let (header, claims) = decode(&r.token());
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://api.example.test"]);
        validation.set_issuer(&[s.issuer()]);
        jsonwebtoken::decode::<Value>(r.token(), &key, &validation).expect("verifies against the JWKS");
        assert_eq!(claims["sub"], client_id);
        assert_eq!(claims["client_id"], client_id);
        assert_eq!(claims["aud"], "https://api.example.test");
        assert_eq!(claims["scope"], scope);
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 300);
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    }
    let (_, claims) = decode(&s.client_credentials(agent_a(), &[]).await.token());
    assert_eq!(claims["agent"], json!({ "name": "Scheduling agent", "operator": "Example Corp" }));
}

#[tokio::test]
async fn scope_and_resource_are_narrowed_or_refused() {
    let s = start(&[]).await;
    let r = s.client_credentials(agent_a(), &[("scope", "mail.read"), ("resource", "https://api.example.test")]).await;
    let (_, claims) = decode(&r.token());
    assert_eq!((claims["scope"].as_str(), claims["aud"].as_str()), (Some("mail.read"), Some("https://api.example.test")));
    assert_eq!(r.body["scope"], "mail.read");
    // RFC 8707 §2: a resource is an absolute URI; a client id is not one.
    let r = s.client_credentials(agent_a(), &[("resource", "agent-b")]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_target"));

    let r = s.client_credentials(agent_b(), &[("scope", "calendar.read calendar.write")]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_scope"));
    let r = s.client_credentials(agent_b(), &[("resource", "https://evil.example.test")]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_target"));
}

#[tokio::test]
async fn client_authentication_failures() {
    let s = start(&[]).await;
    // Wrong secret over Basic: 401 with a challenge (RFC 6749 §5.2).
    let r = s.client_credentials(Auth::Basic("agent-b", "nope"), &[]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    assert_eq!(r.headers["www-authenticate"], "Basic realm=\"agentcert-reference\"");
    assert_eq!(r.headers["cache-control"], "no-store");
    // Unknown client; not Basic, so no challenge.
    let r = s.client_credentials(Auth::Post("nobody", "x"), &[]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    assert!(r.headers.get("www-authenticate").is_none());
    // A basic client using post: not its registered method.
    let r = s.client_credentials(Auth::Post("agent-b", "agent-b-secret-5b1d"), &[]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    // client_id alone.
    let r = s.client_credentials(Auth::None, &[("client_id", "agent-a")]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    // Two methods at once (RFC 6749 §2.3).
    let r = s.client_credentials(agent_b(), &[("client_secret", "agent-b-secret-5b1d")]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn private_key_jwt_rules() {
    let s = start(&[]).await;
    let cc = |assertion: String| {
        let s = &s;
        async move {
            let params =
                [("grant_type", "client_credentials"), ("client_assertion_type", JWT_BEARER), ("client_assertion", assertion.as_str())];
            s.post("token", Auth::None, &params).await
        }
    };
    // Replay: the same jti twice.
    let assertion = s.assertion("agent-a", json!({}));
    assert_eq!(cc(assertion.clone()).await.status, 200);
    assert_eq!(cc(assertion).await.error(), "invalid_client");
    // aud may be the issuer; must be one of ours.
    assert_eq!(cc(s.assertion("agent-a", json!({ "aud": s.issuer() }))).await.status, 200);
    assert_eq!(cc(s.assertion("agent-a", json!({ "aud": "https://elsewhere.test" }))).await.status, 401);
    // exp required and not past (60 s skew); jti required; iss == sub.
    assert_eq!(cc(s.assertion("agent-a", json!({ "exp": null }))).await.status, 401);
    assert_eq!(cc(s.assertion("agent-a", json!({ "exp": now() - 120 }))).await.status, 401);
    assert_eq!(cc(s.assertion("agent-a", json!({ "jti": null }))).await.status, 401);
    assert_eq!(cc(s.assertion("agent-a", json!({ "iss": "agent-b" }))).await.status, 401);
    // Signed by another key.
    assert_eq!(cc(s.assertion("agent-b", json!({ "iss": "agent-a", "sub": "agent-a" }))).await.status, 401);
    // alg none and HS256 keyed with the public key are refused (RFC 8725 §3.1).
    let (none, hs256) = forged_assertions(&s);
    assert_eq!(cc(none).await.error(), "invalid_client");
    assert_eq!(cc(hs256).await.error(), "invalid_client");
}

/// An unsigned (`none`) and an HS256-with-public-key assertion for agent-a.
pub fn forged_assertions(s: &Server) -> (String, String) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let claims = json!({ "iss": "agent-a", "sub": "agent-a", "aud": s.url("token"), "exp": now() + 60, "jti": random() });
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&claims));
    let pem = std::fs::read(fixtures().join("keys/agent-a.pub.pem")).unwrap();
    let mut claims2 = claims.clone();
    claims2["jti"] = json!(random());
    let hs256 = jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims2, &jsonwebtoken::EncodingKey::from_secret(&pem))
        .unwrap();
    (none, hs256)
}

#[tokio::test]
async fn malformed_requests_get_rfc6749_errors() {
    let s = start(&[]).await;
    let auth = Some(basic("agent-b", "agent-b-secret-5b1d"));
    let form = "application/x-www-form-urlencoded";
    let cases = [
        (form, "grant_type=client_credentials&grant_type=client_credentials", "invalid_request"),
        (form, "scope=calendar.read", "invalid_request"),
        (form, "grant_type=password&username=a&password=b", "unsupported_grant_type"),
        (form, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer", "unsupported_grant_type"),
        ("application/json", r#"{"grant_type":"client_credentials"}"#, "invalid_request"),
        ("text/plain", "grant_type=client_credentials", "invalid_request"),
    ];
    for (content_type, body, error) in cases {
        let r = s.post_raw("token", content_type, auth.clone(), body.into()).await;
        assert_eq!((r.status, r.error()), (400, error), "{body}: {}", r.text);
        assert!(r.body["error_description"].is_string());
        assert_eq!(r.headers["content-type"], "application/json");
    }
    // Garbage everywhere: still a clean 4xx, never a 500.
    for body in ["%%%", "=&=&", "grant_type=%FF%FE", "\u{0}\u{1}"] {
        let r = s.post_raw("token", form, Some("Basic !!!".into()), body.into()).await;
        assert_eq!((r.status, r.error()), (401, "invalid_client"), "{body}");
        let r = s.post_raw("token", form, auth.clone(), body.into()).await;
        assert_eq!(r.status, 400, "{body}");
    }
    // Client credentials are not for agent-x's exchange: unauthorized_client.
    let subject = s.client_credentials(agent_x(), &[]).await.token();
    let r = s.exchange(agent_x(), &subject, &[]).await;
    assert_eq!((r.status, r.error()), (400, "unauthorized_client"));
    // Form-urlencoding inside Basic (RFC 6749 §2.3.1).
    let r = s.post_raw("token", form, Some(basic("agent%2Db", "agent-b-secret-5b1d")), "grant_type=client_credentials".into()).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
