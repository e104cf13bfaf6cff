//! The `agentcert` binary's library half: wiring that the CLI and the integration tests
//! share. The CLI itself is `src/main.rs`, and it stays thin.

pub mod certify;
pub mod embedded;
