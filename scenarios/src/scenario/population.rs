//! An agent population: N agents, each acting M times an hour, each needing an access token
//! to act. How many tokens the authorization server must issue depends on whether agents
//! cache them: with no cache every action is a token request; reusing a token until it
//! expires (minus the clock skew allowance) needs one per token lifetime. This scenario
//! drives the population at its real arrival rate (N × M / 3600 actions a second, agent
//! `i mod N` acting in slot `i`) and reports the token volume, modelled and measured.
//!
//! The steady-state model, with each agent acting every P = 3600 / M seconds and a token good
//! for V = lifetime − skew: a reused token serves max(1, ⌈V / P⌉) actions, so the server issues
//! N / (P · max(1, ⌈V / P⌉)) tokens a second, against N / P with no cache.

use super::issuance::{client_credentials, judge_token};
use crate::outcome::Outcome;
use crate::wire::Wire;
use agentcert_engine::profile::ClientRole;
use agentcert_engine::results::TokenVolume;
use goose::prelude::GooseUser;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most agents one run simulates (each keeps a small cache entry).
pub const MAX_AGENTS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCache {
    /// A new token for every action.
    None,
    /// Reuse each agent's token until it expires, minus the clock skew.
    Reuse,
}

impl TokenCache {
    pub fn parse(s: &str) -> Result<TokenCache, String> {
        match s {
            "none" => Ok(TokenCache::None),
            "reuse" => Ok(TokenCache::Reuse),
            _ => Err(format!("token cache `{s}` is not `none` or `reuse`")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            TokenCache::None => "none",
            TokenCache::Reuse => "reuse",
        }
    }
}

/// Each agent's cached token, and the one a reusing cache would hold (the shadow), so that a
/// `none` run still measures what reuse would have saved.
#[derive(Debug, Default, Clone, Copy)]
struct Agent {
    valid_until: Option<Instant>,
    shadow_valid_until: Option<Instant>,
}

#[derive(Debug)]
pub struct Population {
    pub client: ClientRole,
    pub agents: u64,
    pub actions_per_hour: f64,
    pub cache: TokenCache,
    pub clock_skew: Duration,
    /// The profile's longest token lifetime, for when answers carry no `expires_in`.
    pub fallback_lifetime: Duration,
    state: Vec<Mutex<Agent>>,
    lifetime_seen: Mutex<Option<Duration>>,
    actions: AtomicU64,
    issued: AtomicU64,
    shadow_issued: AtomicU64,
}

impl Population {
    pub fn new(
        client: ClientRole,
        agents: u64,
        actions_per_hour: f64,
        cache: TokenCache,
        clock_skew: Duration,
        fallback_lifetime: Duration,
    ) -> Self {
        Population {
            client,
            agents,
            actions_per_hour,
            cache,
            clock_skew,
            fallback_lifetime,
            state: (0..agents).map(|_| Mutex::default()).collect(),
            lifetime_seen: Mutex::new(None),
            actions: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            shadow_issued: AtomicU64::new(0),
        }
    }

    /// Actions a second, the population's arrival rate.
    pub fn rate(agents: u64, actions_per_hour: f64) -> f64 {
        agents as f64 * actions_per_hour / 3600.0
    }

    fn agent(&self, slot: u64) -> std::sync::MutexGuard<'_, Agent> {
        self.state[(slot % self.agents) as usize].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn act(&self, user: &mut GooseUser, wire: &Wire, slot: u64) -> Outcome {
        self.actions.fetch_add(1, Relaxed);
        let now = Instant::now();
        let cached = *self.agent(slot);
        let expired = |until: Option<Instant>| until.is_none_or(|t| now >= t);
        if self.cache == TokenCache::Reuse && !expired(cached.valid_until) {
            return Outcome::LOCAL;
        }
        let answer = match client_credentials(user, wire, self.client).await {
            Ok(a) => a,
            Err(class) => return Outcome::failed(class),
        };
        let outcome = judge_token(&answer);
        if outcome.error.is_some() {
            return outcome;
        }
        self.issued.fetch_add(1, Relaxed);
        let lifetime = answer.expires_in().filter(|s| *s > 0.0).map(Duration::from_secs_f64).unwrap_or(self.fallback_lifetime);
        self.lifetime_seen.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(lifetime);
        let until = now + lifetime.saturating_sub(self.clock_skew);
        let mut agent = self.agent(slot);
        agent.valid_until = Some(until);
        if expired(agent.shadow_valid_until) {
            self.shadow_issued.fetch_add(1, Relaxed);
            agent.shadow_valid_until = Some(until);
        }
        outcome
    }

    /// The token volume after a run of `elapsed`.
    pub fn token_volume(&self, elapsed: Duration) -> TokenVolume {
        let lifetime = self.lifetime_seen.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(self.fallback_lifetime);
        let (none, reuse) = model(self.agents, self.actions_per_hour, lifetime.saturating_sub(self.clock_skew));
        let actions = self.actions.load(Relaxed);
        let issued = self.issued.load(Relaxed);
        let reuse_issued = match self.cache {
            TokenCache::Reuse => issued,
            TokenCache::None => self.shadow_issued.load(Relaxed),
        };
        TokenVolume {
            agents: self.agents,
            actions_per_hour: self.actions_per_hour,
            token_cache: self.cache.name().into(),
            token_lifetime_s: lifetime.as_secs_f64(),
            clock_skew_s: self.clock_skew.as_secs_f64(),
            actions,
            tokens_issued: issued,
            tokens_per_s: round3(issued as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)),
            model_tokens_per_s_none: round3(none),
            model_tokens_per_s_reuse: round3(reuse),
            model_saving_ratio: round3(none / reuse),
            measured_saving_ratio: if reuse_issued == 0 { 0.0 } else { round3(actions as f64 / reuse_issued as f64) },
        }
    }
}

/// Steady-state tokens a second with no cache and with reuse, for `agents` acting
/// `actions_per_hour` with tokens good for `valid`.
pub fn model(agents: u64, actions_per_hour: f64, valid: Duration) -> (f64, f64) {
    let period = 3600.0 / actions_per_hour;
    let actions_per_token = (valid.as_secs_f64() / period).ceil().max(1.0);
    let none = agents as f64 / period;
    (none, none / actions_per_token)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_saves_one_token_per_lifetime() {
        // 1000 agents acting once a minute, tokens good for 300 s minus 60 s of skew: each
        // token serves 4 actions.
        let (none, reuse) = model(1000, 60.0, Duration::from_secs(240));
        assert!((none - 1000.0 / 60.0).abs() < 1e-9);
        assert!((none / reuse - 4.0).abs() < 1e-9);
        // A token good for less than the gap between actions saves nothing.
        let (none, reuse) = model(10, 6.0, Duration::from_secs(240));
        assert_eq!(none, reuse);
        // Nor does one that expires within the skew.
        let (none, reuse) = model(10, 3600.0, Duration::ZERO);
        assert_eq!(none, reuse);
    }

    #[test]
    fn cache_policies_parse() {
        assert_eq!(TokenCache::parse("none").unwrap(), TokenCache::None);
        assert_eq!(TokenCache::parse("reuse").unwrap(), TokenCache::Reuse);
        assert!(TokenCache::parse("lru").unwrap_err().contains("not `none` or `reuse`"));
    }
}
