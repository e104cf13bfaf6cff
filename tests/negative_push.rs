//! The push suite (SSF 1.0 / CAEP 1.0 / RFC 8417, 8935, 8936), check by check: mutants of the
//! reference server's Transmitter, one rule broken each; the timed rules with the profile's
//! bound lowered under a server that is late on purpose; and a server with no Transmitter, for
//! which the whole suite skips with the reason.

mod support;

use agentcert::embedded;
use agentcert_engine::results::RunResults;
use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use std::time::Duration;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDS: &[&str] = &[
    "push.configuration-served",
    "push.configuration-members",
    "push.stream-create-read-update-delete",
    "push.stream-management-requires-authorization",
    "push.subjects-add-and-remove",
    "push.verification-event-delivered",
    "push.push-request-shape",
    "push.poll-delivery",
    "push.revocation-emits-session-revoked",
    "push.set-signed",
    "push.set-typ-secevent-jwt",
    "push.set-iss-is-the-issuer",
    "push.set-aud-is-the-streams",
    "push.set-one-event",
    "push.set-no-sub-claim",
    "push.set-no-exp-claim",
    "push.revoked-token-subject-format",
    "push.event-within-bound",
    "revocation.propagates-within-bound",
];

#[tokio::test]
async fn reference_server_passes_push() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

/// Runs `id` against the reference server with `faults`, the profile's `revoke_within`
/// lowered to `bound` (the faults are 2 s late).
async fn run_with_bound(faults: &[Fault], id: &str, bound: Duration) -> RunResults {
    let target = embedded::start(faults).await.expect("embedded reference server starts");
    let (server, mut profile, roles) = target.into_parts();
    profile.timing.revoke_within = bound;
    let results = run_profile(profile, roles, &checks(&[id])).await;
    server.shutdown().await;
    results
}

#[tokio::test]
async fn configuration_issuer_mismatch_is_caught() {
    assert_fault_caught(Fault::SsfConfigIssuerTrailingSlash, "push.configuration-served", Verdict::Fail).await;
}

#[tokio::test]
async fn configuration_without_jwks_uri_is_caught() {
    assert_fault_caught(Fault::SsfConfigNoJwksUri, "push.configuration-members", Verdict::Fail).await;
}

#[tokio::test]
async fn delete_that_keeps_the_stream_is_caught() {
    assert_fault_caught(Fault::SsfStreamDeleteNoop, "push.stream-create-read-update-delete", Verdict::Fail).await;
}

#[tokio::test]
async fn unauthenticated_stream_management_is_caught() {
    assert_fault_caught(Fault::SsfStreamNoAuth, "push.stream-management-requires-authorization", Verdict::Fail).await;
}

#[tokio::test]
async fn subject_added_to_a_missing_stream_is_caught() {
    assert_fault_caught(Fault::SsfSubjectUnknownStreamOk, "push.subjects-add-and-remove", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_verification_event_is_caught() {
    assert_fault_caught(Fault::SsfNoVerificationEvent, "push.verification-event-delivered", Verdict::Fail).await;
}

#[tokio::test]
async fn push_without_the_authorization_header_is_caught() {
    assert_fault_caught(Fault::SsfPushNoAuthorizationHeader, "push.push-request-shape", Verdict::Fail).await;
}

#[tokio::test]
async fn poll_sets_as_an_array_is_caught() {
    assert_fault_caught(Fault::SsfPollSetsArray, "push.poll-delivery", Verdict::Fail).await;
}

#[tokio::test]
async fn silent_revocation_is_caught() {
    assert_fault_caught(Fault::SsfNoRevocationEvent, "push.revocation-emits-session-revoked", Verdict::Fail).await;
}

#[tokio::test]
async fn unsigned_sets_are_caught() {
    assert_fault_caught(Fault::SsfSetUnsigned, "push.set-signed", Verdict::Fail).await;
}

#[tokio::test]
async fn untyped_sets_are_caught() {
    assert_fault_caught(Fault::SsfSetTypJwt, "push.set-typ-secevent-jwt", Verdict::Fail).await;
}

#[tokio::test]
async fn set_iss_mismatch_is_caught() {
    assert_fault_caught(Fault::SsfSetIssTrailingSlash, "push.set-iss-is-the-issuer", Verdict::Fail).await;
}

#[tokio::test]
async fn set_for_another_audience_is_caught() {
    assert_fault_caught(Fault::SsfSetWrongAud, "push.set-aud-is-the-streams", Verdict::Fail).await;
}

// SSF 1.0 §4.2.1 says SHOULD (the CAEP Interoperability Profile's MUST is not the catalog's
// level): a warning, not a failure.
#[tokio::test]
async fn two_events_in_one_set_is_a_warning() {
    assert_fault_caught(Fault::SsfSetTwoEvents, "push.set-one-event", Verdict::Warn).await;
}

#[tokio::test]
async fn set_with_sub_is_caught() {
    assert_fault_caught(Fault::SsfSetSubClaim, "push.set-no-sub-claim", Verdict::Fail).await;
}

#[tokio::test]
async fn set_with_exp_is_caught() {
    assert_fault_caught(Fault::SsfSetExpClaim, "push.set-no-exp-claim", Verdict::Fail).await;
}

#[tokio::test]
async fn draft_jwt_id_format_name_is_caught() {
    assert_fault_caught(Fault::SsfSubjectJwtDashId, "push.revoked-token-subject-format", Verdict::Fail).await;
}

// Pushes 2 s late against a 1 s bound: every sample is late, and the reason shows by how much.
#[tokio::test]
async fn late_push_is_caught_against_the_bound() {
    let results = run_with_bound(&[Fault::SsfPushDelayed], "push.event-within-bound", Duration::from_secs(1)).await;
    assert_verdict(&results, "push.event-within-bound", Verdict::Fail);
    let reason = &result(&results, "push.event-within-bound").reason;
    assert!(reason.contains("5 of 5 samples") && reason.contains("bound 1.00 s") && reason.contains("min 2."), "{reason}");
}

// Introspection that lags revocation by 2 s, against a 1 s bound.
#[tokio::test]
async fn lagging_introspection_is_caught_against_the_bound() {
    let results = run_with_bound(&[Fault::IntrospectRevocationLag], "revocation.propagates-within-bound", Duration::from_secs(1)).await;
    assert_verdict(&results, "revocation.propagates-within-bound", Verdict::Fail);
    let reason = &result(&results, "revocation.propagates-within-bound").reason;
    assert!(reason.contains("p50 2.") && reason.contains("bound 1.00 s"), "{reason}");
}

// The same lag is within a 5 s bound: the check measures, it does not demand zero.
#[tokio::test]
async fn lag_within_the_bound_passes() {
    let results = run_with_bound(&[Fault::IntrospectRevocationLag], "revocation.propagates-within-bound", Duration::from_secs(5)).await;
    assert_verdict(&results, "revocation.propagates-within-bound", Verdict::Pass);
}

/// An authorization server with no `/.well-known/ssf-configuration`: the suite skips, saying
/// why, instead of failing a server that never claimed to push.
#[tokio::test]
async fn a_server_without_ssf_skips_the_suite() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    let metadata = serde_json::json!({
        "issuer": issuer, "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
        "revocation_endpoint": format!("{issuer}/revoke"), "introspection_endpoint": format!("{issuer}/introspect"),
    });
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata))
        .mount(&server)
        .await;
    let ids: Vec<&str> = IDS.iter().copied().filter(|id| id.starts_with("push.")).collect();
    let results = run_profile(reference_profile_at(&issuer), None, &checks(&ids)).await;
    assert!(!results.capabilities["ssf-transmitter"].enabled);
    for id in ids {
        assert_verdict(&results, id, Verdict::Skip);
        assert!(
            result(&results, id).reason.contains("ssf-transmitter (probe: no ssf-configuration document"),
            "{}",
            result(&results, id).reason
        );
    }
}

/// A profile can say the target is not a Transmitter, whatever it serves.
#[tokio::test]
async fn the_profile_can_turn_the_suite_off() {
    let target = embedded::start(&[]).await.expect("embedded reference server starts");
    let (server, mut profile, roles) = target.into_parts();
    profile.capabilities.insert("ssf-transmitter".into(), false);
    let results = run_profile(profile, roles, &checks(&["push.set-signed"])).await;
    server.shutdown().await;
    assert_verdict(&results, "push.set-signed", Verdict::Skip);
    assert!(result(&results, "push.set-signed").reason.contains("target profile override"));
}
