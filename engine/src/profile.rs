//! The target profile: everything the harness must know about a server that its metadata
//! does not say. Which clients to act as and how they authenticate, which resources to ask
//! for, where the home issuer listens (the target trusts it for subject tokens) and where the
//! partner organization does (it accepts its jwt-bearer assertions), capability overrides, and
//! the timing bounds the server promises.

use crate::HarnessError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The clients the harness plays. Each is a role in the delegation flows, not just a
/// credential: A is the agent a user delegates to, B its sub-agent, X a client that is not
/// allowed token exchange, and the resource server calls introspection. The tool agent
/// (optional) is the third hop of a delegation chain: B hands work on to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientRole {
    AgentA,
    AgentB,
    AgentX,
    ResourceServer,
    ToolAgent,
}

impl ClientRole {
    pub const ALL: [ClientRole; 5] =
        [ClientRole::AgentA, ClientRole::AgentB, ClientRole::AgentX, ClientRole::ResourceServer, ClientRole::ToolAgent];
    pub fn key(self) -> &'static str {
        match self {
            ClientRole::AgentA => "agent_a",
            ClientRole::AgentB => "agent_b",
            ClientRole::AgentX => "agent_x",
            ClientRole::ResourceServer => "resource_server",
            ClientRole::ToolAgent => "tool_agent",
        }
    }
}

/// Client authentication methods the harness can use (RFC 6749 §2.3.1, RFC 7523 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Which `aud` a `private_key_jwt` assertion carries: the issuer (RFC 7523bis direction,
/// accepted by most servers) or the URL of the endpoint being called (RFC 7523 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssertionAudience {
    #[default]
    Issuer,
    Endpoint,
    TokenEndpoint,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientProfile {
    pub client_id: String,
    pub auth_method: AuthMethod,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// PKCS#8 PEM private key file, relative to the profile.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// The same, inline.
    #[serde(default)]
    pub private_key_pem: Option<String>,
    #[serde(default = "default_alg")]
    pub signing_alg: String,
    #[serde(default)]
    pub assertion_audience: AssertionAudience,
    /// The scopes this client is registered for (its allowance), space-separated.
    #[serde(default)]
    pub scope: String,
}

fn default_alg() -> String {
    "ES256".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    pub name: String,
    pub issuer: String,
    #[serde(default)]
    pub mode: Mode,
}

/// Strict fails a wrong error code; lenient reports it as a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Strict,
    Lenient,
}

/// Resource indicators (RFC 8707) the checks ask for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// A resource every agent client may get a token for.
    pub default: String,
    /// A second resource, for multi-target requests.
    #[serde(default)]
    pub second: Option<String>,
    /// A resource the server does not know, for `invalid_target`.
    #[serde(default = "default_unknown_resource")]
    pub unknown: String,
    /// Send `resource` on every client-credentials request (some servers issue JWT access
    /// tokens only for a named resource).
    #[serde(default = "yes")]
    pub always_send: bool,
}

fn default_unknown_resource() -> String {
    "https://unknown.example.invalid".into()
}
fn yes() -> bool {
    true
}

/// The harness's own issuer of user tokens, which the target is configured to trust.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeIssuerProfile {
    /// Where it listens; its issuer is `http://{listen}`. `127.0.0.1:0` picks a free port
    /// (only useful when the target learns the issuer at run time, as the embedded one does).
    pub listen: String,
    /// The user on whose behalf agents act.
    pub subject: String,
    /// The user's scopes. Agents' allowances are a strict subset.
    pub scope: String,
    /// Whether the target is configured to trust it. Without this, delegation checks skip.
    #[serde(default = "yes")]
    pub trusted: bool,
}

/// The partner organization: a second issuer, in another trust domain, whose RFC 7523
/// assertions the target is configured to accept as authorization grants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerProfile {
    /// Where it listens; its issuer is `http://{listen}`, its JWK Set `http://{listen}/jwks`.
    pub listen: String,
    /// The partner's agent or user that its assertions are about (`sub`).
    pub subject: String,
    /// Whether the target is configured to trust it. Without this, federation checks skip.
    #[serde(default = "yes")]
    pub trusted: bool,
    /// The scope the checks ask for with a partner assertion.
    pub scope: String,
    /// Which `aud` its assertions carry: the target's issuer (default) or its token endpoint
    /// (RFC 7523 §3 item 3 allows either).
    #[serde(default)]
    pub assertion_audience: AssertionAudience,
    /// How long the target may take to accept a key the partner has just rotated to (its JWK
    /// Set refetch may be rate-limited).
    #[serde(default = "default_key_refresh_within", with = "humantime_serde_compat")]
    pub key_refresh_within: Duration,
}

fn default_key_refresh_within() -> Duration {
    Duration::from_secs(5)
}

/// The harness as an OpenID Shared Signals Receiver (SSF 1.0), for targets that are
/// Transmitters: where its push endpoint listens, and the client whose access tokens manage
/// its event streams. Every member has a default, so the section is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalsProfile {
    /// Where the push endpoint (RFC 8935) listens; `127.0.0.1:0` picks a free loopback port.
    #[serde(default = "default_signals_listen")]
    pub listen: String,
    /// The `endpoint_url` given to the target, when it cannot reach `http://{listen}` directly
    /// (a proxy, a container network); the path `/events` is the harness's.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// The profile client that manages streams, with a client-credentials access token
    /// (SSF 1.0 §7.1.1 `urn:ietf:rfc:6749`).
    #[serde(default = "default_signals_client")]
    pub client: ClientRole,
    /// The scope it asks for (CAEP Interoperability Profile, "OAuth Scopes").
    #[serde(default = "default_signals_scope")]
    pub scope: String,
}

impl Default for SignalsProfile {
    fn default() -> Self {
        SignalsProfile {
            listen: default_signals_listen(),
            endpoint_url: None,
            client: default_signals_client(),
            scope: default_signals_scope(),
        }
    }
}
fn default_signals_listen() -> String {
    "127.0.0.1:0".into()
}
fn default_signals_client() -> ClientRole {
    ClientRole::ResourceServer
}
fn default_signals_scope() -> String {
    "ssf.manage ssf.read".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// How soon a revocation must show at introspection.
    #[serde(default = "default_revoke_within", with = "humantime_serde_compat")]
    pub revoke_within: Duration,
    /// The longest lifetime an agent access token may have.
    #[serde(default = "default_max_lifetime", with = "humantime_serde_compat")]
    pub max_token_lifetime: Duration,
    #[serde(default = "default_skew", with = "humantime_serde_compat")]
    pub clock_skew: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { revoke_within: default_revoke_within(), max_token_lifetime: default_max_lifetime(), clock_skew: default_skew() }
    }
}
fn default_revoke_within() -> Duration {
    Duration::from_secs(5)
}
fn default_max_lifetime() -> Duration {
    Duration::from_secs(3600)
}
fn default_skew() -> Duration {
    Duration::from_secs(60)
}

mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| serde::de::Error::custom(format!("`{s}` is not a duration like \"5s\" or \"1h\": {e}")))
    }
}

/// `[limits]`: what the harness waits for and reads from the target, so that a slow or
/// hostile server cannot make a run hang or exhaust memory. Each is optional; the command line
/// (`--timeout`, `--max-body-bytes`) overrides the profile, which overrides the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsProfile {
    /// Each request, connect to last body byte [default: 10s].
    #[serde(default, with = "humantime_serde_opt")]
    pub timeout: Option<Duration>,
    /// The largest response body read; a longer one is an error [default: 1048576].
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    /// The longest one check may take before it is stopped and marked `error` [default: 60s].
    #[serde(default, with = "humantime_serde_opt")]
    pub check_timeout: Option<Duration>,
}

impl LimitsProfile {
    /// `defaults` with whatever this section sets.
    pub fn apply(&self, defaults: crate::http::Limits) -> crate::http::Limits {
        crate::http::Limits {
            timeout: self.timeout.unwrap_or(defaults.timeout),
            max_body_bytes: self.max_body_bytes.unwrap_or(defaults.max_body_bytes),
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.timeout.is_some_and(|t| t.is_zero()) || self.check_timeout.is_some_and(|t| t.is_zero()) {
            return Err("[limits] timeout and check_timeout must be more than zero".into());
        }
        // A request or a check that may take longer than ten minutes is a hang, not a bound.
        let ten_minutes = Duration::from_secs(600);
        if self.timeout.is_some_and(|t| t > ten_minutes) || self.check_timeout.is_some_and(|t| t > ten_minutes) {
            return Err("[limits] timeout and check_timeout must be at most 10m".into());
        }
        if self.max_body_bytes == Some(0) {
            return Err("[limits] max_body_bytes must be more than zero".into());
        }
        Ok(())
    }
}

mod humantime_serde_opt {
    use serde::Deserializer;
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        super::humantime_serde_compat::deserialize(d).map(Some)
    }
}

/// The whole profile file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetProfile {
    pub target: TargetSection,
    pub clients: BTreeMap<ClientRole, ClientProfile>,
    pub resources: Resources,
    #[serde(default)]
    pub home_issuer: Option<HomeIssuerProfile>,
    #[serde(default)]
    pub partner: Option<PartnerProfile>,
    /// Capability overrides, by name (`token-exchange = false`): what detection gets wrong.
    #[serde(default)]
    pub capabilities: BTreeMap<String, bool>,
    #[serde(default)]
    pub timing: Timing,
    /// The harness's Shared Signals Receiver (used only when the target is a Transmitter).
    #[serde(default)]
    pub signals: SignalsProfile,
    /// Check ids this target is known to fail, each with the reason (the baseline).
    #[serde(default)]
    pub expected_failures: BTreeMap<String, String>,
    /// Request timeout, body-size cap and per-check time limit.
    #[serde(default)]
    pub limits: LimitsProfile,
    /// Where the profile was read from (`embedded` for the reference run).
    #[serde(skip)]
    pub source: String,
}

impl TargetProfile {
    pub fn load(path: &Path) -> Result<Self, HarnessError> {
        let err = |message: String| HarnessError::Profile { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::parse(&text, &base, &path.display().to_string())
    }

    /// Parses a profile; key files resolve against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path, source: &str) -> Result<Self, HarnessError> {
        let base = base_dir.to_path_buf();
        Self::parse_with(text, source, &move |file: &Path| {
            let path = base.join(file);
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
        })
    }

    /// Parses a profile whose key files are read through `read_file` (the embedded profile
    /// resolves them from the binary itself).
    pub fn parse_with(text: &str, source: &str, read_file: &dyn Fn(&Path) -> Result<String, String>) -> Result<Self, HarnessError> {
        let err = |message: String| HarnessError::Profile { path: source.to_string(), message };
        let mut p: TargetProfile = toml::from_str(text).map_err(|e| err(one_line(&e.to_string())))?;
        p.source = source.to_string();
        p.validate(read_file).map_err(err)?;
        Ok(p)
    }

    fn validate(&mut self, read_file: &dyn Fn(&Path) -> Result<String, String>) -> Result<(), String> {
        // Bounds a person could mean: a zero bound makes every timed check fail by construction,
        // and an absurd one makes a check wait for hours.
        let t = &self.timing;
        for (name, value, max) in [
            ("revoke_within", t.revoke_within, Duration::from_secs(3600)),
            ("max_token_lifetime", t.max_token_lifetime, Duration::from_secs(366 * 24 * 3600)),
            ("clock_skew", t.clock_skew, Duration::from_secs(3600)),
        ] {
            if (value.is_zero() && name != "clock_skew") || value > max {
                return Err(format!(
                    "[timing] {name} = {} is out of range (more than zero, at most {})",
                    humantime::format_duration(value),
                    humantime::format_duration(max)
                ));
            }
        }
        let issuer =
            url::Url::parse(&self.target.issuer).map_err(|e| format!("target.issuer `{}` is not a URL: {e}", self.target.issuer))?;
        if !matches!(issuer.scheme(), "http" | "https") {
            return Err(format!("target.issuer `{}` must be an http(s) URL", self.target.issuer));
        }
        for role in [ClientRole::AgentA, ClientRole::ResourceServer] {
            if !self.clients.contains_key(&role) {
                return Err(format!("[clients.{}] is required", role.key()));
            }
        }
        for name in self.capabilities.keys() {
            if !crate::Capability::ALL.iter().any(|c| c.name() == name) {
                let known: Vec<_> = crate::Capability::ALL.iter().map(|c| c.name()).collect();
                return Err(format!("[capabilities] `{name}` is not one of {}", known.join(", ")));
            }
        }
        for (role, c) in self.clients.iter_mut() {
            let at = format!("[clients.{}]", role.key());
            match c.auth_method {
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost if c.client_secret.is_none() => {
                    return Err(format!("{at} uses {} but has no client_secret", c.auth_method.as_str()))
                }
                AuthMethod::PrivateKeyJwt => {
                    if c.private_key_pem.is_none() {
                        let file =
                            c.private_key_file.as_ref().ok_or_else(|| format!("{at} uses private_key_jwt but has no private_key_file"))?;
                        let pem = read_file(file).map_err(|e| format!("{at} private_key_file {e}"))?;
                        c.private_key_pem = Some(pem);
                    }
                    if c.signing_alg != "ES256" {
                        return Err(format!("{at} signing_alg {} is not supported (ES256 only)", c.signing_alg));
                    }
                    crate::jose::SigningKey::from_pem(c.private_key_pem.as_deref().unwrap_or_default())
                        .map_err(|e| format!("{at} private key: {e}"))?;
                }
                _ => {}
            }
        }
        if let Some(h) = &self.home_issuer {
            h.listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| format!("home_issuer.listen `{}` is not an address like 127.0.0.1:9401", h.listen))?;
        }
        if let Some(p) = &self.partner {
            p.listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| format!("partner.listen `{}` is not an address like 127.0.0.1:9402", p.listen))?;
        }
        self.limits.validate()?;
        let s = &self.signals;
        s.listen
            .parse::<std::net::SocketAddr>()
            .map_err(|_| format!("signals.listen `{}` is not an address like 127.0.0.1:9403", s.listen))?;
        if let Some(u) = &s.endpoint_url {
            url::Url::parse(u).map_err(|e| format!("signals.endpoint_url `{u}` is not a URL: {e}"))?;
        }
        Ok(())
    }

    pub fn client(&self, role: ClientRole) -> Option<&ClientProfile> {
        self.clients.get(&role)
    }

    /// Every secret in the profile, for the redactor.
    ///
    /// Each secret comes with the forms it travels in, so that a server echoing a request back
    /// cannot smuggle it past the redactor: form-urlencoded, and inside HTTP Basic as
    /// `base64(id:secret)`, plain and with both parts form-urlencoded first (RFC 6749 §2.3.1).
    pub fn secrets(&self) -> Vec<String> {
        use base64::Engine;
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut out = Vec::new();
        for c in self.clients.values() {
            let Some(secret) = c.client_secret.clone() else { continue };
            out.push(enc(&secret));
            out.push(b64(format!("{}:{secret}", c.client_id)));
            out.push(b64(format!("{}:{}", enc(&c.client_id), enc(&secret))));
            out.push(secret);
        }
        out.sort();
        out.dedup();
        out
    }

    /// The issuer as configured, which checks compare byte for byte (RFC 8414 §3.3).
    pub fn issuer(&self) -> &str {
        &self.target.issuer
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// A server that echoes the request back (an `Authorization: Basic …` header, a form body)
    /// must not get a secret past the redactor in any of the forms it travelled in.
    #[test]
    fn echoed_credentials_are_redacted_in_every_form() {
        let text = r#"
            [target]
            name = "t"
            issuer = "http://127.0.0.1:1"
            [clients.agent_a]
            client_id = "agent a"
            auth_method = "client_secret_basic"
            client_secret = "s3cret/with+chars"
            [clients.resource_server]
            client_id = "rs"
            auth_method = "client_secret_post"
            client_secret = "rs-secret-0c7a"
            [resources]
            default = "https://api.example.test"
        "#;
        let profile = TargetProfile::parse(text, Path::new("."), "test").unwrap();
        let redactor = crate::redact::Redactor::new(profile.secrets());
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        for leaked in [
            "s3cret/with+chars".to_string(),
            enc("s3cret/with+chars"),
            b64("agent a:s3cret/with+chars"),
            b64(&format!("{}:{}", enc("agent a"), enc("s3cret/with+chars"))),
            b64("rs:rs-secret-0c7a"),
        ] {
            let echoed = format!("error: bad request; you sent Authorization: Basic {leaked} and client_secret={leaked}");
            let out = redactor.text(&echoed);
            assert!(!out.contains(&leaked), "{leaked} survived: {out}");
        }
    }
}
