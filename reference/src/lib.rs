//! The reference OAuth 2.0 authorization server embedded in agentcert.
//!
//! It serves AI agents with machine-to-machine grants only — client credentials
//! (RFC 6749 §4.4), token exchange (RFC 8693) and partner organizations' JWT bearer
//! assertions (RFC 7523 §2.1) — issuing RFC 9068 JWT access tokens
//! signed ES256, with introspection (RFC 7662), revocation (RFC 7009) and metadata
//! (RFC 8414). It is also an OpenID Shared Signals Transmitter (SSF 1.0): revocations reach
//! the Receivers that stream them as CAEP `session-revoked` events. Everything lives in memory. [`Fault`] switches turn it into mutants
//! that each break exactly one rule, for agentcert's negative tests.

mod access_token;
mod assertion;
mod client_auth;
pub mod config;
mod embedded;
mod error;
pub mod faults;
mod form;
#[doc(hidden)]
pub mod fuzzing;
mod introspect;
mod jwt;
mod keys;
mod metadata;
mod revoke;
mod ssf;
mod state;
mod store;
mod token;
mod trusted;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{AgentIdentity, AuthMethod, ClientConfig, Config, TrustedIssuer, TrustedPartner};
pub use embedded::SERVER_TOML;
pub use faults::Fault;

use state::AppState;

/// A server running in a background task. Dropping it also stops the server.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The issuer identifier (RFC 8414 §2).
    pub issuer: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections and waits (up to 5 s) for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `config.listen`, derives the issuer `http://{addr}{issuer_path}` when
/// `config.issuer` is `None`, and serves in a background tokio task.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    config.validate()?;
    let listener = tokio::net::TcpListener::bind(&config.listen).await.with_context(|| format!("cannot bind {}", config.listen))?;
    let addr = listener.local_addr()?;
    let issuer = config.issuer.clone().unwrap_or_else(|| format!("http://{addr}{}", config.issuer_path));
    let state = Arc::new(AppState::new(&config, issuer.clone())?);
    let app = router(state);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningServer { addr, issuer, shutdown: Some(tx), task: Some(task) })
}

/// The Shared Signals Transmitter (SSF 1.0): configuration at the path-inserted well-known
/// URI (§7.2), the Stream Management API (§8) and the poll endpoint (RFC 8936).
fn ssf_routes(base: &str) -> Router<Arc<AppState>> {
    Router::new()
        .route(&format!("/.well-known/ssf-configuration{base}"), get(ssf::metadata::ssf_configuration))
        .route(
            &format!("{base}/ssf/stream"),
            post(ssf::streams::create)
                .get(ssf::streams::read)
                .patch(ssf::streams::update)
                .put(ssf::streams::replace)
                .delete(ssf::streams::delete),
        )
        .route(&format!("{base}/ssf/status"), get(ssf::control::read_status).post(ssf::control::update_status))
        .route(&format!("{base}/ssf/subjects/add"), post(ssf::control::add_subject))
        .route(&format!("{base}/ssf/subjects/remove"), post(ssf::control::remove_subject))
        .route(&format!("{base}/ssf/verify"), post(ssf::control::verify))
        .route(&format!("{base}/ssf/poll/{{stream_id}}"), post(ssf::delivery::poll))
}

/// Every endpoint lives under the issuer's path; metadata uses the path-inserted
/// well-known URI (RFC 8414 §3.1).
fn router(state: Arc<AppState>) -> Router {
    let base = state.base_path.clone();
    Router::new()
        .route(&format!("/.well-known/oauth-authorization-server{base}"), get(metadata::oauth_authorization_server))
        .route(&format!("{base}/.well-known/openid-configuration"), get(metadata::openid_configuration))
        .route(&format!("{base}/jwks"), get(metadata::jwks))
        .route(&format!("{base}/token"), post(token::token))
        .route(&format!("{base}/introspect"), post(introspect::introspect))
        .route(&format!("{base}/revoke"), post(revoke::revoke).get(revoke::revoke_by_get))
        .merge(ssf_routes(&base))
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::error_format))
        .with_state(state)
}
