//! Regressions from public bug reports against real authorization servers: each test
//! reproduces one reported fault in a mutant of the reference server and asserts that
//! agentcert flags it, with the check named and the verdict that check's rule earns (`Fail`,
//! or `Warn` for a SHOULD). The tests are named after the fault, not after any project.
//!
//! Removing a check is noticed: every test names its checks by id, and `support::checks`
//! panics on an id no suite has (`a_deleted_check_fails_its_regression` shows it), so deleting
//! or renaming a check fails the regression that depends on it.
//!
//! Where the report was about behaviour the reference server has no hook for, the test
//! reproduces what can be reproduced and its doc comment says what is left out.

mod support;

use agentcert_engine::Verdict;
use agentcert_reference::Fault;
use support::*;

/// Runs `ids` against the reference server with `fault` on and asserts each verdict.
async fn flags(fault: Fault, expected: &[(&str, Verdict)]) {
    let ids: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
    let results = run_reference(&[fault], &ids).await;
    for (id, verdict) in expected {
        assert_verdict(&results, id, *verdict);
    }
}

#[test]
#[should_panic(expected = "no check has id")]
fn a_deleted_check_fails_its_regression() {
    support::checks(&["delegation.reexchange-keeps-act-deleted"]);
}

/// 1. A delegated token re-exchanged without an actor_token comes back with no `act`: the
/// delegation is laundered into a plain user token (RFC 8693 §4.1). The report's second half,
/// the laundered token still working after the agent's client is disabled, is not reproduced:
/// the reference server has no admin hook to disable a client.
#[tokio::test]
async fn reexchange_without_actor_token_drops_act() {
    flags(Fault::ExchangeReexchangeDropsAct, &[("delegation.reexchange-keeps-act", Verdict::Fail)]).await;
}

/// 2. Token exchange grants scopes the subject token never had, taking them from the client's
/// registration instead (RFC 8693 §2.1, §5; RFC 7521 §4.1).
#[tokio::test]
async fn exchange_grants_scope_beyond_the_subject_token() {
    flags(Fault::ExchangeScopeFromClientOnly, &[("delegation.scope-beyond-subject-not-granted", Verdict::Fail)]).await;
}

/// 3. A garbage or tampered subject_token is refused with `invalid_token`, a code RFC 8693
/// §2.2.2 does not use: an invalid subject_token MUST get `invalid_request`.
#[tokio::test]
async fn bad_subject_token_gets_invalid_token() {
    flags(
        Fault::ExchangeInvalidTokenError,
        &[("delegation.garbage-subject-token-refused", Verdict::Fail), ("delegation.tampered-subject-token-refused", Verdict::Fail)],
    )
    .await;
}

/// 4. Revoking a token the server does not know answers 400; RFC 7009 §2.2 says invalid
/// tokens get 200.
#[tokio::test]
async fn revoking_an_unknown_token_answers_400() {
    flags(Fault::RevokeUnknown400, &[("revocation.unknown-token-gets-200", Verdict::Fail)]).await;
}

/// 5a. An access token revoked with token_type_hint=refresh_token gets 200 yet stays active:
/// the hint was used as a filter, not a hint (RFC 7009 §2.1: widen the search).
#[tokio::test]
async fn wrong_revocation_hint_leaves_the_token_active() {
    flags(Fault::RevokeHonourHintStrictly, &[("revocation.wrong-hint-still-revokes", Verdict::Fail)]).await;
}

/// 5b. A token_type_hint value no registry defines is refused with 400; RFC 7009 §2.2 says an
/// invalid hint is ignored.
#[tokio::test]
async fn unknown_revocation_hint_answers_400() {
    flags(Fault::RevokeBogusHint400, &[("revocation.bogus-hint-ignored", Verdict::Fail)]).await;
}

/// 6. Revocation answers 200 but does nothing, so introspection still reports the token
/// active (RFC 7009 §2.1: the token "cannot be used again"; §2.2.1 has unsupported_token_type
/// for a server that cannot revoke).
#[tokio::test]
async fn revocation_200_leaves_the_token_active() {
    flags(Fault::RevokeNoop, &[("revocation.revoked-token-inactive", Verdict::Fail), ("revocation.no-false-200", Verdict::Fail)]).await;
}

/// 7a. Client B revokes client A's token and it works (RFC 7009 §2.1: the server verifies the
/// token was issued to the client making the request).
#[tokio::test]
async fn any_client_can_revoke_another_clients_token() {
    flags(Fault::RevokeAnyClient, &[("revocation.other-client-cannot-revoke", Verdict::Fail)]).await;
}

/// 7b. A client that is not a resource server introspects another client's token and sees its
/// claims (RFC 7662 §4: SHOULD require callers to be specifically authorized; a warning).
#[tokio::test]
async fn any_client_can_introspect_another_clients_token() {
    flags(Fault::IntrospectAnyClient, &[("introspection.unentitled-client-sees-nothing", Verdict::Warn)]).await;
}

/// 8a. An expired token still introspects active (RFC 7662 §2.2 and §4: an expired token is
/// inactive).
#[tokio::test]
async fn expired_token_introspects_active() {
    flags(Fault::IntrospectIgnoreExpiry, &[("introspection.expired-token-inactive", Verdict::Fail)]).await;
}

/// 8b. A logged-out (revoked) token still introspects active: the revocation is recorded, but
/// introspection never looks (RFC 7662 §2.2; RFC 7009 §2.1).
#[tokio::test]
async fn revoked_token_introspects_active() {
    flags(Fault::IntrospectIgnoreRevocation, &[("revocation.revoked-token-inactive", Verdict::Fail)]).await;
}

/// 9. Introspection decodes a JWT without verifying its signature: a token re-signed by
/// another key, with a real jti, reports the forged claims, and a random string gets 500
/// (RFC 7662 §4: the signature is checked; §2.2: anything invalid is {"active": false}).
#[tokio::test]
async fn introspection_trusts_unverified_jwts() {
    flags(
        Fault::IntrospectNoVerify,
        &[("introspection.forged-token-inactive", Verdict::Fail), ("introspection.garbage-token-inactive", Verdict::Fail)],
    )
    .await;
}

/// 10. Introspection with no client credentials returns the token's full claims (RFC 7662
/// §2.1: the endpoint MUST require authorization).
#[tokio::test]
async fn unauthenticated_introspection_is_answered() {
    flags(Fault::IntrospectNoAuth, &[("introspection.requires-authentication", Verdict::Fail)]).await;
}

/// 11. The token's `iss` differs from the discovered issuer by a trailing slash (RFC 9068 §4:
/// `iss` exactly matches the metadata issuer; RFC 8414 §3.3: no normalization).
#[tokio::test]
async fn token_iss_has_a_trailing_slash() {
    flags(Fault::TokenIssTrailingSlash, &[("access-token.iss-is-issuer", Verdict::Fail)]).await;
}

/// 12a. The token's `kid` names no key in the JWK Set (RFC 7515 §4.1.4; RFC 9068 §4).
#[tokio::test]
async fn token_kid_not_in_jwks() {
    flags(Fault::TokenKidNotInJwks, &[("access-token.kid-in-jwks", Verdict::Fail)]).await;
}

/// 12b. The JWK the `kid` selects declares another `alg` than the token header uses (RFC 7517
/// §4.4).
#[tokio::test]
async fn jwks_alg_differs_from_token_header() {
    flags(Fault::TokenAlgHeaderMismatch, &[("access-token.jwks-alg-agrees", Verdict::Fail)]).await;
}

/// 13. The JWT access token has no `client_id` (RFC 9068 §2.2: REQUIRED), so no one can tell
/// which client holds it.
#[tokio::test]
async fn jwt_access_token_without_client_id() {
    flags(Fault::TokenNoClientId, &[("access-token.required-claims", Verdict::Fail), ("audit.tokens-attributable", Verdict::Fail)]).await;
}

/// 14. The requested resource is validated, then dropped: the token's `aud` becomes the
/// client id (RFC 8707 §2; RFC 8693 §2.1: the token is for the named target).
#[tokio::test]
async fn validated_resource_dropped_from_aud() {
    flags(Fault::ExchangeDropResource, &[("delegation.audience-restricts-aud", Verdict::Fail)]).await;
}

/// 15. The same private_key_jwt client assertion is accepted twice (RFC 7523 §3 item 7, OIDC
/// Core §9: single use; the catalog grades it SHOULD, so a warning).
#[tokio::test]
async fn client_assertion_replay_accepted() {
    flags(Fault::AuthAssertionReplay, &[("issuance.assertion-replay-refused", Verdict::Warn)]).await;
}

/// 16. A jwt-bearer assertion MACed with HS256 under the trusted issuer's public key is
/// accepted: algorithm confusion (RFC 8725 §2.1, §3.1; RFC 7523 §3 item 9).
#[tokio::test]
async fn jwt_bearer_hs256_keyed_with_public_key_accepted() {
    flags(Fault::JwtBearerAcceptHs256PublicKey, &[("federation.hs256-public-key-refused", Verdict::Fail)]).await;
}

/// 17. A client registered for client_secret_basic authenticates with its secret in the form
/// body, and a private_key_jwt client gets tokens with its client_id alone (RFC 7591 §2: the
/// registered token_endpoint_auth_method; RFC 6749 §3.2.1).
#[tokio::test]
async fn unregistered_authentication_method_accepted() {
    flags(
        Fault::AuthAllowUnregisteredMethod,
        &[("issuance.secret-by-other-method-refused", Verdict::Fail), ("issuance.client-id-alone-refused", Verdict::Fail)],
    )
    .await;
}
