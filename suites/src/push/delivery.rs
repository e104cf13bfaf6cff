//! Getting SETs to the Receiver: verification (SSF 1.0 §8.1.4), push (RFC 8935, SSF 1.0
//! §6.1.1) and poll (RFC 8936, SSF 1.0 §6.1.2).

use super::{close, open, within};
use agentcert_engine::jose::{decode_unverified, random_id};
use agentcert_engine::receiver::management::polled_sets;
use agentcert_engine::receiver::{Arrival, Session, Via, POLL, SECEVENT_MEDIA_TYPE, VERIFICATION};
use agentcert_engine::{Ctx, Outcome};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Asks for a verification event carrying a fresh `state`; returns the answer's status and
/// the state.
async fn request_verification(session: &Session) -> anyhow::Result<(u16, String)> {
    let state = random_id();
    let resp = session.management.verify(&session.stream_id, &state).await?;
    Ok((resp.status, state))
}

fn is_verification(a: &Arrival, state: &str) -> bool {
    a.claims().get("events").and_then(|e| e.get(VERIFICATION)).and_then(|v| v.get("state")).and_then(Value::as_str) == Some(state)
}

/// SSF 1.0 §8.1.4.2: a verification request answers "an empty 204"; the Transmitter "MUST
/// echo back" `state` in the Verification Event (§8.1.4.1), whose top-level `sub_id` "MUST
/// always be set to have a simple value of type opaque" with the `stream_id` as its `id`.
/// The event may be sent asynchronously; it is waited for up to `timing.revoke_within`.
pub async fn verification(ctx: Ctx) -> anyhow::Result<Outcome> {
    let session = open(&ctx).await?;
    let (status, state) = request_verification(&session).await?;
    if status != 204 {
        close(session).await;
        return Ok(Outcome::fail(format!("the verification request answered HTTP {status}, not 204 (SSF 1.0 §8.1.4.2)")));
    }
    let arrived = session.receiver.wait_for(within(&ctx), |a| is_verification(a, &state)).await;
    let id = session.stream_id.clone();
    close(session).await;
    let Some(a) = arrived else {
        return Ok(Outcome::fail(format!(
            "the verification request answered 204, but no verification SET echoing its state arrived within {:?}",
            within(&ctx)
        )));
    };
    let sub_id = a.claims().get("sub_id").cloned().unwrap_or(Value::Null);
    Ok(Outcome::expect(
        sub_id == json!({ "format": "opaque", "id": id }),
        "204, then a verification SET echoing state, about the stream (sub_id opaque stream_id)",
        format!("the verification SET's sub_id is {sub_id}, not {{\"format\":\"opaque\",\"id\":\"{id}\"}} (SSF 1.0 §8.1.4.1)"),
    ))
}

/// RFC 8935 §2.1: a SET is transmitted by HTTP POST with `Content-Type:
/// application/secevent+jwt`; SSF 1.0 §6.1.1: when the stream has an `authorization_header`,
/// "the Transmitter MUST provide this value with every HTTP request to the endpoint_url".
pub async fn push_shape(ctx: Ctx) -> anyhow::Result<Outcome> {
    let session = open(&ctx).await?;
    let (_, state) = request_verification(&session).await?;
    let arrived = session.receiver.wait_for(within(&ctx), |a| a.via == Via::Push && is_verification(a, &state)).await;
    let expected = session.receiver.authorization_header().to_string();
    close(session).await;
    let Some(a) = arrived else {
        anyhow::bail!("setup: no SET was pushed within {:?} to look at (see push.verification-event-delivered)", within(&ctx))
    };
    let mut findings = Vec::new();
    let media = a.content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if media.as_deref() != Some(SECEVENT_MEDIA_TYPE) {
        findings.push(format!("the push request's Content-Type is {:?}, not {SECEVENT_MEDIA_TYPE}", a.content_type));
    }
    if a.authorization.as_deref() != Some(expected.as_str()) {
        let got = if a.authorization.is_some() { "a different Authorization header" } else { "no Authorization header" };
        findings.push(format!("the push request carried {got}, not the stream's authorization_header"));
    }
    Ok(Outcome::from_findings(findings, "POSTed as application/secevent+jwt with the stream's authorization_header"))
}

/// SSF 1.0 §8.1.1.1: without `delivery` the Transmitter "MUST assume" poll, and, supporting
/// it, "MUST include a delivery property in the response with this method property and an
/// endpoint_url". RFC 8936 §2.2: the poll response's `sets` is "a JSON object containing
/// zero or more SETs", each member named by the SET's `jti`. The SET polled is a verification
/// event; it is then acknowledged (§2.1 `ack`).
pub async fn poll(ctx: Ctx) -> anyhow::Result<Outcome> {
    let m = super::streams::management(&ctx).await?;
    let methods = m.config.doc.get("delivery_methods_supported").and_then(Value::as_array).cloned().unwrap_or_default();
    if !methods.iter().any(|v| v == POLL) {
        return Ok(Outcome::skip(format!("delivery_methods_supported does not list {POLL}: the transmitter does not poll")));
    }
    let resp =
        m.create(&json!({ "events_requested": [agentcert_engine::receiver::SESSION_REVOKED], "description": "agentcert poll" })).await?;
    if resp.status != 201 {
        return Ok(Outcome::fail(format!("creating a stream without delivery answered HTTP {}, not 201 (a poll stream)", resp.status)));
    }
    let stream = resp.json()?;
    let id = stream.get("stream_id").and_then(Value::as_str).unwrap_or_default().to_string();
    let delivery = stream.get("delivery").cloned().unwrap_or(Value::Null);
    let url = match (delivery.get("method").and_then(Value::as_str), delivery.get("endpoint_url").and_then(Value::as_str)) {
        (Some(POLL), Some(url)) => url.to_string(),
        _ => {
            let _ = m.delete(&id).await;
            return Ok(Outcome::fail(format!(
                "a stream created without delivery has delivery {delivery}, not method {POLL} with the transmitter's endpoint_url"
            )));
        }
    };
    let state = random_id();
    m.verify(&id, &state).await?;
    let deadline = Instant::now() + within(&ctx);
    let outcome = loop {
        let resp = m.poll(&url, &json!({ "returnImmediately": true, "maxEvents": 10 })).await?;
        if resp.status != 200 {
            break Outcome::fail(format!("polling answered HTTP {}, not 200 (RFC 8936 §2.2)", resp.status));
        }
        let sets = match resp.json().map_err(|e| e.to_string()).and_then(|b| polled_sets(&b)) {
            Ok(s) => s,
            Err(why) => break Outcome::fail(format!("the poll response is malformed: {why} (RFC 8936 §2.2)")),
        };
        let found = sets.iter().find(|(_, set)| {
            decode_unverified(set)
                .ok()
                .and_then(|d| d.claims.pointer(&format!("/events/{}/state", VERIFICATION.replace('/', "~1"))).cloned())
                == Some(json!(state))
        });
        if let Some((key, set)) = found {
            let jti = decode_unverified(set).ok().and_then(|d| d.claim_str("jti").map(str::to_string));
            m.poll(&url, &json!({ "ack": [key], "returnImmediately": true, "maxEvents": 0 })).await?;
            break Outcome::expect(
                jti.as_deref() == Some(key.as_str()),
                "a stream without delivery polls; the verification SET came keyed by its jti, and was acknowledged",
                format!("the polled SET is keyed {key:?} but its jti is {jti:?} (RFC 8936 §2.2: member names are jti values)"),
            );
        }
        if Instant::now() >= deadline {
            break Outcome::fail(format!("no verification SET could be polled within {:?}", within(&ctx)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = m.delete(&id).await;
    Ok(outcome)
}
