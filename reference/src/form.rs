//! Request bodies: `application/x-www-form-urlencoded` parsed by hand so that
//! repeated parameters are visible (RFC 6749 §3.2).

use axum::http::{header, HeaderMap};

use crate::error::OAuthError;
use crate::faults::{Fault, Faults};

/// Parameters that may legitimately repeat: RFC 8707 §2 `resource`, RFC 8693 §2.1 `audience`.
pub const REPEATABLE: &[&str] = &["resource", "audience"];

/// The parameters of one request, in order.
#[derive(Debug, Default)]
pub struct Form {
    params: Vec<(String, String)>,
}

impl Form {
    /// RFC 6749 §3.2: the client sends its parameters "using the
    /// application/x-www-form-urlencoded format"; RFC 7662 §2.1 and RFC 7009 §2.1 say the same.
    pub fn parse(faults: &Faults, headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") && !faults.has(Fault::ErrorAcceptAnyContentType) {
            return Err(OAuthError::invalid_request(format!(
                "the request body must be application/x-www-form-urlencoded, not `{content_type}`"
            )));
        }
        // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
        // omitted from the request."
        let params: Vec<(String, String)> = url::form_urlencoded::parse(body)
            .filter(|(_, v)| !v.is_empty() || faults.has(Fault::FormKeepEmptyParams))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
        if !faults.has(Fault::ErrorAcceptDuplicateParams) {
            for (i, (name, _)) in params.iter().enumerate() {
                if !REPEATABLE.contains(&name.as_str()) && params[..i].iter().any(|(n, _)| n == name) {
                    return Err(OAuthError::invalid_request(format!("parameter `{name}` is included more than once")));
                }
            }
        }
        Ok(Form { params })
    }

    /// The value of a single-valued parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.params.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }
}
