//! `private_key_jwt` client assertions the server must refuse (RFC 7523 §3, §3.2; RFC 8725
//! §2.1, §3.1). Each check first shows that a well-formed assertion built the same way is
//! accepted, so that a refusal is about the one defect, not about the harness's assertion.

use super::{cc_params, jwt_client, post_token, refused_all};
use crate::expect;
use agentcert_engine::client_auth::{signing_key, JWT_BEARER_ASSERTION};
use agentcert_engine::jose::{now, random_id, sign_hs256, unsigned};
use agentcert_engine::oauth::TokenAnswer;
use agentcert_engine::profile::{AssertionAudience, ClientProfile};
use agentcert_engine::{ClientRole, Ctx, Outcome, Verdict};
use anyhow::{anyhow, bail};
use serde_json::{json, Value};

const RULE: &str = "RFC 7523 §3.2";

/// The assertion audience the profile says this server accepts.
fn audience(ctx: &Ctx, client: &ClientProfile) -> anyhow::Result<String> {
    Ok(match client.assertion_audience {
        AssertionAudience::Issuer => ctx.issuer().to_string(),
        AssertionAudience::Endpoint | AssertionAudience::TokenEndpoint => ctx.endpoint("token_endpoint")?,
    })
}

/// RFC 7523 §3 claims for client authentication: iss = sub = client_id, aud, exp, iat and a
/// fresh jti.
fn claims(client: &ClientProfile, aud: &str, iat: i64, exp: i64) -> Value {
    json!({"iss": client.client_id, "sub": client.client_id, "aud": aud, "iat": iat, "exp": exp, "jti": random_id()})
}

fn valid_claims(ctx: &Ctx, client: &ClientProfile) -> anyhow::Result<Value> {
    let iat = now();
    Ok(claims(client, &audience(ctx, client)?, iat, iat + 60))
}

/// A client credentials request authenticated by `assertion` (RFC 7521 §4.2).
async fn send(ctx: &Ctx, client: &ClientProfile, assertion: &str) -> anyhow::Result<TokenAnswer> {
    send_as(ctx, &client.client_id, assertion).await
}

/// [`send`] with the `client_id` parameter set to `client_id`, whoever the assertion is about.
async fn send_as(ctx: &Ctx, client_id: &str, assertion: &str) -> anyhow::Result<TokenAnswer> {
    let mut params = cc_params(ctx);
    params.push(("client_id".into(), client_id.to_string()));
    params.push(("client_assertion_type".into(), JWT_BEARER_ASSERTION.into()));
    params.push(("client_assertion".into(), assertion.to_string()));
    Ok(TokenAnswer::from(&post_token(ctx, &params, &[]).await?))
}

/// The private_key_jwt client, after showing that a well-formed assertion for it works.
async fn client_with_control(ctx: &Ctx) -> anyhow::Result<Option<&ClientProfile>> {
    let Some(client) = jwt_client(ctx) else { return Ok(None) };
    let good = signing_key(client)?.sign(None, &valid_claims(ctx, client)?)?;
    let answer = send(ctx, client, &good).await?;
    if !answer.is_success() {
        bail!(
            "setup: a well-formed client assertion for {} was refused ({}), so a refusal of a bad one proves nothing",
            client.client_id,
            answer.describe()
        );
    }
    Ok(Some(client))
}

fn no_jwt_client() -> Outcome {
    Outcome::skip("the profile has no private_key_jwt client")
}

/// RFC 7523 §3 item 7: the server "MAY ensure that JWTs are not replayed by maintaining the
/// set of used jti values"; OIDC Core §9 says a client assertion is used only once. Sends one
/// assertion twice.
pub async fn replay(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = jwt_client(&ctx) else { return Ok(no_jwt_client()) };
    let assertion = signing_key(client)?.sign(None, &valid_claims(&ctx, client)?)?;
    let first = send(&ctx, client, &assertion).await?;
    if !first.is_success() {
        return Err(anyhow!("setup: the assertion's first use was refused ({}), so its replay cannot be judged", first.describe()));
    }
    let second = send(&ctx, client, &assertion).await?;
    Ok(expect::refused_with(&ctx, &second, &["invalid_client"], "the same client assertion (same jti) presented a second time", RULE))
}

/// RFC 8725 §3.1 and RFC 7518 §3.6: an unsecured JWS (`alg` `none`) authenticates nobody;
/// RFC 7523 §3.2: an invalid client JWT gets `invalid_client`.
pub async fn alg_none(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = client_with_control(&ctx).await? else { return Ok(no_jwt_client()) };
    let answer = send(&ctx, client, &unsigned(&valid_claims(&ctx, client)?)).await?;
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], "an unsigned (alg none) client assertion", RULE))
}

/// RFC 8725 §2.1 and §3.1: the classic algorithm confusion. The server holds the client's
/// public key; a server that lets the token pick HS256 verifies an HMAC keyed with that
/// public key, which anyone can compute. Tries the encodings a server might hold the key in:
/// PEM (with and without the final newline) and DER.
pub async fn hs256_public_key(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = client_with_control(&ctx).await? else { return Ok(no_jwt_client()) };
    let key = signing_key(client)?;
    let mut cases = Vec::new();
    for (name, secret) in agentcert_engine::jose::public_key_encodings(key.public_jwk())? {
        let assertion = sign_hs256(&json!({"alg": "HS256", "typ": "JWT"}), &valid_claims(&ctx, client)?, &secret);
        cases.push((
            format!("an HS256 client assertion keyed with the client's public key ({name})"),
            send(&ctx, client, &assertion).await?,
        ));
    }
    Ok(refused_all(&ctx, &cases, &["invalid_client"], RULE))
}

/// RFC 7523 §3 item 3: "The authorization server MUST reject any JWT that does not contain
/// its own identity as the intended audience."
pub async fn wrong_aud(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = client_with_control(&ctx).await? else { return Ok(no_jwt_client()) };
    let iat = now();
    let assertion = signing_key(client)?.sign(None, &claims(client, "https://other-server.agentcert.invalid", iat, iat + 60))?;
    let answer = send(&ctx, client, &assertion).await?;
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], "a client assertion whose aud is another server", RULE))
}

/// RFC 7523 §3 item 4: "The authorization server MUST reject any JWT with an expiration time
/// that has passed, subject to allowable clock skew". Ten minutes past is beyond any skew.
pub async fn expired(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = client_with_control(&ctx).await? else { return Ok(no_jwt_client()) };
    let now = now();
    let assertion = signing_key(client)?.sign(None, &claims(client, &audience(&ctx, client)?, now - 900, now - 600))?;
    let answer = send(&ctx, client, &assertion).await?;
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], "a client assertion that expired ten minutes ago", RULE))
}

/// RFC 7523 §2.2 and §3: an assertion with iss = sub = client_id, an `aud` identifying this
/// server, `exp`, `iat` and a fresh `jti`, signed with the registered key, authenticates the
/// client. Which `aud` strings identify the server is agreed out of band (§5), so the one the
/// profile names must work (fail otherwise), and the other of issuer / token endpoint URL
/// should (a warning): §3 item 3 offers the token endpoint URL, and
/// draft-ietf-oauth-rfc7523bis makes the issuer identifier the value servers accept.
pub async fn well_formed_accepted(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = jwt_client(&ctx) else { return Ok(no_jwt_client()) };
    let key = signing_key(client)?;
    let (iat, endpoint) = (now(), ctx.endpoint("token_endpoint")?);
    let (issuer, by_issuer) = (ctx.issuer().to_string(), "aud = the issuer");
    let (endpoint, by_endpoint) = (endpoint, "aud = the token endpoint URL");
    let (primary, secondary, why_secondary) = match client.assertion_audience {
        AssertionAudience::Issuer => {
            ((&issuer, by_issuer), (&endpoint, by_endpoint), "RFC 7523 §3 item 3 offers it; draft-ietf-oauth-rfc7523bis no longer does")
        }
        _ => (
            (&endpoint, by_endpoint),
            (&issuer, by_issuer),
            "draft-ietf-oauth-rfc7523bis makes the issuer the audience servers accept; RFC 7523 §5 leaves it to agreement",
        ),
    };
    let first = send(&ctx, client, &key.sign(None, &claims(client, primary.0, iat, iat + 60))?).await?;
    if !first.is_success() {
        return Ok(Outcome::fail(format!(
            "a well-formed assertion for {} with {} (the profile's) was refused: {}",
            client.client_id,
            primary.1,
            first.describe()
        )));
    }
    let second = send(&ctx, client, &key.sign(None, &claims(client, secondary.0, iat, iat + 60))?).await?;
    if !second.is_success() {
        return Ok(Outcome {
            verdict: Verdict::Warn,
            reason: format!(
                "{} is accepted, but {} ({}) was refused: {} ({why_secondary}: reported as a warning)",
                primary.1,
                secondary.1,
                secondary.0,
                second.describe()
            ),
        });
    }
    Ok(Outcome::pass(format!(
        "well-formed assertions for {} are accepted with aud = the issuer and aud = the token endpoint URL",
        client.client_id
    )))
}

/// RFC 7521 §4.2: `client_id` is optional with an assertion, but "if present, the value of
/// the client_id form parameter MUST identify the same client as is identified by the client
/// assertion". Sends a valid assertion of one client with the client_id of another (agent B,
/// or an id no one has), which must not authenticate anybody.
pub async fn client_id_mismatch(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = client_with_control(&ctx).await? else { return Ok(no_jwt_client()) };
    let other = ClientRole::ALL
        .iter()
        .filter_map(|r| ctx.profile().client(*r))
        .map(|c| c.client_id.clone())
        .find(|id| *id != client.client_id)
        .unwrap_or_else(|| format!("agentcert-other-{}", random_id()));
    let assertion = signing_key(client)?.sign(None, &valid_claims(&ctx, client)?)?;
    let answer = send_as(&ctx, &other, &assertion).await?;
    let what = format!("client_id={other} with a valid assertion whose sub is {}", client.client_id);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client", "invalid_request"], &what, "RFC 7521 §4.2 / RFC 7523 §3.2"))
}

/// draft-ietf-oauth-rfc7523bis §4 has clients type their assertions explicitly, `typ`
/// `client-authentication+jwt` (RFC 8725 §3.11), and servers accept them, while still
/// accepting the untyped assertions clients have always sent (catalog: SHOULD). Sends one of
/// each.
pub async fn typed_accepted(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = jwt_client(&ctx) else { return Ok(no_jwt_client()) };
    let key = signing_key(client)?;
    let mut findings = Vec::new();
    for typ in [None, Some("client-authentication+jwt")] {
        let answer = send(&ctx, client, &key.sign(typ, &valid_claims(&ctx, client)?)?).await?;
        if !answer.is_success() {
            findings.push(format!(
                "an assertion with {} was refused: {}",
                typ.map_or("no typ".to_string(), |t| format!("typ {t}")),
                answer.describe()
            ));
        }
    }
    Ok(Outcome::from_findings(findings, "untyped and client-authentication+jwt typed assertions are both accepted"))
}

/// RFC 8725 §3.11 (explicit typing) and RFC 9068 §2.1: an access token is typed `at+jwt` so
/// that it cannot pass for another kind of JWT; RFC 7523 §3: a client assertion is issued by
/// the client (iss = sub = client_id) and signed with its key. Presents agent A's own access
/// token as its client assertion: the server signed it, but it authenticates nobody.
pub async fn access_token_as_assertion(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some(client) = client_with_control(&ctx).await? else { return Ok(no_jwt_client()) };
    let role = ClientRole::ALL.into_iter().find(|r| ctx.profile().client(*r).is_some_and(|c| c.client_id == client.client_id));
    let token = ctx.issue_token(role.unwrap_or(ClientRole::AgentA)).await?;
    let answer = send(&ctx, client, &token).await?;
    let what = format!("{}'s own at+jwt access token presented as its client_assertion", client.client_id);
    Ok(expect::refused_with(&ctx, &answer, &["invalid_client"], &what, RULE))
}
