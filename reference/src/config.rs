//! Server configuration: a TOML file (`deny_unknown_fields`) or a value built in code.
//!
//! Key material for `private_key_jwt` clients is given either inline
//! (`public_key_pem`) or as a path (`public_key_pem_file`), resolved relative to
//! the directory of the configuration file by [`Config::from_toml`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::faults::Fault;

/// `grant_type` value of the client credentials grant (RFC 6749 §4.4.2).
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
/// `grant_type` value of token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `grant_type` value of the JWT bearer grant (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The whole server configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Socket address to bind, e.g. `127.0.0.1:0`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Issuer identifier (RFC 8414 §2). Derived as `http://{bound addr}{issuer_path}` when absent.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Path component of the derived issuer, e.g. `/tenant-1`; empty for none.
    #[serde(default)]
    pub issuer_path: String,
    /// Lifetime of issued access tokens, in seconds.
    #[serde(default = "default_lifetime")]
    pub access_token_lifetime_secs: u64,
    /// Deliberate rule violations (see [`Fault`]).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// How late the timing faults (`ssf-push-delayed`, `introspect-revocation-lag`) are, in
    /// milliseconds.
    #[serde(default = "default_fault_delay_ms")]
    pub fault_delay_ms: u64,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// External issuers whose JWTs are accepted as `subject_token` / `actor_token`.
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Partner organizations whose JWTs are accepted as authorization grants (RFC 7523 §2.1).
    #[serde(default)]
    pub trusted_partners: Vec<TrustedPartner>,
}

/// One registered client (RFC 6749 §2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub client_id: String,
    /// The one authentication method this client may use (RFC 7591 §2 `token_endpoint_auth_method`).
    pub auth_method: AuthMethod,
    /// PEM file of the client's ES256 (P-256) public key, for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem_file: Option<PathBuf>,
    /// The same key given inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    /// Shared secret, for `client_secret_basic` / `client_secret_post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Grant types the client may use (RFC 7591 §2 `grant_types`).
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Space-delimited scope allowance (RFC 6749 §3.3).
    #[serde(default)]
    pub scope: String,
    /// Resources / audiences the client may request tokens for (RFC 8707, RFC 8693 `audience`).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// A resource server allowed to introspect any token (RFC 7662 §2.1).
    #[serde(default)]
    pub introspect_any: bool,
    /// Agent identity claims added to this client's access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentIdentity>,
}

/// Identity of the AI agent behind a client, emitted as the `agent` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentIdentity {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

/// Client authentication methods (RFC 8414 §2, OIDC Core §9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// RFC 6749 §2.3.1, HTTP Basic.
    #[default]
    ClientSecretBasic,
    /// RFC 6749 §2.3.1, credentials in the request body.
    ClientSecretPost,
    /// OIDC Core §9 / RFC 7523 §2.2, a JWT signed with the client's private key.
    PrivateKeyJwt,
}

impl AuthMethod {
    /// All methods, in the order metadata lists them.
    pub const ALL: [AuthMethod; 3] = [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::PrivateKeyJwt];

    /// The registered name (RFC 7591 §2).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// An external issuer whose JWTs are accepted in token exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// Must equal the token's `iss` claim exactly.
    pub issuer: String,
    /// Where that issuer's JWK Set is fetched from.
    pub jwks_uri: String,
}

/// A partner organization whose signed assertions about its own subjects are accepted as
/// jwt-bearer grants (RFC 7523 §2.1). Kept apart from [`TrustedIssuer`]: trusting an issuer's
/// user tokens for delegation does not mean trusting its assertions as grants, nor the reverse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedPartner {
    /// Must equal the assertion's `iss` claim exactly (RFC 7523 §3 item 1).
    pub issuer: String,
    /// Where the partner's JWK Set is fetched from (refetched for an unknown `kid`).
    pub jwks_uri: String,
    /// Space-delimited scope the partner's subjects may be granted (further limited by the
    /// requesting client's allowance).
    pub subjects_scope: String,
}

fn default_listen() -> String {
    "127.0.0.1:0".to_string()
}

fn default_lifetime() -> u64 {
    300
}

fn default_fault_delay_ms() -> u64 {
    2000
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: default_listen(),
            issuer: None,
            issuer_path: String::new(),
            access_token_lifetime_secs: default_lifetime(),
            faults: Vec::new(),
            fault_delay_ms: default_fault_delay_ms(),
            clients: Vec::new(),
            trusted_issuers: Vec::new(),
            trusted_partners: Vec::new(),
        }
    }
}

impl Config {
    /// Parses a TOML configuration; `public_key_pem_file` paths resolve relative to `base_dir`
    /// and are read at once, so the returned value carries its keys inline.
    pub fn from_toml(text: &str, base_dir: &Path) -> anyhow::Result<Config> {
        Self::from_toml_with(text, base_dir, |path| std::fs::read_to_string(path))
    }

    /// Like [`Config::from_toml`], reading key files through `read` (e.g. from embedded text).
    pub fn from_toml_with(text: &str, base_dir: &Path, read: impl Fn(&Path) -> std::io::Result<String>) -> anyhow::Result<Config> {
        let mut config: Config = toml::from_str(text).context("invalid reference server configuration")?;
        for client in &mut config.clients {
            if let Some(file) = &client.public_key_pem_file {
                let path = base_dir.join(file);
                if client.public_key_pem.is_none() {
                    let pem = read(&path)
                        .with_context(|| format!("client `{}`: cannot read public_key_pem_file {}", client.client_id, path.display()))?;
                    client.public_key_pem = Some(pem);
                }
                client.public_key_pem_file = Some(path);
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// The embedded roster, `fixtures/reference/server.toml`, with its key files compiled in:
    /// usable from any working directory.
    pub fn embedded() -> anyhow::Result<Config> {
        crate::embedded::config()
    }

    /// Checks the configuration for contradictions; [`crate::start`] calls it too.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.access_token_lifetime_secs == 0 {
            bail!("access_token_lifetime_secs must be positive");
        }
        check_path(&self.issuer_path).context("issuer_path")?;
        if let Some(issuer) = &self.issuer {
            // RFC 8414 §2: an https (here also http, for tests) URL with no query or fragment.
            let url = url::Url::parse(issuer).with_context(|| format!("issuer `{issuer}` is not a URL"))?;
            if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
                bail!("issuer `{issuer}` must be an http(s) URL without query or fragment");
            }
            if issuer.ends_with('/') {
                bail!("issuer `{issuer}` must not end with `/`");
            }
            check_path(url.path().trim_end_matches('/')).context("issuer path")?;
            if !self.issuer_path.is_empty() && url.path() != self.issuer_path {
                bail!("issuer `{issuer}` and issuer_path `{}` disagree", self.issuer_path);
            }
        }
        let mut ids = HashSet::new();
        for client in &self.clients {
            client.validate()?;
            if !ids.insert(client.client_id.as_str()) {
                bail!("client `{}` is registered twice", client.client_id);
            }
        }
        let trusted = self.trusted_issuers.iter().map(|t| (&t.issuer, &t.jwks_uri));
        for (issuer, jwks_uri) in trusted.chain(self.trusted_partners.iter().map(|p| (&p.issuer, &p.jwks_uri))) {
            url::Url::parse(issuer).with_context(|| format!("trusted issuer `{issuer}` is not a URL"))?;
            url::Url::parse(jwks_uri).with_context(|| format!("jwks_uri `{jwks_uri}` is not a URL"))?;
        }
        Ok(())
    }
}

impl ClientConfig {
    fn validate(&self) -> anyhow::Result<()> {
        let id = &self.client_id;
        if id.is_empty() {
            bail!("a client has an empty client_id");
        }
        let has_key = self.public_key_pem.is_some() || self.public_key_pem_file.is_some();
        match self.auth_method {
            AuthMethod::PrivateKeyJwt => {
                if !has_key || self.client_secret.is_some() {
                    bail!("client `{id}`: private_key_jwt needs public_key_pem(_file) and no client_secret");
                }
            }
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
                if has_key || self.client_secret.as_deref().is_none_or(str::is_empty) {
                    bail!("client `{id}`: {} needs a client_secret and no public key", self.auth_method.as_str());
                }
            }
        }
        for grant in &self.grant_types {
            if ![CLIENT_CREDENTIALS, TOKEN_EXCHANGE, JWT_BEARER_GRANT].contains(&grant.as_str()) {
                bail!("client `{id}`: unsupported grant type `{grant}` (use `{CLIENT_CREDENTIALS}`, `{TOKEN_EXCHANGE}` or `{JWT_BEARER_GRANT}`)");
            }
        }
        if self.audiences.iter().any(String::is_empty) {
            bail!("client `{id}`: empty audience");
        }
        Ok(())
    }

    /// The public key PEM, read from `public_key_pem_file` if it was not loaded yet.
    pub(crate) fn public_key_pem(&self) -> anyhow::Result<Option<String>> {
        match (&self.public_key_pem, &self.public_key_pem_file) {
            (Some(pem), _) => Ok(Some(pem.clone())),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(Some)
                .with_context(|| format!("client `{}`: cannot read {}", self.client_id, path.display())),
            (None, None) => Ok(None),
        }
    }
}

/// An issuer path is empty or `/segment[/segment..]`: no trailing slash, query, fragment
/// or route-pattern characters.
fn check_path(path: &str) -> anyhow::Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    if !path.starts_with('/') || path.ends_with('/') {
        bail!("`{path}` must start with `/` and not end with `/`");
    }
    if path.contains(['?', '#', '{', '}', '*', ' ']) {
        bail!("`{path}` contains characters not allowed in an issuer path");
    }
    Ok(())
}
