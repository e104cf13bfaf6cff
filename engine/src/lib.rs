//! agentcert's engine: everything a conformance check needs, and nothing about any one server.
//!
//! The engine knows how to talk to an OAuth 2.0 authorization server over HTTP and how to
//! record what was said; it knows the roles the harness plays around the server under test
//! (agent clients, the home issuer that mints user tokens, the partner organization whose
//! assertions it federates, the signals receiver that revocation events are pushed to); and
//! it knows the check model and the runner that turns checks into verdicts. The checks themselves live in
//! `agentcert-suites`, and the renderers in `agentcert-reports`.

pub mod catalog;
pub mod check;
pub mod client_auth;
pub mod context;
pub mod discovery;
pub mod evidence;
#[doc(hidden)]
pub mod fuzzing;
pub mod home_issuer;
pub mod http;
pub mod issuer_server;
pub mod jose;
pub mod oauth;
pub mod partner;
pub mod profile;
pub mod receiver;
pub mod redact;
pub mod results;
pub mod runner;

pub use catalog::{Catalog, Level, Requirement, Tier};
pub use check::{Capability, Check, CheckFuture, Outcome, Verdict};
pub use context::Ctx;
pub use profile::{ClientRole, TargetProfile};
pub use results::RunResults;

/// Errors that stop the harness before it can judge anything (exit code 2): a profile that
/// cannot be read, a target that cannot be reached, a server that is not an authorization
/// server. Failures of the server under test are verdicts, never this.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("target profile {path}: {message}")]
    Profile { path: String, message: String },
    #[error("cannot reach the target at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("{url} is not an OAuth 2.0 authorization server: {message}")]
    NotAnAuthorizationServer { url: String, message: String },
    #[error("{0}")]
    Setup(String),
}
