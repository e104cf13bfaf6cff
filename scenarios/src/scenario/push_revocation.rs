//! Push revocation latency: how long after a revocation (RFC 7009 §2.1) a Receiver hears of
//! it, as a CAEP 1.0 §3.1 `session-revoked` Security Event Token (RFC 8417) pushed on an
//! SSF 1.0 stream (RFC 8935). It sits beside [`super::Revocation`], which times the same
//! window as a resource server that polls introspection sees it; both measure from the start
//! of the revoke call, so their histograms compare directly.
//!
//! Before the load the harness opens one signals [`Session`] on the target: a receiver on
//! `[signals].listen` and a push stream for session-revoked events. Each operation issues a
//! token (client credentials), reads its `jti` (the SET names the token by it, SSF 1.0
//! §3.5.1), notes the time, revokes the token as the client it was issued to, and waits for
//! the SET about it. No SET within `timing.revoke_within` × 3 (at least 1 s) is a
//! `not-delivered` error. SETs that arrive but break a rule (signature, `iss`, `aud`, ...)
//! are `invalid-set` errors; their arrival is still timed.
//!
//! Revocations do not come alone: beside each operation, `--background-issuance` plain
//! client-credentials requests go out (5 by default), spread over the gap to the next slot,
//! so that the SETs are signed and pushed while the server is busy issuing. They are counted
//! apart (`background_issuance` in the result) and bounded by the in-flight cap: a request
//! that would exceed it is dropped and counted, never queued.
//!
//! A target that is no Shared Signals Transmitter is skipped with a note. One whose access
//! tokens are opaque is refused: a SET could not be matched to its token.

use super::issuance::{access_token, judge_token};
use crate::attack::REQUEST_TIMEOUT_S;
use crate::histogram::{new_histogram, summary};
use crate::outcome::{ErrorClass, ErrorCounts, Latency, Outcome};
use crate::wire::{Answer, Wire};
use agentcert_engine::client_auth;
use agentcert_engine::discovery::Metadata;
use agentcert_engine::http::{Recorder, Request};
use agentcert_engine::jose::decode_unverified;
use agentcert_engine::oauth::{TokenAnswer, GRANT_CLIENT_CREDENTIALS};
use agentcert_engine::profile::{ClientRole, TargetProfile};
use agentcert_engine::receiver::management::TransmitterConfig;
use agentcert_engine::receiver::Session;
use agentcert_engine::results::{BackgroundIssuance, LoadResult};
use goose::prelude::GooseUser;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Background issuance requests per revocation unless `--background-issuance` says otherwise.
pub const DEFAULT_BACKGROUND: f64 = 5.0;
/// The most `--background-issuance` may ask for.
pub const MAX_BACKGROUND: f64 = 100.0;
/// The shortest wait for a SET, whatever `revoke_within` says.
const MIN_WAIT: Duration = Duration::from_secs(1);

/// How the background issuance is paced: `multiple` requests per slot, spread over `gap` (the
/// time between slots at the schedule's highest rate; zero in the closed model), at most
/// `max_in_flight` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundPlan {
    pub multiple: f64,
    pub gap: Duration,
    pub max_in_flight: usize,
}

pub struct PushRevocation {
    pub client: ClientRole,
    pub session: Arc<Session>,
    /// How long each operation waits for its SET: `revoke_within` × 3, at least 1 s.
    pub wait: Duration,
    /// The receiver's count of invalid SETs before this run.
    invalid_before: u64,
    background: Option<Background>,
}

impl std::fmt::Debug for PushRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushRevocation")
            .field("client", &self.client)
            .field("stream_id", &self.session.stream_id)
            .field("wait", &self.wait)
            .field("background", &self.background.as_ref().map(|b| b.plan))
            .finish()
    }
}

impl PushRevocation {
    pub fn new(
        client: ClientRole,
        session: Arc<Session>,
        revoke_within: Duration,
        wire: Arc<Wire>,
        background: BackgroundPlan,
    ) -> Result<PushRevocation, String> {
        let background = match background.multiple > 0.0 {
            true => Some(Background::new(client, wire, background)?),
            false => None,
        };
        let invalid_before = session.receiver.tally().invalid;
        Ok(PushRevocation { client, wait: (revoke_within * 3).max(MIN_WAIT), session, invalid_before, background })
    }

    pub async fn act(&self, user: &mut GooseUser, wire: &Wire, slot: u64) -> Outcome {
        if let Some(b) = &self.background {
            b.fire(slot);
        }
        let Some(revoke) = &wire.revocation_endpoint else {
            return Outcome::failed(ErrorClass::Harness);
        };
        let token = match access_token(user, wire, self.client).await {
            Ok(t) => t,
            Err(class) => return Outcome::failed(class),
        };
        // Checked before the load (`open`); a token without one now is a bad answer.
        let Some(jti) = jti_of(&token) else {
            return Outcome::failed(ErrorClass::BadResponse);
        };
        let params = [("token", token.as_str()), ("token_type_hint", "access_token")];
        let revoked_at = Instant::now();
        match wire.post_as(user, self.client, revoke, "revoke", &params).await {
            Ok(a) if a.status == 200 => {}
            Ok(a) => return Outcome::failed(ErrorClass::of_status(a.status)),
            Err(class) => return Outcome::failed(class),
        }
        match self.session.latency(&jti, revoked_at, self.wait).await {
            Some(d) => Outcome::measured(d),
            None => Outcome::failed(ErrorClass::NotDelivered),
        }
    }

    /// Adds what the receiver and the background load saw to the run's result: invalid SETs
    /// as `invalid-set` errors, and the background issuance figures.
    pub fn annotate(&self, r: &mut LoadResult) {
        let invalid = self.session.receiver.tally().invalid.saturating_sub(self.invalid_before);
        if invalid > 0 {
            *r.errors_by_class.entry(ErrorClass::InvalidSet.key().to_string()).or_default() += invalid;
            r.errors += invalid;
        }
        r.background_issuance = self.background.as_ref().map(Background::result);
    }
}

/// The `jti` of a JWT access token; `None` for an opaque one (or a JWT without one).
pub fn jti_of(token: &str) -> Option<String> {
    decode_unverified(token).ok()?.claim_str("jti").filter(|j| !j.is_empty()).map(str::to_string)
}

/// Why the target cannot serve push-revocation, if it cannot: a profile override of the
/// `ssf-transmitter` capability decides first, else the target must serve an SSF 1.0 §7
/// configuration document.
pub async fn unsupported(http: &Recorder, profile: &TargetProfile) -> Option<String> {
    match profile.capabilities.get("ssf-transmitter") {
        Some(false) => return Some("the target profile turns the ssf-transmitter capability off".into()),
        Some(true) => return None,
        None => {}
    }
    match TransmitterConfig::fetch(http, profile.issuer()).await {
        Ok(_) => None,
        Err(e) => Some(one_line(&format!("the target is not a Shared Signals Transmitter (no ssf-configuration document: {e:#})"))),
    }
}

/// Opens the signals session the scenario measures with, after checking with one token as
/// `client` that the target's access tokens carry a `jti` to match SETs by. Errors are one
/// line, prefixed with the scenario's name.
pub async fn open(http: &Recorder, profile: &TargetProfile, metadata: &Metadata, client: ClientRole) -> Result<Session, String> {
    const OPAQUE: &str = "push-revocation: the target's access tokens are opaque (not JWTs with a jti), and a session-revoked SET names its token by jti (SSF 1.0 §3.5.1): there is nothing to match a SET to its revocation by";
    if profile.capabilities.get("jwt-access-tokens") == Some(&false) {
        return Err(OPAQUE.into());
    }
    let token_endpoint = metadata.str("token_endpoint").ok_or("push-revocation: the target's metadata has no token_endpoint")?;
    let token = probe_token(http, profile, token_endpoint, client).await?;
    if jti_of(&token).is_none() {
        return Err(OPAQUE.into());
    }
    let session = Session::open(http, profile, metadata)
        .await
        .map_err(|e| one_line(&format!("push-revocation: cannot open a signals stream on the target: {e:#}")))?;
    // Under load only the arrival index and the tally are kept, not every SET.
    session.receiver.keep_arrivals(false);
    Ok(session)
}

/// Deletes the session's stream (SSF 1.0 §8.1.1.5) and stops its receiver; a failure is noted
/// on stderr, since the load's figures stand without it.
pub async fn close(session: Arc<Session>) {
    let outcome = match Arc::try_unwrap(session) {
        Ok(s) => s.close().await,
        // Still shared (a scenario outlived its run): delete the stream all the same.
        Err(s) => match s.management.delete(&s.stream_id).await {
            Ok(r) if r.status == 204 => Ok(()),
            Ok(r) => Err(anyhow::anyhow!("deleting stream {} answered HTTP {}", s.stream_id, r.status)),
            Err(e) => Err(e),
        },
    };
    if let Err(e) = outcome {
        eprintln!("agentcert: push-revocation: {}", one_line(&format!("{e:#}")));
    }
}

/// A client-credentials token for `client`, fetched through the recorder before the load.
async fn probe_token(http: &Recorder, profile: &TargetProfile, token_endpoint: &str, client: ClientRole) -> Result<String, String> {
    let (form, headers) = token_request(profile, token_endpoint, client).map_err(|e| format!("push-revocation: {e}"))?;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut req = Request::post_form(token_endpoint, &pairs);
    req.headers = headers;
    let resp = http.send(req).await.map_err(|e| one_line(&format!("push-revocation: token request: {e:#}")))?;
    let answer = TokenAnswer::from(&resp);
    answer
        .access_token()
        .map(str::to_string)
        .ok_or_else(|| one_line(&format!("push-revocation: no access token for {}: {}", client.key(), answer.describe())))
}

type Pairs = Vec<(String, String)>;

/// A client-credentials request's form and headers as `client`, with the profile's default
/// `resource` when it says to always send one (as [`super::issuance::client_credentials`] builds it).
fn token_request(profile: &TargetProfile, token_endpoint: &str, client: ClientRole) -> Result<(Pairs, Pairs), String> {
    let registered = profile.client(client).ok_or_else(|| format!("the target profile has no [clients.{}]", client.key()))?;
    let mut form = vec![("grant_type".to_string(), GRANT_CLIENT_CREDENTIALS.to_string())];
    if profile.resources.always_send {
        form.push(("resource".into(), profile.resources.default.clone()));
    }
    let mut headers = vec![("accept".to_string(), "application/json".to_string())];
    client_auth::apply(registered, profile.issuer(), token_endpoint, token_endpoint, &mut form, &mut headers)
        .map_err(|e| format!("[clients.{}]: {e:#}", client.key()))?;
    Ok((form, headers))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The background issuance: its own HTTP client (so Goose's users stay free for the
/// revocations), its own books.
struct Background {
    plan: BackgroundPlan,
    client: ClientRole,
    wire: Arc<Wire>,
    http: reqwest::Client,
    permits: Arc<Semaphore>,
    books: Arc<Books>,
}

struct Books {
    sent: AtomicU64,
    dropped: AtomicU64,
    errors: ErrorCounts,
    latency: Mutex<Histogram<u64>>,
}

impl Background {
    fn new(client: ClientRole, wire: Arc<Wire>, plan: BackgroundPlan) -> Result<Background, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(REQUEST_TIMEOUT_S))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("agentcert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("push-revocation: background issuance client: {e}"))?;
        let books = Books {
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            errors: ErrorCounts::default(),
            latency: Mutex::new(new_histogram()),
        };
        Ok(Background { permits: Arc::new(Semaphore::new(plan.max_in_flight.max(1))), plan, client, wire, http, books: Arc::new(books) })
    }

    /// Slot `slot`'s share of the background requests: ⌊(slot+1)·m⌋ − ⌊slot·m⌋ of them (so a
    /// fractional multiple comes out right over the run), spread evenly over the gap.
    fn fire(&self, slot: u64) {
        let count = slot_share(self.plan.multiple, slot);
        let now = Instant::now();
        for j in 0..count {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                self.books.dropped.fetch_add(1, Relaxed);
                continue;
            };
            let intended = now + self.plan.gap.mul_f64(j as f64 / count as f64);
            let (wire, http, books, client) = (self.wire.clone(), self.http.clone(), self.books.clone(), self.client);
            tokio::spawn(async move {
                tokio::time::sleep_until(intended.into()).await;
                books.sent.fetch_add(1, Relaxed);
                let outcome = issue(&http, &wire, client).await;
                if outcome.latency == Latency::SinceBasis {
                    let us = (intended.elapsed().as_micros() as u64).max(1);
                    books.latency.lock().unwrap_or_else(|e| e.into_inner()).saturating_record(us);
                }
                if let Some(class) = outcome.error {
                    books.errors.add(class);
                }
                drop(permit);
            });
        }
    }

    fn result(&self) -> BackgroundIssuance {
        let b = &self.books;
        BackgroundIssuance {
            multiple: self.plan.multiple,
            requests: b.sent.load(Relaxed),
            dropped: b.dropped.load(Relaxed),
            errors: b.errors.total(),
            errors_by_class: b.errors.by_class(),
            latency_ms: summary(&b.latency.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// The background requests slot `slot` sends at `multiple` a slot.
fn slot_share(multiple: f64, slot: u64) -> u64 {
    ((slot + 1) as f64 * multiple).floor() as u64 - (slot as f64 * multiple).floor() as u64
}

/// One background client-credentials request, judged as issuance judges its answers.
async fn issue(http: &reqwest::Client, wire: &Wire, client: ClientRole) -> Outcome {
    let Ok((form, headers)) = token_request(&wire.profile, &wire.token_endpoint, client) else {
        return Outcome::failed(ErrorClass::Harness);
    };
    let mut req = http.post(&wire.token_endpoint).form(&form);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let response = match req.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::failed(ErrorClass::of_transport(&e)),
    };
    let status = response.status().as_u16();
    let body = match response.bytes().await {
        Ok(b) => match serde_json::from_slice(&b) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        },
        Err(e) => return Outcome::failed(ErrorClass::of_transport(&e)),
    };
    judge_token(&Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_comes_from_a_jwt_and_never_from_an_opaque_token() {
        let key = agentcert_engine::jose::SigningKey::generate().unwrap();
        let jwt = key.sign(Some("at+jwt"), &serde_json::json!({ "jti": "t-1", "sub": "agent" })).unwrap();
        assert_eq!(jti_of(&jwt).as_deref(), Some("t-1"));
        let without = key.sign(Some("at+jwt"), &serde_json::json!({ "sub": "agent" })).unwrap();
        assert_eq!(jti_of(&without), None);
        assert_eq!(jti_of("2YotnFZFEjr1zCsicMWpAA"), None);
    }

    #[test]
    fn fractional_multiples_add_up_over_the_slots() {
        let count = slot_share;
        assert_eq!((0..10).map(|s| count(2.5, s)).sum::<u64>(), 25);
        assert_eq!((0..10).map(|s| count(5.0, s)).collect::<Vec<_>>(), [5; 10]);
        assert_eq!((0..3).map(|s| count(0.5, s)).sum::<u64>(), 1);
    }
}
