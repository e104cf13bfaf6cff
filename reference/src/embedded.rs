//! The embedded configuration: `fixtures/reference/server.toml` and the public keys it
//! names, compiled into the binary.

use std::io;
use std::path::Path;

use crate::config::Config;

/// The text of `fixtures/reference/server.toml`.
pub const SERVER_TOML: &str = include_str!("../../fixtures/reference/server.toml");

/// Public keys of `fixtures/keys/`, by file name.
const KEYS: &[(&str, &str)] = &[
    ("agent-a.pub.pem", include_str!("../../fixtures/keys/agent-a.pub.pem")),
    ("agent-b.pub.pem", include_str!("../../fixtures/keys/agent-b.pub.pem")),
    ("agent-x.pub.pem", include_str!("../../fixtures/keys/agent-x.pub.pem")),
    ("resource-server.pub.pem", include_str!("../../fixtures/keys/resource-server.pub.pem")),
];

pub fn config() -> anyhow::Result<Config> {
    let base = Path::new("fixtures/reference");
    let mut config = Config::from_toml_with(SERVER_TOML, base, |path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        KEYS.iter()
            .find(|(file, _)| *file == name)
            .map(|(_, pem)| pem.to_string())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{name} is not embedded")))
    })?;
    // The keys are inline now; the paths would only mislead a reader of this value.
    for client in &mut config.clients {
        client.public_key_pem_file = None;
    }
    Ok(config)
}
