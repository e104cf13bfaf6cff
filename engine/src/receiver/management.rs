//! The Transmitter as the Receiver meets it: its configuration (SSF 1.0 §7) and its Stream
//! Management API (§8), called with the Receiver's OAuth access token (§7.1.1). Every call
//! goes through the recorder, so it is the calling check's evidence.

use crate::client_auth;
use crate::discovery::ssf_configuration_url;
use crate::http::{Recorder, Request, Response};
use crate::oauth::{TokenAnswer, GRANT_CLIENT_CREDENTIALS};
use crate::profile::TargetProfile;
use anyhow::{anyhow, bail};
use serde_json::{json, Map, Value};

/// The Transmitter Configuration Metadata and where it was fetched.
#[derive(Debug, Clone)]
pub struct TransmitterConfig {
    pub url: String,
    pub doc: Map<String, Value>,
}

impl TransmitterConfig {
    /// GETs `/.well-known/ssf-configuration{path}` for `issuer`; an error unless it answers
    /// 200 with a JSON object.
    pub async fn fetch(http: &Recorder, issuer: &str) -> anyhow::Result<TransmitterConfig> {
        let url = ssf_configuration_url(issuer);
        let resp = http.send(Request::get(&url)).await?;
        if resp.status != 200 {
            bail!("{url} answered HTTP {}", resp.status);
        }
        Ok(TransmitterConfig { doc: resp.json_object()?, url })
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.doc.get(name).and_then(Value::as_str)
    }

    /// An endpoint URL from the configuration, or an error naming the missing member.
    pub fn endpoint(&self, name: &str) -> anyhow::Result<&str> {
        self.str(name).ok_or_else(|| anyhow!("the transmitter configuration has no {name}"))
    }

    /// The JWK Set at `jwks_uri`.
    pub async fn jwks(&self, http: &Recorder) -> anyhow::Result<Value> {
        let url = self.endpoint("jwks_uri")?;
        let resp = http.send(Request::get(url)).await?;
        if resp.status != 200 {
            bail!("jwks_uri answered HTTP {}", resp.status);
        }
        resp.json()
    }
}

/// An access token for stream management: client credentials (RFC 6749 §4.4) as the profile's
/// `[signals].client`, for `[signals].scope`. No `resource` is sent: the Transmitter is the
/// authorization server itself.
pub async fn receiver_token(http: &Recorder, profile: &TargetProfile, token_endpoint: &str) -> anyhow::Result<String> {
    let signals = &profile.signals;
    let client = profile
        .client(signals.client)
        .ok_or_else(|| anyhow!("the target profile has no [clients.{}] for [signals]", signals.client.key()))?;
    let mut form = vec![("grant_type".to_string(), GRANT_CLIENT_CREDENTIALS.to_string())];
    if !signals.scope.trim().is_empty() {
        form.push(("scope".into(), signals.scope.clone()));
    }
    let mut headers = vec![("accept".to_string(), "application/json".to_string())];
    client_auth::apply(client, profile.issuer(), token_endpoint, token_endpoint, &mut form, &mut headers)?;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut req = Request::post_form(token_endpoint, &pairs);
    req.headers = headers;
    let answer = TokenAnswer::from(&http.send(req).await?);
    answer.access_token().map(str::to_string).ok_or_else(|| {
        anyhow!("setup: no stream-management access token for {} (scope {:?}): {}", signals.client.key(), signals.scope, answer.describe())
    })
}

/// The Stream Management API, with the Receiver's bearer token (RFC 6750 §2.1).
#[derive(Debug, Clone)]
pub struct Management {
    pub http: Recorder,
    pub config: TransmitterConfig,
    token: String,
}

impl Management {
    pub fn new(http: Recorder, config: TransmitterConfig, token: String) -> Self {
        Management { http, config, token }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Any request to `url`, with `bearer` (or no authorization at all) and a JSON body.
    pub async fn raw(&self, method: &str, url: &str, body: Option<&Value>, bearer: Option<&str>) -> anyhow::Result<Response> {
        let mut req = Request { method: method.into(), url: url.into(), ..Default::default() }.header("accept", "application/json");
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req.body = Some(("application/json".into(), b.to_string()));
        }
        self.http.send(req).await
    }

    async fn call(&self, method: &str, member: &str, stream_id: Option<&str>, body: Option<&Value>) -> anyhow::Result<Response> {
        let mut url = self.config.endpoint(member)?.to_string();
        if let Some(id) = stream_id {
            url = with_query(&url, "stream_id", id);
        }
        self.raw(method, &url, body, Some(&self.token)).await
    }

    /// SSF 1.0 §8.1.1.1: POST the configuration endpoint.
    pub async fn create(&self, body: &Value) -> anyhow::Result<Response> {
        self.call("POST", "configuration_endpoint", None, Some(body)).await
    }
    /// SSF 1.0 §8.1.1.2: GET the configuration endpoint (one stream, or all of them).
    pub async fn read(&self, stream_id: Option<&str>) -> anyhow::Result<Response> {
        self.call("GET", "configuration_endpoint", stream_id, None).await
    }
    /// SSF 1.0 §8.1.1.3: PATCH the configuration endpoint.
    pub async fn update(&self, body: &Value) -> anyhow::Result<Response> {
        self.call("PATCH", "configuration_endpoint", None, Some(body)).await
    }
    /// SSF 1.0 §8.1.1.5: DELETE the configuration endpoint.
    pub async fn delete(&self, stream_id: &str) -> anyhow::Result<Response> {
        self.call("DELETE", "configuration_endpoint", Some(stream_id), None).await
    }
    /// SSF 1.0 §8.1.2.1: GET the status endpoint.
    pub async fn status(&self, stream_id: &str) -> anyhow::Result<Response> {
        self.call("GET", "status_endpoint", Some(stream_id), None).await
    }
    /// SSF 1.0 §8.1.2.2: POST the status endpoint.
    pub async fn set_status(&self, stream_id: &str, status: &str) -> anyhow::Result<Response> {
        self.call("POST", "status_endpoint", None, Some(&json!({ "stream_id": stream_id, "status": status }))).await
    }
    /// SSF 1.0 §8.1.3.2.
    pub async fn add_subject(&self, stream_id: &str, subject: &Value) -> anyhow::Result<Response> {
        self.call("POST", "add_subject_endpoint", None, Some(&json!({ "stream_id": stream_id, "subject": subject, "verified": true })))
            .await
    }
    /// SSF 1.0 §8.1.3.3.
    pub async fn remove_subject(&self, stream_id: &str, subject: &Value) -> anyhow::Result<Response> {
        self.call("POST", "remove_subject_endpoint", None, Some(&json!({ "stream_id": stream_id, "subject": subject }))).await
    }
    /// SSF 1.0 §8.1.4.2: asks for a verification event carrying `state`.
    pub async fn verify(&self, stream_id: &str, state: &str) -> anyhow::Result<Response> {
        self.call("POST", "verification_endpoint", None, Some(&json!({ "stream_id": stream_id, "state": state }))).await
    }
    /// RFC 8936 §2.1: one poll request to a poll stream's `endpoint_url`.
    pub async fn poll(&self, url: &str, body: &Value) -> anyhow::Result<Response> {
        self.raw("POST", url, Some(body), Some(&self.token)).await
    }
}

/// `url` with `name=value` added to its query.
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.query_pairs_mut().append_pair(name, value);
            u.to_string()
        }
        Err(_) => format!("{url}?{name}={value}"),
    }
}

/// RFC 8936 §2.2: the SETs of a poll response, `sets` being an object of `jti` → SET. An
/// error says how the response is malformed.
pub fn polled_sets(body: &Value) -> Result<Vec<(String, String)>, String> {
    match body.get("sets") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(jti, v)| v.as_str().map(|s| (jti.clone(), s.to_string())).ok_or_else(|| format!("sets[{jti:?}] is not a string")))
            .collect(),
        Some(other) => Err(format!("sets is not a JSON object keyed by jti: {}", crate::http::snippet(&other.to_string()))),
        None => Err("the poll response has no sets member".into()),
    }
}
