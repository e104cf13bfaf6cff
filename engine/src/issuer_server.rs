//! A small issuer on a loopback port: the RFC 8414 metadata and the JWK Set (RFC 7517 §5) a
//! relying server needs in order to trust one of the harness's roles (the home issuer, the
//! partner organization). The JWK Set can be replaced while it runs, for key rotation.

use axum::{extract::State, routing::get, Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::sync::oneshot;

pub struct IssuerServer {
    /// `http://{addr}`.
    pub issuer: String,
    pub addr: SocketAddr,
    jwks: Arc<RwLock<Value>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for IssuerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerServer").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl IssuerServer {
    /// Binds `listen` and serves metadata (at both well-known URLs) and `jwks` at `/jwks`
    /// until dropped. `role` names the issuer in errors ("home issuer").
    pub async fn start(listen: &str, role: &str, jwks: Value) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("{role} cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        let issuer = format!("http://{addr}");
        let metadata = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/jwks"),
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        let jwks = Arc::new(RwLock::new(jwks));
        let served = jwks.clone();
        let app = Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                get({
                    let m = metadata.clone();
                    move || async move { Json(m) }
                }),
            )
            .route("/.well-known/openid-configuration", get(move || async move { Json(metadata) }))
            .route("/jwks", get(|State(jwks): State<Arc<RwLock<Value>>>| async move { Json(read(&jwks)) }))
            .with_state(served);
        let tx = serve_in_background(listener, app);
        Ok(IssuerServer { issuer, addr, jwks, shutdown: Some(tx) })
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    /// Replaces the JWK Set served from now on.
    pub fn publish(&self, jwks: Value) {
        *self.jwks.write().unwrap_or_else(|e| e.into_inner()) = jwks;
    }

    /// The JWK Set being served.
    pub fn published(&self) -> Value {
        read(&self.jwks)
    }
}

fn read(jwks: &RwLock<Value>) -> Value {
    jwks.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Drop for IssuerServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `app` on `listener` in a background task until the returned sender is used or
/// dropped: how every loopback role of the harness (issuers, the signals receiver) runs.
pub(crate) fn serve_in_background(listener: tokio::net::TcpListener, app: axum::Router) -> oneshot::Sender<()> {
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    tx
}
