//! agentcert's load scenarios: what an authorization server serving AI agents must sustain,
//! measured so that the numbers can be trusted.
//!
//! Goose drives the users; agentcert puts an arrival-rate pacer in front of them and records
//! latency into HdrHistogram from each request's *intended* send time. That is the open
//! model, and it is the default, because a closed-loop generator (each user waits for its
//! answer before sending the next) stops sending when the server stalls and so leaves the
//! stall out of its percentiles: coordinated omission, as Gil Tene named it, and as wrk2
//! corrects it. Closed-model runs are still there for maximum throughput, labelled "service
//! time".
//!
//! - [`plan`]: what the command line asked for, checked ([`pace`] parses rates, durations,
//!   ramps; [`threshold`] the pass/fail rules).
//! - [`safety`]: loopback only unless told otherwise; every run bounded.
//! - [`pacer`]: the schedule, and the late/dropped books.
//! - [`scenario`]: issuance, exchange, revocation, push-revocation, population, jwt-bearer —
//!   each one operation.
//! - [`wire`]: the OAuth requests, through Goose, authenticated per the profile.
//! - [`attack`]: one scenario under Goose.
//! - [`histogram`]: interval logs and percentile tables.
//! - [`report`]: the live line, the summary table, the results document.
//! - [`capacity`]: `--find-capacity`, the highest rate that meets an SLO, step by step.
//! - [`worker`]: one process's share of a load split over several; [`merge`] puts the
//!   workers' results back together, histograms losslessly.

pub mod attack;
pub mod capacity;
pub mod histogram;
pub mod merge;
pub mod outcome;
pub mod pace;
pub mod pacer;
pub mod plan;
pub mod report;
pub mod run;
pub mod safety;
pub mod scenario;
pub mod threshold;
pub mod wire;
pub mod worker;

pub use plan::{LoadOptions, LoadPlan};
pub use report::{missed, results_document, summary_table};
pub use run::run;
