//! Judging an error answer against the error code a rule names, in strict or lenient mode.
//!
//! A server that refuses what it must refuse, but with another code than the RFC names
//! (`invalid_grant` where RFC 8693 §2.2.2 says `invalid_request`), is wrong in strict mode and
//! only worth a warning in lenient mode (`[target] mode = "lenient"`). A server that grants what
//! it must refuse, answers 5xx, or says nothing readable is wrong in either mode.

use agentcert_engine::oauth::TokenAnswer;
use agentcert_engine::profile::Mode;
use agentcert_engine::{Ctx, Outcome, Verdict};

/// The outcome for a code mismatch: `fail` in strict mode, `warn` in lenient mode.
pub fn mismatch(ctx: &Ctx, reason: impl Into<String>) -> Outcome {
    mismatch_in(ctx.profile().target.mode, reason)
}

/// [`mismatch`] for a given mode.
pub fn mismatch_in(mode: Mode, reason: impl Into<String>) -> Outcome {
    let reason = reason.into();
    match mode {
        Mode::Strict => Outcome::fail(reason),
        Mode::Lenient => Outcome { verdict: Verdict::Warn, reason: format!("{reason} (lenient mode: reported as a warning)") },
    }
}

/// Judges a token-endpoint answer to a request that must be refused with one of `expected`
/// (the first is the one the rule names). `what` says what was sent ("a garbage subject_token"),
/// `rule` where the code comes from ("RFC 8693 §2.2.2").
///
/// - an access token, or any 2xx: `fail` (the request was granted);
/// - a 5xx: `fail` (RFC 6749 §5.2 answers client mistakes with 400/401);
/// - a 4xx with an expected code: `pass`;
/// - a 4xx with another code, or no readable `error`: [`mismatch`].
pub fn refused_with(ctx: &Ctx, answer: &TokenAnswer, expected: &[&str], what: &str, rule: &str) -> Outcome {
    refused_with_in(ctx.profile().target.mode, answer, expected, what, rule)
}

/// [`refused_with`] for a given mode.
pub fn refused_with_in(mode: Mode, answer: &TokenAnswer, expected: &[&str], what: &str, rule: &str) -> Outcome {
    let named = expected.first().copied().unwrap_or("an error");
    if answer.is_success() || (200..300).contains(&answer.status) {
        return Outcome::fail(format!("{what} was accepted ({}); {rule} requires {named}", answer.describe()));
    }
    if answer.status >= 500 {
        return Outcome::fail(format!("{what} caused a server error ({}); {rule} requires {named}", answer.describe()));
    }
    match answer.error() {
        Some(code) if expected.contains(&code) => Outcome::pass(format!("{what} was refused: {}", answer.describe())),
        Some(_) => mismatch_in(mode, format!("{what} was refused, but with {} where {rule} names {named}", answer.describe())),
        None => mismatch_in(mode, format!("{what} was refused ({}) without an error code; {rule} names {named}", answer.describe())),
    }
}

/// Folds several judgements of one rule into one: the worst verdict (error, fail, warn, skip,
/// pass, in that order), with every reason.
pub fn all(outcomes: Vec<Outcome>) -> Outcome {
    let rank = |v: Verdict| match v {
        Verdict::Pass => 0,
        Verdict::Skip => 1,
        Verdict::Warn => 2,
        Verdict::Fail => 3,
        Verdict::Error => 4,
    };
    let verdict = outcomes.iter().map(|o| o.verdict).max_by_key(|v| rank(*v)).unwrap_or(Verdict::Pass);
    let reason = outcomes.iter().map(|o| o.reason.as_str()).collect::<Vec<_>>().join("; ");
    Outcome { verdict, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: serde_json::Value) -> TokenAnswer {
        TokenAnswer { status, body: body.as_object().cloned() }
    }

    fn verdict(mode: Mode, status: u16, body: serde_json::Value) -> Verdict {
        refused_with_in(mode, &answer(status, body), &["invalid_request"], "x", "RFC 8693 §2.2.2").verdict
    }

    #[test]
    fn grades_refusals_by_mode() {
        let wrong = json!({"error": "invalid_grant"});
        assert_eq!(verdict(Mode::Strict, 400, json!({"error": "invalid_request"})), Verdict::Pass);
        assert_eq!(verdict(Mode::Strict, 400, wrong.clone()), Verdict::Fail);
        assert_eq!(verdict(Mode::Lenient, 400, wrong), Verdict::Warn);
        assert_eq!(verdict(Mode::Lenient, 400, json!({})), Verdict::Warn);
        assert_eq!(verdict(Mode::Lenient, 200, json!({"access_token": "t"})), Verdict::Fail);
        assert_eq!(verdict(Mode::Lenient, 500, json!({"error": "server_error"})), Verdict::Fail);
    }
}
