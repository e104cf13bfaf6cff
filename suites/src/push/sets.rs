//! The SETs themselves (RFC 8417 §2 as SSF 1.0 §4 profiles it) and the revocation event
//! (CAEP 1.0 §3.1). The SETs judged are the verification event the check asks for and, when
//! the server revokes tokens, the event about a token the check revokes.

use super::{close, open, revocation_set, revoke_fresh_token, within, REVOCATION_EVENTS};
use agentcert_engine::jose::random_id;
use agentcert_engine::receiver::set::Rule;
use agentcert_engine::receiver::{Arrival, Session, SESSION_REVOKED, TOKEN_CLAIMS_CHANGE, VERIFICATION};
use agentcert_engine::{Capability, Ctx, Outcome};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The SETs one check judges, with the stream they came on.
struct Sample {
    session: Session,
    sets: Vec<Arrival>,
}

/// Asks for a verification event and, when the server revokes, revokes a token; waits for
/// both SETs (up to `timing.revoke_within` in all). Setup fails when neither arrives.
async fn sample(ctx: &Ctx) -> anyhow::Result<Sample> {
    let session = open(ctx).await?;
    let state = random_id();
    session.management.verify(&session.stream_id, &state).await?;
    let revoked = if ctx.has(Capability::Revocation) { Some(revoke_fresh_token(ctx).await?) } else { None };
    let deadline = Instant::now() + within(ctx);
    let mut sets = Vec::new();
    let verification = session
        .receiver
        .wait_for(within(ctx), |a| {
            a.claims().pointer(&format!("/events/{}/state", VERIFICATION.replace('/', "~1"))).and_then(Value::as_str)
                == Some(state.as_str())
        })
        .await;
    sets.extend(verification);
    if let Some((jti, since)) = &revoked {
        sets.extend(revocation_set(&session, jti, *since, deadline.saturating_duration_since(Instant::now())).await);
    }
    if sets.is_empty() {
        let id = session.stream_id.clone();
        close(session).await;
        anyhow::bail!(
            "setup: no SET arrived on stream {id} within {:?}: neither the verification event asked for nor an event about a revoked token",
            within(ctx)
        );
    }
    Ok(Sample { session, sets })
}

/// "session-revoked SET" — how a finding names the SET it is about.
fn name(a: &Arrival) -> String {
    let types: Vec<String> = a.event_types().iter().map(|t| t.rsplit('/').next().unwrap_or(t).to_string()).collect();
    format!("{} SET", types.join("+"))
}

/// Judges one rule over the sample: pass when no SET breaks it, else fail naming each.
async fn judge(ctx: Ctx, rule: Rule, ok: &str) -> anyhow::Result<Outcome> {
    let Sample { session, sets } = sample(&ctx).await?;
    close(session).await;
    let findings: Vec<String> =
        sets.iter().flat_map(|a| a.broken(rule).into_iter().map(move |f| format!("{}: {}", name(a), f.message))).collect();
    let judged: Vec<String> = sets.iter().map(name).collect();
    Ok(Outcome::from_findings(findings, format!("{ok} ({})", judged.join(", "))))
}

/// RFC 8417 §2 and SSF 1.0 §4.1.4: SETs are signed and the key is found through `jwks_uri`;
/// an unsigned SET (`alg` none, RFC 7519 §6) proves nothing about who sent it.
pub async fn signed(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::Signature, "signed, and the signature verifies against jwks_uri").await
}

/// SSF 1.0 §4.1.1: "SSF events MUST use explicit typing as defined in Section 2.3 of
/// RFC 8417": `typ` `secevent+jwt`.
pub async fn typ(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::Typ, "typ is secevent+jwt").await
}

/// SSF 1.0 §4.1.6: "The "iss" claim MUST match the "iss" value in the Stream Configuration
/// data", and Receivers validate it against the Issuer too.
pub async fn iss(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::Iss, "iss is the issuer").await
}

/// SSF 1.0 §4.1.8 and §8.1.1: `aud` identifies the stream's Receiver, the stream's
/// Transmitter-Supplied `aud`; a value of another Receiver discloses the event to it.
pub async fn aud(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::Aud, "aud is the stream's").await
}

/// SSF 1.0 §4.2.1: "The "events" claim SHOULD contain only one event" (the CAEP
/// Interoperability Profile makes it MUST).
pub async fn one_event(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::OneEvent, "one event per SET").await
}

/// SSF 1.0 §4.1.2: "The JWT "sub" claim MUST NOT be present in any SET containing an SSF
/// event" (the subject is `sub_id`, §3.1).
pub async fn no_sub(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::Sub, "no sub claim").await
}

/// SSF 1.0 §4.1.7: "The "exp" claim MUST NOT be used in SETs" (defence against confusing
/// SETs with access or ID tokens, RFC 8417 §4.5).
pub async fn no_exp(ctx: Ctx) -> anyhow::Result<Outcome> {
    judge(ctx, Rule::Exp, "no exp claim").await
}

/// Revokes a token and waits for its SET; `Err` is the check's verdict when none came.
async fn revoked(ctx: &Ctx) -> anyhow::Result<(Session, String, Result<(Arrival, Duration), Outcome>)> {
    let session = open(ctx).await?;
    let (jti, since) = revoke_fresh_token(ctx).await?;
    let arrived = revocation_set(&session, &jti, since, within(ctx)).await.map(|a| {
        let took = a.at.saturating_duration_since(since);
        (a, took)
    });
    let arrived = arrived.ok_or_else(|| {
        Outcome::fail(format!("agent_a's token was revoked (RFC 7009: 200), but no revocation SET arrived within {:?}", within(ctx)))
    });
    Ok((session, jti, arrived))
}

/// CAEP 1.0 §3.1: Session Revoked "signals that the session identified by the subject has
/// been revoked"; agentcert's profile: revoking an agent's access token is such a revocation,
/// and every Receiver streaming it hears of it (session-revoked, or token-claims-change with
/// its REQUIRED `claims`, §3.2).
pub async fn revocation_event(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (session, _, arrived) = revoked(&ctx).await?;
    close(session).await;
    let (a, took) = match arrived {
        Ok(a) => a,
        Err(outcome) => return Ok(outcome),
    };
    let types = a.event_types();
    let claims = a.claims();
    Ok(if types.iter().any(|t| t == SESSION_REVOKED) {
        Outcome::pass(format!("a session-revoked SET arrived {} after the revocation request", crate::latency::fmt(took)))
    } else if types.iter().any(|t| t == TOKEN_CLAIMS_CHANGE) {
        Outcome::expect(
            claims.pointer(&format!("/events/{}/claims", TOKEN_CLAIMS_CHANGE.replace('/', "~1"))).is_some_and(Value::is_object),
            "a token-claims-change SET with its claims arrived",
            "the token-claims-change event has no claims object (CAEP 1.0 §3.2: REQUIRED)",
        )
    } else {
        Outcome::fail(format!("the SET about the revoked token carries {types:?}, none of {REVOCATION_EVENTS:?}"))
    })
}

/// SSF 1.0 §3.1: the subject is a top-level `sub_id`, a Subject Identifier whose format is
/// registered (RFC 9493 §7) or defined by SSF 1.0 §3.5; for one token, the "JWT ID" format is
/// "identified by the name jwt_id" with the token's `iss` and `jti` REQUIRED (§3.5.1).
pub async fn subject_format(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (session, jti, arrived) = revoked(&ctx).await?;
    close(session).await;
    let a = match arrived {
        Ok((a, _)) => a,
        Err(outcome) => return Ok(outcome),
    };
    let sub_id = a.claims().get("sub_id").cloned().unwrap_or(Value::Null);
    let format = sub_id.get("format").and_then(Value::as_str).unwrap_or("");
    const KNOWN: &[&str] =
        &["account", "email", "iss_sub", "opaque", "phone_number", "did", "uri", "aliases", "saml_assertion_id", "ip-addresses", "complex"];
    Ok(match format {
        "jwt_id" => {
            let mut findings = Vec::new();
            if sub_id.get("iss").and_then(Value::as_str) != Some(ctx.issuer()) {
                findings.push(format!("sub_id.iss is {:?}, not the token's issuer {:?}", sub_id.get("iss"), ctx.issuer()));
            }
            if sub_id.get("jti").and_then(Value::as_str) != Some(jti.as_str()) {
                findings.push(format!("sub_id.jti is {:?}, not the revoked token's jti", sub_id.get("jti")));
            }
            Outcome::from_findings(findings, "sub_id is {format: jwt_id, iss, jti} naming the revoked token")
        }
        f if KNOWN.contains(&f) => {
            Outcome::pass(format!("sub_id identifies the subject in the {f} format (not the token itself, which CAEP 1.0 allows)"))
        }
        "" => Outcome::fail(format!("the revocation SET's sub_id is not a subject identifier with a format: {sub_id}")),
        f => Outcome::fail(format!(
            "sub_id format {f:?} is neither registered (RFC 9493) nor defined by SSF 1.0 §3.5{}",
            if f == "jwt-id" { ": the JWT ID format is named jwt_id (jwt-id is a pre-final draft's spelling)" } else { "" }
        )),
    })
}
