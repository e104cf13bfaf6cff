//! Delivery (SSF 1.0 §6): push (RFC 8935) and poll (RFC 8936).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::auth::{self, Need};
use super::streams::{error, json_object, not_found, respond, Refusal};
use super::Delivery;
use crate::faults::Fault;
use crate::state::AppState;

/// RFC 8935 §2.1 / RFC 8417 §2.3: the media type of a pushed SET.
pub const SECEVENT_MEDIA_TYPE: &str = "application/secevent+jwt";

/// How long a poll with `returnImmediately: false` waits for a SET before answering empty.
const LONG_POLL: Duration = Duration::from_secs(2);

/// SSF 1.0 §6.1.2: the poll `endpoint_url` is the Transmitter's, unique per stream.
pub fn poll_url(state: &AppState, stream_id: &str) -> String {
    state.endpoint(&format!("ssf/poll/{stream_id}"))
}

/// RFC 8935 §2.1: POSTs one SET to the Receiver, `Content-Type: application/secevent+jwt`,
/// with the stream's `authorization_header` (SSF 1.0 §6.1.1: "the Transmitter MUST provide
/// this value with every HTTP request to the endpoint_url"). In the background: the event's
/// cause (a revocation, a verification request) is not held up by the Receiver.
pub fn push(state: &Arc<AppState>, url: String, authorization: Option<String>, set: String) {
    let state = state.clone();
    tokio::spawn(async move {
        // The agent profile bounds how late a revocation may reach a Receiver (PUSH-010).
        if state.faults.has(Fault::SsfPushDelayed) {
            tokio::time::sleep(state.ssf.fault_delay).await;
        }
        let mut request =
            state.ssf.http.post(&url).header(header::CONTENT_TYPE, SECEVENT_MEDIA_TYPE).header(header::ACCEPT, "application/json");
        if let Some(value) = authorization.filter(|_| !state.faults.has(Fault::SsfPushNoAuthorizationHeader)) {
            request = request.header(header::AUTHORIZATION, value);
        }
        // RFC 8935 §2.2: 202 is success; §2.3: a 400 names the error. Either way the SET is
        // not retried: this server is a reference, not a delivery service.
        let _ = request.body(set).send().await;
    });
}

/// `POST {issuer}/ssf/poll/{stream_id}` (RFC 8936 §2.1): acknowledges `ack` (and `setErrs`),
/// then answers `{"sets": {jti: SET, …}, "moreAvailable": bool}` (§2.2) with up to `maxEvents`
/// SETs not yet acknowledged. Protected like the management API (SSF 1.0 §7.1.1).
pub async fn poll(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let owner = auth::receiver(&state, &headers, Need::Read)?;
    let request = json_object(&body)?;
    let max = match request.get("maxEvents") {
        None => usize::MAX,
        Some(v) => {
            v.as_u64().map(|n| n as usize).ok_or_else(|| error(StatusCode::BAD_REQUEST, "maxEvents is not a non-negative integer"))?
        }
    };
    let return_immediately = request.get("returnImmediately").and_then(Value::as_bool).unwrap_or(false);
    let mut done: Vec<String> =
        request.get("ack").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
    done.extend(request.get("setErrs").and_then(Value::as_object).into_iter().flat_map(|m| m.keys().cloned()));

    let deadline = Instant::now() + LONG_POLL;
    loop {
        let answer = {
            let mut streams = state.ssf.streams();
            let stream = streams.get_mut(&id).filter(|s| s.owner == owner).ok_or_else(not_found)?;
            if stream.delivery != Delivery::Poll {
                return Err(error(StatusCode::BAD_REQUEST, "this stream delivers by push, not poll"));
            }
            stream.queue.retain(|(jti, _)| !done.contains(jti));
            done.clear();
            let batch: Vec<(String, String)> = stream.queue.iter().take(max).cloned().collect();
            let more = stream.queue.len() > batch.len();
            (batch, more)
        };
        let (batch, more) = answer;
        if !batch.is_empty() || return_immediately || max == 0 || Instant::now() >= deadline {
            return Ok(respond(StatusCode::OK, poll_body(&state, batch, more)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// RFC 8936 §2.2: `sets` is "a JSON object containing zero or more SETs", each keyed by its
/// `jti`.
fn poll_body(state: &AppState, batch: Vec<(String, String)>, more: bool) -> Value {
    let sets = if state.faults.has(Fault::SsfPollSetsArray) {
        Value::Array(batch.into_iter().map(|(_, set)| Value::String(set)).collect())
    } else {
        Value::Object(batch.into_iter().map(|(jti, set)| (jti, Value::String(set))).collect::<Map<String, Value>>())
    };
    json!({ "sets": sets, "moreAvailable": more })
}
