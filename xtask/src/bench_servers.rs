//! The loopback servers the benchmarks load: an authorization server that answers every token
//! request with the same bytes at once (the ceiling of the HTTP path: no work behind it), and
//! the same server made to stall on a fixed schedule (for coordinated omission).

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The client the benchmarks' generators authenticate as (client_secret_basic), everywhere
/// except the reference server and oidc-provider, which have their own.
pub const CLIENT_ID: &str = "bench-agent";
pub const CLIENT_SECRET: &str = "bench-secret-7f3a";

/// A token response the size of a real one: an ES256 JWT access token of a typical claim set.
fn token_response() -> Bytes {
    let jwt = format!("eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImJlbmNoIn0.{}.{}", "x".repeat(380), "s".repeat(86));
    Bytes::from(format!(r#"{{"access_token":"{jwt}","token_type":"Bearer","expires_in":300,"scope":"calendar.read"}}"#))
}

/// When the stall server stalls: every request that arrives in `[from, from + length)` of each
/// `period` (counted from its first token request) is answered at the window's end.
#[derive(Debug, Clone, Copy)]
pub struct StallSchedule {
    pub period: Duration,
    pub from: Duration,
    pub length: Duration,
}

impl StallSchedule {
    /// How long a request arriving `at` after the anchor waits before it is served.
    pub fn wait(&self, at: Duration) -> Duration {
        let phase = Duration::from_nanos((at.as_nanos() % self.period.as_nanos()) as u64);
        if phase >= self.from && phase < self.from + self.length {
            self.from + self.length - phase
        } else {
            Duration::ZERO
        }
    }
}

/// A running loopback server.
pub struct Loopback {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
}

impl Loopback {
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the fixed-response server (`stall: None`) or the stalling one on `rt`.
pub fn start(rt: &tokio::runtime::Runtime, stall: Option<StallSchedule>) -> anyhow::Result<Loopback> {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let issuer = format!("http://{addr}");
    let metadata = Bytes::from(
        serde_json::json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/token"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        })
        .to_string(),
    );
    let body = token_response();
    let requests = Arc::new(AtomicU64::new(0));
    let anchor: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let counter = requests.clone();
    let app = Router::new()
        .route("/.well-known/oauth-authorization-server", get(move || async move { ([(CONTENT_TYPE, "application/json")], metadata) }))
        .route(
            "/token",
            post(move || {
                let (body, counter, anchor) = (body.clone(), counter.clone(), anchor.clone());
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    if let Some(s) = stall {
                        let now = Instant::now();
                        let wait = s.wait(now - *anchor.get_or_init(|| now));
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                    }
                    ([(CONTENT_TYPE, "application/json")], body)
                }
            }),
        );
    rt.spawn(async move { axum::serve(listener, app).await });
    Ok(Loopback { addr, requests })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stall_schedule_holds_requests_to_the_end_of_the_window() {
        let s = StallSchedule { period: Duration::from_secs(10), from: Duration::from_secs(4), length: Duration::from_secs(1) };
        let ms = Duration::from_millis;
        assert_eq!(s.wait(ms(3999)), Duration::ZERO);
        assert_eq!(s.wait(ms(4000)), ms(1000));
        assert_eq!(s.wait(ms(4750)), ms(250));
        assert_eq!(s.wait(ms(5000)), Duration::ZERO);
        assert_eq!(s.wait(ms(14_100)), ms(900));
    }
}
