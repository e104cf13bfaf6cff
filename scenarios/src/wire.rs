//! The OAuth requests the scenarios make, sent through Goose (so that its report sees every
//! one) and authenticated the way the target profile registers each client, exactly as the
//! conformance checks authenticate: `private_key_jwt` gets a fresh assertion per request.

use crate::outcome::ErrorClass;
use agentcert_engine::client_auth;
use agentcert_engine::discovery::Metadata;
use agentcert_engine::profile::{ClientRole, TargetProfile};
use goose::prelude::{GooseMethod, GooseRequest, GooseUser};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// An answer: its status and, when the body is a JSON object, that object.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Map<String, Value>>,
}

impl Answer {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }
    /// RFC 6749 §5.1: the access token of a 200 answer.
    pub fn access_token(&self) -> Option<&str> {
        (self.status == 200).then(|| self.str("access_token")).flatten()
    }
    /// RFC 6749 §5.1 `expires_in`, in seconds.
    pub fn expires_in(&self) -> Option<f64> {
        self.body.as_ref()?.get("expires_in")?.as_f64()
    }
    /// RFC 7662 §2.2 `active`.
    pub fn active(&self) -> Option<bool> {
        self.body.as_ref()?.get("active")?.as_bool()
    }
}

/// The target's endpoints and clients, and a count of every request made.
#[derive(Debug)]
pub struct Wire {
    pub profile: TargetProfile,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    /// The endpoints above, parsed once: a request to one of them skips URL parsing (Goose's
    /// request builder parses every URL twice, a measurable share of the generator's CPU).
    parsed: Vec<(String, reqwest::Url)>,
    http_requests: AtomicU64,
}

impl Wire {
    pub fn new(profile: TargetProfile, metadata: &Metadata) -> Result<Wire, String> {
        let token_endpoint = metadata.str("token_endpoint").ok_or("metadata has no token_endpoint")?.to_string();
        let parsed = ["token_endpoint", "revocation_endpoint", "introspection_endpoint"]
            .iter()
            .filter_map(|m| metadata.str(m))
            .filter_map(|e| Some((e.to_string(), reqwest::Url::parse(e).ok()?)))
            .collect();
        Ok(Wire {
            parsed,
            token_endpoint,
            revocation_endpoint: metadata.str("revocation_endpoint").map(str::to_string),
            introspection_endpoint: metadata.str("introspection_endpoint").map(str::to_string),
            profile,
            http_requests: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far.
    pub fn http_requests(&self) -> u64 {
        self.http_requests.load(Relaxed)
    }

    /// Checks that `role` is in the profile and its credentials can be applied, so that a
    /// broken key is a setup error, not ten thousand failed requests.
    pub fn check_client(&self, role: ClientRole) -> Result<(), String> {
        let client = self.profile.client(role).ok_or_else(|| format!("the target profile has no [clients.{}]", role.key()))?;
        client_auth::apply(client, self.profile.issuer(), &self.token_endpoint, &self.token_endpoint, &mut vec![], &mut vec![])
            .map_err(|e| format!("[clients.{}]: {e:#}", role.key()))
    }

    /// A form POST to `endpoint` as `role`; `name` groups it in Goose's report. Any HTTP
    /// answer is `Ok`; only a request that got none is an error.
    pub async fn post_as(
        &self,
        user: &mut GooseUser,
        role: ClientRole,
        endpoint: &str,
        name: &'static str,
        params: &[(&str, &str)],
    ) -> Result<Answer, ErrorClass> {
        let client = self.profile.client(role).ok_or(ErrorClass::Harness)?;
        let mut form: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut headers = vec![("accept".to_string(), "application/json".to_string())];
        client_auth::apply(client, self.profile.issuer(), endpoint, &self.token_endpoint, &mut form, &mut headers)
            .map_err(|_| ErrorClass::Harness)?;
        let mut builder = match self.parsed.iter().find(|(e, _)| e == endpoint) {
            Some((_, url)) => user.client.post(url.clone()),
            None => user.get_request_builder(&GooseMethod::Post, endpoint).map_err(|_| ErrorClass::Harness)?,
        };
        for (k, v) in &headers {
            builder = builder.header(k, v);
        }
        let request = GooseRequest::builder().set_request_builder(builder.form(&form)).name(name).build();
        self.http_requests.fetch_add(1, Relaxed);
        let sent = user.request(request).await.map_err(|_| ErrorClass::Transport)?;
        let response = sent.response.map_err(|e| ErrorClass::of_transport(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| ErrorClass::of_transport(&e))?;
        let body = match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        };
        Ok(Answer { status, body })
    }
}
