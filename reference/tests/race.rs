//! Revocation under concurrency (RFC 7009 §2.1, §2.2): many lineages at once, each a root token
//! that several tasks exchange (and re-exchange) and introspect while another revokes the root.
//! Once the revoke has returned:
//! - the root and every token derived from it read inactive, at any later introspection, and
//!   in a final sweep (which catches a derived token whose exchange was in flight during the
//!   revocation and was issued after the cascade);
//! - no exchange sent after the revoke returned succeeds, from the root or from any descendant.
//!
//! "After" is measured on the client: a request counts only if it was sent after the revoke's
//! response had been received, so no ordering is assumed that HTTP does not give.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{agent_b, resource_server, Server};

/// Lineages run at once, and how many times the whole thing is repeated.
const LINEAGES: usize = 12;
const ITERATIONS: usize = 10;
const EXCHANGERS: usize = 3;
const INTROSPECTORS: usize = 2;
/// How long the workers go on after the revoke has returned.
const AFTER_REVOKE: Duration = Duration::from_millis(60);

struct Lineage {
    server: Arc<Server>,
    /// The root, then every token derived from it, in the order they were issued.
    tokens: Mutex<Vec<String>>,
    revoke_returned: OnceLock<Instant>,
    stop: AtomicBool,
    violations: Mutex<Vec<String>>,
    rng: AtomicU64,
    /// Exchanges sent before the revoke returned and answered after: the race window.
    straddling: AtomicU64,
}

impl Lineage {
    fn pick(&self) -> (usize, String) {
        // xorshift over a shared state: which token to act on next.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        let tokens = self.tokens.lock().unwrap();
        let i = (x % tokens.len() as u64) as usize;
        (i, tokens[i].clone())
    }

    fn revoked_before(&self, sent: Instant) -> bool {
        self.revoke_returned.get().is_some_and(|r| sent >= *r)
    }

    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }
}

async fn exchanger(l: Arc<Lineage>) {
    while !l.stop.load(Ordering::SeqCst) {
        let (i, subject) = l.pick();
        let sent = Instant::now();
        let reply = l.server.exchange(agent_b(), &subject, &[]).await;
        let answered = Instant::now();
        if reply.status != 200 {
            continue;
        }
        if l.revoked_before(sent) {
            l.violation(format!("an exchange of token #{i} sent after the revoke returned succeeded"));
        } else if l.revoke_returned.get().is_some_and(|r| answered >= *r) {
            l.straddling.fetch_add(1, Ordering::Relaxed);
        }
        l.tokens.lock().unwrap().push(reply.token());
    }
}

async fn introspector(l: Arc<Lineage>) {
    while !l.stop.load(Ordering::SeqCst) {
        let (i, token) = l.pick();
        let sent = Instant::now();
        let reply = l.server.introspect(resource_server(), &token).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        if reply.body["active"] == true && l.revoked_before(sent) {
            l.violation(format!("token #{i} read active at an introspection sent after the revoke returned"));
        }
    }
}

/// One lineage: issue the root, let the workers loose, revoke the root after a few
/// milliseconds, let them go on a little, then sweep.
async fn lineage(server: Arc<Server>, seed: u64) -> (Vec<String>, usize, u64) {
    let root = server.client_credentials(agent_b(), &[("scope", "calendar.read")]).await.token();
    let l = Arc::new(Lineage {
        server: server.clone(),
        tokens: Mutex::new(vec![root.clone()]),
        revoke_returned: OnceLock::new(),
        stop: AtomicBool::new(false),
        violations: Mutex::default(),
        rng: AtomicU64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        straddling: AtomicU64::new(0),
    });
    let mut workers = vec![];
    for _ in 0..EXCHANGERS {
        workers.push(tokio::spawn(exchanger(l.clone())));
    }
    for _ in 0..INTROSPECTORS {
        workers.push(tokio::spawn(introspector(l.clone())));
    }
    // Let a few generations be derived first.
    tokio::time::sleep(Duration::from_millis(5 + seed % 20)).await;
    let reply = server.post("revoke", agent_b(), &[("token", &root)]).await;
    assert_eq!(reply.status, 200, "revocation: {}", reply.text);
    l.revoke_returned.set(Instant::now()).unwrap();
    tokio::time::sleep(AFTER_REVOKE).await;
    l.stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("a worker panicked");
    }

    // Every token of the lineage, including those issued by exchanges that straddled the
    // revocation, is dead now, and cannot be exchanged.
    let tokens = l.tokens.lock().unwrap().clone();
    for (i, token) in tokens.iter().enumerate() {
        let reply = server.introspect(resource_server(), token).await;
        if reply.body["active"] != false {
            l.violation(format!("sweep: token #{i} of {} reads {} after the revoke returned", tokens.len(), reply.text));
        }
        let reply = server.exchange(agent_b(), token, &[]).await;
        if reply.status == 200 {
            l.violation(format!("sweep: token #{i} of {} can still be exchanged", tokens.len()));
        }
    }
    let violations = l.violations.lock().unwrap().clone();
    (violations, tokens.len(), l.straddling.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_token_and_everything_derived_from_it_stay_dead() {
    let server = Arc::new(common::start(&[]).await);
    for iteration in 0..ITERATIONS {
        let started = Instant::now();
        let runs: Vec<_> = (0..LINEAGES).map(|n| tokio::spawn(lineage(server.clone(), (iteration * LINEAGES + n) as u64 + 1))).collect();
        let (mut violations, mut tokens, mut straddling) = (vec![], 0, 0);
        for r in runs {
            let (v, t, s) = r.await.expect("a lineage panicked");
            violations.extend(v);
            tokens += t;
            straddling += s;
        }
        eprintln!(
            "iteration {iteration}: {LINEAGES} lineages, {tokens} tokens, {straddling} exchanges straddled a revocation, {:?}",
            started.elapsed()
        );
        assert!(tokens > LINEAGES * 2, "the lineages grew: {tokens} tokens");
        assert!(violations.is_empty(), "iteration {iteration}: {} violation(s):\n{}", violations.len(), violations.join("\n"));
    }
}
