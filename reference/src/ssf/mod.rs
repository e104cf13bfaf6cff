//! The reference server as an OpenID Shared Signals Framework 1.0 Transmitter: when a token
//! dies, every Receiver that asked learns it at once, as a CAEP 1.0 `session-revoked` event in a
//! signed Security Event Token (RFC 8417), pushed (RFC 8935) or left to be polled (RFC 8936).
//!
//! - [`metadata`]: the Transmitter Configuration Metadata (SSF 1.0 §7).
//! - [`auth`]: who may manage streams (SSF 1.0 §8; CAEP Interoperability Profile: OAuth
//!   access tokens from this server, scope `ssf.manage` / `ssf.read`).
//! - [`streams`]: the Configuration Endpoint (SSF 1.0 §8.1.1).
//! - [`control`]: status, subjects and verification (SSF 1.0 §8.1.2 – §8.1.4).
//! - [`set`]: building and signing SETs (SSF 1.0 §4).
//! - [`delivery`]: push and poll (SSF 1.0 §6, RFC 8935, RFC 8936).
//!
//! Streams live in memory, each owned by the client whose access token created it.

pub mod auth;
pub mod control;
pub mod delivery;
pub mod metadata;
pub mod set;
pub mod streams;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::faults::Fault;
use crate::state::AppState;

/// SSF 1.0 §6.1.1: the push delivery method (RFC 8935).
pub const PUSH: &str = "urn:ietf:rfc:8935";
/// SSF 1.0 §6.1.2: the poll delivery method (RFC 8936).
pub const POLL: &str = "urn:ietf:rfc:8936";
/// CAEP 1.0 §3.1.
pub const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP 1.0 §3.2.
pub const TOKEN_CLAIMS_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change";
/// SSF 1.0 §8.1.4.1.
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
/// The event types this Transmitter emits on request (`events_supported`, SSF 1.0 §8.1.1).
pub const EVENTS_SUPPORTED: &[&str] = &[SESSION_REVOKED];

/// SSF 1.0 §8.1.2.1: a stream's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Enabled,
    Paused,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabled => "enabled",
            Status::Paused => "paused",
            Status::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Enabled, Status::Paused, Status::Disabled].into_iter().find(|v| v.as_str() == s)
    }
}

/// SSF 1.0 §6.1: how a stream's SETs reach its Receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// RFC 8935: POSTed to the Receiver's `endpoint_url`, with its `authorization_header`.
    Push { endpoint_url: String, authorization_header: Option<String> },
    /// RFC 8936: queued here until the Receiver polls and acknowledges them.
    Poll,
}

/// One Event Stream (SSF 1.0 §8.1.1).
#[derive(Debug, Clone)]
pub struct Stream {
    pub id: String,
    /// The client whose access token created it; only that client may see or change it.
    pub owner: String,
    /// Transmitter-Supplied `aud`: the owning client's id.
    pub aud: String,
    pub delivery: Delivery,
    pub events_requested: Option<Vec<String>>,
    pub description: Option<String>,
    pub status: Status,
    pub reason: Option<String>,
    /// SETs held while paused (SSF 1.0 §8.1.2.1: "SHOULD hold any events").
    pub held: Vec<(String, String)>,
    /// Poll streams: SETs (jti, SET) not yet acknowledged (RFC 8936 §2).
    pub queue: Vec<(String, String)>,
    /// Subjects the Receiver removed (the default is all subjects: `default_subjects` ALL).
    pub removed: Vec<Value>,
}

impl Stream {
    /// SSF 1.0 §8.1.1 `events_delivered`: supported ∩ requested (all supported when the
    /// Receiver requested nothing).
    pub fn events_delivered(&self) -> Vec<String> {
        EVENTS_SUPPORTED
            .iter()
            .filter(|e| self.events_requested.as_ref().is_none_or(|r| r.iter().any(|x| x == *e)))
            .map(|e| e.to_string())
            .collect()
    }

    /// The stream's configuration as the Configuration Endpoint returns it.
    pub fn config(&self, state: &AppState) -> Value {
        let delivery = match &self.delivery {
            Delivery::Push { endpoint_url, authorization_header } => {
                let mut d = json!({ "method": PUSH, "endpoint_url": endpoint_url });
                if let Some(h) = authorization_header {
                    d["authorization_header"] = json!(h);
                }
                d
            }
            Delivery::Poll => json!({ "method": POLL, "endpoint_url": delivery::poll_url(state, &self.id) }),
        };
        let mut c = json!({
            "stream_id": self.id,
            "iss": state.issuer,
            "aud": self.aud,
            "delivery": delivery,
            "events_supported": EVENTS_SUPPORTED,
            "events_delivered": self.events_delivered(),
        });
        if let Some(r) = &self.events_requested {
            c["events_requested"] = json!(r);
        }
        if let Some(d) = &self.description {
            c["description"] = json!(d);
        }
        c
    }
}

/// Which streams an event goes to.
pub enum Audience<'a> {
    /// Every stream that delivers `event_type` and has not removed `subject`.
    Subscribed { event_type: &'a str },
    /// One stream only (a verification event).
    Stream(&'a str),
}

/// The Transmitter's state: its streams and the HTTP client that pushes.
pub struct Transmitter {
    streams: Mutex<HashMap<String, Stream>>,
    pub http: reqwest::Client,
    /// How long the `ssf-push-delayed` and `introspect-revocation-lag` faults hold things back.
    pub fault_delay: Duration,
}

impl Transmitter {
    pub fn new(fault_delay: Duration) -> anyhow::Result<Transmitter> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Transmitter { streams: Mutex::default(), http, fault_delay })
    }

    pub fn streams(&self) -> MutexGuard<'_, HashMap<String, Stream>> {
        // A poisoned lock only means another request panicked; the map stays usable.
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Signs one SET per stream the event goes to and delivers it as the stream's status allows
/// (SSF 1.0 §8.1.2.1: enabled transmits, paused holds, disabled drops).
pub fn emit(state: &Arc<AppState>, to: Audience<'_>, sub_id: Value, events: Map<String, Value>) {
    let mut pushes = Vec::new();
    {
        let mut streams = state.ssf.streams();
        for stream in streams.values_mut() {
            let wanted = match &to {
                Audience::Stream(id) => stream.id == *id,
                Audience::Subscribed { event_type } => {
                    stream.events_delivered().iter().any(|e| e == event_type) && !stream.removed.contains(&sub_id)
                }
            };
            if !wanted || stream.status == Status::Disabled {
                continue;
            }
            let Some(signed) = set::sign(state, &stream.aud, sub_id.clone(), events.clone()) else { continue };
            if stream.status == Status::Paused {
                stream.held.push(signed);
                continue;
            }
            match &stream.delivery {
                Delivery::Push { endpoint_url, authorization_header } => {
                    pushes.push((endpoint_url.clone(), authorization_header.clone(), signed.1));
                }
                Delivery::Poll => stream.queue.push(signed),
            }
        }
    }
    for (url, authorization, set) in pushes {
        delivery::push(state, url, authorization, set);
    }
}

/// RFC 7009 revoked these tokens: one CAEP `session-revoked` event for each (CAEP 1.0 §3.1),
/// about the token by its JWT ID (SSF 1.0 §3.5.1).
pub fn tokens_revoked(state: &Arc<AppState>, keys: &[String]) {
    if state.faults.has(Fault::SsfNoRevocationEvent) {
        return;
    }
    for (i, jti) in keys.iter().enumerate() {
        let reason = if i == 0 {
            "access token revoked at the revocation endpoint (RFC 7009)"
        } else {
            "access token revoked with the token it was exchanged from (RFC 7009 §2.1)"
        };
        // CAEP 1.0 §2: reason_admin is a map of BCP 47 language tags to messages; the CAEP
        // Interoperability Profile requires it non-empty for session-revoked.
        let event = json!({ "event_timestamp": crate::jwt::now(), "reason_admin": { "en": reason } });
        let mut events = Map::new();
        events.insert(SESSION_REVOKED.into(), event);
        emit(state, Audience::Subscribed { event_type: SESSION_REVOKED }, set::jwt_id(state, jti), events);
    }
}
