//! Evidence: the HTTP exchanges a check made, as they went over the wire, with every secret
//! and token body redacted before it is stored (see [`crate::redact`]).

use serde::{Deserialize, Serialize};

/// One request and its response (or the transport error that took its place).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// Set when no response arrived: timeout, refused connection, body over the size cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_error: Option<String>,
    pub elapsed_ms: u64,
}
