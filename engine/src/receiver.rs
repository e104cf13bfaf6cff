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
pub mod set;

use crate::discovery::Metadata;
use crate::http::Recorder;
use crate::jose::{decode_unverified, random_id};
use crate::profile::TargetProfile;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use management::{Management, TransmitterConfig};
use serde_json::{json, Value};
use set::{Expectations, Finding, Rule};
use std::net::SocketAddr;
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
    /// Is this SET about the JWT whose `jti` is `jti`? Looks at the top-level `sub_id`
    /// (SSF 1.0 §3.1) and, for CAEP events defined before it, at each event's `subject`.
    pub fn is_about_jti(&self, jti: &str) -> bool {
        let c = self.claims();
        let mut subjects = vec![c.get("sub_id")];
        if let Some(events) = c.get("events").and_then(Value::as_object) {
            subjects.extend(events.values().map(|e| e.get("subject")));
        }
        subjects.into_iter().flatten().any(|s| s.get("jti").and_then(Value::as_str) == Some(jti))
    }
}

struct Inner {
    expect: RwLock<Expectations>,
    arrivals: Mutex<Vec<Arrival>>,
    notify: Notify,
    authorization: String,
}

impl Inner {
    fn record(&self, via: Via, set: String, content_type: Option<String>, authorization: Option<String>) -> Arrival {
        let at = Instant::now();
        let findings = set::validate(&set, &self.expect.read().unwrap_or_else(|e| e.into_inner()));
        let arrival = Arrival { at, via, set, content_type, authorization, findings };
        self.arrivals.lock().unwrap_or_else(|e| e.into_inner()).push(arrival.clone());
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
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("signals receiver cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        let endpoint_url = endpoint_url.map_or_else(|| format!("http://{addr}/events"), str::to_string);
        let inner = Arc::new(Inner {
            expect: RwLock::default(),
            arrivals: Mutex::default(),
            notify: Notify::new(),
            authorization: format!("Bearer {}", random_id()),
        });
        let app = axum::Router::new().route("/events", post(receive)).with_state(inner.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async { let _ = rx.await; }).await;
        });
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
    let err = |code: &str, description: String| (StatusCode::BAD_REQUEST, axum::Json(json!({ "err": code, "description": description }))).into_response();
    if authorization.as_deref() != Some(inner.authorization.as_str()) {
        return err("authentication_failed", "the stream's authorization_header was not presented".into());
    }
    if content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).as_deref() != Some(SECEVENT_MEDIA_TYPE) {
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

/// A receiver with one push stream open on the target: what a check or a load scenario needs
/// to see revocations arrive. Close it to delete the stream.
pub struct Session {
    pub receiver: Receiver,
    pub management: Management,
    /// The stream configuration the Transmitter answered with (SSF 1.0 §8.1.1.1).
    pub stream: Value,
    pub stream_id: String,
}

impl Session {
    /// Discovers the Transmitter for the target's issuer, gets a stream-management token for
    /// `[signals].client`, starts a receiver on `[signals].listen` and creates a push stream
    /// for CAEP session-revoked events. SETs are then validated against the configuration's
    /// issuer and `jwks_uri` and the stream's `aud`.
    pub async fn open(http: &Recorder, profile: &TargetProfile, metadata: &Metadata) -> anyhow::Result<Session> {
        let token_endpoint = metadata.str("token_endpoint").ok_or_else(|| anyhow::anyhow!("metadata has no token_endpoint"))?;
        let config = TransmitterConfig::fetch(http, profile.issuer()).await?;
        let token = management::receiver_token(http, profile, token_endpoint).await?;
        let receiver = Receiver::start(&profile.signals.listen, profile.signals.endpoint_url.as_deref()).await?;
        let management = Management::new(http.clone(), config, token);
        let body = json!({ "delivery": receiver.push_delivery(), "events_requested": [SESSION_REVOKED], "description": "agentcert signals receiver" });
        let resp = management.create(&body).await?;
        if resp.status != 201 {
            anyhow::bail!("setup: creating a push stream answered HTTP {}: {}", resp.status, crate::http::snippet(&resp.body));
        }
        let stream = resp.json()?;
        let stream_id = stream.get("stream_id").and_then(Value::as_str).ok_or_else(|| anyhow::anyhow!("setup: the created stream has no stream_id"))?.to_string();
        let jwks = management.config.jwks(http).await.ok();
        receiver.expect(Expectations { issuer: Some(profile.issuer().to_string()), audience: stream.get("aud").cloned(), jwks });
        Ok(Session { receiver, management, stream, stream_id })
    }

    /// How long after `since` the first SET about the token `jti` arrived, waiting up to
    /// `timeout` (`None`: it did not arrive in time).
    pub async fn latency(&self, jti: &str, since: Instant, timeout: Duration) -> Option<Duration> {
        self.receiver.wait_for_jti(jti, timeout).await.map(|a| a.at.saturating_duration_since(since))
    }

    /// Deletes the stream (SSF 1.0 §8.1.1.5) and stops the receiver.
    pub async fn close(self) -> anyhow::Result<()> {
        let resp = self.management.delete(&self.stream_id).await?;
        if resp.status != 204 {
            anyhow::bail!("deleting stream {} answered HTTP {}", self.stream_id, resp.status);
        }
        Ok(())
    }
}
