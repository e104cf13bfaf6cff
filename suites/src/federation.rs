//! Federation across organizations: the RFC 7523 JWT bearer grant. The harness's partner
//! organization (a second issuer, in another trust domain, that the target is configured to
//! trust) signs assertions about its own agent; agent A presents them at the token endpoint
//! (RFC 7523 §2.1) and the target must validate each as §3 lists, refusing a bad one with
//! `invalid_grant` (§3.1).
//!
//! Every refusal check first shows that a valid assertion presented the same way is accepted,
//! so that a refusal is about the one defect, not about the harness's request.

use crate::expect;
use agentcert_engine::jose::public_key_encodings;
use agentcert_engine::jose::{now, sign_hs256, tamper_claims, unsigned, SigningKey};
use agentcert_engine::oauth::{TokenAnswer, GRANT_JWT_BEARER};
use agentcert_engine::partner::OldKey;
use agentcert_engine::profile::PartnerProfile;
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome, Verdict};
use anyhow::{anyhow, bail};
use serde_json::json;
use std::time::{Duration, Instant};

const SUITE: &str = "federation";
/// Where the error code for an invalid assertion grant comes from.
const RULE: &str = "RFC 7523 §3.1";
/// The client that presents the partner's assertions.
const PRESENTER: ClientRole = ClientRole::AgentA;

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "federation.valid-assertion-accepted",
            SUITE,
            "A valid assertion from the trusted partner is exchanged for an access token",
            ["FED-001"],
            [JwtBearer],
            valid_accepted
        ),
        check!(
            "federation.untrusted-issuer-refused",
            SUITE,
            "An assertion from an issuer the target does not trust gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            untrusted_issuer
        ),
        check!(
            "federation.wrong-aud-refused",
            SUITE,
            "An assertion whose aud is another server gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            wrong_aud
        ),
        check!(
            "federation.expired-refused",
            SUITE,
            "An assertion whose exp has passed gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            expired
        ),
        check!(
            "federation.missing-exp-refused",
            SUITE,
            "An assertion without exp gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            missing_exp
        ),
        check!(
            "federation.bad-signature-refused",
            SUITE,
            "An assertion whose claims were changed after signing gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            bad_signature
        ),
        check!(
            "federation.alg-none-refused",
            SUITE,
            "An unsigned (alg none) assertion gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            alg_none
        ),
        check!(
            "federation.hs256-public-key-refused",
            SUITE,
            "An HS256 assertion keyed with the partner's public key gets invalid_grant",
            ["FED-002"],
            [JwtBearer],
            hs256_public_key
        ),
        check!(
            "federation.replay-refused",
            SUITE,
            "An assertion presented a second time (same jti) gets invalid_grant",
            ["FED-003"],
            [JwtBearer],
            replay
        ),
        // Last: it rotates the partner's key for the rest of the run.
        check!(
            "federation.rotated-key-accepted",
            SUITE,
            "After the partner rotates its key, an assertion signed with the new key is accepted",
            ["FED-007"],
            [JwtBearer],
            rotated_key_accepted
        ),
    ]
}

fn partner_profile(ctx: &Ctx) -> anyhow::Result<&PartnerProfile> {
    ctx.profile().partner.as_ref().ok_or_else(|| anyhow!("the target profile has no [partner]"))
}

/// A jwt-bearer token request (RFC 7523 §2.1) as agent A: `assertion`, the profile's partner
/// scope, and the default resource when the profile says to always send one.
async fn present(ctx: &Ctx, assertion: &str) -> anyhow::Result<TokenAnswer> {
    let scope = partner_profile(ctx)?.scope.clone();
    let mut params = vec![("grant_type", GRANT_JWT_BEARER), ("assertion", assertion), ("scope", scope.as_str())];
    let res = &ctx.profile().resources;
    if res.always_send {
        params.push(("resource", res.default.as_str()));
    }
    ctx.token_request(PRESENTER, &params).await
}

/// Setup: a valid assertion, presented the same way, is accepted.
async fn control(ctx: &Ctx) -> anyhow::Result<()> {
    let answer = present(ctx, &ctx.partner_assertion(json!({}))?).await?;
    if !answer.is_success() {
        bail!("setup: a valid partner assertion was refused ({}), so a refusal of a defective one proves nothing", answer.describe());
    }
    Ok(())
}

/// After the control, presents `assertion` and judges the answer: it must be `invalid_grant`.
async fn refused(ctx: &Ctx, assertion: &str, what: &str) -> anyhow::Result<Outcome> {
    control(ctx).await?;
    let answer = present(ctx, assertion).await?;
    Ok(expect::refused_with(ctx, &answer, &["invalid_grant"], what, RULE))
}

/// RFC 7523 §2.1: `grant_type` jwt-bearer with an `assertion` holding a single JWT, here one the
/// trusted partner signed with iss, sub, aud, exp, iat and jti (§3), gets an access token
/// response (RFC 6749 §5.1: `access_token` and `token_type` are REQUIRED).
async fn valid_accepted(ctx: Ctx) -> anyhow::Result<Outcome> {
    let answer = present(&ctx, &ctx.partner_assertion(json!({}))?).await?;
    let issuer = &ctx.partner()?.issuer;
    if !answer.is_success() {
        return Ok(Outcome::fail(format!("a valid assertion from the trusted partner {issuer} was refused: {}", answer.describe())));
    }
    Ok(match answer.str("token_type") {
        Some(t) => Outcome::pass(format!("a valid assertion from {issuer} was exchanged for a {t} access token")),
        None => Outcome::fail("the token response has no token_type (RFC 6749 §5.1: REQUIRED)"),
    })
}

/// RFC 7523 §3 item 9 and §5: the JWT is signed by its issuer, and issuer and key are agreed
/// out of band; an assertion from an issuer the target has no agreement with (a fresh key,
/// an unknown `iss`) is not a grant.
async fn untrusted_issuer(ctx: Ctx) -> anyhow::Result<Outcome> {
    let claims = ctx.partner_claims(json!({"iss": "https://untrusted-partner.agentcert.invalid"}))?;
    let forged = SigningKey::generate()?.sign(Some("JWT"), &claims)?;
    refused(&ctx, &forged, "an assertion from an issuer the target does not trust").await
}

/// RFC 7523 §3 item 3: "The authorization server MUST reject any JWT that does not contain
/// its own identity as the intended audience."
async fn wrong_aud(ctx: Ctx) -> anyhow::Result<Outcome> {
    let assertion = ctx.partner_assertion(json!({"aud": "https://other-server.agentcert.invalid"}))?;
    refused(&ctx, &assertion, "an assertion whose aud is another server").await
}

/// RFC 7523 §3 item 4: "The authorization server MUST reject any JWT with an expiration time
/// that has passed, subject to allowable clock skew". Ten minutes past is beyond any skew.
async fn expired(ctx: Ctx) -> anyhow::Result<Outcome> {
    let now = now();
    let assertion = ctx.partner_assertion(json!({"iat": now - 900, "exp": now - 600}))?;
    refused(&ctx, &assertion, "an assertion that expired ten minutes ago").await
}

/// RFC 7523 §3 item 4: "The JWT MUST contain an "exp" (expiration time) claim"; one without is
/// not valid (§3 item 10, §3.1).
async fn missing_exp(ctx: Ctx) -> anyhow::Result<Outcome> {
    let assertion = ctx.partner_assertion(json!({"exp": null}))?;
    refused(&ctx, &assertion, "an assertion without exp").await
}

/// RFC 7523 §3 item 9: "The authorization server MUST reject JWTs with an invalid signature
/// or MAC." The partner signs; then `sub` is changed, keeping header and signature.
async fn bad_signature(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut claims = ctx.partner_claims(json!({}))?;
    let signed = ctx.partner()?.sign(&claims)?;
    claims["sub"] = json!("partner-admin");
    refused(&ctx, &tamper_claims(&signed, &claims), "an assertion whose sub was changed after signing").await
}

/// RFC 7523 §3 item 9: the JWT "MUST be digitally signed or have a Message Authentication Code
/// (MAC) applied by the issuer"; an unsecured JWS (`alg` none, RFC 7518 §3.6) has neither.
async fn alg_none(ctx: Ctx) -> anyhow::Result<Outcome> {
    let assertion = unsigned(&ctx.partner_claims(json!({}))?);
    refused(&ctx, &assertion, "an unsigned (alg none) assertion").await
}

/// RFC 8725 §2.1 and §3.1: the classic algorithm confusion. The target holds the partner's
/// public key; one that lets the token pick HS256 verifies an HMAC keyed with that public
/// key, which anyone can compute. Tries the encodings a server may hold it in (PEM, PEM
/// without the final newline, DER), each with the partner's `kid`.
async fn hs256_public_key(ctx: Ctx) -> anyhow::Result<Outcome> {
    let key = ctx.partner()?.key();
    for (name, secret) in public_key_encodings(key.public_jwk())? {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()});
        let assertion = sign_hs256(&header, &ctx.partner_claims(json!({}))?, &secret);
        let what = format!("an HS256 assertion keyed with the partner's public key ({name})");
        let outcome = refused(&ctx, &assertion, &what).await?;
        if outcome.verdict != Verdict::Pass {
            return Ok(outcome);
        }
    }
    Ok(Outcome::pass(
        "HS256 assertions keyed with the partner's public key (PEM, PEM without newline, DER) were all refused with invalid_grant",
    ))
}

/// RFC 7523 §3 item 7: the server "MAY ensure that JWTs are not replayed by maintaining the
/// set of used "jti" values"; agentcert's profile requires it of a server that federates
/// agents (a captured assertion must not mint tokens twice).
async fn replay(ctx: Ctx) -> anyhow::Result<Outcome> {
    let assertion = ctx.partner_assertion(json!({}))?;
    let first = present(&ctx, &assertion).await?;
    if !first.is_success() {
        bail!("setup: the assertion's first use was refused ({}), so its replay cannot be judged", first.describe());
    }
    let second = present(&ctx, &assertion).await?;
    Ok(expect::refused_with(&ctx, &second, &["invalid_grant"], "the same assertion (same jti) presented a second time", RULE))
}

/// Trust is bound to the partner's `jwks_uri`, not to one key (identity-chaining draft,
/// overview step 5; RFC 7517 §4.5: `kid` selects the key). The target first verifies an
/// assertion with the current key (and so may cache the JWK Set); the partner then rotates to
/// a key it publishes only now, and an assertion signed with it must be accepted within the
/// profile's `key_refresh_within` (a target may rate-limit refetching).
async fn rotated_key_accepted(ctx: Ctx) -> anyhow::Result<Outcome> {
    control(&ctx).await?;
    let partner = ctx.partner()?;
    let kid = partner.rotate(OldKey::Keep)?;
    let within = partner_profile(&ctx)?.key_refresh_within;
    let deadline = Instant::now() + within;
    loop {
        let answer = present(&ctx, &ctx.partner_assertion(json!({}))?).await?;
        if answer.is_success() {
            return Ok(Outcome::pass(format!("an assertion signed with the rotated key (kid {kid}) was accepted")));
        }
        if Instant::now() >= deadline {
            return Ok(Outcome::fail(format!(
                "after the partner rotated to kid {kid} (published at {}), assertions signed with it were still refused after {within:?}: {}",
                partner.jwks_uri(),
                answer.describe()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
