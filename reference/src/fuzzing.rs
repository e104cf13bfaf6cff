//! An entry point for fuzzing the reference server's request handling: form bodies, client
//! authentication (HTTP Basic, secrets in the body, RFC 7523 client assertions), the token
//! endpoint's grants (token-exchange parameters included), introspection and revocation.
//!
//! The input is a request written like HTTP, which a fuzzer mutates well and a person can read:
//!
//! ```text
//! POST /token
//! content-type: application/x-www-form-urlencoded
//! authorization: Basic YWdlbnQtYjphZ2VudC1iLXNlY3JldC01YjFk
//!
//! grant_type=client_credentials&scope=calendar.read
//! ```
//!
//! To let a fuzzer reach past signature checks, markers in the body are replaced before the
//! request is handled: `$TOKEN_B` by a fresh access token issued to agent-b, and `$ASSERTION_A`
//! by a fresh client assertion signed with agent-a's key (fixtures/keys/agent-a.key.pem).
//!
//! The handlers are called directly (routing and the error-format layer are axum's and this
//! crate's thin glue). Whatever the input, [`request`] must not panic.

use std::cell::RefCell;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

const ISSUER: &str = "http://127.0.0.1:9";
const AGENT_A_KEY: &str = include_str!("../../fixtures/keys/agent-a.key.pem");
/// `agent-b:agent-b-secret-5b1d`, the embedded roster's agent-b.
const AGENT_B_BASIC: &str = "Basic YWdlbnQtYjphZ2VudC1iLXNlY3JldC01YjFk";

/// The server state and a runtime for its async handlers, rebuilt now and then so that the
/// token store does not grow without bound over millions of inputs.
struct Harness {
    runtime: tokio::runtime::Runtime,
    state: Arc<AppState>,
    inputs: u32,
}

impl Harness {
    fn new() -> Harness {
        let config = crate::embedded::config().expect("the embedded configuration loads");
        let state = Arc::new(AppState::new(&config, ISSUER.to_string()).expect("the embedded configuration is valid"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        Harness { runtime, state, inputs: 0 }
    }
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

/// Handles one request written as text (see the module docs) and returns the HTTP status the
/// server answered, or `None` when the input is not a request at all.
pub fn request(data: &[u8]) -> Option<u16> {
    HARNESS.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|h| h.inputs >= 5000) {
            *slot = Some(Harness::new());
        }
        let harness = slot.as_mut()?;
        harness.inputs += 1;
        let state = harness.state.clone();
        harness.runtime.block_on(handle(state, data))
    })
}

async fn handle(state: Arc<AppState>, data: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_ascii_uppercase();
    let target = first.next().unwrap_or("/");
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(value.trim())) {
            headers.append(n, v);
        }
    }
    let mut body = body.to_string();
    if body.contains("$TOKEN_B") {
        body = body.replace("$TOKEN_B", &issue_agent_b(&state).await.unwrap_or_default());
    }
    if body.contains("$ASSERTION_A") {
        body = body.replace("$ASSERTION_A", &assertion_a().unwrap_or_default());
    }
    let path = target.split('?').next().unwrap_or("");
    let body = Bytes::from(body);
    let st = State(state);
    let answer = match (method.as_str(), path) {
        ("POST", "/token") => crate::token::token(st, headers, body).await,
        ("POST", "/introspect") => crate::introspect::introspect(st, headers, body).await,
        ("POST", "/revoke") => crate::revoke::revoke(st, headers, body).await,
        ("GET", "/revoke") => match target.parse::<Uri>() {
            Ok(uri) => crate::revoke::revoke_by_get(st, headers, uri).await,
            Err(_) => return None,
        },
        _ => return None,
    };
    Some(status(answer))
}

fn status(answer: Result<Response, crate::error::OAuthError>) -> u16 {
    match answer {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.into_response().status().as_u16(),
    }
}

/// A client-credentials token for agent-b, through the token endpoint itself.
async fn issue_agent_b(state: &Arc<AppState>) -> Option<String> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
    headers.insert("authorization", HeaderValue::from_static(AGENT_B_BASIC));
    let body = Bytes::from_static(b"grant_type=client_credentials&scope=calendar.read");
    let response = crate::token::token(State(state.clone()), headers, body).await.ok()?;
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("access_token")?.as_str().map(str::to_string)
}

/// An RFC 7523 client assertion for agent-a, audience the issuer, fresh `jti`.
fn assertion_a() -> Option<String> {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(AGENT_A_KEY.as_bytes()).ok()?;
    let now = crate::jwt::now();
    let claims = json!({"iss": "agent-a", "sub": "agent-a", "aud": ISSUER, "iat": now, "exp": now + 60, "jti": crate::jwt::random_id()?});
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &claims, &key).ok()
}
