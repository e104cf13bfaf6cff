//! Discovery (RFC 8414 §3) and capability detection: what the server says it is, and which
//! optional features that turns on.

use crate::check::Capability;
use crate::http::{Recorder, Request};
use crate::profile::TargetProfile;
use crate::results::CapabilityState;
use crate::HarnessError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The RFC 8414 §3.1 metadata URL: `/.well-known/oauth-authorization-server` is inserted
/// between the host and the issuer's path, after removing a terminal `/` from the path.
pub fn rfc8414_url(issuer: &str) -> String {
    well_known_inserted(issuer, "oauth-authorization-server")
}

/// OIDC Discovery 1.0 §4: the suffix is appended after the full issuer, path included.
pub fn openid_configuration_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// SSF 1.0 §7.2: `/.well-known/ssf-configuration` is inserted between the host and the
/// issuer's path, any terminating `/` removed first (the RFC 8414 rule).
pub fn ssf_configuration_url(issuer: &str) -> String {
    well_known_inserted(issuer, "ssf-configuration")
}

pub fn well_known_inserted(issuer: &str, suffix: &str) -> String {
    match url::Url::parse(issuer) {
        Ok(u) => {
            let path = u.path().trim_end_matches('/');
            let mut origin = u.origin().ascii_serialization();
            origin.push_str("/.well-known/");
            origin.push_str(suffix);
            origin.push_str(path);
            origin
        }
        Err(_) => format!("{}/.well-known/{suffix}", issuer.trim_end_matches('/')),
    }
}

/// The server's metadata document and where it came from.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub url: String,
    pub doc: Map<String, Value>,
}

impl Metadata {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.doc.get(name).and_then(Value::as_str)
    }
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.doc.get(name).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }
    pub fn lists(&self, name: &str, value: &str) -> bool {
        self.list(name).contains(&value)
    }
}

/// Fetches the metadata: the RFC 8414 URL first, then OIDC discovery. Errors here mean the
/// harness cannot run at all (exit 2): nothing answers, or what answers is not an AS.
pub async fn discover(http: &Recorder, profile: &TargetProfile) -> Result<Metadata, HarnessError> {
    let issuer = profile.issuer();
    // Every attempt's failure is reported: the first (RFC 8414) is usually the telling one.
    let mut failures: Vec<String> = Vec::new();
    for url in [rfc8414_url(issuer), openid_configuration_url(issuer)] {
        let resp = match http.send(Request::get(&url)).await {
            Ok(r) => r,
            Err(e) => return Err(HarnessError::Unreachable { url, message: format!("{e:#}") }),
        };
        if resp.status != 200 {
            failures.push(format!("{url} answered HTTP {}", resp.status));
            continue;
        }
        match resp.json_object() {
            Ok(doc) if doc.get("token_endpoint").and_then(Value::as_str).is_some() => return Ok(Metadata { url, doc }),
            Ok(_) => failures.push(format!("{url} is JSON but has no token_endpoint")),
            Err(e) => failures.push(format!("{url}: {e:#}")),
        }
    }
    Err(HarnessError::NotAnAuthorizationServer { url: issuer.to_string(), message: failures.join("; ") })
}

/// Decides every capability: the profile's override wins, else the metadata, else a probe.
pub async fn detect(
    http: &Recorder,
    profile: &TargetProfile,
    metadata: &Metadata,
    jwt_probe: Option<bool>,
) -> BTreeMap<Capability, CapabilityState> {
    let mut out = BTreeMap::new();
    for cap in Capability::ALL {
        let state = if let Some(&on) = profile.capabilities.get(cap.name()) {
            CapabilityState { enabled: on, source: "target profile override".into() }
        } else {
            detect_one(http, profile, metadata, cap, jwt_probe).await
        };
        out.insert(cap, state);
    }
    out
}

async fn detect_one(http: &Recorder, profile: &TargetProfile, md: &Metadata, cap: Capability, jwt_probe: Option<bool>) -> CapabilityState {
    let from = |enabled: bool, yes: &str, no: &str| CapabilityState { enabled, source: if enabled { yes } else { no }.to_string() };
    match cap {
        Capability::Introspection => {
            from(md.str("introspection_endpoint").is_some(), "metadata: introspection_endpoint", "metadata has no introspection_endpoint")
        }
        Capability::Revocation => {
            from(md.str("revocation_endpoint").is_some(), "metadata: revocation_endpoint", "metadata has no revocation_endpoint")
        }
        Capability::TokenExchange => from(
            md.lists("grant_types_supported", crate::oauth::GRANT_TOKEN_EXCHANGE),
            "metadata: grant_types_supported lists the token-exchange grant",
            "grant_types_supported does not list urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        Capability::JwtAccessTokens => match jwt_probe {
            Some(on) => from(on, "probe: an issued access token is a JWT", "probe: issued access tokens are opaque (not JWTs)"),
            None => from(false, "", "probe: no access token could be obtained to look at"),
        },
        Capability::OpenIdDiscovery => {
            let url = openid_configuration_url(profile.issuer());
            let ok = matches!(http.send(Request::get(&url)).await, Ok(r) if r.status == 200 && r.json_object().is_ok());
            from(ok, "probe: openid-configuration answers 200", "probe: no openid-configuration document")
        }
        Capability::HomeIssuerTrust => from(
            profile.home_issuer.as_ref().is_some_and(|h| h.trusted),
            "target profile: the target trusts the home issuer",
            "target profile has no trusted [home_issuer]",
        ),
        Capability::SsfTransmitter => {
            let url = ssf_configuration_url(profile.issuer());
            let ok = matches!(http.send(Request::get(&url)).await, Ok(r) if r.status == 200 && r.json_object().is_ok());
            from(
                ok,
                "probe: ssf-configuration answers 200 with a JSON object",
                "probe: no ssf-configuration document (not a Shared Signals Transmitter)",
            )
        }
        Capability::JwtBearer => {
            let listed = md.lists("grant_types_supported", crate::oauth::GRANT_JWT_BEARER);
            let trusted = profile.partner.as_ref().is_some_and(|p| p.trusted);
            let why_not = if listed {
                "target profile has no trusted [partner]"
            } else {
                "grant_types_supported does not list urn:ietf:params:oauth:grant-type:jwt-bearer"
            };
            from(listed && trusted, "metadata lists the jwt-bearer grant and the target profile trusts the [partner]", why_not)
        }
    }
}
