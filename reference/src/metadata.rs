//! Authorization server metadata (RFC 8414), OIDC discovery and the JWK Set.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::config::{AuthMethod, CLIENT_CREDENTIALS, JWT_BEARER_GRANT, TOKEN_EXCHANGE};
use crate::faults::Fault;
use crate::state::AppState;

/// `GET /.well-known/oauth-authorization-server{issuer path}` (RFC 8414 §3, path-inserted per §3.1).
pub async fn oauth_authorization_server(State(state): State<Arc<AppState>>) -> Response {
    respond(&state, document(&state))
}

/// `GET {issuer}/.well-known/openid-configuration` (OIDC Discovery §4): the same document,
/// for clients that discover through OpenID Connect.
pub async fn openid_configuration(State(state): State<Arc<AppState>>) -> Response {
    respond(&state, document(&state))
}

/// `GET {issuer}/jwks`: the public signing key (RFC 7517 §5).
pub async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.key.jwks(&state.faults)).into_response()
}

/// The metadata advertises exactly what the server enforces, with no empty arrays
/// (RFC 8414 §2: members without values are omitted) and never `none`.
fn document(state: &AppState) -> Map<String, Value> {
    let faults = &state.faults;
    let mut doc = Map::new();
    // RFC 8414 §3.3: `issuer` is identical to the issuer identifier.
    let issuer = if faults.has(Fault::MetadataIssuerTrailingSlash) { format!("{}/", state.issuer) } else { state.issuer.clone() };
    doc.insert("issuer".into(), json!(issuer));
    doc.insert("token_endpoint".into(), json!(state.endpoint("token")));
    doc.insert("jwks_uri".into(), json!(state.endpoint("jwks")));
    // RFC 8414 §2 / RFC 7662: the introspection endpoint that exists is advertised.
    if !faults.has(Fault::MetadataOmitIntrospection) {
        doc.insert("introspection_endpoint".into(), json!(state.endpoint("introspect")));
    }
    doc.insert("revocation_endpoint".into(), json!(state.endpoint("revoke")));

    // RFC 8414 §2 `grant_types_supported`: every grant the token endpoint accepts.
    let mut grants = vec![CLIENT_CREDENTIALS];
    if !faults.has(Fault::MetadataOmitTokenExchangeGrant) {
        grants.push(TOKEN_EXCHANGE);
    }
    grants.push(JWT_BEARER_GRANT);
    doc.insert("grant_types_supported".into(), json!(grants));

    // RFC 8414 §2: the client authentication methods, and the JWS algorithms for
    // private_key_jwt (ES256 only; "none" MUST NOT be used).
    let all_methods: Vec<&str> = AuthMethod::ALL.iter().map(|m| m.as_str()).collect();
    let token_methods =
        if faults.has(Fault::MetadataNoAsymmetricAuth) { vec![AuthMethod::ClientSecretBasic.as_str()] } else { all_methods.clone() };
    let mut token_algs = vec!["ES256"];
    if faults.has(Fault::MetadataNoneAlg) {
        token_algs.push("none");
    }
    doc.insert("token_endpoint_auth_methods_supported".into(), json!(token_methods));
    doc.insert("token_endpoint_auth_signing_alg_values_supported".into(), json!(token_algs));
    for endpoint in ["introspection", "revocation"] {
        doc.insert(format!("{endpoint}_endpoint_auth_methods_supported"), json!(all_methods));
        doc.insert(format!("{endpoint}_endpoint_auth_signing_alg_values_supported"), json!(["ES256"]));
    }
    if !state.scopes_supported.is_empty() {
        doc.insert("scopes_supported".into(), json!(state.scopes_supported));
    }
    // `response_types_supported` is deliberately absent: response types belong to the
    // authorization endpoint (RFC 6749 §3.1.1), and this server has none — it only runs
    // machine-to-machine grants at the token endpoint. Listing "code" would advertise a
    // flow nobody can use. The same goes for PKCE's code_challenge_methods_supported.
    if faults.has(Fault::MetadataEmptyArray) {
        doc.insert("code_challenge_methods_supported".into(), json!([]));
    }
    doc
}

/// RFC 8414 §3.2: the response is a JSON object, `application/json`.
fn respond(state: &AppState, doc: Map<String, Value>) -> Response {
    if state.faults.has(Fault::MetadataNotJson) {
        let text: String = doc.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    }
    axum::Json(Value::Object(doc)).into_response()
}
