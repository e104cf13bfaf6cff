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
pub async fn create(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Manage)?;
    let (delivery, events_requested, description) = receiver_supplied(&json_object(&body)?)?;
    let id = jwt::random_id().ok_or_else(|| error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness"))?;
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
    Ok(respond(StatusCode::CREATED, config))
}

/// `GET {configuration_endpoint}[?stream_id=]` (SSF 1.0 §8.1.1.2): one stream, or the list of
/// the Receiver's streams when no `stream_id` is given.
pub async fn read(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Read)?;
    let streams = state.ssf.streams();
    Ok(match q.get("stream_id") {
        Some(id) => respond(StatusCode::OK, streams.get(id).filter(|s| s.owner == owner).ok_or_else(not_found)?.config(&state)),
        None => {
            let mut mine: Vec<&Stream> = streams.values().filter(|s| s.owner == owner).collect();
            mine.sort_by(|a, b| a.id.cmp(&b.id));
            respond(StatusCode::OK, Value::Array(mine.iter().map(|s| s.config(&state)).collect()))
        }
    })
}

/// `PATCH {configuration_endpoint}` (SSF 1.0 §8.1.1.3): Receiver-Supplied properties present
/// are updated, missing ones left alone; Transmitter-Supplied ones must match.
pub async fn update(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    change(&state, &headers, &body, false)
}

/// `PUT {configuration_endpoint}` (SSF 1.0 §8.1.1.4): the Receiver-Supplied properties are
/// replaced as a whole; missing ones are deleted.
pub async fn replace(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    change(&state, &headers, &body, true)
}

fn change(state: &AppState, headers: &HeaderMap, body: &Bytes, replace: bool) -> Result<Response, Refusal> {
    let owner = auth::receiver(state, headers, Need::Manage)?;
    let body = json_object(body)?;
    let id = body.get("stream_id").and_then(Value::as_str).ok_or_else(|| error(StatusCode::BAD_REQUEST, "stream_id is required"))?;
    let mut streams = state.ssf.streams();
    let stream = streams.get_mut(id).filter(|s| s.owner == owner).ok_or_else(not_found)?;
    // "Transmitter-Supplied properties besides the stream_id MAY be present, but they MUST
    // match the expected value."
    let current = stream.config(state);
    for name in ["iss", "aud", "events_supported", "events_delivered"] {
        if body.get(name).is_some_and(|v| Some(v) != current.get(name)) {
            return Err(error(StatusCode::BAD_REQUEST, &format!("{name} is Transmitter-Supplied and does not match")));
        }
    }
    let (delivery, events_requested, description) = receiver_supplied(&body)?;
    if replace || body.contains_key("delivery") {
        stream.delivery = delivery;
    }
    if replace || body.contains_key("events_requested") {
        stream.events_requested = events_requested;
    }
    if replace || body.contains_key("description") {
        stream.description = description;
    }
    Ok(respond(StatusCode::OK, stream.config(state)))
}

/// `DELETE {configuration_endpoint}?stream_id=` (SSF 1.0 §8.1.1.5): 204 once it is gone.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Manage)?;
    let id = q.get("stream_id").ok_or_else(|| error(StatusCode::BAD_REQUEST, "stream_id is required"))?;
    let mut streams = state.ssf.streams();
    streams.get(id).filter(|s| s.owner == owner).ok_or_else(not_found)?;
    if !state.faults.has(Fault::SsfStreamDeleteNoop) {
        streams.remove(id);
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

type ReceiverSupplied = (Delivery, Option<Vec<String>>, Option<String>);

/// The Receiver-Supplied properties (SSF 1.0 §8.1.1.1): `delivery` (poll when absent),
/// `events_requested`, `description`.
fn receiver_supplied(body: &Map<String, Value>) -> Result<ReceiverSupplied, Refusal> {
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
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("events_requested holds a non-string")))
                .collect::<Result<_, _>>()?,
        ),
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
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, Refusal> {
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

/// An answer with no body (204, or the empty 200 of SSF 1.0 §8.1.3.2).
pub fn empty(status: StatusCode) -> Response {
    let mut response = status.into_response();
    no_store(&mut response);
    response
}

/// A refused management request: its status, why, and (for 401/403) the RFC 6750 §3
/// `WWW-Authenticate` challenge.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub error: String,
    pub challenge: Option<String>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = respond(self.status, json!({ "error": self.error }));
        if let Some(v) = self.challenge.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

pub fn error(status: StatusCode, description: &str) -> Refusal {
    Refusal { status, error: description.to_string(), challenge: None }
}

/// "404 if there is no Event Stream with the given stream_id for this Event Receiver".
pub fn not_found() -> Refusal {
    error(StatusCode::NOT_FOUND, "no such stream for this receiver")
}
