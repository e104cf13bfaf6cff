//! Shared server state: registered clients, signing key, token store, faults.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{bail, Context};
use jsonwebtoken::DecodingKey;

use crate::config::{ClientConfig, Config};
use crate::faults::{Fault, Faults};
use crate::keys::ServerKey;
use crate::store::Store;
use crate::trusted::TrustedKeys;

/// A registered client with its key material parsed once.
pub struct Client {
    pub config: ClientConfig,
    /// The scope allowance, split into scope tokens (RFC 6749 §3.3).
    pub scope: Vec<String>,
    /// ES256 public key of a `private_key_jwt` client.
    pub public_key: Option<DecodingKey>,
    /// Its PEM text, needed only to emulate algorithm confusion (`auth-assertion-any-alg`).
    pub public_key_pem: Option<String>,
}

impl Client {
    pub fn new(config: ClientConfig) -> anyhow::Result<Client> {
        let pem = config.public_key_pem()?;
        let public_key = match &pem {
            Some(pem) => {
                let key = DecodingKey::from_ec_pem(pem.as_bytes())
                    .with_context(|| format!("client `{}`: public key is not an EC PEM", config.client_id))?;
                // An uncompressed P-256 point is 65 bytes; ES256 needs exactly that curve.
                if key.as_bytes().len() != 65 {
                    bail!("client `{}`: public key is not a P-256 key", config.client_id);
                }
                Some(key)
            }
            None => None,
        };
        Ok(Client { scope: split_scope(&config.scope), public_key, public_key_pem: pem, config })
    }

    pub fn id(&self) -> &str {
        &self.config.client_id
    }

    /// RFC 7591 §2 `grant_types`: the grants registered for this client.
    pub fn may_use(&self, grant_type: &str) -> bool {
        self.config.grant_types.iter().any(|g| g == grant_type)
    }

    /// The audience used when a request names none: the first registered one, else the client itself.
    pub fn default_audience(&self) -> String {
        self.config.audiences.first().cloned().unwrap_or_else(|| self.config.client_id.clone())
    }
}

/// Splits a space-delimited scope string (RFC 6749 §3.3), dropping repeats.
pub fn split_scope(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|t| t == token) {
            out.push(token.to_string());
        }
    }
    out
}

/// Everything the handlers share.
pub struct AppState {
    /// The issuer identifier as configured (RFC 8414 §2).
    pub issuer: String,
    /// Path prefix of every endpoint (the issuer's path, no trailing slash).
    pub base_path: String,
    pub lifetime_secs: u64,
    pub clients: HashMap<String, Arc<Client>>,
    pub trusted: TrustedKeys,
    pub key: ServerKey,
    pub store: Store,
    pub faults: Faults,
    /// The single `jti` handed out under `token-reused-jti`.
    pub reused_jti: String,
    /// Union of all client allowances, for `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// The Shared Signals Transmitter: its streams and its push client.
    pub ssf: crate::ssf::Transmitter,
}

impl AppState {
    pub fn new(config: &Config, issuer: String) -> anyhow::Result<AppState> {
        let base_path =
            url::Url::parse(&issuer).with_context(|| format!("issuer `{issuer}` is not a URL"))?.path().trim_end_matches('/').to_string();
        let mut clients = HashMap::new();
        let mut scopes_supported: Vec<String> = Vec::new();
        for client in &config.clients {
            let client = Client::new(client.clone())?;
            for scope in &client.scope {
                if !scopes_supported.contains(scope) {
                    scopes_supported.push(scope.clone());
                }
            }
            clients.insert(client.id().to_string(), Arc::new(client));
        }
        Ok(AppState {
            issuer,
            base_path,
            lifetime_secs: config.access_token_lifetime_secs,
            clients,
            trusted: TrustedKeys::new(config.trusted_issuers.clone(), config.trusted_partners.clone())?,
            key: ServerKey::generate()?,
            store: Store::default(),
            faults: Faults::new(&config.faults),
            reused_jti: crate::jwt::random_id().context("no randomness")?,
            scopes_supported,
            ssf: crate::ssf::Transmitter::new(std::time::Duration::from_millis(config.fault_delay_ms))?,
        })
    }

    /// `{issuer}/{name}`: every endpoint lives under the issuer's path.
    pub fn endpoint(&self, name: &str) -> String {
        format!("{}/{name}", self.issuer)
    }

    /// Lifetime of a new access token.
    pub fn access_token_lifetime(&self) -> u64 {
        // Agent tokens are short-lived by design (configured, default 5 minutes).
        if self.faults.has(Fault::TokenLifetime24h) {
            return 24 * 3600;
        }
        self.lifetime_secs
    }

    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.clients.get(client_id).cloned()
    }
}
