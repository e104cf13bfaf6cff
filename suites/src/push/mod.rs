//! Push revocation (PUSH): the server as an OpenID Shared Signals Framework 1.0 Transmitter.
//! A revoked agent token must not live on at the resource servers that cached it; SSF lets
//! the server tell them at once, with CAEP 1.0 events in signed Security Event Tokens
//! (RFC 8417) pushed to them (RFC 8935) or polled (RFC 8936).
//!
//! The harness is the Receiver (engine `receiver`): each check opens its own stream on the
//! target, pointed at a fresh loopback push endpoint, and deletes it when done.

mod config;
mod delivery;
mod sets;
mod streams;
mod timing;

use agentcert_engine::receiver::{Arrival, Session};
use agentcert_engine::{check, Check, ClientRole, Ctx};
use std::time::{Duration, Instant};

const SUITE: &str = "push";

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "push.configuration-served",
            SUITE,
            "ssf-configuration is served at the path-inserted well-known URL, 200 JSON, issuer identical",
            ["PUSH-001"],
            [SsfTransmitter],
            config::served
        ),
        check!(
            "push.configuration-members",
            SUITE,
            "The configuration names jwks_uri, delivery methods, the management endpoints and the OAuth scheme",
            ["PUSH-002"],
            [SsfTransmitter],
            config::members
        ),
        check!(
            "push.stream-create-read-update-delete",
            SUITE,
            "A push stream can be created (201), read, updated and deleted, and is gone after",
            ["PUSH-003"],
            [SsfTransmitter],
            streams::lifecycle
        ),
        check!(
            "push.stream-management-requires-authorization",
            SUITE,
            "Stream management without an Authorization header is refused with 401, a token in the query too",
            ["PUSH-004"],
            [SsfTransmitter],
            streams::requires_authorization
        ),
        check!(
            "push.subjects-add-and-remove",
            SUITE,
            "Adding a subject answers 200, removing it 204, and an unknown stream 404",
            ["PUSH-014"],
            [SsfTransmitter],
            streams::subjects
        ),
        check!(
            "push.verification-event-delivered",
            SUITE,
            "A verification request (204) brings a verification SET echoing state, about the stream",
            ["PUSH-005"],
            [SsfTransmitter],
            delivery::verification
        ),
        check!(
            "push.push-request-shape",
            SUITE,
            "SETs are POSTed as application/secevent+jwt with the stream's authorization_header",
            ["PUSH-007"],
            [SsfTransmitter],
            delivery::push_shape
        ),
        check!(
            "push.poll-delivery",
            SUITE,
            "A stream without delivery is a poll stream whose poll answers sets keyed by jti",
            ["PUSH-008"],
            [SsfTransmitter],
            delivery::poll
        ),
        check!(
            "push.revocation-emits-session-revoked",
            SUITE,
            "Revoking an agent's token pushes a CAEP session-revoked SET about it",
            ["PUSH-010"],
            [SsfTransmitter, Revocation],
            sets::revocation_event
        ),
        check!(
            "push.set-signed",
            SUITE,
            "SETs are signed (never alg none) and verify against the configuration's jwks_uri",
            ["PUSH-006"],
            [SsfTransmitter],
            sets::signed
        ),
        check!(
            "push.set-typ-secevent-jwt",
            SUITE,
            "SETs are explicitly typed: header typ secevent+jwt",
            ["PUSH-006"],
            [SsfTransmitter],
            sets::typ
        ),
        check!("push.set-iss-is-the-issuer", SUITE, "A SET's iss is identical to the issuer", ["PUSH-006"], [SsfTransmitter], sets::iss),
        check!(
            "push.set-aud-is-the-streams",
            SUITE,
            "A SET's aud is the aud of the stream it is sent on",
            ["PUSH-006"],
            [SsfTransmitter],
            sets::aud
        ),
        check!("push.set-one-event", SUITE, "A SET carries one event", ["PUSH-015"], [SsfTransmitter], sets::one_event),
        check!(
            "push.set-no-sub-claim",
            SUITE,
            "A SET has no JWT sub claim (the subject is sub_id)",
            ["PUSH-006"],
            [SsfTransmitter],
            sets::no_sub
        ),
        check!("push.set-no-exp-claim", SUITE, "A SET has no exp claim", ["PUSH-006"], [SsfTransmitter], sets::no_exp),
        check!(
            "push.revoked-token-subject-format",
            SUITE,
            "The revocation SET's sub_id uses a defined format: jwt_id with the token's iss and jti",
            ["PUSH-010"],
            [SsfTransmitter, Revocation],
            sets::subject_format
        ),
        check!(
            "push.event-within-bound",
            SUITE,
            "Revocation reaches the receiver within timing.revoke_within, over several samples",
            ["PUSH-010"],
            [SsfTransmitter, Revocation],
            timing::event_within_bound
        ),
    ]
}

/// Opens a push stream on the target with a fresh receiver (setup: failures are `error`).
async fn open(ctx: &Ctx) -> anyhow::Result<Session> {
    Session::open(&ctx.http, ctx.profile(), ctx.metadata()).await.map_err(|e| anyhow::anyhow!("setup: {e:#}"))
}

/// Deletes the check's stream; a failure to clean up is not the check's verdict.
async fn close(session: Session) {
    let _ = session.close().await;
}

/// How long a check waits for a SET: the profile's `timing.revoke_within`.
fn within(ctx: &Ctx) -> Duration {
    ctx.profile().timing.revoke_within
}

/// A live access token of agent A, revoked by its owner (RFC 7009 §2.1). Returns its `jti`
/// and when the revocation request was sent. A refused revocation is a setup error: the
/// revocation suite judges the endpoint.
async fn revoke_fresh_token(ctx: &Ctx) -> anyhow::Result<(String, Instant)> {
    let token = ctx.issue_token(ClientRole::AgentA).await?;
    let jti = agentcert_engine::jose::decode_unverified(&token)
        .ok()
        .and_then(|d| d.claim_str("jti").map(str::to_string))
        .ok_or_else(|| anyhow::anyhow!("setup: agent_a's access token has no readable jti, so no SET can be matched to it"))?;
    let sent = Instant::now();
    let resp = ctx.revoke(ClientRole::AgentA, &token, None).await?;
    if resp.status != 200 {
        anyhow::bail!("setup: revoking agent_a's own token answered HTTP {}", resp.status);
    }
    Ok((jti, sent))
}

/// The SET about the revoked token `jti`: one naming it in `sub_id`, or failing that, a
/// revocation-type event that arrived after `since` and names no token at all (a Transmitter
/// may name the session or the agent instead of the token).
async fn revocation_set(session: &Session, jti: &str, since: Instant, timeout: Duration) -> Option<Arrival> {
    session
        .receiver
        .wait_for(timeout, |a| {
            a.is_about_jti(jti)
                || (a.at >= since
                    && a.claims().pointer("/sub_id/jti").is_none()
                    && a.event_types().iter().any(|t| REVOCATION_EVENTS.contains(&t.as_str())))
        })
        .await
}

/// CAEP 1.0 events that tell a Receiver a token, session or credential is no longer good.
const REVOCATION_EVENTS: &[&str] = &[
    agentcert_engine::receiver::SESSION_REVOKED,
    agentcert_engine::receiver::TOKEN_CLAIMS_CHANGE,
    agentcert_engine::receiver::CREDENTIAL_CHANGE,
];
