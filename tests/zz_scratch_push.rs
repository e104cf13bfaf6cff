mod support;
use agentcert::embedded;
use agentcert_reference::Fault::{self, *};
use std::time::Duration;
use support::*;
async fn run_with_bound(faults: &[Fault], id: &str, bound: Duration) {
    let target = embedded::start(faults).await.unwrap();
    let (server, mut profile, roles) = target.into_parts();
    profile.timing.revoke_within = bound;
    let r = run_profile(profile, roles, &checks(&[id])).await;
    server.shutdown().await;
    let c = result(&r, id);
    eprintln!("{faults:?} {id}: {:?} {} ({} ms, {} exchanges)", c.verdict, c.reason, c.duration_ms, c.evidence.len());
}
#[tokio::test]
async fn reasons() {
    run_with_bound(&[SsfPushDelayed], "push.event-within-bound", Duration::from_secs(1)).await;
    run_with_bound(&[IntrospectRevocationLag], "revocation.propagates-within-bound", Duration::from_secs(1)).await;
    run_with_bound(&[SsfNoRevocationEvent], "push.revocation-emits-session-revoked", Duration::from_secs(1)).await;
    run_with_bound(&[SsfNoRevocationEvent], "push.set-signed", Duration::from_secs(1)).await;
    run_with_bound(&[SsfNoVerificationEvent, SsfNoRevocationEvent], "push.set-signed", Duration::from_secs(1)).await;
}
