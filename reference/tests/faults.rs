//! Every fault switch changes observable behaviour: one check per fault, against a
//! server with only that fault on (the clean behaviour is covered by the other tests).

mod common;

use std::time::Duration;

use agentcert_reference::Fault::{self, *};
use common::*;
use serde_json::{json, Value};

async fn metadata(faults: &[Fault]) -> Value {
    let s = start(faults).await;
    s.get(&format!("{}/.well-known/oauth-authorization-server", s.issuer())).await.body
}

#[tokio::test]
async fn metadata_faults() {
    assert!(metadata(&[MetadataIssuerTrailingSlash]).await["issuer"].as_str().unwrap().ends_with('/'));
    let m = metadata(&[MetadataEmptyArray]).await;
    assert!(m.as_object().unwrap().values().any(|v| v.as_array().is_some_and(Vec::is_empty)));
    let m = metadata(&[MetadataNoneAlg]).await;
    assert!(m["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap().contains(&json!("none")));
    assert!(metadata(&[MetadataOmitIntrospection]).await.get("introspection_endpoint").is_none());
    assert_eq!(metadata(&[MetadataOmitTokenExchangeGrant]).await["grant_types_supported"], json!(["client_credentials", JWT_BEARER_GRANT]));
    assert_eq!(metadata(&[MetadataNoAsymmetricAuth]).await["token_endpoint_auth_methods_supported"], json!(["client_secret_basic"]));
    let s = start(&[TokenAlgHeaderMismatch]).await;
    assert_eq!(s.get(&s.url("jwks")).await.body["keys"][0]["alg"], "RS256");
}

#[tokio::test]
async fn access_token_faults() {
    let claims = |faults: &'static [Fault]| async move {
        let s = start(faults).await;
        let r = s.client_credentials(agent_b(), &[]).await;
        let jwks = s.get(&s.url("jwks")).await.body;
        let (header, claims) = decode(&r.token());
        (r, jwks, header, claims, s)
    };
    let (_, jwks, header, ..) = claims(&[TokenKidNotInJwks]).await;
    assert_ne!(header["kid"], jwks["keys"][0]["kid"]);
    assert_eq!(claims(&[TokenTypJwt]).await.2["typ"], "JWT");
    assert!(claims(&[TokenNoClientId]).await.3.get("client_id").is_none());
    assert!(claims(&[TokenIssTrailingSlash]).await.3["iss"].as_str().unwrap().ends_with('/'));
    assert!(claims(&[TokenNoJti]).await.3.get("jti").is_none());
    let (.., first, s) = claims(&[TokenReusedJti]).await;
    let second = decode(&s.client_credentials(agent_x(), &[]).await.token()).1;
    assert_eq!(first["jti"], second["jti"]);
    assert_eq!(claims(&[TokenLifetime24h]).await.0.body["expires_in"], 86400);
    let (r, _, _, c, _) = claims(&[TokenExpMismatch]).await;
    let lifetime = c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap();
    assert_eq!(lifetime, r.body["expires_in"].as_u64().unwrap() + 3600);
    assert!(claims(&[TokenMissingNoStore]).await.0.headers.get("cache-control").is_none());
    assert!(claims(&[CcRefreshToken]).await.0.body["refresh_token"].is_string());
    assert_eq!(claims(&[CcTokenTypeMac]).await.0.body["token_type"], "mac");
    let s = start(&[CcIgnoreScopeAllowance]).await;
    let r = s.client_credentials(agent_b(), &[("scope", "calendar.read admin")]).await;
    assert_eq!(r.body["scope"], "calendar.read admin");
}

#[tokio::test]
async fn client_auth_faults() {
    let s = start(&[AuthAcceptAnySecret]).await;
    assert_eq!(s.client_credentials(Auth::Basic("agent-b", "wrong"), &[]).await.status, 200);
    let s = start(&[AuthAcceptUnknownClient]).await;
    assert_eq!(s.client_credentials(Auth::Post("nobody", "x"), &[]).await.status, 200);
    let s = start(&[AuthNoWwwAuthenticate]).await;
    let r = s.client_credentials(Auth::Basic("agent-b", "wrong"), &[]).await;
    assert_eq!(r.status, 401);
    assert!(r.headers.get("www-authenticate").is_none());
    let s = start(&[AuthAllowUnregisteredMethod]).await;
    assert_eq!(s.client_credentials(Auth::Post("agent-b", "agent-b-secret-5b1d"), &[]).await.status, 200);
    assert_eq!(s.client_credentials(Auth::None, &[("client_id", "agent-a")]).await.status, 200);
    let s = start(&[AuthAllowTwoMethods]).await;
    assert_eq!(s.client_credentials(agent_b(), &[("client_secret", "agent-b-secret-5b1d")]).await.status, 200);
    let s = start(&[AuthAssertionReplay]).await;
    let assertion = s.assertion("agent-a", json!({}));
    let params = [("grant_type", "client_credentials"), ("client_assertion_type", JWT_BEARER), ("client_assertion", &assertion)];
    assert_eq!(s.post("token", Auth::None, &params).await.status, 200);
    assert_eq!(s.post("token", Auth::None, &params).await.status, 200);
    let s = start(&[AuthAllowAnonymous]).await;
    assert_eq!(s.client_credentials(Auth::None, &[("client_id", "agent-b")]).await.status, 200);
    for (fault, claims) in [
        (AuthAssertionAnyAudience, json!({ "aud": "https://elsewhere.test" })),
        (AuthAssertionAcceptExpired, json!({ "exp": now() - 120 })),
    ] {
        let s = start(&[fault]).await;
        let assertion = s.assertion("agent-a", claims);
        let params = [("grant_type", "client_credentials"), ("client_assertion_type", JWT_BEARER), ("client_assertion", &assertion)];
        assert_eq!(s.post("token", Auth::None, &params).await.status, 200, "{fault}");
    }
    let s = start(&[AuthAssertionAnyAlg]).await;
    let (none, hs256) = forged_assertions(&s);
    for forged in [none, hs256] {
        let params = [("grant_type", "client_credentials"), ("client_assertion_type", JWT_BEARER), ("client_assertion", &forged)];
        assert_eq!(s.post("token", Auth::None, &params).await.status, 200);
    }
}

/// Same as in token.rs: an unsigned and an HS256-with-public-key assertion for agent-a.
fn forged_assertions(s: &Server) -> (String, String) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let claims = |jti: String| json!({ "iss": "agent-a", "sub": "agent-a", "aud": s.url("token"), "exp": now() + 60, "jti": jti });
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", b64(&json!({ "alg": "none" })), b64(&claims(random())));
    let pem = std::fs::read(fixtures().join("keys/agent-a.pub.pem")).unwrap();
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let hs256 = jsonwebtoken::encode(&header, &claims(random()), &jsonwebtoken::EncodingKey::from_secret(&pem)).unwrap();
    (none, hs256)
}

#[tokio::test]
async fn error_format_faults() {
    let form = "application/x-www-form-urlencoded";
    let auth = || Some(basic("agent-b", "agent-b-secret-5b1d"));
    let s = start(&[ErrorNotJson]).await;
    let r = s.post_raw("token", form, auth(), "grant_type=password".into()).await;
    assert_eq!(r.status, 400);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let s = start(&[ErrorUnsupportedGrantAsInvalidRequest]).await;
    assert_eq!(s.post_raw("token", form, auth(), "grant_type=password".into()).await.error(), "invalid_request");
    let s = start(&[ErrorAcceptAnyContentType]).await;
    assert_eq!(s.post_raw("token", "text/plain", auth(), "grant_type=client_credentials".into()).await.status, 200);
    let s = start(&[ErrorAcceptDuplicateParams]).await;
    let body = "grant_type=client_credentials&grant_type=client_credentials";
    assert_eq!(s.post_raw("token", form, auth(), body.into()).await.status, 200);
}

async fn active(s: &Server, token: &str) -> bool {
    s.introspect(resource_server(), token).await.body["active"] == true
}

#[tokio::test]
async fn revocation_faults() {
    let s = start(&[RevokeUnknown400]).await;
    assert_eq!(s.post("revoke", agent_b(), &[("token", "unknown")]).await.status, 400);
    let s = start(&[RevokeBogusHint400]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(s.post("revoke", agent_b(), &[("token", &t), ("token_type_hint", "bogus")]).await.status, 400);
    let s = start(&[RevokeHonourHintStrictly]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(s.post("revoke", agent_b(), &[("token", &t), ("token_type_hint", "refresh_token")]).await.status, 200);
    assert!(active(&s, &t).await);
    let s = start(&[RevokeNoop]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(s.post("revoke", agent_b(), &[("token", &t)]).await.status, 200);
    assert!(active(&s, &t).await);
    let s = start(&[RevokeNoAuth]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(s.post("revoke", Auth::None, &[("token", &t)]).await.status, 200);
    assert!(!active(&s, &t).await);
    let s = start(&[RevokeAnyClient]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    s.post("revoke", agent_x(), &[("token", &t)]).await;
    assert!(!active(&s, &t).await);
    let s = start(&[RevokeNoCascade]).await;
    let parent = s.client_credentials(agent_a(), &[]).await.token();
    let child = s.exchange(agent_a(), &parent, &[]).await.token();
    s.post("revoke", agent_a(), &[("token", &parent)]).await;
    assert!(!active(&s, &parent).await);
    assert!(active(&s, &child).await);
}

#[tokio::test]
async fn introspection_faults() {
    let s = start(&[IntrospectNoAuth]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(s.introspect(Auth::None, &t).await.body["active"], true);
    let s = start(&[IntrospectAnyClient]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(s.introspect(agent_x(), &t).await.body["active"], true);
    let s = start(&[IntrospectInactiveExtraMembers]).await;
    let body = s.introspect(resource_server(), "unknown").await.body;
    assert!(body["active"] == false && body.as_object().unwrap().len() > 1);
    let s = start(&[IntrospectNoVerify]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    let forged = forge(&t, json!({ "sub": "admin" }));
    assert_eq!(s.introspect(resource_server(), &forged).await.body["sub"], "admin");
    assert_eq!(s.introspect(resource_server(), "garbage").await.status, 500);
    let s = start(&[IntrospectIgnoreRevocation]).await;
    let t = s.client_credentials(agent_b(), &[]).await.token();
    s.post("revoke", agent_b(), &[("token", &t)]).await;
    assert!(active(&s, &t).await);
}

/// Expiry needs a short-lived token and a wait: both servers share one 1.1 s sleep.
#[tokio::test]
async fn expiry_fault() {
    let short = |faults: &[Fault]| {
        let mut config = roster();
        config.access_token_lifetime_secs = 1;
        config.faults = faults.to_vec();
        start_with(config)
    };
    let (clean, faulty) = (short(&[]).await, short(&[IntrospectIgnoreExpiry]).await);
    let (a, b) = (clean.client_credentials(agent_a(), &[]).await.token(), faulty.client_credentials(agent_b(), &[]).await.token());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(!active(&clean, &a).await);
    assert!(active(&faulty, &b).await);
    let r = clean.exchange(agent_a(), &a, &[]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"), "expired subject token");
}

/// Replaces claims of a JWT, keeping the (now wrong) signature.
fn forge(token: &str, changes: Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2])
}

#[tokio::test]
async fn exchange_faults() {
    // A clean exchange by agent-b of a token agent-a issued for it, under a given fault.
    let hop = |faults: &'static [Fault], extra: &'static [(&'static str, &'static str)]| async move {
        let s = start(faults).await;
        let subject = s.token_for_agent_b().await;
        let r = s.exchange(agent_b(), &subject, extra).await;
        (r, s)
    };
    let claims = |r: &Reply| decode(&r.token()).1;
    assert!(claims(&hop(&[ExchangeDropAct], &[]).await.0).get("act").is_none());
    assert_eq!(claims(&hop(&[ExchangeSubIsActor], &[]).await.0)["sub"], "agent-b");
    assert!(hop(&[ExchangeNoIssuedTokenType], &[]).await.0.body.get("issued_token_type").is_none());
    assert!(hop(&[ExchangeRefreshToken], &[]).await.0.body["refresh_token"].is_string());
    // Not through `hop`: the fault would also re-address the token meant for agent-b.
    let s = start(&[ExchangeDropResource]).await;
    let own = s.client_credentials(agent_a(), &[]).await.token();
    let r = s.exchange(agent_a(), &own, &[("audience", "https://api.example.test")]).await;
    assert_eq!(claims(&r)["aud"], "agent-a");
    let (r, _) = hop(&[ExchangeSubstituteTokenType], &[("requested_token_type", "urn:ietf:params:oauth:token-type:saml2")]).await;
    assert_eq!(r.status, 200);

    let s = start(&[ExchangeAnyClient]).await;
    let subject = s.client_credentials(agent_a(), &[]).await.token();
    assert_eq!(s.exchange(agent_b(), &subject, &[]).await.status, 200);
    let s = start(&[ExchangeInvalidTokenError]).await;
    assert_eq!(s.exchange(agent_b(), "garbage", &[]).await.error(), "invalid_token");
    let s = start(&[ExchangeScopeFromClientOnly]).await;
    let subject = s.client_credentials(agent_a(), &[("scope", "mail.read")]).await.token();
    assert_eq!(s.exchange(agent_a(), &subject, &[("scope", "calendar.write")]).await.status, 200);
    let s = start(&[ExchangeAllowMissingSubjectTokenType]).await;
    let subject = s.client_credentials(agent_a(), &[]).await.token();
    let params = [("grant_type", TOKEN_EXCHANGE), ("subject_token", subject.as_str())];
    assert_eq!(s.post("token", agent_a(), &params).await.status, 200);
}

#[tokio::test]
async fn external_token_exchange_faults() {
    let (s, home, task) = start_trusting_home(&[ExchangeIgnoreMayAct]).await;
    let token = sign("home-issuer.key.pem", alice(&home, &s, json!({})));
    assert_eq!(s.exchange(agent_b(), &token, &[]).await.status, 200, "agent-b is not in may_act");
    let (s, home, _task2) = start_trusting_home(&[ExchangeOutliveSubject]).await;
    let token = sign("home-issuer.key.pem", alice(&home, &s, json!({ "exp": now() + 30 })));
    let r = s.exchange(agent_a(), &token, &[]).await;
    assert!(decode(&r.token()).1["exp"].as_u64().unwrap() > now() + 30);
    let (s, home, _task3) = start_trusting_home(&[ExchangeAcceptUntrustedIssuer]).await;
    let token = sign("partner.key.pem", alice(&home, &s, json!({ "iss": "https://partner.example.test" })));
    assert_eq!(s.exchange(agent_a(), &token, &[]).await.status, 200);
    task.abort();
}

#[tokio::test]
async fn jwt_bearer_faults() {
    // Each assertion below is refused by the server without the fault (tests/jwt_bearer.rs).
    let (s, p) = start_trusting_partner(&[JwtBearerAcceptUntrustedIssuer]).await;
    let stranger = sign("agent-x.key.pem", p.claims(&s, json!({ "iss": "https://stranger.example.test" })));
    assert_eq!(s.jwt_bearer(agent_a(), &stranger, &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerIgnoreAud]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &p.assertion(&s, json!({ "aud": "https://elsewhere.example" })), &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerAcceptExpired]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &p.assertion(&s, json!({ "exp": now() - 600 })), &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerAllowMissingExp]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &p.assertion(&s, json!({ "exp": null })), &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerSkipSignature]).await;
    let tampered = forge(&p.assertion(&s, json!({})), json!({ "sub": "partner-admin" }));
    assert_eq!(s.jwt_bearer(agent_a(), &tampered, &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerAcceptNoneAlg]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &unsecured(&p.claims(&s, json!({}))), &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerAcceptHs256PublicKey]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &hs256_with_partner_pem(&p.claims(&s, json!({}))), &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerAllowReplay]).await;
    let assertion = p.assertion(&s, json!({}));
    assert_eq!(s.jwt_bearer(agent_a(), &assertion, &[]).await.status, 200);
    assert_eq!(s.jwt_bearer(agent_a(), &assertion, &[]).await.status, 200);
    let (s, p) = start_trusting_partner(&[JwtBearerNoKeyRefresh]).await;
    assert_eq!(s.jwt_bearer(agent_a(), &p.assertion(&s, json!({})), &[]).await.status, 200);
    p.rotate();
    let r = s.jwt_bearer(agent_a(), &p.assertion(&s, json!({})), &[]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"), "the rotated key is never learnt");
}

// Every fault is exercised by some test: see tests/coverage.rs at the workspace root, which
// also counts the agentcert negative tests that switch faults on.
