//! The Configuration Endpoint (SSF 1.0 §8.1.1): create, read, update, replace and delete a
//! Receiver's Event Streams.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::auth::{self, Need};
use super::{Delivery, Status, Stream, POLL, PUSH};
use crate::error::no_store;
use crate::faults::Fault;
use crate::jwt;
use crate::state::AppState;

/// `POST {configuration_endpoint}` (SSF 1.0 §8.1.1.1): 201 with the new stream's configuration.
pub async fn create(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let owner = match auth::receiver(&state, &headers, Need::Manage) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (delivery, events_requested, description) = match receiver_supplied(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(id) = jwt::random_id() else { return error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness") };
    let stream = Stream {
        id: id.clone(),
        aud: owner.clone(),
        owner,
        delivery,
        events_requested,
        description,
        status: Status::Enabled,
        reason: None,
        held: Vec::new(),
        queue: Vec::new(),
        removed: Vec::new(),
    };
    let config = stream.config(&state);
    state.ssf.streams().insert(id, stream);
    respond(StatusCode::CREATED, config)
}

/// `GET {configuration_endpoint}[?stream_id=]` (SSF 1.0 §8.1.1.2): one stream, or the list of
/// the Receiver's streams when no `stream_id` is given.
pub async fn read(State(state): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let owner = match auth::receiver(&state, &headers, Need::Read) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let streams = state.ssf.streams();
    match q.get("stream_id") {
        Some(id) => match streams.get(id).filter(|s| s.owner == owner) {
            Some(s) => respond(StatusCode::OK, s.config(&state)),
            None => not_found(),
        },
        None => {
            let mut mine: Vec<&Stream> = streams.values().filter(|s| s.owner == owner).collect();
            mine.sort_by(|a, b| a.id.cmp(&b.id));
            respond(StatusCode::OK, Value::Array(mine.iter().map(|s| s.config(&state)).collect()))
        }
    }
}

/// `PATCH {configuration_endpoint}` (SSF 1.0 §8.1.1.3): Receiver-Supplied properties present
/// are updated, missing ones left alone; Transmitter-Supplied ones must match.
pub async fn update(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    change(&state, &headers, &body, false)
}

/// `PUT {configuration_endpoint}` (SSF 1.0 §8.1.1.4): the Receiver-Supplied properties are
/// replaced as a whole; missing ones are deleted.
pub async fn replace(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    change(&state, &headers, &body, true)
}

fn change(state: &AppState, headers: &HeaderMap, body: &Bytes, replace: bool) -> Response {
    let owner = match auth::receiver(state, headers, Need::Manage) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let body = match json_object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(id) = body.get("stream_id").and_then(Value::as_str) else { return error(StatusCode::BAD_REQUEST, "stream_id is required") };
    let mut streams = state.ssf.streams();
    let Some(stream) = streams.get_mut(id).filter(|s| s.owner == owner) else { return not_found() };
    // "Transmitter-Supplied properties besides the stream_id MAY be present, but they MUST
    // match the expected value."
    let current = stream.config(state);
    for name in ["iss", "aud", "events_supported", "events_delivered"] {
        if body.get(name).is_some_and(|v| Some(v) != current.get(name)) {
            return error(StatusCode::BAD_REQUEST, &format!("{name} is Transmitter-Supplied and does not match"));
        }
    }
    let (delivery, events_requested, description) = match receiver_supplied(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if replace || body.contains_key("delivery") {
        stream.delivery = delivery;
    }
    if replace || body.contains_key("events_requested") {
        stream.events_requested = events_requested;
    }
    if replace || body.contains_key("description") {
        stream.description = description;
    }
    respond(StatusCode::OK, stream.config(state))
}

/// `DELETE {configuration_endpoint}?stream_id=` (SSF 1.0 §8.1.1.5): 204 once it is gone.
pub async fn delete(State(state): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let owner = match auth::receiver(&state, &headers, Need::Manage) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(id) = q.get("stream_id") else { return error(StatusCode::BAD_REQUEST, "stream_id is required") };
    let mut streams = state.ssf.streams();
    if !streams.get(id).is_some_and(|s| s.owner == owner) {
        return not_found();
    }
    if !state.faults.has(Fault::SsfStreamDeleteNoop) {
        streams.remove(id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    no_store(&mut response);
    response
}

type ReceiverSupplied = (Delivery, Option<Vec<String>>, Option<String>);

/// The Receiver-Supplied properties (SSF 1.0 §8.1.1.1): `delivery` (poll when absent),
/// `events_requested`, `description`.
fn receiver_supplied(body: &Map<String, Value>) -> Result<ReceiverSupplied, Response> {
    let bad = |m: &str| error(StatusCode::BAD_REQUEST, m);
    let delivery = match body.get("delivery") {
        // "If the request does not contain the delivery property, then the Transmitter MUST
        // assume that the method is "urn:ietf:rfc:8936" (poll)."
        None | Some(Value::Null) => Delivery::Poll,
        Some(Value::Object(d)) => match d.get("method").and_then(Value::as_str) {
            Some(PUSH) => {
                let url = d.get("endpoint_url").and_then(Value::as_str).ok_or_else(|| bad("push delivery needs an endpoint_url"))?;
                match url::Url::parse(url) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                    _ => return Err(bad("endpoint_url is not an http(s) URL")),
                }
                let authorization_header = match d.get("authorization_header") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(h)) => Some(h.clone()),
                    Some(_) => return Err(bad("authorization_header is not a string")),
                };
                Delivery::Push { endpoint_url: url.to_string(), authorization_header }
            }
            Some(POLL) => Delivery::Poll,
            Some(other) => return Err(bad(&format!("delivery method {other} is not supported"))),
            None => return Err(bad("delivery has no method")),
        },
        Some(_) => return Err(bad("delivery is not a JSON object")),
    };
    let events_requested = match body.get("events_requested") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(a.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("events_requested holds a non-string"))).collect::<Result<_, _>>()?),
        Some(_) => return Err(bad("events_requested is not an array")),
    };
    let description = match body.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("description is not a string")),
    };
    Ok((delivery, events_requested, description))
}

/// The request body as a JSON object, or 400 ("if the request cannot be parsed").
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(error(StatusCode::BAD_REQUEST, "the request body is not a JSON object")),
    }
}

/// A JSON answer that is never cached (as the SSF 1.0 §8.1 examples answer).
pub fn respond(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    no_store(&mut response);
    response
}

pub fn error(status: StatusCode, description: &str) -> Response {
    respond(status, json!({ "error": description }))
}

/// "404 if there is no Event Stream with the given stream_id for this Event Receiver".
pub fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such stream for this receiver")
}
