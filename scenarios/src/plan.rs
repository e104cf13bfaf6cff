//! A load plan: which scenarios, in what shape, under which limits and thresholds. Built from
//! the command line's words ([`LoadOptions`]) with one-line errors, so that the CLI stays a
//! parser and every rule about what makes sense lives here.

use crate::pace::{self, Step, MAX_IN_FLIGHT, MAX_REQUESTS};
use crate::pacer::Schedule;
use crate::scenario::push_revocation::{DEFAULT_BACKGROUND, MAX_BACKGROUND};
use crate::scenario::{Population, ScenarioName, TokenCache, MAX_AGENTS};
use crate::threshold::Threshold;
use agentcert_engine::profile::ClientRole;
use std::time::Duration;

pub const DEFAULT_RATE: &str = "200/s";
pub const DEFAULT_DURATION: &str = "5s";
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
pub const DEFAULT_CONCURRENCY: usize = 8;
pub const DEFAULT_AGENTS: u64 = 1000;
pub const DEFAULT_ACTIONS_PER_HOUR: f64 = 360.0;

/// The command line's words, unparsed.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub scenarios: Vec<String>,
    pub rate: Option<String>,
    pub duration: Option<String>,
    pub model: Option<String>,
    pub concurrency: Option<usize>,
    pub ramp: Option<String>,
    pub max_requests: Option<u64>,
    pub max_in_flight: Option<usize>,
    pub thresholds: Vec<String>,
    pub client: Option<String>,
    pub agents: Option<u64>,
    pub actions_per_hour: Option<String>,
    pub token_cache: Option<String>,
    /// push-revocation: client-credentials requests per revocation, sent beside it.
    pub background_issuance: Option<String>,
    pub allow_remote: bool,
}

/// How load is offered.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Open model: arrivals on a schedule (one step: constant rate; several: a ramp).
    Open { steps: Vec<Step>, ramp: bool },
    /// Closed model: `concurrency` users back to back.
    Closed { concurrency: usize, duration: Duration },
}

impl Shape {
    pub fn model(&self) -> &'static str {
        match self {
            Shape::Open { ramp: false, .. } => "open",
            Shape::Open { ramp: true, .. } => "ramp",
            Shape::Closed { .. } => "closed",
        }
    }
    pub fn duration(&self) -> Duration {
        match self {
            Shape::Open { steps, .. } => steps.iter().map(|s| s.duration).sum(),
            Shape::Closed { duration, .. } => *duration,
        }
    }
}

/// One scenario in one shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub scenario: ScenarioName,
    pub shape: Shape,
}

/// The population scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopulationPlan {
    pub agents: u64,
    pub actions_per_hour: f64,
    pub cache: TokenCache,
}

#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub jobs: Vec<Job>,
    pub max_requests: u64,
    /// Goose users in the open model: the cap on operations in flight.
    pub max_in_flight: usize,
    /// The client that issuance, exchange and population act as (default agent_a).
    pub client: ClientRole,
    pub population: PopulationPlan,
    pub thresholds: Vec<Threshold>,
    /// push-revocation: plain client-credentials requests per revocation, sent beside the
    /// revocations (0: none).
    pub background_issuance: f64,
    pub allow_remote: bool,
    /// Skip (with a note on stderr) a scenario the target cannot serve, instead of refusing
    /// the run: for the load phase of `agentcert run`, which must not fail a conformance run
    /// over, say, a missing revocation endpoint.
    pub best_effort: bool,
}

impl LoadPlan {
    pub fn from_options(o: &LoadOptions) -> Result<LoadPlan, String> {
        let mut names = vec![];
        for s in o.scenarios.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
            let name = ScenarioName::parse(s)?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            return Err("name a scenario with --scenario (issuance, exchange, revocation, push-revocation, population, jwt-bearer)".into());
        }
        let duration = pace::parse_duration(o.duration.as_deref().unwrap_or(DEFAULT_DURATION))?;
        let model = o.model.as_deref().unwrap_or(if o.ramp.is_some() { "ramp" } else { "open" });
        let shape = match model {
            "open" | "ramp" if o.concurrency.is_some() => {
                return Err("--concurrency is for --model closed; the open model's cap is --max-in-flight".into())
            }
            "open" if o.ramp.is_some() => return Err("--ramp is its own model; drop --model open".into()),
            "open" => {
                let rate = pace::parse_rate(o.rate.as_deref().unwrap_or(DEFAULT_RATE))?;
                Shape::Open { steps: vec![Step { rate, duration }], ramp: false }
            }
            "ramp" => {
                let ramp = o.ramp.as_deref().ok_or("--model ramp needs --ramp, as in --ramp 50/s:10s,100/s:10s")?;
                if o.rate.is_some() || o.duration.is_some() {
                    return Err("--ramp sets the rate and the duration; drop --rate and --duration".into());
                }
                Shape::Open { steps: pace::parse_ramp(ramp)?, ramp: true }
            }
            "closed" => {
                if o.ramp.is_some() || o.rate.is_some() {
                    return Err("--model closed runs at whatever rate the server sustains; drop --rate and --ramp".into());
                }
                let concurrency = o.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
                if concurrency == 0 || concurrency > MAX_IN_FLIGHT {
                    return Err(format!("--concurrency must be 1 to {MAX_IN_FLIGHT}"));
                }
                Shape::Closed { concurrency, duration }
            }
            other => return Err(format!("model `{other}` is not open, closed or ramp")),
        };
        let max_requests = o.max_requests.unwrap_or(MAX_REQUESTS);
        if max_requests == 0 || max_requests > MAX_REQUESTS {
            return Err(format!("--max-requests must be 1 to {MAX_REQUESTS}"));
        }
        let max_in_flight = o.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
        if max_in_flight == 0 || max_in_flight > MAX_IN_FLIGHT {
            return Err(format!("--max-in-flight must be 1 to {MAX_IN_FLIGHT}"));
        }
        let client = match o.client.as_deref() {
            None => ClientRole::AgentA,
            Some(c) => ClientRole::ALL.into_iter().find(|r| r.key() == c).ok_or_else(|| {
                let known: Vec<&str> = ClientRole::ALL.iter().map(|r| r.key()).collect();
                format!("client `{c}` is not one of {}", known.join(", "))
            })?,
        };
        let population = population_plan(o)?;

        let mut jobs = vec![];
        for scenario in names {
            let shape = if scenario == ScenarioName::Population {
                if !matches!(shape, Shape::Open { ramp: false, .. }) {
                    return Err("population arrives at its own rate (--agents × --actions-per-hour); it runs in the open model only".into());
                }
                if o.rate.is_some() && o.scenarios.len() == 1 {
                    return Err("population's rate is --agents × --actions-per-hour / 3600; drop --rate".into());
                }
                let rate = Population::rate(population.agents, population.actions_per_hour);
                if rate > pace::MAX_RATE {
                    return Err(format!(
                        "population of {} agents at {}/h is {rate:.0} actions/s, above agentcert's limit of {}/s",
                        population.agents,
                        population.actions_per_hour,
                        pace::MAX_RATE
                    ));
                }
                Shape::Open { steps: vec![Step { rate, duration }], ramp: false }
            } else {
                shape.clone()
            };
            if let Shape::Open { steps, .. } = &shape {
                if Schedule::new(steps, max_requests).total() == 0 {
                    return Err(format!("{}: the rate × duration is less than one operation", scenario.name()));
                }
            }
            jobs.push(Job { scenario, shape });
        }

        let mut thresholds = vec![];
        for rule in &o.thresholds {
            let t = Threshold::parse(rule)?;
            if let Some(s) = t.scenario {
                if !jobs.iter().any(|j| j.scenario == s) {
                    return Err(format!("threshold `{rule}` names scenario {} which this run does not include", s.name()));
                }
            }
            thresholds.push(t);
        }
        let background_issuance = background_issuance(o, &jobs)?;
        Ok(LoadPlan {
            jobs,
            max_requests,
            max_in_flight,
            client,
            population,
            thresholds,
            background_issuance,
            allow_remote: o.allow_remote,
            best_effort: false,
        })
    }

    /// The load phase of `agentcert run`: a short issuance load and a revocation-latency
    /// load, enough to put a number on both without turning a conformance run into a soak;
    /// and, against a Shared Signals Transmitter, the push-revocation latency beside it (it
    /// is skipped with a note otherwise).
    pub fn run_phase(allow_remote: bool) -> LoadPlan {
        let open = |rate: f64| Shape::Open { steps: vec![Step { rate, duration: Duration::from_secs(3) }], ramp: false };
        LoadPlan {
            jobs: vec![
                Job { scenario: ScenarioName::Issuance, shape: open(50.0) },
                Job { scenario: ScenarioName::Revocation, shape: open(10.0) },
                Job { scenario: ScenarioName::PushRevocation, shape: open(10.0) },
            ],
            max_requests: MAX_REQUESTS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            client: ClientRole::AgentA,
            population: PopulationPlan { agents: DEFAULT_AGENTS, actions_per_hour: DEFAULT_ACTIONS_PER_HOUR, cache: TokenCache::Reuse },
            thresholds: vec![],
            background_issuance: DEFAULT_BACKGROUND,
            allow_remote,
            best_effort: true,
        }
    }
}

/// push-revocation's background issuance, a multiple of its rate: bounded like a rate.
fn background_issuance(o: &LoadOptions, jobs: &[Job]) -> Result<f64, String> {
    let push = jobs.iter().find(|j| j.scenario == ScenarioName::PushRevocation);
    let multiple = match o.background_issuance.as_deref() {
        None => DEFAULT_BACKGROUND,
        Some(_) if push.is_none() => return Err("--background-issuance is for the push-revocation scenario".into()),
        Some(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|m| m.is_finite() && (0.0..=MAX_BACKGROUND).contains(m))
            .ok_or_else(|| format!("--background-issuance `{s}` is not a number from 0 to {MAX_BACKGROUND}"))?,
    };
    if let Some(Job { shape: Shape::Open { steps, .. }, .. }) = push {
        let peak = steps.iter().map(|s| s.rate).fold(0.0, f64::max);
        if peak * multiple > pace::MAX_RATE {
            return Err(format!(
                "--background-issuance {multiple} at {peak}/s is {:.0} requests/s, above agentcert's limit of {}/s",
                peak * multiple,
                pace::MAX_RATE
            ));
        }
    }
    Ok(multiple)
}

fn population_plan(o: &LoadOptions) -> Result<PopulationPlan, String> {
    let agents = o.agents.unwrap_or(DEFAULT_AGENTS);
    if agents == 0 || agents > MAX_AGENTS {
        return Err(format!("--agents must be 1 to {MAX_AGENTS}"));
    }
    let actions_per_hour = match o.actions_per_hour.as_deref() {
        None => DEFAULT_ACTIONS_PER_HOUR,
        Some(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("--actions-per-hour `{s}` is not a number above zero"))?,
    };
    let cache = TokenCache::parse(o.token_cache.as_deref().unwrap_or("reuse"))?;
    Ok(PopulationPlan { agents, actions_per_hour, cache })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(scenario: &str) -> LoadOptions {
        LoadOptions { scenarios: vec![scenario.into()], ..Default::default() }
    }

    #[test]
    fn defaults_are_an_open_200_per_second_for_5_seconds() {
        let p = LoadPlan::from_options(&opts("issuance")).unwrap();
        assert_eq!(
            p.jobs,
            [Job {
                scenario: ScenarioName::Issuance,
                shape: Shape::Open { steps: vec![Step { rate: 200.0, duration: Duration::from_secs(5) }], ramp: false }
            }]
        );
        assert_eq!((p.max_in_flight, p.client), (256, ClientRole::AgentA));
    }

    #[test]
    fn models_and_their_conflicts() {
        let closed =
            LoadPlan::from_options(&LoadOptions { model: Some("closed".into()), concurrency: Some(4), ..opts("issuance") }).unwrap();
        assert_eq!(closed.jobs[0].shape, Shape::Closed { concurrency: 4, duration: Duration::from_secs(5) });
        let ramp = LoadPlan::from_options(&LoadOptions { ramp: Some("10/s:1s,20/s:1s".into()), ..opts("issuance") }).unwrap();
        assert_eq!(ramp.jobs[0].shape.model(), "ramp");
        assert_eq!(ramp.jobs[0].shape.duration(), Duration::from_secs(2));
        for (o, says) in [
            (LoadOptions { concurrency: Some(4), ..opts("issuance") }, "--concurrency is for --model closed"),
            (LoadOptions { model: Some("closed".into()), rate: Some("5".into()), ..opts("issuance") }, "drop --rate"),
            (LoadOptions { model: Some("ramp".into()), ..opts("issuance") }, "needs --ramp"),
            (LoadOptions { model: Some("poisson".into()), ..opts("issuance") }, "not open, closed or ramp"),
            (LoadOptions { rate: Some("0.1/s".into()), duration: Some("1s".into()), ..opts("issuance") }, "less than one operation"),
            (LoadOptions { model: Some("closed".into()), ..opts("population") }, "open model only"),
            (LoadOptions { rate: Some("5".into()), ..opts("population") }, "drop --rate"),
            (LoadOptions { client: Some("agent_z".into()), ..opts("issuance") }, "not one of agent_a"),
            (LoadOptions { thresholds: vec!["revocation.p99<1s".into()], ..opts("issuance") }, "does not include"),
            (opts("refresh"), "unknown scenario `refresh`"),
            (LoadOptions { max_requests: Some(0), ..opts("issuance") }, "--max-requests"),
            (LoadOptions { background_issuance: Some("5".into()), ..opts("revocation") }, "is for the push-revocation scenario"),
            (LoadOptions { background_issuance: Some("-1".into()), ..opts("push-revocation") }, "from 0 to 100"),
            (
                LoadOptions { background_issuance: Some("10".into()), rate: Some("20000".into()), ..opts("push-revocation") },
                "above agentcert's limit",
            ),
        ] {
            let e = LoadPlan::from_options(&o).unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{o:?}: {e}");
        }
    }

    #[test]
    fn population_sets_its_own_rate() {
        let o =
            LoadOptions { agents: Some(3600), actions_per_hour: Some("60".into()), token_cache: Some("none".into()), ..opts("population") };
        let p = LoadPlan::from_options(&o).unwrap();
        assert_eq!(p.jobs[0].shape, Shape::Open { steps: vec![Step { rate: 60.0, duration: Duration::from_secs(5) }], ramp: false });
        assert_eq!(p.population.cache, TokenCache::None);
    }

    #[test]
    fn push_revocation_sends_background_issuance_at_a_multiple_of_its_rate() {
        assert_eq!(LoadPlan::from_options(&opts("push-revocation")).unwrap().background_issuance, 5.0);
        let p = LoadPlan::from_options(&LoadOptions { background_issuance: Some("0".into()), ..opts("push-revocation") }).unwrap();
        assert_eq!((p.jobs[0].scenario, p.background_issuance), (ScenarioName::PushRevocation, 0.0));
        let both =
            LoadPlan::from_options(&LoadOptions { scenarios: vec!["revocation".into(), "push-revocation".into()], ..Default::default() })
                .unwrap();
        assert_eq!(both.jobs.iter().map(|j| j.scenario.name()).collect::<Vec<_>>(), ["revocation", "push-revocation"]);
    }

    #[test]
    fn scenarios_may_be_listed_and_repeated() {
        let p =
            LoadPlan::from_options(&LoadOptions { scenarios: vec!["issuance,revocation".into(), "issuance".into()], ..Default::default() })
                .unwrap();
        let names: Vec<_> = p.jobs.iter().map(|j| j.scenario).collect();
        assert_eq!(names, [ScenarioName::Issuance, ScenarioName::Revocation]);
    }
}
