//! The signals receiver: the harness as an OpenID Shared Signals Receiver (SSF 1.0), on a
//! loopback port.
//!
//! An agent's token can be revoked in one place and still be honoured everywhere else until
//! the news arrives. A Transmitter (the server under test) tells Receivers at once, as a CAEP
//! event in a signed Security Event Token (RFC 8417), pushed to them (RFC 8935) or queued for
//! them to poll (RFC 8936). So the harness is a Receiver: it serves a push endpoint, polls,
//! validates every SET it gets ([`set::validate`]) and notes when each arrived, so that a
//! check (or a load scenario) can wait for "the event about token X" and measure how late it
//! was.
//!
//! [`Session::open`] does the whole setup in one call: discover the Transmitter, get a
//! stream-management token, start a receiver and open a push stream on the target.

pub mod management;
mod session;
pub mod set;

pub use session::Session;

use crate::jose::{decode_unverified, random_id};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{json, Value};
use set::{Expectations, Finding, Rule};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Notify};

/// SSF 1.0 §6.1.1: push delivery (RFC 8935).
pub const PUSH: &str = "urn:ietf:rfc:8935";
/// SSF 1.0 §6.1.2: poll delivery (RFC 8936).
pub const POLL: &str = "urn:ietf:rfc:8936";
/// CAEP 1.0 §3.1.
pub const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP 1.0 §3.2.
pub const TOKEN_CLAIMS_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change";
/// CAEP 1.0 §3.3.
pub const CREDENTIAL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
/// SSF 1.0 §8.1.4.1.
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
/// RFC 8935 §2.1: the media type of a pushed SET.
pub const SECEVENT_MEDIA_TYPE: &str = "application/secevent+jwt";

/// How a SET reached the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Push,
    Poll,
}

/// One SET as it arrived, with what the receiver found wrong with it then.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: Instant,
    pub via: Via,
    pub set: String,
    /// The push request's `Content-Type` and `Authorization` headers.
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    pub findings: Vec<Finding>,
}

impl Arrival {
    /// The SET's header and claims, not verified (`findings` says what did not verify).
    pub fn header(&self) -> Value {
        decode_unverified(&self.set).map(|d| d.header).unwrap_or(Value::Null)
    }
    pub fn claims(&self) -> Value {
        decode_unverified(&self.set).map(|d| d.claims).unwrap_or(Value::Null)
    }
    pub fn event_types(&self) -> Vec<String> {
        set::event_types(&self.claims())
    }
    /// The findings about one rule.
    pub fn broken(&self, rule: Rule) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }
    /// Is this SET about the JWT whose `jti` is `jti`?
    pub fn is_about_jti(&self, jti: &str) -> bool {
        self.token_jtis().iter().any(|j| j == jti)
    }

    /// The `jti`s of the tokens this SET is about: from the top-level `sub_id` (SSF 1.0 §3.1)
    /// and, for CAEP events defined before it, each event's `subject`.
    pub fn token_jtis(&self) -> Vec<String> {
        let c = self.claims();
        let mut subjects = vec![c.get("sub_id")];
        if let Some(events) = c.get("events").and_then(Value::as_object) {
            subjects.extend(events.values().map(|e| e.get("subject")));
        }
        subjects.into_iter().flatten().filter_map(|s| s.get("jti").and_then(Value::as_str)).map(str::to_string).collect()
    }
}

/// Counts of what arrived, for load scenarios that do not keep every SET.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub received: u64,
    /// SETs with at least one finding (bad signature, wrong aud, …).
    pub invalid: u64,
}

struct Inner {
    expect: RwLock<Expectations>,
    arrivals: Mutex<Vec<Arrival>>,
    /// `jti` of the token a SET is about → when the first such SET arrived.
    index: Mutex<HashMap<String, Instant>>,
    tally: Mutex<Tally>,
    keep: AtomicBool,
    notify: Notify,
    authorization: String,
}

impl Inner {
    fn record(&self, via: Via, set: String, content_type: Option<String>, authorization: Option<String>) -> Arrival {
        let at = Instant::now();
        let findings = set::validate(&set, &self.expect.read().unwrap_or_else(|e| e.into_inner()));
        let arrival = Arrival { at, via, set, content_type, authorization, findings };
        {
            let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
            for jti in arrival.token_jtis() {
                index.entry(jti).or_insert(at);
            }
        }
        {
            let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            tally.received += 1;
            tally.invalid += u64::from(!arrival.findings.is_empty());
        }
        if self.keep.load(Ordering::Relaxed) {
            self.arrivals.lock().unwrap_or_else(|e| e.into_inner()).push(arrival.clone());
        }
        self.notify.notify_waiters();
        arrival
    }
}

/// The push endpoint and the record of every SET received, until dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    endpoint_url: String,
    inner: Arc<Inner>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("endpoint_url", &self.endpoint_url).finish_non_exhaustive()
    }
}

impl Receiver {
    /// Binds `listen` and serves `POST /events` (RFC 8935) until dropped. The Transmitter is
    /// told to push to `endpoint_url` if given (a proxy in front), else `http://{addr}/events`.
    pub async fn start(listen: &str, endpoint_url: Option<&str>) -> anyhow::Result<Receiver> {
        let listener =
            tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("signals receiver cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        let endpoint_url = endpoint_url.map_or_else(|| format!("http://{addr}/events"), str::to_string);
        let inner = Arc::new(Inner {
            expect: RwLock::default(),
            arrivals: Mutex::default(),
            index: Mutex::default(),
            tally: Mutex::default(),
            keep: AtomicBool::new(true),
            notify: Notify::new(),
            authorization: format!("Bearer {}", random_id()),
        });
        let app = axum::Router::new().route("/events", post(receive)).with_state(inner.clone());
        let tx = crate::issuer_server::serve_in_background(listener, app);
        Ok(Receiver { addr, endpoint_url, inner, shutdown: Some(tx) })
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// The `Authorization` value the Transmitter must present on every push (SSF 1.0 §6.1.1).
    pub fn authorization_header(&self) -> &str {
        &self.inner.authorization
    }

    /// SSF 1.0 §6.1.1: the `delivery` member of a stream configuration that pushes here.
    pub fn push_delivery(&self) -> Value {
        json!({ "method": PUSH, "endpoint_url": self.endpoint_url, "authorization_header": self.inner.authorization })
    }

    /// What SETs are validated against from now on.
    pub fn expect(&self, expect: Expectations) {
        *self.inner.expect.write().unwrap_or_else(|e| e.into_inner()) = expect;
    }

    /// Records a SET obtained by polling (RFC 8936), validated like a pushed one.
    pub fn record_polled(&self, set: String) -> Arrival {
        self.inner.record(Via::Poll, set, None, None)
    }

    /// Every SET received so far, in order of arrival.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.inner.arrivals.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The first SET (in order of arrival) for which `matches` holds, waiting up to `timeout`
    /// for one to arrive.
    pub async fn wait_for(&self, timeout: Duration, matches: impl Fn(&Arrival) -> bool) -> Option<Arrival> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(a) = self.inner.arrivals.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|a| matches(a)) {
                return Some(a.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// The first SET about the token whose `jti` is `jti`, waiting up to `timeout`.
    pub async fn wait_for_jti(&self, jti: &str, timeout: Duration) -> Option<Arrival> {
        self.wait_for(timeout, |a| a.is_about_jti(jti)).await
    }

    /// When the first SET about the token `jti` arrived, waiting up to `timeout`. Served from
    /// an index, so it stays cheap with many SETs, and works when arrivals are not kept.
    pub async fn arrival_of(&self, jti: &str, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(at) = self.inner.index.lock().unwrap_or_else(|e| e.into_inner()).get(jti) {
                return Some(*at);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Whether every SET is kept for [`Receiver::arrivals`] (the default). A load scenario
    /// turns it off: the index of arrival times and the [`Tally`] are kept either way.
    pub fn keep_arrivals(&self, keep: bool) {
        self.inner.keep.store(keep, Ordering::Relaxed);
    }

    /// How many SETs arrived, and how many broke a rule.
    pub fn tally(&self) -> Tally {
        *self.inner.tally.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `POST /events` (RFC 8935 §2): records the SET and its arrival time, then answers 202
/// (§2.2) or 400 with the error code of §2.4 for the first thing wrong.
async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (content_type, authorization) = (header(header::CONTENT_TYPE), header(header::AUTHORIZATION));
    let arrival = inner.record(Via::Push, String::from_utf8_lossy(&body).trim().to_string(), content_type.clone(), authorization.clone());
    let err = |code: &str, description: String| {
        (StatusCode::BAD_REQUEST, axum::Json(json!({ "err": code, "description": description }))).into_response()
    };
    if authorization.as_deref() != Some(inner.authorization.as_str()) {
        return err("authentication_failed", "the stream's authorization_header was not presented".into());
    }
    if content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).as_deref()
        != Some(SECEVENT_MEDIA_TYPE)
    {
        return err("invalid_request", format!("Content-Type is {content_type:?}, not {SECEVENT_MEDIA_TYPE}"));
    }
    let code = |rule: Rule| match rule {
        Rule::Signature => "invalid_key",
        Rule::Iss => "invalid_issuer",
        Rule::Aud => "invalid_audience",
        _ => "invalid_request",
    };
    match arrival.findings.first() {
        Some(f) => err(code(f.rule), f.message.clone()),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    #[tokio::test]
    async fn records_validates_and_answers_pushes() {
        let key = SigningKey::generate().unwrap();
        let receiver = Receiver::start("127.0.0.1:0", None).await.unwrap();
        receiver.expect(Expectations { issuer: Some("https://as.example".into()), audience: Some(json!("rs")), jwks: Some(key.jwks()) });
        let claims = json!({
            "iss": "https://as.example", "jti": "s1", "iat": 1, "aud": "rs",
            "sub_id": { "format": "jwt_id", "iss": "https://as.example", "jti": "t1" },
            "events": { SESSION_REVOKED: {} },
        });
        let set = key.sign(Some("secevent+jwt"), &claims).unwrap();
        let http = reqwest::Client::new();
        let push = |auth: Option<&str>, body: String| {
            let mut r = http.post(receiver.endpoint_url()).header("content-type", SECEVENT_MEDIA_TYPE).body(body);
            if let Some(a) = auth {
                r = r.header("authorization", a);
            }
            r.send()
        };
        let sent = Instant::now();
        assert_eq!(push(Some(receiver.authorization_header()), set.clone()).await.unwrap().status(), 202);
        assert!(receiver.arrival_of("t1", Duration::from_secs(1)).await.unwrap() >= sent);
        let refused = push(None, set).await.unwrap();
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.json::<Value>().await.unwrap()["err"], "authentication_failed");
        let forged = SigningKey::generate().unwrap().sign(Some("secevent+jwt"), &claims).unwrap();
        let answer = push(Some(receiver.authorization_header()), forged).await.unwrap();
        assert_eq!(answer.json::<Value>().await.unwrap()["err"], "invalid_key");
        assert_eq!(receiver.tally(), Tally { received: 3, invalid: 1 });
        assert_eq!(receiver.arrivals().len(), 3);
        assert!(receiver.arrival_of("t2", Duration::from_millis(50)).await.is_none());
    }
}
