//! The delegation suite, check by check, against mutants of the reference server that each
//! break exactly one rule of RFC 8693 token exchange (or of agentcert's profile on it).

mod support;

use agentcert::embedded;
use agentcert_engine::profile::Mode;
use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use support::*;

const IDS: &[&str] = &[
    "delegation.exchange-succeeds",
    "delegation.sub-is-user-act-is-agent",
    "delegation.actor-token-yields-act",
    "delegation.reexchange-keeps-act",
    "delegation.chained-act-nests",
    "delegation.act-identity-claims-only",
    "delegation.may-act-enforced",
    "delegation.foreign-token-not-exchangeable",
    "delegation.unauthorized-client-refused",
    "delegation.subject-token-type-required",
    "delegation.subject-token-required",
    "delegation.actor-token-type-paired",
    "delegation.garbage-subject-token-refused",
    "delegation.tampered-subject-token-refused",
    "delegation.expired-subject-token-refused",
    "delegation.untrusted-issuer-refused",
    "delegation.requested-token-type-honoured",
    "delegation.scope-in-response-when-different",
    "delegation.scope-beyond-subject-not-granted",
    "delegation.scope-beyond-client-not-granted",
    "delegation.hop-scope-attenuates",
    "delegation.audience-restricts-aud",
    "delegation.unknown-target-invalid-target",
    "delegation.exp-within-subject-exp",
    "delegation.no-refresh-token",
    "delegation.exchange-requires-client-auth",
    "delegation.subset-scope-granted-exactly",
    "delegation.multiple-targets-all-or-refused",
    "delegation.three-hop-chain",
];

#[tokio::test]
async fn reference_server_passes_delegation() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

/// Runs one check against a mutant with the profile switched to lenient mode.
async fn lenient(fault: Fault, id: &str) -> Verdict {
    let target = embedded::start(&[fault]).await.expect("embedded reference server starts");
    let mut profile = target.profile.clone();
    profile.target.mode = Mode::Lenient;
    let results = run_profile(profile, Some(target.home), &checks(&[id])).await;
    target.server.shutdown().await;
    result(&results, id).verdict
}

#[tokio::test]
async fn missing_issued_token_type_is_caught() {
    assert_fault_caught(Fault::ExchangeNoIssuedTokenType, "delegation.exchange-succeeds", Verdict::Fail).await;
}

#[tokio::test]
async fn actor_as_sub_is_caught() {
    assert_fault_caught(Fault::ExchangeSubIsActor, "delegation.sub-is-user-act-is-agent", Verdict::Fail).await;
}

#[tokio::test]
async fn actor_token_without_act_is_caught() {
    assert_fault_caught(Fault::ExchangeDropAct, "delegation.actor-token-yields-act", Verdict::Fail).await;
}

#[tokio::test]
async fn actor_token_impersonation_is_caught() {
    assert_fault_caught(Fault::ExchangeSubIsActor, "delegation.actor-token-yields-act", Verdict::Fail).await;
}

#[tokio::test]
async fn dropped_act_on_reexchange_is_caught() {
    assert_fault_caught(Fault::ExchangeDropAct, "delegation.reexchange-keeps-act", Verdict::Fail).await;
}

#[tokio::test]
async fn flattened_act_chain_is_caught() {
    // DELEG-004 is a SHOULD: a warning.
    assert_fault_caught(Fault::ExchangeFlattenAct, "delegation.chained-act-nests", Verdict::Warn).await;
}

#[tokio::test]
async fn non_identity_claims_in_act_are_caught() {
    // DELEG-005 is a SHOULD: a warning.
    assert_fault_caught(Fault::ExchangeActNonIdentityClaims, "delegation.act-identity-claims-only", Verdict::Warn).await;
}

#[tokio::test]
async fn ignored_may_act_is_caught() {
    assert_fault_caught(Fault::ExchangeIgnoreMayAct, "delegation.may-act-enforced", Verdict::Fail).await;
}

#[tokio::test]
async fn exchanging_a_foreign_token_is_caught() {
    assert_fault_caught(Fault::ExchangeAnyClient, "delegation.foreign-token-not-exchangeable", Verdict::Fail).await;
}

#[tokio::test]
async fn unenforced_grant_types_are_caught() {
    assert_fault_caught(Fault::GrantTypeNotEnforced, "delegation.unauthorized-client-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn optional_subject_token_type_is_caught() {
    assert_fault_caught(Fault::ExchangeAllowMissingSubjectTokenType, "delegation.subject-token-type-required", Verdict::Fail).await;
}

#[tokio::test]
async fn missing_subject_token_as_invalid_grant_fails_strict_and_warns_lenient() {
    let id = "delegation.subject-token-required";
    assert_fault_caught(Fault::ExchangeMissingSubjectTokenInvalidGrant, id, Verdict::Fail).await;
    assert_eq!(lenient(Fault::ExchangeMissingSubjectTokenInvalidGrant, id).await, Verdict::Warn);
}

#[tokio::test]
async fn actor_token_without_type_is_caught() {
    assert_fault_caught(Fault::ExchangeAllowMissingActorTokenType, "delegation.actor-token-type-paired", Verdict::Fail).await;
}

#[tokio::test]
async fn invalid_token_error_code_fails_strict_and_warns_lenient() {
    let id = "delegation.garbage-subject-token-refused";
    assert_fault_caught(Fault::ExchangeInvalidTokenError, id, Verdict::Fail).await;
    assert_eq!(lenient(Fault::ExchangeInvalidTokenError, id).await, Verdict::Warn);
}

#[tokio::test]
async fn unverified_subject_signature_is_caught() {
    assert_fault_caught(Fault::ExchangeNoSignatureCheck, "delegation.tampered-subject-token-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn expired_subject_token_accepted_is_caught() {
    assert_fault_caught(Fault::ExchangeAcceptExpiredSubject, "delegation.expired-subject-token-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn untrusted_issuer_accepted_is_caught() {
    assert_fault_caught(Fault::ExchangeAcceptUntrustedIssuer, "delegation.untrusted-issuer-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn substituted_token_type_is_caught() {
    assert_fault_caught(Fault::ExchangeSubstituteTokenType, "delegation.requested-token-type-honoured", Verdict::Fail).await;
}

#[tokio::test]
async fn omitted_response_scope_is_caught() {
    assert_fault_caught(Fault::ExchangeOmitScope, "delegation.scope-in-response-when-different", Verdict::Fail).await;
}

#[tokio::test]
async fn scope_beyond_subject_is_caught() {
    assert_fault_caught(Fault::ExchangeScopeFromClientOnly, "delegation.scope-beyond-subject-not-granted", Verdict::Fail).await;
}

#[tokio::test]
async fn scope_beyond_client_is_caught() {
    assert_fault_caught(Fault::ExchangeIgnoreClientAllowance, "delegation.scope-beyond-client-not-granted", Verdict::Fail).await;
}

#[tokio::test]
async fn hop_gaining_scope_is_caught() {
    assert_fault_caught(Fault::ExchangeScopeFromClientOnly, "delegation.hop-scope-attenuates", Verdict::Fail).await;
}

#[tokio::test]
async fn replaced_audience_is_caught() {
    assert_fault_caught(Fault::ExchangeDropResource, "delegation.audience-restricts-aud", Verdict::Fail).await;
}

#[tokio::test]
async fn ignored_unknown_target_is_caught() {
    // NARROW-009 is a SHOULD: a warning.
    assert_fault_caught(Fault::ExchangeIgnoreUnknownTarget, "delegation.unknown-target-invalid-target", Verdict::Warn).await;
}

#[tokio::test]
async fn outliving_the_subject_is_caught() {
    // NARROW-016 is a SHOULD: a warning.
    assert_fault_caught(Fault::ExchangeOutliveSubject, "delegation.exp-within-subject-exp", Verdict::Warn).await;
}

#[tokio::test]
async fn refresh_token_on_delegated_token_is_caught() {
    // NARROW-017 is a SHOULD: a warning.
    assert_fault_caught(Fault::ExchangeRefreshToken, "delegation.no-refresh-token", Verdict::Warn).await;
}

// --- Client authentication, exact subsets, several targets, three hops ----------------------

#[tokio::test]
async fn anonymous_exchange_is_caught() {
    assert_fault_caught(Fault::AuthAllowAnonymous, "delegation.exchange-requires-client-auth", Verdict::Fail).await;
}

#[tokio::test]
async fn requested_subset_ignored_is_caught() {
    assert_fault_caught(Fault::ExchangeIgnoreRequestedScope, "delegation.subset-scope-granted-exactly", Verdict::Fail).await;
}

#[tokio::test]
async fn dropped_exchange_target_is_caught() {
    assert_fault_caught(Fault::MultiTargetKeepFirst, "delegation.multiple-targets-all-or-refused", Verdict::Fail).await;
}

#[tokio::test]
async fn flattened_three_hop_chain_is_caught() {
    assert_fault_caught(Fault::ExchangeFlattenAct, "delegation.three-hop-chain", Verdict::Fail).await;
}

#[tokio::test]
async fn scope_regained_at_the_third_hop_is_caught() {
    assert_fault_caught(Fault::ExchangeScopeFromClientOnly, "delegation.three-hop-chain", Verdict::Fail).await;
}

#[tokio::test]
async fn three_hop_chain_skips_without_a_tool_agent() {
    let target = embedded::start(&[]).await.expect("embedded reference server starts");
    let (server, mut profile, roles) = target.into_parts();
    profile.clients.remove(&agentcert_engine::ClientRole::ToolAgent);
    let results = run_profile(profile, roles, &checks(&["delegation.three-hop-chain"])).await;
    server.shutdown().await;
    assert_verdict(&results, "delegation.three-hop-chain", Verdict::Skip);
    assert!(result(&results, "delegation.three-hop-chain").reason.contains("tool_agent"));
}
