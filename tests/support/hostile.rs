//! A hostile authorization server, and a way to run the whole `agentcert` job against it.
//!
//! The server is a raw tokio `TcpListener` speaking just enough HTTP/1.1 by hand to misbehave
//! in ways a well-behaved HTTP library would not let it: a status of 999, a body that never
//! ends, a reset half way through a response. Every path but the chosen ones answers like a
//! minimal, sane authorization server (metadata, a JWK Set, JWT access tokens, introspection,
//! revocation), so that a run gets far enough to meet the misbehaviour where it was put.
//!
//! [`run_cli`] runs the binary with a hard time bound, and measures its peak resident memory
//! (GNU time's `Maximum resident set size` where `/usr/bin/time` exists, else the process's
//! `VmHWM` read from /proc until it exits).

use agentcert_engine::jose::{self, SigningKey};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The paths the hostile server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Metadata,
    Jwks,
    Token,
    Introspection,
    Revocation,
}

impl Endpoint {
    pub const ALL: [Endpoint; 5] = [Endpoint::Metadata, Endpoint::Jwks, Endpoint::Token, Endpoint::Introspection, Endpoint::Revocation];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Metadata => "/.well-known/oauth-authorization-server",
            Endpoint::Jwks => "/jwks",
            Endpoint::Token => "/token",
            Endpoint::Introspection => "/introspect",
            Endpoint::Revocation => "/revoke",
        }
    }

    fn of(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.path() == path)
    }
}

/// One way to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// 200, `application/json`, and HTML.
    NotJson,
    /// 200, JSON, but not the shape the endpoint's spec gives (members of the wrong type).
    WrongShape,
    /// 200 with a body of this many bytes, streamed 64 KiB at a time as long as it is read.
    HugeBody(u64),
    /// The sane answer, its body sent one byte a second.
    SlowDrip,
    /// 307 to the very same URL.
    RedirectLoop,
    /// 307 to the same path on another loopback host (127.0.0.2), which counts its visitors.
    RedirectOffHost,
    /// The sane answer as `text/html`.
    WrongContentType,
    /// The sane answer's headers and half its body, then a TCP reset.
    ResetMidResponse,
    /// The sane answer with this status code (999, 600: outside every registered class).
    Status(u16),
    /// A JWK Set of this many keys (all but the last are junk that shares the real key's kid).
    /// Applies to the JWKS path only.
    ManyKeys(usize),
    /// Access tokens of about this many bytes. Applies to the token path only.
    HugeToken(usize),
    /// Not a misbehaviour: opaque access tokens (random strings, not JWTs), each recorded
    /// whole, for the leak test. Applies to the token path only.
    OpaqueTokens,
}

/// Where the misbehaviour is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Every,
    Only(Endpoint),
}

impl Scope {
    fn covers(self, e: Endpoint) -> bool {
        match self {
            Scope::Every => true,
            Scope::Only(x) => x == e,
        }
    }
}

struct Shared {
    issuer: String,
    key: SigningKey,
    misbehaviour: Misbehaviour,
    scope: Scope,
    off_host: Option<SocketAddr>,
    /// Requests to each endpoint, in [`Endpoint::ALL`] order.
    hits: [AtomicU64; 5],
    /// What of every issued token must never appear in any output: a JWT's signature segment
    /// (redaction keeps header and claims), an opaque token whole.
    issued: std::sync::Mutex<Vec<String>>,
}

/// A running hostile server. Dropping it stops it.
pub struct HostileServer {
    pub issuer: String,
    shared: Arc<Shared>,
    off_host_hits: Arc<AtomicU64>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl HostileServer {
    pub fn start(misbehaviour: Misbehaviour, scope: Scope) -> HostileServer {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let off_host_hits = Arc::new(AtomicU64::new(0));
        let off_host = match misbehaviour {
            Misbehaviour::RedirectOffHost => {
                // Linux routes all of 127/8 to loopback; another address is another host to
                // the client, and a listener there proves whether a redirect was followed.
                let other = runtime.block_on(TcpListener::bind("127.0.0.2:0")).expect("bind 127.0.0.2");
                let other_addr = other.local_addr().unwrap();
                let hits = off_host_hits.clone();
                runtime.spawn(async move {
                    while let Ok((mut s, _)) = other.accept().await {
                        hits.fetch_add(1, Ordering::SeqCst);
                        let _ = s.write_all(b"HTTP/1.1 500 Followed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                    }
                });
                Some(other_addr)
            }
            _ => None,
        };
        let shared = Arc::new(Shared {
            issuer: format!("http://{addr}"),
            key: SigningKey::generate().expect("a signing key"),
            misbehaviour,
            scope,
            off_host,
            hits: Default::default(),
            issued: Default::default(),
        });
        let s = shared.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(s.clone(), stream));
            }
        });
        HostileServer { issuer: shared.issuer.clone(), shared, off_host_hits, runtime: Some(runtime) }
    }

    /// How many requests reached `endpoint`.
    pub fn hits(&self, endpoint: Endpoint) -> u64 {
        let i = Endpoint::ALL.iter().position(|e| *e == endpoint).unwrap();
        self.shared.hits[i].load(Ordering::SeqCst)
    }

    /// The part of each access token the server issued that no output may contain: a JWT's
    /// signature segment, an opaque token whole.
    pub fn issued(&self) -> Vec<String> {
        self.shared.issued.lock().unwrap().clone()
    }

    /// How many connections the off-host redirect target received (0: never followed).
    pub fn off_host_hits(&self) -> u64 {
        self.off_host_hits.load(Ordering::SeqCst)
    }

    /// A target profile for this server: agent_a, agent_b and the resource server with known
    /// secrets, and `[limits]` that keep a hostile run short. `extra` is appended.
    pub fn profile(&self, dir: &Path, limits: &str, extra: &str) -> PathBuf {
        let text = format!(
            r#"[target]
name = "hostile"
issuer = "{issuer}"

[clients.agent_a]
client_id = "agent-a"
auth_method = "client_secret_basic"
client_secret = "hostile-secret-a-0123456789"
scope = "read write"

[clients.agent_b]
client_id = "agent-b"
auth_method = "client_secret_basic"
client_secret = "hostile-secret-b-0123456789"
scope = "read"

[clients.resource_server]
client_id = "rs"
auth_method = "client_secret_basic"
client_secret = "hostile-secret-rs-0123456789"

[resources]
default = "https://api.example.test"

[limits]
{limits}
{extra}
"#,
            issuer = self.issuer
        );
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("hostile.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Reads one request (head and body), or `None` when the client went away or sent garbage.
async fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    // The harness sends small forms, or a 1 MB token it was given; nothing larger.
    if length > 8 << 20 {
        return None;
    }
    let mut body = buf.split_off(head_end);
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    Some((method, path))
}

async fn serve(shared: Arc<Shared>, mut stream: TcpStream) {
    let Some((_method, path)) = read_request(&mut stream).await else { return };
    let Some(endpoint) = Endpoint::of(&path) else {
        // openid-configuration, ssf-configuration, anything else: not here.
        let _ = write_head(&mut stream, "404 Not Found", "text/plain", 9).await;
        let _ = stream.write_all(b"not found").await;
        return;
    };
    let i = Endpoint::ALL.iter().position(|e| *e == endpoint).unwrap();
    shared.hits[i].fetch_add(1, Ordering::SeqCst);
    let sane = sane_body(&shared, endpoint);
    if !shared.scope.covers(endpoint) {
        let _ = answer(&mut stream, "200 OK", "application/json", sane.as_bytes()).await;
        return;
    }
    let _ = misbehave(&shared, endpoint, &path, sane, &mut stream).await;
}

async fn misbehave(shared: &Shared, endpoint: Endpoint, path: &str, sane: String, stream: &mut TcpStream) -> std::io::Result<()> {
    match shared.misbehaviour {
        Misbehaviour::NotJson => {
            answer(stream, "200 OK", "application/json", b"<!doctype html><title>Oops</title><p>this is not JSON {\"half\": ").await
        }
        Misbehaviour::WrongShape => answer(stream, "200 OK", "application/json", wrong_shape(endpoint).to_string().as_bytes()).await,
        Misbehaviour::HugeBody(total) => {
            write_head(stream, "200 OK", "application/json", total).await?;
            let prefix = b"{\"padding\":\"";
            stream.write_all(prefix).await?;
            let block = vec![b'a'; 64 * 1024];
            let mut sent = prefix.len() as u64;
            while sent < total {
                let n = block.len().min((total - sent) as usize);
                stream.write_all(&block[..n]).await?;
                sent += n as u64;
            }
            Ok(())
        }
        Misbehaviour::SlowDrip => {
            write_head(stream, "200 OK", "application/json", sane.len() as u64).await?;
            for b in sane.as_bytes() {
                stream.write_all(&[*b]).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        Misbehaviour::RedirectLoop => redirect(stream, &format!("{}{path}", shared.issuer)).await,
        Misbehaviour::RedirectOffHost => {
            let other = shared.off_host.expect("the off-host listener");
            redirect(stream, &format!("http://{other}{path}")).await
        }
        Misbehaviour::WrongContentType => answer(stream, "200 OK", "text/html; charset=utf-8", sane.as_bytes()).await,
        Misbehaviour::ResetMidResponse => {
            // Promise more than is sent (even for revocation's empty answer), send half.
            write_head(stream, "200 OK", "application/json", (sane.len() as u64).max(64) * 2).await?;
            stream.write_all(&sane.as_bytes()[..sane.len() / 2]).await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            // SO_LINGER 0: closing sends RST instead of FIN.
            stream.set_zero_linger()?;
            Ok(())
        }
        Misbehaviour::Status(code) => answer(stream, &format!("{code} Strange"), "application/json", sane.as_bytes()).await,
        Misbehaviour::ManyKeys(_) | Misbehaviour::HugeToken(_) | Misbehaviour::OpaqueTokens => {
            answer(stream, "200 OK", "application/json", sane.as_bytes()).await
        }
    }
}

async fn write_head(stream: &mut TcpStream, status: &str, content_type: &str, length: u64) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await
}

async fn answer(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    write_head(stream, status, content_type, body.len() as u64).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

async fn redirect(stream: &mut TcpStream, location: &str) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await
}

/// What a minimal, well-behaved authorization server would answer.
fn sane_body(shared: &Shared, endpoint: Endpoint) -> String {
    let iss = &shared.issuer;
    match endpoint {
        Endpoint::Metadata => json!({
            "issuer": iss,
            "token_endpoint": format!("{iss}/token"),
            "jwks_uri": format!("{iss}/jwks"),
            "introspection_endpoint": format!("{iss}/introspect"),
            "revocation_endpoint": format!("{iss}/revoke"),
            "grant_types_supported": ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "response_types_supported": ["token"],
            "scopes_supported": ["read", "write"],
        })
        .to_string(),
        Endpoint::Jwks => match (shared.misbehaviour, shared.scope.covers(Endpoint::Jwks)) {
            (Misbehaviour::ManyKeys(n), true) => many_keys(&shared.key, n).to_string(),
            _ => shared.key.jwks().to_string(),
        },
        Endpoint::Token => {
            let now = jose::now();
            let mut claims = json!({
                "iss": iss, "sub": "agent-a", "aud": "https://api.example.test", "client_id": "agent-a",
                "scope": "read", "iat": now, "exp": now + 60, "jti": jose::random_id(),
            });
            if let (Misbehaviour::HugeToken(bytes), true) = (shared.misbehaviour, shared.scope.covers(Endpoint::Token)) {
                // base64url makes 4 characters of 3 bytes: pad the claims to reach `bytes`.
                claims["padding"] = json!("p".repeat(bytes * 3 / 4));
            }
            let token = if shared.misbehaviour == Misbehaviour::OpaqueTokens {
                let opaque = format!("{}{}", jose::random_id(), jose::random_id());
                shared.issued.lock().unwrap().push(opaque.clone());
                opaque
            } else {
                let token = shared.key.sign(Some("at+jwt"), &claims).expect("signs");
                shared.issued.lock().unwrap().push(token.rsplit('.').next().unwrap_or_default().to_string());
                token
            };
            json!({"access_token": token, "token_type": "Bearer", "expires_in": 60, "scope": "read"}).to_string()
        }
        Endpoint::Introspection => json!({"active": false}).to_string(),
        Endpoint::Revocation => String::new(),
    }
}

/// Type confusion: every member the harness reads, of the wrong JSON type.
fn wrong_shape(endpoint: Endpoint) -> Value {
    match endpoint {
        Endpoint::Metadata => json!({"issuer": 42, "token_endpoint": ["not", "a", "string"], "jwks_uri": {"x": 1}}),
        Endpoint::Jwks => json!({"keys": {"kty": "EC"}}),
        Endpoint::Token => json!({"access_token": 12345, "token_type": ["Bearer"], "expires_in": "soon", "scope": {"read": true}}),
        Endpoint::Introspection => json!({"active": "yes", "scope": 7, "exp": "tomorrow", "aud": {"a": null}}),
        Endpoint::Revocation => json!([1, 2, 3]),
    }
}

/// `n` keys: `n - 1` junk EC keys under the real key's kid (so each is a candidate a verifier
/// may try), then the real one.
fn many_keys(real: &SigningKey, n: usize) -> Value {
    let mut keys: Vec<Value> = (0..n.saturating_sub(1))
        .map(|i| {
            let x = format!("{:0>43}", format!("x{i}"));
            let y = format!("{:0>43}", format!("y{i}"));
            json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": real.kid(), "alg": "ES256", "use": "sig"})
        })
        .collect();
    keys.push(real.public_jwk().clone());
    json!({ "keys": keys })
}

/// How a run of the binary went.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident set size in KiB, when it could be measured.
    pub peak_rss_kb: Option<u64>,
}

impl Finished {
    pub fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}, peak RSS {:?} KiB\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.elapsed,
            self.peak_rss_kb,
            tail(&self.stdout, 4000),
            tail(&self.stderr, 4000)
        )
    }
}

fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Runs `agentcert ARGS` with `NO_COLOR`, killing it (and failing the test) if it outlives
/// `bound`, and measures its peak RSS. Its output goes to files beside `scratch`.
pub fn run_cli(args: &[&str], scratch: &Path, bound: Duration) -> Finished {
    std::fs::create_dir_all(scratch).unwrap();
    let (out_path, err_path, time_path) = (scratch.join("stdout.txt"), scratch.join("stderr.txt"), scratch.join("time.txt"));
    let gnu_time = Path::new("/usr/bin/time").exists()
        && Command::new("/usr/bin/time")
            .args(["-v", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg("-o").arg(&time_path).arg(env!("CARGO_BIN_EXE_agentcert"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_agentcert"))
    };
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("agentcert starts");
    let mut hwm_kb = None;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if !gnu_time {
            if let Some(kb) = vm_hwm_kb(child.id()) {
                hwm_kb = Some(hwm_kb.map_or(kb, |h: u64| h.max(kb)));
            }
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "agentcert {args:?} did not finish within {bound:?}\nstderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let peak_rss_kb = if gnu_time {
        std::fs::read_to_string(&time_path).ok().and_then(|t| {
            t.lines().find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):").and_then(|v| v.trim().parse().ok()))
        })
    } else {
        hwm_kb
    };
    Finished {
        code: status.code(),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed,
        peak_rss_kb,
    }
}

/// The high-water mark of a process's resident memory, from /proc.
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A fresh, empty directory under the system temp dir.
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("agentcert-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
