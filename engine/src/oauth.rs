//! Protocol vocabulary: the registered identifiers the checks send and expect, and small
//! readers for token and error responses.

use crate::http::Response;
use serde_json::{Map, Value};

pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
/// RFC 8693 §2.1.
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 7523 §2.1.
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// RFC 8693 §3 token type identifiers.
pub const TT_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const TT_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub const TT_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const TT_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const TT_SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";

/// The error codes RFC 6749 §5.2 registers for the token endpoint, plus those RFC 8707 §2
/// (`invalid_target`) adds. A token-endpoint error outside this set is a finding.
pub const TOKEN_ERROR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
];

/// A token-endpoint answer, read as RFC 6749 §5.1 (success) or §5.2 (error).
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub status: u16,
    pub body: Option<Map<String, Value>>,
}

impl TokenAnswer {
    pub fn from(resp: &Response) -> Self {
        TokenAnswer { status: resp.status, body: resp.json_object().ok() }
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.body.as_ref()?.get(name)
    }
    pub fn access_token(&self) -> Option<&str> {
        (self.status == 200).then(|| self.str("access_token")).flatten()
    }
    /// The `error` member, if the body is an error object.
    pub fn error(&self) -> Option<&str> {
        self.str("error")
    }
    pub fn is_success(&self) -> bool {
        self.access_token().is_some()
    }
    /// "HTTP 400 invalid_request (missing subject_token)" — how reasons describe an answer.
    pub fn describe(&self) -> String {
        match (self.error(), self.access_token()) {
            (Some(e), _) => match self.str("error_description") {
                Some(d) => format!("HTTP {} {e} ({d})", self.status),
                None => format!("HTTP {} {e}", self.status),
            },
            (None, Some(_)) => format!("HTTP {} with an access token", self.status),
            (None, None) if self.body.is_some() => format!("HTTP {} without access_token or error", self.status),
            (None, None) => format!("HTTP {} with a body that is not a JSON object", self.status),
        }
    }
}

/// Space-separated scope string → set (RFC 6749 §3.3).
pub fn scopes(s: &str) -> std::collections::BTreeSet<String> {
    s.split(' ').filter(|x| !x.is_empty()).map(str::to_string).collect()
}
