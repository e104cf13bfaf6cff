//! Transmitter Configuration Metadata (SSF 1.0 §7).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::{POLL, PUSH};
use crate::faults::Fault;
use crate::state::AppState;

/// `GET /.well-known/ssf-configuration{issuer path}`: SSF 1.0 §7.2 inserts the well-known
/// string between the host and the issuer's path; §7.2.3 answers 200 `application/json`.
pub async fn ssf_configuration(State(state): State<Arc<AppState>>) -> Response {
    let faults = &state.faults;
    let mut doc = Map::new();
    doc.insert("spec_version".into(), json!("1_0"));
    // SSF 1.0 §7.2.4: `issuer` is identical to the Issuer the document was fetched for.
    let issuer = if faults.has(Fault::SsfConfigIssuerTrailingSlash) { format!("{}/", state.issuer) } else { state.issuer.clone() };
    doc.insert("issuer".into(), json!(issuer));
    // SSF 1.0 §7.1: jwks_uri "MUST be specified if the Transmitter intends to generate signed JWTs".
    if !faults.has(Fault::SsfConfigNoJwksUri) {
        doc.insert("jwks_uri".into(), json!(state.endpoint("jwks")));
    }
    doc.insert("delivery_methods_supported".into(), json!([PUSH, POLL]));
    doc.insert("configuration_endpoint".into(), json!(state.endpoint("ssf/stream")));
    doc.insert("status_endpoint".into(), json!(state.endpoint("ssf/status")));
    doc.insert("add_subject_endpoint".into(), json!(state.endpoint("ssf/subjects/add")));
    doc.insert("remove_subject_endpoint".into(), json!(state.endpoint("ssf/subjects/remove")));
    doc.insert("verification_endpoint".into(), json!(state.endpoint("ssf/verify")));
    // SSF 1.0 §7.1.1: OAuth 2.0 access tokens (the CAEP Interoperability Profile requires it).
    doc.insert("authorization_schemes".into(), json!([{ "spec_urn": "urn:ietf:rfc:6749" }]));
    // SSF 1.0 §7.1: every subject is in a new stream until the Receiver removes it.
    doc.insert("default_subjects".into(), json!("ALL"));
    axum::Json(Value::Object(doc)).into_response()
}
