//! The Stream Management API (SSF 1.0 §8): stream configuration, its authorization, and
//! subjects.

use super::close;
use agentcert_engine::http::Response;
use agentcert_engine::receiver::management::{receiver_token, with_query, Management, TransmitterConfig};
use agentcert_engine::receiver::{Receiver, SESSION_REVOKED};
use agentcert_engine::{Ctx, Outcome};
use serde_json::{json, Value};

/// Setup: the Transmitter's configuration and a stream-management token for `[signals]`.
pub(super) async fn management(ctx: &Ctx) -> anyhow::Result<Management> {
    let config = TransmitterConfig::fetch(&ctx.http, ctx.issuer()).await.map_err(|e| anyhow::anyhow!("setup: {e:#}"))?;
    let token = receiver_token(&ctx.http, ctx.profile(), &ctx.endpoint("token_endpoint")?).await?;
    Ok(Management::new(ctx.http.clone(), config, token))
}

/// "HTTP 201", or "HTTP 400 {…}" with the start of an error body.
fn describe(resp: &Response) -> String {
    if (200..300).contains(&resp.status) || resp.body.trim().is_empty() {
        format!("HTTP {}", resp.status)
    } else {
        format!("HTTP {} {}", resp.status, agentcert_engine::http::snippet(&resp.body))
    }
}

/// SSF 1.0 §8.1.1: create a push stream (§8.1.1.1: 201 and the configuration, whose `iss`
/// the Receiver "MUST check" against the Issuer, with the Transmitter-Supplied `stream_id`,
/// `aud` and `events_delivered` ⊆ supported ∩ requested), read it (§8.1.1.2: 200), update
/// a Receiver-Supplied property (§8.1.1.3: 200 with the whole updated configuration), delete
/// it (§8.1.1.5: 204) — after which reading it is 404 ("no Event Stream with the given
/// stream_id").
pub async fn lifecycle(ctx: Ctx) -> anyhow::Result<Outcome> {
    let m = management(&ctx).await?;
    let receiver = Receiver::start(&ctx.profile().signals.listen, ctx.profile().signals.endpoint_url.as_deref()).await?;
    let requested = [SESSION_REVOKED, "urn:example:agentcert:not-an-event-type"];
    let resp = m
        .create(&json!({ "delivery": receiver.push_delivery(), "events_requested": requested, "description": "agentcert lifecycle" }))
        .await?;
    if resp.status != 201 {
        return Ok(Outcome::fail(format!("creating a push stream answered {}, not 201 (SSF 1.0 §8.1.1.1)", describe(&resp))));
    }
    let created = resp.json()?;
    let Some(id) = created.get("stream_id").and_then(Value::as_str).map(str::to_string) else {
        return Ok(Outcome::fail("the created stream has no stream_id (SSF 1.0 §8.1.1: REQUIRED)"));
    };
    let mut findings = Vec::new();
    if created.get("iss").and_then(Value::as_str) != Some(ctx.issuer()) {
        findings.push(format!("the stream's iss is {:?}, not the Issuer {:?}", created.get("iss"), ctx.issuer()));
    }
    if !matches!(created.get("aud"), Some(Value::String(_) | Value::Array(_))) {
        findings.push("the stream has no aud (REQUIRED)".into());
    }
    let delivery = created.get("delivery").cloned().unwrap_or_default();
    if delivery.get("method").and_then(Value::as_str) != Some(agentcert_engine::receiver::PUSH)
        || delivery.get("endpoint_url").and_then(Value::as_str) != Some(receiver.endpoint_url())
    {
        findings.push(format!("the stream's delivery is {delivery}, not the push delivery requested"));
    }
    let list = |name: &str| {
        created.get(name).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect::<Vec<_>>())
    };
    match (list("events_delivered"), list("events_supported")) {
        (None, _) => findings.push("the stream has no events_delivered (REQUIRED)".into()),
        (Some(delivered), supported) => {
            let outside: Vec<&String> = delivered
                .iter()
                .filter(|e| !requested.contains(&e.as_str()) || supported.as_ref().is_some_and(|s| !s.contains(e)))
                .collect();
            if !outside.is_empty() {
                findings.push(format!("events_delivered {outside:?} is outside events_supported ∩ events_requested"));
            }
        }
    }
    let read = m.read(Some(&id)).await?;
    if read.status != 200 || read.json().ok().and_then(|v| v.get("stream_id").cloned()) != Some(json!(id)) {
        findings.push(format!("reading the stream answered {}, not 200 with its configuration (§8.1.1.2)", describe(&read)));
    }
    let updated = m.update(&json!({ "stream_id": id, "description": "agentcert lifecycle, updated" })).await?;
    match updated.status {
        200 if updated.json().ok().and_then(|v| v.get("description").cloned()) == Some(json!("agentcert lifecycle, updated")) => {}
        202 => {} // "accepted, but not processed": allowed, nothing to compare yet
        _ => findings
            .push(format!("PATCHing the description answered {}, not 200 with the updated configuration (§8.1.1.3)", describe(&updated))),
    }
    let deleted = m.delete(&id).await?;
    if deleted.status != 204 {
        findings.push(format!("deleting the stream answered {}, not 204 (§8.1.1.5)", describe(&deleted)));
    }
    let after = m.read(Some(&id)).await?;
    if after.status != 404 {
        findings.push(format!(
            "after DELETE answered {}, reading the stream still answers {}, not 404 (§8.1.1.2)",
            deleted.status,
            describe(&after)
        ));
    }
    Ok(Outcome::from_findings(findings, "created (201), read (200), updated (200), deleted (204), then gone (404)"))
}

/// SSF 1.0 §8: the Stream Management API "MUST use standard HTTP authentication and
/// authorization schemes"; its error tables answer 401 "if authorization failed or it is
/// missing". The CAEP Interoperability Profile: the Transmitter "MUST NOT accept access tokens
/// in the query parameters" (RFC 6750 §2.3).
pub async fn requires_authorization(ctx: Ctx) -> anyhow::Result<Outcome> {
    let m = management(&ctx).await?;
    let url = m.config.endpoint("configuration_endpoint")?.to_string();
    let body = json!({ "delivery": { "method": agentcert_engine::receiver::POLL }, "description": "agentcert: must be refused" });
    let mut findings = Vec::new();
    let bare = m.raw("POST", &url, Some(&body), None).await?;
    if bare.status != 401 {
        findings.push(format!("creating a stream with no Authorization header answered {}, not 401", describe(&bare)));
    }
    let listed = m.raw("GET", &url, None, None).await?;
    if listed.status != 401 {
        findings.push(format!("reading streams with no Authorization header answered {}, not 401", describe(&listed)));
    }
    let in_query = m.raw("POST", &with_query(&url, "access_token", m.token()), Some(&body), None).await?;
    if (200..300).contains(&in_query.status) {
        findings.push(format!("a stream was created with the access token in the query string ({})", describe(&in_query)));
    }
    Ok(Outcome::from_findings(findings, "requests without an Authorization header get 401, and a token in the query is not accepted"))
}

/// SSF 1.0 §8.1.3.2: adding a subject answers an empty 200; §8.1.3.3: removing one answers
/// 204; both answer 404 "if there is no Event Stream with the given stream_id for this Event
/// Receiver". The subject is a token the server issued moments before (RFC 9493 / SSF 1.0
/// §3.5.1 `jwt_id`), so "not recognized" cannot explain a 404 for it.
pub async fn subjects(ctx: Ctx) -> anyhow::Result<Outcome> {
    let session = super::open(&ctx).await?;
    let token = ctx.issue_token(agentcert_engine::ClientRole::AgentA).await?;
    let jti =
        agentcert_engine::jose::decode_unverified(&token).ok().and_then(|d| d.claim_str("jti").map(str::to_string)).unwrap_or_default();
    let subject = json!({ "format": "jwt_id", "iss": ctx.issuer(), "jti": jti });
    let m = &session.management;
    let mut findings = Vec::new();
    let added = m.add_subject(&session.stream_id, &subject).await?;
    if added.status != 200 {
        findings.push(format!("adding a subject answered {}, not 200", describe(&added)));
    }
    let removed = m.remove_subject(&session.stream_id, &subject).await?;
    if removed.status != 204 {
        findings.push(format!("removing it answered {}, not 204", describe(&removed)));
    }
    let unknown = m.add_subject(&format!("{}-unknown", session.stream_id), &subject).await?;
    if unknown.status != 404 {
        findings.push(format!("adding a subject to a stream that does not exist answered {}, not 404", describe(&unknown)));
    }
    close(session).await;
    Ok(Outcome::from_findings(findings, "add answers 200, remove 204, and a stream that does not exist 404"))
}
