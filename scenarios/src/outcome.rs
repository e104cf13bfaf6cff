//! What became of one operation, and the classes failures are counted by. Under load a server
//! fails in ways that matter differently (it refuses, it breaks, it stops answering, it
//! answers but forgets a revocation), so errors are counted by class and never folded into
//! one number.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The server refused (HTTP 4xx): under load, usually rate limiting or a replay cache.
    Status4xx,
    /// The server broke (HTTP 5xx).
    Status5xx,
    /// Any other status where a success was expected (1xx, 3xx).
    StatusOther,
    /// No answer within the request timeout.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The connection failed some other way.
    Transport,
    /// HTTP 200, but not the document the protocol says (no `access_token`, no `active`).
    BadResponse,
    /// A revoked token still introspected active after the profile's `revoke_within`.
    NotPropagated,
    /// push-revocation: no session-revoked SET about the revoked token arrived in time.
    NotDelivered,
    /// push-revocation: a SET arrived that broke a rule (signature, `iss`, `aud`, ...).
    InvalidSet,
    /// The harness could not build the request (a client key it cannot use).
    Harness,
}

impl ErrorClass {
    pub fn key(self) -> &'static str {
        match self {
            ErrorClass::Status4xx => "status-4xx",
            ErrorClass::Status5xx => "status-5xx",
            ErrorClass::StatusOther => "status-other",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Connect => "connect",
            ErrorClass::Transport => "transport",
            ErrorClass::BadResponse => "bad-response",
            ErrorClass::NotPropagated => "not-propagated",
            ErrorClass::NotDelivered => "not-delivered",
            ErrorClass::InvalidSet => "invalid-set",
            ErrorClass::Harness => "harness",
        }
    }

    /// The class of an unexpected HTTP status.
    pub fn of_status(status: u16) -> ErrorClass {
        match status {
            400..=499 => ErrorClass::Status4xx,
            500..=599 => ErrorClass::Status5xx,
            _ => ErrorClass::StatusOther,
        }
    }

    pub fn of_transport(e: &reqwest::Error) -> ErrorClass {
        if e.is_timeout() {
            ErrorClass::Timeout
        } else if e.is_connect() {
            ErrorClass::Connect
        } else {
            ErrorClass::Transport
        }
    }
}

/// How an operation's latency is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// From the slot's basis (intended send time, or actual send for service time) to now.
    SinceBasis,
    /// Measured by the scenario itself (revocation propagation).
    Measured(Duration),
    /// Nothing to record: no answer came, or the operation needed no request.
    None,
}

/// One operation's result. An error with a latency was answered (an HTTP error status): it is
/// timed, as wrk2 times non-2xx answers. A transport failure has no latency to record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub error: Option<ErrorClass>,
    pub latency: Latency,
}

impl Outcome {
    pub const OK: Outcome = Outcome { error: None, latency: Latency::SinceBasis };
    /// Succeeded without asking the server anything (a cached token).
    pub const LOCAL: Outcome = Outcome { error: None, latency: Latency::None };

    pub fn answered_error(class: ErrorClass) -> Outcome {
        Outcome { error: Some(class), latency: Latency::SinceBasis }
    }
    pub fn failed(class: ErrorClass) -> Outcome {
        Outcome { error: Some(class), latency: Latency::None }
    }
    pub fn measured(d: Duration) -> Outcome {
        Outcome { error: None, latency: Latency::Measured(d) }
    }
}

/// Errors by class, shared by every user.
#[derive(Debug, Default)]
pub struct ErrorCounts(Mutex<BTreeMap<ErrorClass, u64>>);

impl ErrorCounts {
    pub fn add(&self, class: ErrorClass) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(class).or_default() += 1;
    }
    pub fn total(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).values().sum()
    }
    pub fn by_class(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(c, n)| (c.key().to_string(), *n)).collect()
    }
}
