//! The HTTP recorder: every request a check sends goes through here, so that every exchange
//! is kept as evidence (redacted), every request has a timeout, and every response body is
//! read under a size cap. A hostile server cannot make a check hang or exhaust memory.

use crate::evidence::Exchange;
use crate::redact::Redactor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits on what the harness will wait for and read.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(10), max_body_bytes: 1 << 20 }
    }
}

/// A response as the harness saw it. The body is kept whole (under the cap) for the check;
/// only the recorded evidence is redacted.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type without parameters, lower-cased: `application/json`.
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }

    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.body)
            .map_err(|e| anyhow::anyhow!("HTTP {} response body is not JSON ({e}): {}", self.status, snippet(&self.body)))
    }

    /// The body as a JSON object, or an error naming what came instead.
    pub fn json_object(&self) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
        match self.json()? {
            serde_json::Value::Object(m) => Ok(m),
            other => anyhow::bail!("HTTP {} response is JSON but not an object: {}", self.status, snippet(&other.to_string())),
        }
    }
}

/// The first 200 characters of a body, for error messages (never containing a token: the
/// caller passes only bodies that failed to parse, and the recorder redacts evidence anyway).
pub fn snippet(body: &str) -> String {
    let mut s: String = body.chars().take(200).collect();
    if s.len() < body.len() {
        s.push('…');
    }
    crate::redact::Redactor::default().text(&s)
}

/// A request to send: method, URL, headers, and an optional body with its content type.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(String, String)>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Request { method: "GET".into(), url: url.into(), ..Default::default() }
    }

    /// A form POST. `params` may repeat a name (RFC 8693 `audience`, say), and is encoded in
    /// order, exactly as given.
    pub fn post_form(url: impl Into<String>, params: &[(&str, &str)]) -> Self {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        Request {
            method: "POST".into(),
            url: url.into(),
            headers: vec![],
            body: Some(("application/x-www-form-urlencoded".into(), ser.finish())),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Sends requests and records them. Cheap to clone; clones share the transcript, and
/// [`Recorder::fork`] starts a fresh transcript on the same connection pool (one per check).
#[derive(Debug, Clone)]
pub struct Recorder {
    client: reqwest::Client,
    limits: Limits,
    redactor: Arc<Redactor>,
    transcript: Arc<Mutex<Vec<Exchange>>>,
}

impl Recorder {
    pub fn new(limits: Limits, redactor: Redactor) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(limits.timeout)
            .connect_timeout(limits.timeout.min(Duration::from_secs(5)))
            // Redirects are evidence, not something to follow silently: a token endpoint
            // that redirects is answering, and the check judges the answer.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("agentcert/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Recorder { client, limits, redactor: Arc::new(redactor), transcript: Arc::default() })
    }

    pub fn fork(&self) -> Self {
        Recorder { transcript: Arc::default(), ..self.clone() }
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Takes the exchanges recorded so far.
    pub fn take_transcript(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.transcript.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Sends the request, records it, and returns the response. A transport failure is
    /// recorded too, then returned as an error.
    pub async fn send(&self, req: Request) -> anyhow::Result<Response> {
        let started = Instant::now();
        let result = self.send_unrecorded(&req).await;
        self.record(&req, &result, started.elapsed());
        result
    }

    async fn send_unrecorded(&self, req: &Request) -> anyhow::Result<Response> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())?;
        let mut builder = self.client.request(method, &req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        if let Some((ctype, body)) = &req.body {
            builder = builder.header("content-type", ctype).body(body.clone());
        }
        let mut resp = builder.send().await.map_err(describe_transport_error)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(describe_transport_error)? {
            if bytes.len() + chunk.len() > self.limits.max_body_bytes {
                anyhow::bail!("response body exceeds the {} byte cap (HTTP {status} from {})", self.limits.max_body_bytes, req.url);
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Response { status, headers, body })
    }

    fn record(&self, req: &Request, result: &anyhow::Result<Response>, elapsed: Duration) {
        let r = &self.redactor;
        // Every recorded field is capped: a 1 MB token sent back to a hostile server must not
        // become megabytes of evidence in every report.
        let mut request_headers: Vec<(String, String)> =
            req.headers.iter().map(|(k, v)| (k.clone(), truncate(r.header(k, v), EVIDENCE_FIELD_MAX))).collect();
        let request_body = req.body.as_ref().map(|(ctype, body)| {
            request_headers.push(("content-type".into(), ctype.clone()));
            let redacted = if ctype.starts_with("application/x-www-form-urlencoded") { r.form(body) } else { r.body(body) };
            truncate(redacted, EVIDENCE_FIELD_MAX)
        });
        let mut exchange = Exchange {
            method: req.method.clone(),
            url: truncate(redact_url(r, &req.url), EVIDENCE_FIELD_MAX),
            request_headers,
            request_body,
            status: None,
            response_headers: vec![],
            response_body: None,
            transport_error: None,
            elapsed_ms: elapsed.as_millis() as u64,
        };
        match result {
            Ok(resp) => {
                exchange.status = Some(resp.status);
                exchange.response_headers = resp
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (k.to_string(), truncate(r.header(k.as_str(), &String::from_utf8_lossy(v.as_bytes())), EVIDENCE_FIELD_MAX))
                    })
                    .collect();
                exchange.response_body = Some(truncate(r.body(&resp.body), EVIDENCE_FIELD_MAX));
            }
            Err(e) => exchange.transport_error = Some(truncate(r.text(&format!("{e:#}")), EVIDENCE_FIELD_MAX)),
        }
        self.transcript.lock().unwrap_or_else(|e| e.into_inner()).push(exchange);
    }
}

/// A URL's query is a form (a revocation by GET carries `token=` there): it is redacted field
/// by field, so that an opaque token is caught by its name as in a body.
fn redact_url(r: &Redactor, url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => format!("{}?{}", r.text(base), r.form(query)),
        None => r.text(url),
    }
}

/// The most of any one field (URL, header, body) an exchange keeps as evidence.
const EVIDENCE_FIELD_MAX: usize = 64 * 1024;

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n«truncated»");
    }
    s
}

/// reqwest's errors bury the cause; say it in one line.
fn describe_transport_error(e: reqwest::Error) -> anyhow::Error {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body could not be read"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    // Without the query: it may carry a token (a revocation by GET), and errors become reasons.
    let url = e
        .url()
        .map(|u| {
            let mut u = u.to_string();
            if let Some(q) = u.find('?') {
                u.truncate(q);
                u.push_str("?…");
            }
            u
        })
        .unwrap_or_default();
    if cause.is_empty() {
        anyhow::anyhow!("{kind}: {url}")
    } else {
        anyhow::anyhow!("{kind}: {url}: {cause}")
    }
}
