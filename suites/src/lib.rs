//! agentcert's conformance checks. One module per suite; each module's `checks()` lists its
//! checks in the order they run. Every check cites requirement ids from the catalog in
//! `requirements.toml`, and talks to the server under test only over HTTP, through the
//! engine's [`Ctx`](agentcert_engine::Ctx).

use agentcert_engine::{Catalog, Check};

pub mod access_token;
pub mod audit;
pub mod delegation;
pub mod discovery;
pub mod expect;
pub mod federation;
pub mod introspection;
pub mod issuance;
pub mod latency;
pub mod listing;
pub mod push;
pub mod revocation;
pub mod revocation_bound;

/// The suites, in run order. Discovery comes first: later suites rely on its endpoints.
pub const SUITES: &[(&str, &str)] = &[
    ("discovery", "Authorization server metadata and JWKS (RFC 8414, RFC 7517)"),
    ("issuance", "Client credentials, client authentication and token endpoint errors (RFC 6749, RFC 7523)"),
    ("access-token", "JWT access tokens: header, signature and claims (RFC 9068)"),
    ("introspection", "Token introspection: live, dead and forged tokens, and who may ask (RFC 7662)"),
    ("revocation", "Token revocation: by the owner only, at once, cascading to exchanged tokens (RFC 7009)"),
    ("delegation", "Token exchange for agents: act, may_act, and attenuation of scope, audience and lifetime (RFC 8693)"),
    ("audit", "Attribution: every token names its jti, subject, client and actor chain, and exchanges carry the chain intact (RFC 9068, RFC 8693)"),
    ("federation", "Partner organizations' JWT bearer grants: trust, audience, expiry, signature, replay and key rotation (RFC 7523)"),
    ("push", "Push revocation: the server as a Shared Signals Transmitter, CAEP events in signed SETs, pushed or polled, in time (SSF 1.0, CAEP 1.0, RFC 8417, RFC 8935, RFC 8936)"),
];

/// Every check of every suite, in run order.
pub fn all_checks() -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(discovery::checks());
    checks.extend(issuance::checks());
    checks.extend(access_token::checks());
    checks.extend(introspection::checks());
    checks.extend(revocation::checks());
    checks.extend(revocation_bound::checks());
    checks.extend(delegation::checks());
    checks.extend(audit::checks());
    checks.extend(federation::checks());
    checks.extend(push::checks());
    checks
}

/// The checks of the named suites (all of them when `names` is empty). Unknown names are an
/// error that lists the known ones.
pub fn select(names: &[String]) -> Result<Vec<Check>, String> {
    for n in names {
        if !SUITES.iter().any(|(s, _)| s == n) {
            let known: Vec<_> = SUITES.iter().map(|(s, _)| *s).collect();
            return Err(format!("unknown suite `{n}`; the suites are: {}", known.join(", ")));
        }
    }
    Ok(all_checks().into_iter().filter(|c| names.is_empty() || names.iter().any(|n| n == c.suite)).collect())
}

/// The requirement catalog, compiled in from `requirements.toml`.
pub fn catalog() -> Catalog {
    Catalog::from_toml(include_str!("../requirements.toml")).expect("requirements.toml is valid (tested)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_check_cites_known_requirements_and_ids_are_unique() {
        let catalog = catalog();
        let mut seen = HashSet::new();
        for c in all_checks() {
            assert!(seen.insert(c.id), "duplicate check id {}", c.id);
            assert!(!c.requirements.is_empty(), "{} cites no requirement", c.id);
            for r in c.requirements {
                assert!(catalog.get(r).is_some(), "{} cites {r}, which is not in requirements.toml", c.id);
            }
            assert!(c.id.starts_with(&format!("{}.", c.suite)), "{} should start with its suite name", c.id);
            assert!(SUITES.iter().any(|(s, _)| *s == c.suite), "{} is in unknown suite {}", c.id, c.suite);
        }
    }

    /// The catalog and the checks agree: every core requirement is checked or excluded with a
    /// reason, and no requirement is both (an exclusion with a check is a stale reason).
    #[test]
    fn core_requirements_are_checked_or_excluded_and_never_both() {
        let checks = all_checks();
        let checked = |id: &str| checks.iter().any(|c| c.requirements.contains(&id));
        let mut open = Vec::new();
        for r in catalog().requirements.values() {
            match &r.excluded {
                Some(why) => {
                    assert!(!why.trim().is_empty(), "{} is excluded with an empty reason", r.id);
                    let by: Vec<&str> = checks.iter().filter(|c| c.requirements.contains(&r.id.as_str())).map(|c| c.id).collect();
                    assert!(by.is_empty(), "{} is excluded ({why}) yet checked by {by:?}: drop the exclusion", r.id);
                }
                None if r.tier == agentcert_engine::Tier::Core && !checked(&r.id) => open.push(r.id.as_str().to_owned()),
                None => {}
            }
        }
        assert!(open.is_empty(), "core requirements with neither a check nor an `excluded` reason: {open:?}");
    }
}
