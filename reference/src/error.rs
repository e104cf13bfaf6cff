//! OAuth 2.0 error responses (RFC 6749 §5.2).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::Fault;
use crate::state::AppState;

/// An error response: status, `error` code and a human-readable `error_description`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// RFC 6749 §5.2: a client that tried HTTP Basic gets a `WWW-Authenticate` challenge.
    pub basic_challenge: bool,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), basic_challenge: false }
    }

    /// RFC 6749 §5.2 `invalid_request`: missing, repeated or malformed parameter.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// RFC 6749 §5.2 `invalid_client`: client authentication failed (401).
    pub fn invalid_client(description: impl Into<String>, basic_challenge: bool) -> Self {
        OAuthError { basic_challenge, ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description) }
    }

    /// RFC 6749 §5.2 `invalid_grant`: the grant (here an RFC 7523 assertion, §3.1) is invalid.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    /// RFC 6749 §5.2 `unauthorized_client`: the client may not use this grant type.
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", description)
    }

    /// RFC 6749 §5.2 `unsupported_grant_type`.
    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", description)
    }

    /// RFC 6749 §5.2 `invalid_scope`: scope unknown or beyond what may be granted.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    /// RFC 8707 §2 / RFC 8693 §2.2.2 `invalid_target`: resource or audience refused.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    /// RFC 7009 §2.2.1 `unsupported_token_type` (only reachable through a fault).
    pub fn unsupported_token_type(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_token_type", description)
    }

    /// Any other error with its own code (used by faults that send the wrong one).
    pub fn other(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self::new(status, error, description)
    }

    /// RFC 6749 §5.2 leaves internal failures to HTTP: 500 `server_error`.
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", description)
    }
}

/// Marks a response as an OAuth error so the `error-not-json` fault can find it.
#[derive(Debug, Clone)]
struct ErrorMarker {
    error: &'static str,
    description: String,
}

/// RFC 6749 §5.1/§5.2: responses carrying OAuth data must not be cached.
pub fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    /// RFC 6749 §5.2: `application/json` body `{"error", "error_description"}`, 400 unless
    /// client authentication failed (401, with `WWW-Authenticate` after Basic).
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, axum::Json(body)).into_response();
        no_store(&mut response);
        if self.basic_challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"agentcert-reference\""));
        }
        response.extensions_mut().insert(ErrorMarker { error: self.error, description: self.description });
        response
    }
}

/// Middleware: the single point where RFC 6749 §5.2's JSON error format can be broken.
pub async fn error_format(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.faults.has(Fault::ErrorNotJson) {
        if let Some(marker) = response.extensions().get::<ErrorMarker>().cloned() {
            let text = format!("error={} error_description={}", marker.error, marker.description);
            let headers = response.headers().clone();
            let status = response.status();
            response = (status, text).into_response();
            for (name, value) in headers.iter().filter(|(n, _)| *n != header::CONTENT_TYPE && *n != header::CONTENT_LENGTH) {
                response.headers_mut().insert(name, value.clone());
            }
        }
    }
    response
}
