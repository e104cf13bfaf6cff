//! The Shared Signals Transmitter (SSF 1.0) over plain HTTP: configuration, stream
//! management and its authorization, and a revocation arriving as a session-revoked SET on a
//! poll stream (RFC 8936).

mod common;

use common::*;
use serde_json::{json, Value};

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

/// A JSON request to the Stream Management API with an optional bearer token.
async fn call(s: &Server, method: reqwest::Method, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut r = s.http.request(method, url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn revocation_reaches_a_poll_stream_as_a_session_revoked_set() {
    let s = start(&[]).await;
    let (status, config) = call(&s, reqwest::Method::GET, &format!("{}/.well-known/ssf-configuration", s.issuer()), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(config["issuer"], s.issuer());
    assert_eq!(config["delivery_methods_supported"], json!(["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"]));
    let streams = config["configuration_endpoint"].as_str().unwrap().to_string();

    // SSF 1.0 §8: no token, no stream; a token without the ssf scope is not enough either.
    assert_eq!(call(&s, reqwest::Method::POST, &streams, None, Some(json!({}))).await.0, 401);
    let agent = s.client_credentials(agent_b(), &[]).await.token();
    assert_eq!(call(&s, reqwest::Method::POST, &streams, Some(&agent), Some(json!({}))).await.0, 403);

    let token = s.client_credentials(resource_server(), &[("scope", "ssf.manage")]).await.token();
    let (status, stream) =
        call(&s, reqwest::Method::POST, &streams, Some(&token), Some(json!({ "events_requested": [SESSION_REVOKED] }))).await;
    assert_eq!(status, 201, "{stream}");
    assert_eq!(stream["delivery"]["method"], "urn:ietf:rfc:8936");
    assert_eq!(stream["events_delivered"], json!([SESSION_REVOKED]));
    let poll = stream["delivery"]["endpoint_url"].as_str().unwrap().to_string();

    let victim = s.client_credentials(agent_b(), &[]).await.token();
    let jti = decode(&victim).1["jti"].as_str().unwrap().to_string();
    assert_eq!(s.post("revoke", agent_b(), &[("token", &victim)]).await.status, 200);
    let (status, body) = call(&s, reqwest::Method::POST, &poll, Some(&token), Some(json!({ "returnImmediately": true }))).await;
    assert_eq!(status, 200);
    let sets = body["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1, "{body}");
    let (key, set) = sets.iter().next().unwrap();
    let (header, claims) = decode(set.as_str().unwrap());
    assert_eq!(header["typ"], "secevent+jwt");
    assert_eq!(&claims["jti"], key);
    assert_eq!(claims["aud"], "resource-server");
    assert_eq!(claims["sub_id"], json!({ "format": "jwt_id", "iss": s.issuer(), "jti": jti }));
    assert!(claims["events"][SESSION_REVOKED]["reason_admin"]["en"].is_string());
    assert!(claims.get("sub").is_none() && claims.get("exp").is_none());

    // Acknowledged, it is not returned again (RFC 8936 §2.1 `ack`).
    let (_, body) = call(&s, reqwest::Method::POST, &poll, Some(&token), Some(json!({ "ack": [key], "returnImmediately": true }))).await;
    assert_eq!(body["sets"], json!({}));
    let id = stream["stream_id"].as_str().unwrap();
    assert_eq!(call(&s, reqwest::Method::DELETE, &format!("{streams}?stream_id={id}"), Some(&token), None).await.0, 204);
    assert_eq!(call(&s, reqwest::Method::GET, &format!("{streams}?stream_id={id}"), Some(&token), None).await.0, 404);
}

#[tokio::test]
async fn paused_streams_hold_events_until_enabled() {
    let s = start(&[]).await;
    let token = s.client_credentials(resource_server(), &[]).await.token();
    let (_, stream) = call(&s, reqwest::Method::POST, &s.url("ssf/stream"), Some(&token), Some(json!({}))).await;
    let (id, poll) = (stream["stream_id"].as_str().unwrap(), stream["delivery"]["endpoint_url"].as_str().unwrap());
    let status = |v: &str| json!({ "stream_id": id, "status": v });
    assert_eq!(call(&s, reqwest::Method::POST, &s.url("ssf/status"), Some(&token), Some(status("paused"))).await.1, status("paused"));
    let victim = s.client_credentials(agent_x(), &[]).await.token();
    s.post("revoke", agent_x(), &[("token", &victim)]).await;
    let polled = || call(&s, reqwest::Method::POST, poll, Some(&token), Some(json!({ "returnImmediately": true })));
    assert_eq!(polled().await.1["sets"], json!({}), "SSF 1.0 §8.1.2.1: paused transmits nothing");
    call(&s, reqwest::Method::POST, &s.url("ssf/status"), Some(&token), Some(status("enabled"))).await;
    assert_eq!(polled().await.1["sets"].as_object().unwrap().len(), 1, "held events are sent on enabling");
}
