//! The audit suite against mutants of the reference server that each lose one piece of a
//! token's attribution: its jti, its client_id, or the prior actors of its act chain.

mod support;

use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use support::*;

const IDS: &[&str] = &["audit.tokens-attributable", "audit.act-chain-preserved"];

#[tokio::test]
async fn reference_server_passes_audit() {
    let results = run_reference(&[], IDS).await;
    for id in IDS {
        assert_verdict(&results, id, Verdict::Pass);
    }
}

#[tokio::test]
async fn token_without_jti_is_caught() {
    assert_fault_caught(Fault::TokenNoJti, "audit.tokens-attributable", Verdict::Fail).await;
}

#[tokio::test]
async fn token_without_client_id_is_caught() {
    assert_fault_caught(Fault::TokenNoClientId, "audit.tokens-attributable", Verdict::Fail).await;
}

#[tokio::test]
async fn delegated_token_without_act_is_caught() {
    assert_fault_caught(Fault::ExchangeDropAct, "audit.tokens-attributable", Verdict::Fail).await;
}

#[tokio::test]
async fn flattened_act_chain_is_caught() {
    assert_fault_caught(Fault::ExchangeFlattenAct, "audit.act-chain-preserved", Verdict::Fail).await;
}
