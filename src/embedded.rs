//! The embedded target: agentcert's own reference authorization server, started on an
//! ephemeral loopback port, with the harness's home issuer and partner organization started
//! first so that the server can be configured to trust them. Everything it needs is compiled into the binary, so
//! `agentcert run` works from any directory.
//!
//! The suites still talk to it only over HTTP: this module starts it and writes its address
//! into the target profile, nothing more.

use agentcert_engine::context::Roles;
use agentcert_engine::home_issuer::HomeIssuer;
use agentcert_engine::partner::Partner;
use agentcert_engine::{HarnessError, TargetProfile};
use agentcert_reference::{Config, Fault, RunningServer, TrustedIssuer, TrustedPartner};
use std::path::Path;

const SERVER_CONFIG: &str = include_str!("../fixtures/reference/server.toml");
const TARGET_PROFILE: &str = include_str!("../fixtures/targets/reference.toml");

/// Files the two documents above refer to, compiled in.
const FILES: &[(&str, &str)] = &[
    ("../keys/agent-a.key.pem", include_str!("../fixtures/keys/agent-a.key.pem")),
    ("../keys/agent-a.pub.pem", include_str!("../fixtures/keys/agent-a.pub.pem")),
    ("../keys/agent-b.pub.pem", include_str!("../fixtures/keys/agent-b.pub.pem")),
    ("../keys/agent-x.pub.pem", include_str!("../fixtures/keys/agent-x.pub.pem")),
    ("../keys/resource-server.pub.pem", include_str!("../fixtures/keys/resource-server.pub.pem")),
];

fn read_embedded(path: &Path) -> Result<String, String> {
    let p = path.to_string_lossy();
    FILES
        .iter()
        .find(|(name, _)| *name == p)
        .map(|(_, text)| text.to_string())
        .ok_or_else(|| format!("{p} is not compiled into the binary"))
}

/// A running embedded target: the server, the home issuer and partner it trusts, and the
/// profile that points the harness at them.
pub struct EmbeddedTarget {
    pub server: RunningServer,
    pub home: HomeIssuer,
    pub partner: Partner,
    pub profile: TargetProfile,
}

impl EmbeddedTarget {
    /// Splits the target into the server (keep it alive for the run), the profile and the
    /// roles to hand to `runner::run`.
    pub fn into_parts(self) -> (RunningServer, TargetProfile, Roles) {
        (self.server, self.profile, Roles { home: Some(self.home), partner: Some(self.partner) })
    }
}

/// The reference server's configuration as compiled in, before any runtime changes.
pub fn server_config() -> anyhow::Result<Config> {
    let mut config: Config = toml::from_str(SERVER_CONFIG)?;
    for client in &mut config.clients {
        if let Some(file) = client.public_key_pem_file.take() {
            client.public_key_pem = Some(read_embedded(&file).map_err(anyhow::Error::msg)?);
        }
    }
    Ok(config)
}

/// Starts the home issuer, the partner and the reference server (with `faults` switched on: a
/// mutant, for negative tests), and returns the profile to run against them.
pub async fn start(faults: &[Fault]) -> Result<EmbeddedTarget, HarnessError> {
    let setup = |what: &str, e: anyhow::Error| HarnessError::Setup(format!("embedded reference server: {what}: {e:#}"));
    let mut profile = TargetProfile::parse_with(TARGET_PROFILE, "embedded", &read_embedded)?;
    let home = HomeIssuer::start("127.0.0.1:0").await.map_err(|e| setup("home issuer", e))?;
    let partner = Partner::start("127.0.0.1:0").await.map_err(|e| setup("partner", e))?;
    let mut config = server_config().map_err(|e| setup("config", e))?;
    config.listen = "127.0.0.1:0".into();
    config.trusted_issuers.push(TrustedIssuer { issuer: home.issuer.clone(), jwks_uri: home.jwks_uri() });
    // The partner's subjects may have the scope the profile has its assertions ask for.
    let subjects_scope = profile.partner.as_ref().map(|p| p.scope.clone()).unwrap_or_default();
    config.trusted_partners.push(TrustedPartner { issuer: partner.issuer.clone(), jwks_uri: partner.jwks_uri(), subjects_scope });
    config.faults.extend(faults.iter().cloned());
    let server = agentcert_reference::start(config).await.map_err(|e| setup("start", e))?;
    profile.target.issuer = server.issuer.clone();
    Ok(EmbeddedTarget { server, home, partner, profile })
}
