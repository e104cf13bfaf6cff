//! The load scenarios. Each is one operation, repeated on the pacer's schedule, that speaks to
//! the target only over HTTP, authenticating the way its profile says.
//!
//! jwt-bearer (RFC 7523 §2.1 federation) runs only against a target that offers the grant and
//! trusts the profile's partner; otherwise it is skipped with a note. push-revocation runs
//! only against a Shared Signals Transmitter, likewise.

mod exchange;
mod issuance;
pub mod jwt_bearer;
mod population;
pub mod push_revocation;
mod revocation;

pub use exchange::Exchange;
pub use issuance::Issuance;
pub use jwt_bearer::JwtBearer;
pub use population::{model as population_model, Population, TokenCache, MAX_AGENTS};
pub use push_revocation::PushRevocation;
pub use revocation::{poll_delays, Revocation};

use crate::outcome::Outcome;
use crate::wire::Wire;
use goose::prelude::GooseUser;

/// The scenarios by name, as `--scenario` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScenarioName {
    Issuance,
    Exchange,
    Revocation,
    Population,
    JwtBearer,
    PushRevocation,
}

impl ScenarioName {
    pub const ALL: [ScenarioName; 6] = [
        ScenarioName::Issuance,
        ScenarioName::Exchange,
        ScenarioName::Revocation,
        ScenarioName::Population,
        ScenarioName::JwtBearer,
        ScenarioName::PushRevocation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScenarioName::Issuance => "issuance",
            ScenarioName::Exchange => "exchange",
            ScenarioName::Revocation => "revocation",
            ScenarioName::Population => "population",
            ScenarioName::JwtBearer => "jwt-bearer",
            ScenarioName::PushRevocation => "push-revocation",
        }
    }

    pub fn parse(s: &str) -> Result<ScenarioName, String> {
        ScenarioName::ALL.into_iter().find(|n| n.name() == s).ok_or_else(|| {
            let known: Vec<&str> = ScenarioName::ALL.iter().map(|n| n.name()).collect();
            format!("unknown scenario `{s}`: the scenarios are {}", known.join(", "))
        })
    }
}

/// A scenario, ready to run.
#[derive(Debug)]
pub enum Scenario {
    Issuance(Issuance),
    Exchange(Exchange),
    Revocation(Revocation),
    Population(Population),
    JwtBearer(JwtBearer),
    PushRevocation(PushRevocation),
}

impl Scenario {
    pub fn name(&self) -> ScenarioName {
        match self {
            Scenario::Issuance(_) => ScenarioName::Issuance,
            Scenario::Exchange(_) => ScenarioName::Exchange,
            Scenario::Revocation(_) => ScenarioName::Revocation,
            Scenario::Population(_) => ScenarioName::Population,
            Scenario::JwtBearer(_) => ScenarioName::JwtBearer,
            Scenario::PushRevocation(_) => ScenarioName::PushRevocation,
        }
    }

    /// One operation, for schedule slot `slot`.
    pub async fn act(&self, user: &mut GooseUser, wire: &Wire, slot: u64) -> Outcome {
        match self {
            Scenario::Issuance(s) => s.act(user, wire).await,
            Scenario::Exchange(s) => s.act(user, wire).await,
            Scenario::Revocation(s) => s.act(user, wire).await,
            Scenario::Population(s) => s.act(user, wire, slot).await,
            Scenario::JwtBearer(s) => s.act(user, wire).await,
            Scenario::PushRevocation(s) => s.act(user, wire, slot).await,
        }
    }

    /// What the latency figures measure from.
    pub fn latency_basis(&self, open: bool) -> &'static str {
        match (self, open) {
            (Scenario::Revocation(_) | Scenario::PushRevocation(_), _) => "revoke call start",
            (_, true) => "intended send time",
            (_, false) => "service time",
        }
    }
}
