//! How soon a revocation reaches the Receiver (PUSH-010: the profile's `timing.revoke_within`).

use super::{close, open, revocation_set, revoke_fresh_token};
use crate::latency::{Samples, SAMPLES};
use agentcert_engine::{Ctx, Outcome};

/// agentcert's profile on CAEP 1.0 §3.1 and RFC 7009 §2.1 ("the invalidation takes place
/// immediately"): a resource server streaming revocations learns of one within the bound the
/// target promises. Measured from sending the revocation request to the SET's arrival at the
/// push endpoint, over several revocations; one late sample fails.
pub async fn event_within_bound(ctx: Ctx) -> anyhow::Result<Outcome> {
    let session = open(&ctx).await?;
    let mut samples = Samples::new(ctx.profile().timing.revoke_within);
    for _ in 0..SAMPLES {
        let (jti, sent) = revoke_fresh_token(&ctx).await?;
        let arrived = revocation_set(&session, &jti, sent, samples.watched).await;
        samples.taken.push(arrived.map(|a| a.at.saturating_duration_since(sent)));
        if samples.taken.last() == Some(&None) {
            break; // never arrived within the watch: more samples would only take longer
        }
    }
    close(session).await;
    Ok(samples.outcome("revocation → SET arrival"))
}
