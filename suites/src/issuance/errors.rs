//! Token endpoint errors and malformed requests (RFC 6749 §3.2, §5.2).

use super::{cc_params, credentials, post_token, refused_all};
use crate::expect;
use agentcert_engine::client_auth::basic;
use agentcert_engine::http::{Request, Response};
use agentcert_engine::jose::random_id;
use agentcert_engine::oauth::{TokenAnswer, GRANT_CLIENT_CREDENTIALS, TOKEN_ERROR_CODES};
use agentcert_engine::{ClientRole, Ctx, Outcome};
use serde_json::{Map, Value};

/// Agent A's request with these parameters, authenticated the way it registered.
async fn as_agent_a(ctx: &Ctx, params: &[(String, String)]) -> anyhow::Result<Response> {
    let (headers, creds) = credentials(ctx, ClientRole::AgentA)?;
    let all: Vec<(String, String)> = params.iter().cloned().chain(creds).collect();
    post_token(ctx, &all, &headers).await
}

/// The default `resource`, when the profile says to always send one.
fn resource(ctx: &Ctx) -> Vec<(String, String)> {
    cc_params(ctx).into_iter().filter(|(k, _)| k == "resource").collect()
}

/// RFC 6749 §5.2: `error`, `error_description` use %x20-21 / %x23-5B / %x5D-7E; `error_uri`
/// the same without the space.
fn bad_chars(s: &str, allow_space: bool) -> bool {
    !s.bytes().all(|b| (allow_space && b == 0x20) || b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// What is wrong with one error response, as findings.
fn judge_error(label: &str, resp: &Response, findings: &mut Vec<String>) {
    if !matches!(resp.status, 400 | 401) {
        findings.push(format!("{label}: HTTP {}, not 400 (or 401 for invalid_client)", resp.status));
    }
    if resp.content_type().as_deref() != Some("application/json") {
        findings.push(format!("{label}: Content-Type is {:?}, not application/json", resp.header("content-type").unwrap_or("absent")));
    }
    let body: Map<String, Value> = match resp.json_object() {
        Ok(b) => b,
        Err(e) => return findings.push(format!("{label}: {e:#}")),
    };
    match body.get("error").and_then(Value::as_str) {
        None => findings.push(format!("{label}: no string `error` member")),
        Some(code) if !TOKEN_ERROR_CODES.contains(&code) => {
            findings.push(format!("{label}: error {code:?} is not a code RFC 6749 §5.2 (or RFC 8707) registers"))
        }
        Some(code) if bad_chars(code, true) => {
            findings.push(format!("{label}: error {code:?} has characters outside %x20-21 / %x23-5B / %x5D-7E"))
        }
        Some(_) => {}
    }
    for (member, space) in [("error_description", true), ("error_uri", false)] {
        match body.get(member) {
            None => {}
            Some(Value::String(s)) if bad_chars(s, space) => {
                findings.push(format!("{label}: {member} has characters RFC 6749 §5.2 does not allow"))
            }
            Some(Value::String(_)) => {}
            Some(other) => findings.push(format!("{label}: {member} is not a string: {other}")),
        }
    }
}

/// RFC 6749 §5.2: an error is HTTP 400 (401 for `invalid_client` after an Authorization
/// header), `application/json`, with a REQUIRED registered `error` and optional
/// `error_description` / `error_uri` in a restricted character set. Judges two errors: a
/// request without grant_type, and HTTP Basic credentials of an unknown client.
pub async fn error_shape(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut findings = Vec::new();
    let missing = as_agent_a(&ctx, &resource(&ctx)).await?;
    judge_error("no grant_type", &missing, &mut findings);
    let stranger = vec![("authorization".to_string(), basic(&format!("agentcert-unknown-{}", random_id()), "x"))];
    let unknown = post_token(&ctx, &cc_params(&ctx), &stranger).await?;
    judge_error("unknown client", &unknown, &mut findings);
    Ok(Outcome::from_findings(findings, "both errors are JSON objects with a registered error code"))
}

/// RFC 6749 §5.2 `unsupported_grant_type`: "The authorization grant type is not supported by
/// the authorization server."
pub async fn unknown_grant(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut params = vec![("grant_type".to_string(), "urn:agentcert:params:grant-type:no-such-grant".to_string())];
    params.extend(resource(&ctx));
    let answer = TokenAnswer::from(&as_agent_a(&ctx, &params).await?);
    Ok(expect::refused_with(&ctx, &answer, &["unsupported_grant_type"], "an unknown grant_type", "RFC 6749 §5.2"))
}

/// RFC 6749 §4.4.2: grant_type is REQUIRED; §5.2 `invalid_request`: "The request is missing
/// a required parameter".
pub async fn missing_grant_type(ctx: Ctx) -> anyhow::Result<Outcome> {
    let answer = TokenAnswer::from(&as_agent_a(&ctx, &resource(&ctx)).await?);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_request"], "a request without grant_type", "RFC 6749 §5.2"))
}

/// RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once";
/// §5.2 `invalid_request`: the request "repeats a parameter".
pub async fn duplicate_parameter(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut params = cc_params(&ctx);
    params.insert(1, ("grant_type".into(), GRANT_CLIENT_CREDENTIALS.into()));
    let answer = TokenAnswer::from(&as_agent_a(&ctx, &params).await?);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_request"], "a request with grant_type twice", "RFC 6749 §5.2"))
}

/// agentcert's profile on RFC 6749 §3.2 ("using the application/x-www-form-urlencoded
/// format"): a JSON body, or a form body labelled text/plain, is a malformed request (400
/// `invalid_request`), not a token and not a crash. Agent A's credentials ride along in the
/// same body, so the only thing wrong is the format.
pub async fn non_form_body(ctx: Ctx) -> anyhow::Result<Outcome> {
    let url = ctx.endpoint("token_endpoint")?;
    let mut cases = Vec::new();
    for (label, ctype) in [("a JSON body", "application/json"), ("a form-encoded body labelled text/plain", "text/plain")] {
        let (headers, creds) = credentials(&ctx, ClientRole::AgentA)?;
        let params: Vec<(String, String)> = cc_params(&ctx).into_iter().chain(creds).collect();
        let body = if ctype == "application/json" {
            Value::Object(params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()).to_string()
        } else {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            Request::post_form(&url, &pairs).body.map(|(_, b)| b).unwrap_or_default()
        };
        let mut req = Request {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Some((ctype.into(), body)),
        };
        req.headers.extend(headers);
        cases.push((label.to_string(), TokenAnswer::from(&ctx.http.send(req).await?)));
    }
    Ok(refused_all(&ctx, &cases, &["invalid_request"], "RFC 6749 §3.2 and §5.2"))
}

/// agentcert's profile on RFC 6749 §3.2: "The client MUST use the HTTP POST method when
/// making access token requests." A GET carrying a complete, valid request in its query
/// string must not be answered with a token (which would also put secrets in URLs and logs).
pub async fn get_issues_no_token(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (headers, creds) = credentials(&ctx, ClientRole::AgentA)?;
    let params: Vec<(String, String)> = cc_params(&ctx).into_iter().chain(creds).collect();
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let endpoint = ctx.endpoint("token_endpoint")?;
    // The form encoding is the query encoding (WHATWG URL §5).
    let query = Request::post_form(&endpoint, &pairs).body.map(|(_, b)| b).unwrap_or_default();
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let mut req = Request::get(format!("{endpoint}{sep}{query}")).header("accept", "application/json");
    req.headers.extend(headers);
    let resp = ctx.http.send(req).await?;
    let answer = TokenAnswer::from(&resp);
    let token_in_body = answer.str("access_token").is_some();
    Ok(Outcome::expect(
        !token_in_body,
        format!("GET got HTTP {} and no token", resp.status),
        format!("a GET to the token endpoint was answered with an access token (HTTP {}); RFC 6749 §3.2 requires POST", resp.status),
    ))
}

/// RFC 6749 §3.2: "The authorization server MUST ignore unrecognized request parameters."
/// A valid request is sent once plain (the control), then with one made-up parameter.
pub async fn unknown_parameter_ignored(ctx: Ctx) -> anyhow::Result<Outcome> {
    let control = TokenAnswer::from(&as_agent_a(&ctx, &cc_params(&ctx)).await?);
    if !control.is_success() {
        anyhow::bail!("setup: agent_a's plain client credentials request did not succeed: {}", control.describe());
    }
    let mut params = cc_params(&ctx);
    params.push(("agentcert_extension".into(), "ignore-me".into()));
    let answer = TokenAnswer::from(&as_agent_a(&ctx, &params).await?);
    Ok(Outcome::expect(
        answer.is_success(),
        "the request with agentcert_extension=ignore-me still got a token",
        format!(
            "adding the unrecognised parameter agentcert_extension made the request fail ({}); RFC 6749 §3.2 says to ignore it",
            answer.describe()
        ),
    ))
}
