//! RFC 8693 token exchange over HTTP: delegation chains, narrowing, trusted issuers.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn two_hop_delegation_nests_act() {
    let s = start(&[]).await;
    // agent-a holds a token; it delegates to agent-b (audience agent-b), acting itself.
    let t0 = s.client_credentials(agent_a(), &[]).await.token();
    let r1 = s.exchange(agent_a(), &t0, &[("audience", "agent-b"), ("scope", "calendar.read mail.read")]).await;
    assert_eq!(r1.status, 200, "{}", r1.text);
    assert_eq!(r1.body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(r1.body["token_type"], "Bearer");
    assert_eq!(r1.body["scope"], "calendar.read mail.read");
    assert!(r1.body.get("refresh_token").is_none());
    assert_eq!(r1.headers["cache-control"], "no-store");
    let (_, c1) = decode(&r1.token());
    assert_eq!((c1["sub"].as_str(), c1["aud"].as_str()), (Some("agent-a"), Some("agent-b")));
    assert_eq!(c1["act"], json!({ "sub": "agent-a" }));

    // agent-b, named in its aud, exchanges it for the tools API with its own actor token.
    let actor = s.client_credentials(agent_b(), &[]).await.token();
    let r2 = s
        .exchange(
            agent_b(),
            &r1.token(),
            &[("resource", "https://tools.example.test"), ("actor_token", &actor), ("actor_token_type", JWT_TYPE)],
        )
        .await;
    assert_eq!(r2.status, 200, "{}", r2.text);
    let (_, c2) = decode(&r2.token());
    assert_eq!(c2["sub"], "agent-a");
    assert_eq!(c2["client_id"], "agent-b");
    assert_eq!(c2["aud"], "https://tools.example.test");
    // Subject ∩ agent-b's allowance = calendar.read.
    assert_eq!((c2["scope"].as_str(), r2.body["scope"].as_str()), (Some("calendar.read"), Some("calendar.read")));
    assert_eq!(c2["act"], json!({ "sub": "agent-b", "act": { "sub": "agent-a" } }));
    assert!(c2["exp"].as_u64() <= c1["exp"].as_u64());

    // Introspection shows the chain; revoking the root cascades down both hops.
    let i = s.introspect(resource_server(), &r2.token()).await;
    assert_eq!(i.body["active"], true);
    assert_eq!(i.body["act"], c2["act"]);
    let r = s.post("revoke", agent_a(), &[("token", &t0)]).await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    for token in [&t0, &r1.token(), &r2.token()] {
        assert_eq!(s.introspect(resource_server(), token).await.body, json!({ "active": false }));
    }
    assert_eq!(s.introspect(resource_server(), &actor).await.body["active"], true, "unrelated token stays");
    // A revoked subject can no longer be exchanged.
    let r = s.exchange(agent_b(), &r1.token(), &[]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn exchange_request_errors() {
    let s = start(&[]).await;
    let t = s.client_credentials(agent_a(), &[]).await.token();
    let ex = |params: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let mut all = vec![("grant_type", TOKEN_EXCHANGE.to_string())];
            all.extend(params);
            let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.post("token", agent_a(), &refs).await
        }
    };
    let st = |t: &str| vec![("subject_token", t.to_string()), ("subject_token_type", ACCESS_TOKEN_TYPE.to_string())];
    let with = |mut base: Vec<(&'static str, String)>, k: &'static str, v: &str| {
        base.push((k, v.to_string()));
        base
    };
    let cases: Vec<(Vec<(&'static str, String)>, &str)> = vec![
        (vec![("subject_token_type", ACCESS_TOKEN_TYPE.into())], "invalid_request"),
        (vec![("subject_token", t.clone())], "invalid_request"),
        (with(st(&t), "actor_token", &t), "invalid_request"),
        (with(st(&t), "actor_token_type", JWT_TYPE), "invalid_request"),
        (with(st(&t), "requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"), "invalid_request"),
        (with(st(&t), "subject_token_type", "x"), "invalid_request"),
        (st("garbage"), "invalid_request"),
        (st(&tamper(&t)), "invalid_request"),
        (with(st(&t), "scope", "calendar.read admin"), "invalid_scope"),
        (with(with(st(&t), "audience", "agent-b"), "audience", "https://nowhere.test"), "invalid_target"),
        (with(st(&t), "resource", "https://tools.example.test"), "invalid_target"),
    ];
    for (params, error) in cases {
        let r = ex(params.clone()).await;
        assert_eq!((r.status, r.error()), (400, error), "{params:?}: {}", r.text);
    }
    // Repeated audience is not a duplicate-parameter error; aud is exactly what was asked.
    let r = ex(with(with(st(&t), "audience", "agent-b"), "audience", "https://api.example.test")).await;
    let (_, claims) = decode(&r.token());
    assert_eq!(claims["aud"], json!(["agent-b", "https://api.example.test"]));
    // requested_token_type jwt is honoured.
    let r = ex(with(st(&t), "requested_token_type", JWT_TYPE)).await;
    assert_eq!(r.body["issued_token_type"], JWT_TYPE);
    // agent-b may not exchange a token neither issued to nor meant for it.
    let r = s.exchange(agent_b(), &t, &[]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
}

fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("calendar.read calendar.write mail.read admin");
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2])
}

#[tokio::test]
async fn trusted_issuer_tokens_and_may_act() {
    let (s, home, task) = start_trusting_home(&[]).await;
    let user = |extra: Value| alice(&home, &s, extra);
    // Alice lets agent-a act for her: sub alice, act agent-a, scope narrowed to the intersection.
    let r = s.exchange(agent_a(), &sign("home-issuer.key.pem", user(json!({}))), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, claims) = decode(&r.token());
    assert_eq!((claims["sub"].as_str(), claims["scope"].as_str()), (Some("alice"), Some("calendar.read calendar.write")));
    assert_eq!(claims["act"], json!({ "sub": "agent-a" }));
    assert!(claims["exp"].as_u64().unwrap() <= now() + 300);

    let refused = [
        // may_act names someone else.
        (agent_b(), sign("home-issuer.key.pem", user(json!({}))), "may_act"),
        // Wrong key, untrusted issuer, expired, wrong audience.
        (agent_a(), sign("partner.key.pem", user(json!({}))), "signature"),
        (agent_a(), sign("home-issuer.key.pem", user(json!({ "iss": "http://127.0.0.1:1" }))), "not trusted"),
        (agent_a(), sign("home-issuer.key.pem", user(json!({ "exp": now() - 5 }))), "expired"),
        (agent_a(), sign("home-issuer.key.pem", user(json!({ "aud": "https://someone-else.test" }))), "`aud`"),
    ];
    for (auth, token, why) in refused {
        let r = s.exchange(auth, &token, &[]).await;
        assert_eq!((r.status, r.error()), (400, "invalid_request"), "{}", r.text);
        assert!(r.body["error_description"].as_str().unwrap().contains(why), "{why}: {}", r.text);
    }
    task.abort();
}
