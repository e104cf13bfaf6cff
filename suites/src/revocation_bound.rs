//! The revocation suite's timed rule: how soon a revocation shows at introspection, measured
//! against the profile's `timing.revoke_within` (REV-002). Kept apart from `revocation` so the
//! measurement machinery does not crowd the rules that only need "did it die".

use crate::latency::{Samples, SAMPLES};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome};
use std::time::{Duration, Instant};

const SUITE: &str = "revocation";

pub fn checks() -> Vec<Check> {
    vec![check!(
        "revocation.propagates-within-bound",
        SUITE,
        "Revocation shows at introspection within timing.revoke_within, over several samples",
        ["REV-002"],
        [Revocation, Introspection],
        propagates_within_bound
    )]
}

/// How often introspection is asked while a sample is outstanding.
const POLL_EVERY: Duration = Duration::from_millis(25);

/// RFC 7009 §2.1: "The invalidation takes place immediately"; agentcert's profile: a revoked
/// agent token reads `active: false` at introspection (RFC 7662 §2.2) within the bound the
/// target promises. Each sample is a fresh token of agent A, revoked by its owner, then
/// introspected until inactive; the time is from sending the revocation to the first inactive
/// answer. One late sample fails. Only the first and last introspection of each sample are
/// kept as evidence, not every poll.
async fn propagates_within_bound(ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut quiet = ctx.clone();
    quiet.http = ctx.http.fork();
    let mut samples = Samples::new(ctx.profile().timing.revoke_within);
    for _ in 0..SAMPLES {
        let token = ctx.issue_token(ClientRole::AgentA).await?;
        if !ctx.is_active(&token).await? {
            anyhow::bail!("setup: a freshly issued token of agent_a already introspects as inactive");
        }
        let sent = Instant::now();
        let resp = ctx.revoke(ClientRole::AgentA, &token, None).await?;
        if resp.status != 200 {
            let answer = agentcert_engine::oauth::TokenAnswer::from(&resp).describe();
            return Ok(Outcome::fail(format!("revoking agent_a's own access token got {answer}: nothing can propagate (RFC 7009 §2.2)")));
        }
        let mut took = None;
        while sent.elapsed() < samples.watched {
            if !quiet.is_active(&token).await? {
                took = Some(sent.elapsed());
                break;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        ctx.is_active(&token).await?;
        samples.taken.push(took);
        if took.is_none() {
            break; // already late beyond measure: more samples would only take longer
        }
    }
    Ok(samples.outcome("revocation → inactive at introspection"))
}
