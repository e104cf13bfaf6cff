//! Transmitter Configuration Metadata (SSF 1.0 §7).

use agentcert_engine::discovery::ssf_configuration_url;
use agentcert_engine::http::Request;
use agentcert_engine::receiver::{POLL, PUSH};
use agentcert_engine::{Ctx, Outcome};
use serde_json::Value;

/// SSF 1.0 §7.2: the document is at `/.well-known/ssf-configuration` inserted between the host
/// and the issuer's path, fetched with GET; §7.2.3: 200, `application/json`, a JSON object;
/// §7.2.4: its `issuer` "MUST be identical to the Issuer URL that was directly used to
/// retrieve the configuration information" (else it MUST NOT be used).
pub async fn served(ctx: Ctx) -> anyhow::Result<Outcome> {
    let url = ssf_configuration_url(ctx.issuer());
    let resp = ctx.http.send(Request::get(&url)).await?;
    if resp.status != 200 {
        return Ok(Outcome::fail(format!("GET {url} answered HTTP {}, not 200 (SSF 1.0 §7.2.3)", resp.status)));
    }
    if resp.content_type().as_deref() != Some("application/json") {
        return Ok(Outcome::fail(format!(
            "Content-Type is {:?}, not application/json (SSF 1.0 §7.2)",
            resp.header("content-type").unwrap_or("absent")
        )));
    }
    let Ok(doc) = resp.json_object() else { return Ok(Outcome::fail("the body is not a JSON object (SSF 1.0 §7.2.3)")) };
    let expected = ctx.issuer();
    Ok(match doc.get("issuer").and_then(Value::as_str) {
        Some(i) if i == expected => Outcome::pass(format!("{url} serves the configuration; issuer is exactly {expected}")),
        Some(i) => Outcome::fail(format!(
            "the configuration's issuer {i:?} is not identical to {expected:?} (SSF 1.0 §7.2.4: it must not be used)"
        )),
        None => Outcome::fail("the configuration has no issuer (SSF 1.0 §7.1: REQUIRED)"),
    })
}

/// SSF 1.0 §7.1 and the CAEP Interoperability Profile's Transmitter requirements: `jwks_uri`
/// (SSF: MUST when SETs are signed, and they must be), `delivery_methods_supported` listing
/// push or poll, the configuration, status and verification endpoints (interop: MUST), and
/// `authorization_schemes` including `urn:ietf:rfc:6749` (interop: MUST), `spec_version`
/// `1_0` (interop; SSF: absent means the first implementer's draft); §7.2.3: claims with zero
/// elements are omitted.
pub async fn members(ctx: Ctx) -> anyhow::Result<Outcome> {
    let url = ssf_configuration_url(ctx.issuer());
    let doc = ctx.http.send(Request::get(&url)).await?.json_object()?;
    let mut findings = Vec::new();
    for m in ["jwks_uri", "configuration_endpoint", "status_endpoint", "verification_endpoint"] {
        if doc.get(m).and_then(Value::as_str).is_none_or(str::is_empty) {
            findings.push(format!("{m} is missing"));
        }
    }
    let methods: Vec<&str> =
        doc.get("delivery_methods_supported").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    if !methods.iter().any(|m| *m == PUSH || *m == POLL) {
        findings.push(format!("delivery_methods_supported lists neither {PUSH} (push) nor {POLL} (poll): {methods:?}"));
    }
    let schemes = doc.get("authorization_schemes").and_then(Value::as_array);
    if !schemes.into_iter().flatten().any(|s| s.get("spec_urn").and_then(Value::as_str) == Some("urn:ietf:rfc:6749")) {
        findings.push("authorization_schemes does not include {\"spec_urn\":\"urn:ietf:rfc:6749\"} (OAuth 2.0 access tokens)".into());
    }
    match doc.get("spec_version").and_then(Value::as_str) {
        Some(v) if v.starts_with("1_0") && !v.contains("ID") => {}
        Some(v) => findings.push(format!("spec_version is {v:?}, not the final \"1_0\"")),
        None => findings.push("spec_version is absent, which declares the first implementer's draft (1_0-ID1)".into()),
    }
    for (k, v) in &doc {
        if v.as_array().is_some_and(Vec::is_empty) {
            findings.push(format!("{k} is an empty array (SSF 1.0 §7.2.3: omitted instead)"));
        }
    }
    Ok(Outcome::from_findings(findings, format!("jwks_uri, delivery methods {methods:?}, the configuration, status and verification endpoints, and the OAuth scheme are declared")))
}
