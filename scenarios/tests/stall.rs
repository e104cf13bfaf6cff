//! Coordinated omission, demonstrated: a server that freezes for half a second (as a garbage
//! collector or a full connection pool would) must show in the open model's p99, because
//! every request that arrived during the freeze waited for it; and it hides in the closed
//! model's p99, because one user waiting out the freeze sends nothing else meanwhile, so only
//! one sample sees it (it shows in the max, and nowhere else).

use agentcert_engine::profile::TargetProfile;
use agentcert_engine::results::LoadResult;
use agentcert_scenarios::{LoadOptions, LoadPlan};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const STALL_FROM: Duration = Duration::from_millis(600);
const STALL_FOR: Duration = Duration::from_millis(500);

/// An authorization server that issues tokens in no time, except that every request arriving
/// between 600 and 1100 ms after its first request waits until 1100 ms.
async fn stalling_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let metadata = json!({ "issuer": issuer, "token_endpoint": format!("{issuer}/token") });
    let first = Arc::new(OnceLock::<Instant>::new());
    let app = Router::new().route("/.well-known/oauth-authorization-server", get(move || async move { Json(metadata) })).route(
        "/token",
        post(move || async move {
            let now = Instant::now();
            let until = *first.get_or_init(|| now) + STALL_FROM + STALL_FOR;
            if now + STALL_FOR >= until && now < until {
                tokio::time::sleep_until(until.into()).await;
            }
            Json(json!({ "access_token": "t", "token_type": "Bearer", "expires_in": 300 }))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

fn profile(issuer: &str) -> TargetProfile {
    let text = format!(
        r#"
[target]
name = "stalls"
issuer = "{issuer}"
[clients.agent_a]
client_id = "a"
auth_method = "client_secret_basic"
client_secret = "s3cret-s3cret"
[clients.resource_server]
client_id = "rs"
auth_method = "client_secret_basic"
client_secret = "s3cret-s3cret"
[resources]
default = "https://api.example.test"
"#
    );
    TargetProfile::parse(&text, Path::new("."), "stall test").unwrap()
}

async fn load(options: LoadOptions, out: &str) -> LoadResult {
    let issuer = stalling_server().await;
    let plan = LoadPlan::from_options(&LoadOptions { scenarios: vec!["issuance".into()], duration: Some("2s".into()), ..options }).unwrap();
    let out = std::env::temp_dir().join(format!("agentcert-stall-{out}-{}", std::process::id()));
    let mut results = agentcert_scenarios::run(profile(&issuer), None, &plan, &out, false).await.unwrap();
    let _ = std::fs::remove_dir_all(&out);
    results.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_at_p99_in_the_open_model_and_hides_in_the_closed_model() {
    let open = load(LoadOptions { rate: Some("200/s".into()), ..Default::default() }, "open").await;
    assert_eq!((open.requests, open.errors, open.dropped), (400, 0, 0), "{open:?}");
    assert_eq!(open.latency_basis, "intended send time");
    // ~100 of the 400 slots fell in the freeze; their latencies spread over 0–500 ms.
    assert!(open.latency_ms.p99 >= 400.0, "open p99 must show the 500 ms stall: {:?}", open.latency_ms);
    assert!(open.latency_ms.p90 >= 100.0, "a quarter of the slots waited: {:?}", open.latency_ms);

    let closed = load(LoadOptions { model: Some("closed".into()), concurrency: Some(1), ..Default::default() }, "closed").await;
    assert_eq!(closed.latency_basis, "service time");
    eprintln!("open:   {:?}\nclosed: {:?} over {} requests", open.latency_ms, closed.latency_ms, closed.requests);
    assert!(closed.requests > 200, "{closed:?}");
    assert!(closed.latency_ms.max >= 400.0, "the one stalled request: {:?}", closed.latency_ms);
    assert!(closed.latency_ms.p99 < 100.0, "closed p99 hides the stall: {:?}", closed.latency_ms);
}
