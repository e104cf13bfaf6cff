//! Client authentication at the token endpoint: unknown clients, wrong secrets, missing or
//! doubled credentials, and methods other than the registered one (RFC 6749 §2.3, §3.2.1,
//! §5.2; RFC 7591 §2; OIDC Core §9).

use super::{cc_params, credentials, jwt_client, post_token, refused_all, secret_client};
use crate::expect;
use agentcert_engine::client_auth::basic;
use agentcert_engine::jose::random_id;
use agentcert_engine::oauth::TokenAnswer;
use agentcert_engine::profile::AuthMethod;
use agentcert_engine::{ClientRole, Ctx, Outcome, Verdict};

/// RFC 6749 §5.2: `invalid_client` is for "Client authentication failed (e.g., unknown
/// client, …)". Sends HTTP Basic credentials for a client_id no server has registered; no
/// `resource`, so that a server that lets the stranger in has nothing else to object to.
pub async fn unknown_client(ctx: Ctx) -> anyhow::Result<Outcome> {
    let id = format!("agentcert-unknown-{}", random_id());
    let headers = vec![("authorization".to_string(), basic(&id, &random_id()))];
    let params = super::owned(&[("grant_type", agentcert_engine::oauth::GRANT_CLIENT_CREDENTIALS)]);
    let answer = TokenAnswer::from(&post_token(&ctx, &params, &headers).await?);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], "HTTP Basic credentials of an unregistered client_id", "RFC 6749 §5.2"))
}

/// RFC 6749 §5.2: "If the client attempted to authenticate via the Authorization request
/// header field, the authorization server MUST respond with an HTTP 401 (Unauthorized)
/// status code and include the WWW-Authenticate response header field matching the
/// authentication scheme used by the client."
pub async fn wrong_secret(ctx: Ctx) -> anyhow::Result<Outcome> {
    let id = match secret_client(&ctx, AuthMethod::ClientSecretBasic) {
        Some((_, c)) => c.client_id.clone(),
        None => ctx.client(ClientRole::AgentA)?.client_id.clone(),
    };
    let headers = vec![("authorization".to_string(), basic(&id, "agentcert-wrong-secret"))];
    let resp = post_token(&ctx, &cc_params(&ctx), &headers).await?;
    let answer = TokenAnswer::from(&resp);
    let what = format!("HTTP Basic with a wrong secret for {id}");
    let refused = expect::refused_with(&ctx, &answer, &["invalid_client"], &what, "RFC 6749 §5.2");
    if refused.verdict != Verdict::Pass {
        return Ok(refused);
    }
    if resp.status != 401 {
        return Ok(Outcome::fail(format!("{what} got HTTP {}; after an Authorization header RFC 6749 §5.2 requires 401", resp.status)));
    }
    Ok(match resp.header("www-authenticate") {
        Some(v) if v.trim_start().to_ascii_lowercase().starts_with("basic") => {
            Outcome::pass(format!("401 invalid_client with WWW-Authenticate: {v}"))
        }
        Some(v) => {
            Outcome::fail(format!("WWW-Authenticate is {v:?}, which does not match the Basic scheme the client used (RFC 6749 §5.2)"))
        }
        None => Outcome::fail("401 invalid_client without a WWW-Authenticate header (RFC 6749 §5.2)"),
    })
}

/// RFC 6749 §3.2.1: "Confidential clients … MUST authenticate with the authorization server"
/// at the token endpoint, and §4.4 limits client credentials to confidential clients. Sends
/// the request with no credentials at all, then with only the client_id of a client that has
/// a secret.
pub async fn no_credentials(ctx: Ctx) -> anyhow::Result<Outcome> {
    let params = cc_params(&ctx);
    let mut cases = vec![("a request with no client credentials".to_string(), TokenAnswer::from(&post_token(&ctx, &params, &[]).await?))];
    if let Some((_, c)) = secret_client(&ctx, AuthMethod::ClientSecretBasic) {
        let mut with_id = params.clone();
        with_id.push(("client_id".into(), c.client_id.clone()));
        cases.push((format!("client_id={} without its secret", c.client_id), TokenAnswer::from(&post_token(&ctx, &with_id, &[]).await?)));
    }
    Ok(refused_all(&ctx, &cases, &["invalid_client"], "RFC 6749 §5.2"))
}

/// RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each
/// request", and §5.2 names `invalid_request` for a request that "utilizes more than one
/// mechanism for authenticating the client". Sends HTTP Basic and client_secret in the body.
pub async fn two_methods(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some((_, c)) = secret_client(&ctx, AuthMethod::ClientSecretBasic) else {
        return Ok(Outcome::skip("the profile has no client with a client_secret to send two ways"));
    };
    let secret = c.client_secret.clone().unwrap_or_default();
    let headers = vec![("authorization".to_string(), basic(&c.client_id, &secret))];
    let mut params = cc_params(&ctx);
    params.push(("client_id".into(), c.client_id.clone()));
    params.push(("client_secret".into(), secret));
    let answer = TokenAnswer::from(&post_token(&ctx, &params, &headers).await?);
    let what = format!("{}'s secret sent both over HTTP Basic and in the body", c.client_id);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_request", "invalid_client"], &what, "RFC 6749 §5.2"))
}

/// agentcert's profile on RFC 7591 §2 (`token_endpoint_auth_method`) and OIDC Core §9: a
/// client authenticates only with the method it registered, so a secret registered for
/// HTTP Basic is refused in the body (and one registered for the body, over Basic).
pub async fn secret_by_other_method(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some((_, c)) = secret_client(&ctx, AuthMethod::ClientSecretBasic) else {
        return Ok(Outcome::skip("the profile has no client with a client_secret"));
    };
    let secret = c.client_secret.clone().unwrap_or_default();
    let mut params = cc_params(&ctx);
    let mut headers = Vec::new();
    let other = if c.auth_method == AuthMethod::ClientSecretBasic {
        params.push(("client_id".into(), c.client_id.clone()));
        params.push(("client_secret".into(), secret));
        "client_secret_post"
    } else {
        headers.push(("authorization".to_string(), basic(&c.client_id, &secret)));
        "client_secret_basic"
    };
    let answer = TokenAnswer::from(&post_token(&ctx, &params, &headers).await?);
    let what = format!("{} (registered for {}) authenticating with {other}", c.client_id, c.auth_method.as_str());
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], &what, "RFC 6749 §5.2"))
}

/// RFC 6749 §3.2.1 with RFC 7591 §2: a client registered for `private_key_jwt` proves
/// nothing by naming its client_id; a bare client_id is the `none` method of public clients.
pub async fn client_id_alone(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(c) = jwt_client(&ctx) else {
        return Ok(Outcome::skip("the profile has no private_key_jwt client"));
    };
    let mut params = cc_params(&ctx);
    params.push(("client_id".into(), c.client_id.clone()));
    let answer = TokenAnswer::from(&post_token(&ctx, &params, &[]).await?);
    let what = format!("client_id={} (a private_key_jwt client) with no assertion", c.client_id);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], &what, "RFC 6749 §5.2"))
}

/// agentcert's profile on RFC 8414 §2: `token_endpoint_auth_methods_supported` lists the
/// methods "supported by this token endpoint" (default `client_secret_basic`). For each
/// listed method that a profile client is registered with, that client authenticates: the
/// answer is a token, or at least an error other than `invalid_client`.
pub async fn advertised_methods_work(ctx: Ctx) -> anyhow::Result<Outcome> {
    let listed = ctx.metadata().list("token_endpoint_auth_methods_supported");
    let methods: Vec<&str> = if listed.is_empty() { vec!["client_secret_basic"] } else { listed };
    let mut tested = Vec::new();
    let mut findings = Vec::new();
    for role in ClientRole::ALL {
        let Some(client) = ctx.profile().client(role) else { continue };
        let m = client.auth_method.as_str();
        if !methods.contains(&m) || tested.contains(&m) {
            continue;
        }
        tested.push(m);
        let (headers, mut params) = credentials(&ctx, role)?;
        params.splice(0..0, cc_params(&ctx));
        let answer = TokenAnswer::from(&post_token(&ctx, &params, &headers).await?);
        if !answer.is_success() && (answer.error() == Some("invalid_client") || answer.status == 401 || answer.error().is_none()) {
            findings.push(format!(
                "{m} is advertised, but {} ({}) could not authenticate with it: {}",
                client.client_id,
                role.key(),
                answer.describe()
            ));
        }
    }
    if tested.is_empty() {
        return Ok(Outcome::skip(format!("no profile client uses an advertised method ({})", methods.join(", "))));
    }
    let untested: Vec<&str> = methods.iter().filter(|m| !tested.contains(m)).copied().collect();
    let ok = if untested.is_empty() {
        format!("{} work", tested.join(", "))
    } else {
        format!("{} work; {} not tried (no profile client uses them)", tested.join(", "), untested.join(", "))
    };
    Ok(Outcome::from_findings(findings, ok))
}
