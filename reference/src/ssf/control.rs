//! Stream status (SSF 1.0 §8.1.2), subjects (§8.1.3) and verification (§8.1.4).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::auth::{self, Need};
use super::streams::{empty, error, json_object, not_found, respond, Refusal};
use super::{delivery, emit, Audience, Delivery, Status, VERIFICATION};
use crate::faults::Fault;
use crate::state::AppState;

/// `GET {status_endpoint}?stream_id=` (SSF 1.0 §8.1.2.1).
pub async fn read_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Read)?;
    let id = q.get("stream_id").ok_or_else(|| error(StatusCode::BAD_REQUEST, "stream_id is required"))?;
    let streams = state.ssf.streams();
    let s = streams.get(id).filter(|s| s.owner == owner).ok_or_else(not_found)?;
    Ok(respond(StatusCode::OK, status_body(&s.id, s.status, s.reason.as_deref())))
}

/// `POST {status_endpoint}` (SSF 1.0 §8.1.2.2): `{stream_id, status, reason?}`. Re-enabling a
/// paused stream transmits what was held, in order.
pub async fn update_status(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Manage)?;
    let body = json_object(&body)?;
    let id = body.get("stream_id").and_then(Value::as_str).ok_or_else(|| error(StatusCode::BAD_REQUEST, "stream_id is required"))?;
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "status must be enabled, paused or disabled"))?;
    let reason = body.get("reason").and_then(Value::as_str).map(str::to_string);
    let mut pushes = Vec::new();
    let answer = {
        let mut streams = state.ssf.streams();
        let stream = streams.get_mut(id).filter(|s| s.owner == owner).ok_or_else(not_found)?;
        stream.status = status;
        stream.reason = reason;
        match status {
            Status::Enabled => {
                let held = std::mem::take(&mut stream.held);
                match &stream.delivery {
                    Delivery::Push { endpoint_url, authorization_header } => {
                        pushes.extend(held.into_iter().map(|(_, set)| (endpoint_url.clone(), authorization_header.clone(), set)));
                    }
                    Delivery::Poll => stream.queue.extend(held),
                }
            }
            // "disabled: ... will not hold any events for later transmission".
            Status::Disabled => stream.held.clear(),
            Status::Paused => {}
        }
        status_body(&stream.id, stream.status, stream.reason.as_deref())
    };
    for (url, authorization, set) in pushes {
        delivery::push(&state, url, authorization, set);
    }
    Ok(respond(StatusCode::OK, answer))
}

fn status_body(id: &str, status: Status, reason: Option<&str>) -> Value {
    let mut body = json!({ "stream_id": id, "status": status.as_str() });
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    body
}

/// `POST {add_subject_endpoint}` (SSF 1.0 §8.1.3.2): `{stream_id, subject, verified?}`, an
/// empty 200. Every subject is in a stream by default (`default_subjects` ALL), so adding
/// one undoes an earlier removal.
pub async fn add_subject(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    subjects(&state, &headers, &body, true)
}

/// `POST {remove_subject_endpoint}` (SSF 1.0 §8.1.3.3): `{stream_id, subject}`, 204.
pub async fn remove_subject(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    subjects(&state, &headers, &body, false)
}

fn subjects(state: &AppState, headers: &HeaderMap, body: &Bytes, add: bool) -> Result<Response, Refusal> {
    let owner = auth::receiver(state, headers, Need::Manage)?;
    let body = json_object(body)?;
    let id = body.get("stream_id").and_then(Value::as_str).ok_or_else(|| error(StatusCode::BAD_REQUEST, "stream_id is required"))?;
    // RFC 9493 §3: a Subject Identifier is a JSON object with a `format` member.
    let subject = match body.get("subject") {
        Some(s @ Value::Object(m)) if m.get("format").is_some_and(Value::is_string) => s.clone(),
        _ => return Err(error(StatusCode::BAD_REQUEST, "subject must be a subject identifier (a JSON object with format)")),
    };
    let mut streams = state.ssf.streams();
    let Some(stream) = streams.get_mut(id).filter(|s| s.owner == owner) else {
        // "404 if there is no Event Stream with the given stream_id for this Event Receiver".
        if add && state.faults.has(Fault::SsfSubjectUnknownStreamOk) {
            return Ok(empty(StatusCode::OK));
        }
        return Err(not_found());
    };
    stream.removed.retain(|s| *s != subject);
    if add {
        Ok(empty(StatusCode::OK))
    } else {
        stream.removed.push(subject);
        Ok(empty(StatusCode::NO_CONTENT))
    }
}

/// `POST {verification_endpoint}` (SSF 1.0 §8.1.4.2): `{stream_id, state?}`, 204, then a
/// verification event on that stream whose `state` echoes the request's (§8.1.4.1) and whose
/// `sub_id` is the stream itself, format `opaque`.
pub async fn verify(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Manage)?;
    let body = json_object(&body)?;
    let id = body.get("stream_id").and_then(Value::as_str).ok_or_else(|| error(StatusCode::BAD_REQUEST, "stream_id is required"))?;
    if state.ssf.streams().get(id).is_none_or(|s| s.owner != owner) {
        return Err(not_found());
    }
    if !state.faults.has(Fault::SsfNoVerificationEvent) {
        let mut event = Map::new();
        if let Some(s) = body.get("state") {
            event.insert("state".into(), s.clone());
        }
        let mut events = Map::new();
        events.insert(VERIFICATION.into(), Value::Object(event));
        emit(&state, Audience::Stream(id), json!({ "format": "opaque", "id": id }), events);
    }
    Ok(empty(StatusCode::NO_CONTENT))
}
