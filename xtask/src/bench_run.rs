//! The benchmarks themselves (`target/release/xtask bench-run`, started by `cargo xtask bench`).
//!
//! Every figure is a ratio of two things measured side by side in the same run, on loopback,
//! because this machine is shared and noisy: an absolute requests-a-second figure from it says
//! little, a ratio to a reference measured a minute apart says more.
//!
//! - B1 generator capacity: agentcert's closed-model rate against a fixed-response endpoint,
//!   over oha's (and wrk's) against the same endpoint; CPU per request of each.
//! - B2 coordinated omission: an endpoint that stalls 1 s in every 10 s, loaded at a fixed
//!   rate; agentcert's open-model p99 against the true p99 computed from the stall schedule;
//!   the closed model's (uncorrected) p99 beside it; oha's `--latency-correction` p99 too.
//! - B3 issuance against the physical limit: the reference server's client-credentials tokens
//!   a second over the lower of one core's ES256 JWT signing rate and the fixed endpoint's
//!   rate; and over oidc-provider's on this machine.
//! - B4 revocation latency: the reference server's p99 revoke-to-inactive against one
//!   introspection round trip (+ 1 ms), the round trip measured in the same run.
//! - B5 memory: agentcert's peak RSS simulating 10,000 agents with token caching.
//!
//! Results: `target/bench/bN.json`, `target/bench/summary.json` and `summary.md`.

use crate::bench_proc::{cpu_of, free_port, run_measured, Finished, Server};
use crate::bench_servers::{self, StallSchedule, CLIENT_ID, CLIENT_SECRET};
use anyhow::{bail, Context, Result};
use base64::Engine as _;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// The closed-model concurrencies B1 and B3 try; each tool's best counts.
const CONCURRENCY: [u32; 2] = [16, 64];
/// How long each closed-model measurement lasts.
const CLOSED_FOR: &str = "5s";
/// B2: the fixed rate, the run's length, and the stall schedule (1 s in every 10 s; the window
/// starts half a slot after a whole second, so that no slot sits on its edge).
const B2_RATE: f64 = 100.0;
const B2_SECONDS: u64 = 20;
/// B5: the population.
const B5_AGENTS: u64 = 10_000;
const B5_ACTIONS_PER_HOUR: u64 = 360;
const B5_SECONDS: u64 = 20;
/// The reference server's clients the benchmarks use (from fixtures/reference/server.toml).
const REF_CLIENT: (&str, &str) = ("agent-b", "agent-b-secret-5b1d");
const REF_RS: (&str, &str) = ("resource-server", "rs-secret-0c7a");

struct Ctx {
    root: PathBuf,
    agentcert: PathBuf,
    out: PathBuf,
    rt: tokio::runtime::Runtime,
    oha: Option<PathBuf>,
    wrk: Option<PathBuf>,
}

/// One benchmark's outcome.
struct Bench {
    id: &'static str,
    title: &'static str,
    /// The headline: what was measured against what.
    line: String,
    ratio: Option<f64>,
    goal: String,
    /// None when the goal could not be judged (a reference tool is missing).
    pass: Option<bool>,
    details: Value,
}

impl Bench {
    fn verdict(&self) -> &'static str {
        match self.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a",
        }
    }
}

pub fn main(args: &[String]) -> Result<()> {
    let root = crate::root();
    let target = std::env::var_os("AGENTCERT_BENCH_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let agentcert = target.join("release/agentcert");
    if !agentcert.exists() {
        bail!("{} is missing: run `cargo xtask bench`, which builds it", agentcert.display());
    }
    let out = target.join("bench");
    std::fs::create_dir_all(&out)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let ctx = Ctx { oha: find_tool("oha"), wrk: find_tool("wrk"), root, agentcert, out, rt };
    let only: Vec<String> = args.iter().map(|a| a.to_uppercase()).collect();
    let wanted = |id: &str| only.is_empty() || only.iter().any(|o| o == id);

    let machine = machine();
    let started = SystemTime::now();
    let clock = Instant::now();
    eprintln!(
        "xtask bench: {} ({} cores, {}), load average {}",
        machine["date"].as_str().unwrap_or(""),
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["loadavg_start"].as_str().unwrap_or("?")
    );
    eprintln!(
        "xtask bench: loopback only; bounded: about 3 minutes for all five (B1 ~25 s, B2 ~65 s, B3 ~45 s, B4 ~10 s, B5 ~25 s); peers: oha {}, wrk {}",
        ctx.oha.as_ref().map_or("not found (cargo install oha --locked)".into(), |p| p.display().to_string()),
        ctx.wrk.as_ref().map_or("not found (apt-get install -y wrk)".into(), |p| p.display().to_string())
    );

    let mut benches = vec![];
    let mut fixed_rate = None;
    if wanted("B1") || wanted("B3") {
        let b1 = b1(&ctx).context("B1")?;
        fixed_rate = b1.details["agentcert"]["best_rate"].as_f64();
        if wanted("B1") {
            benches.push(report(&ctx, b1)?);
        }
    }
    if wanted("B2") {
        benches.push(report(&ctx, b2(&ctx).context("B2")?)?);
    }
    if wanted("B3") || wanted("B4") || wanted("B5") {
        let reference = start_reference(&ctx)?;
        if wanted("B3") {
            benches.push(report(&ctx, b3(&ctx, &reference, fixed_rate.unwrap_or(f64::INFINITY)).context("B3")?)?);
        }
        if wanted("B4") {
            benches.push(report(&ctx, b4(&ctx, &reference).context("B4")?)?);
        }
        if wanted("B5") {
            benches.push(report(&ctx, b5(&ctx, &reference).context("B5")?)?);
        }
    }

    let mut machine = machine;
    machine["loadavg_end"] = json!(loadavg());
    let summary = json!({
        "started_at": humantime::format_rfc3339_seconds(started).to_string(),
        "duration_s": round1(clock.elapsed().as_secs_f64()),
        "machine": machine,
        "benches": benches.iter().map(|b| json!({"id": b.id, "title": b.title, "line": b.line, "ratio": b.ratio, "goal": b.goal, "verdict": b.verdict()})).collect::<Vec<_>>(),
    });
    std::fs::write(ctx.out.join("summary.json"), serde_json::to_string_pretty(&summary)? + "\n")?;
    let md = summary_md(&summary, &benches);
    std::fs::write(ctx.out.join("summary.md"), &md)?;
    println!("\n{md}");
    println!("wrote {}", ctx.out.join("summary.json").display());
    println!("wrote {}", ctx.out.join("summary.md").display());
    Ok(())
}

/// `xtask bench-serve [stall]`: the fixed-response (or stalling) endpoint alone, in the
/// foreground, for loading by hand (profiling a generator, trying a peer tool).
pub fn serve(args: &[String]) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let stall = (args.first().map(String::as_str) == Some("stall")).then_some(StallSchedule {
        period: Duration::from_secs(10),
        from: Duration::from_secs(4),
        length: Duration::from_secs(1),
    });
    let server = bench_servers::start(&rt, stall)?;
    println!("listening {} (client {CLIENT_ID} / {CLIENT_SECRET}, client_secret_basic)", server.issuer());
    rt.block_on(std::future::pending::<()>());
    Ok(())
}

fn report(ctx: &Ctx, b: Bench) -> Result<Bench> {
    println!("{} {}: {} — goal {}: {}", b.id, b.title, b.line, b.goal, b.verdict());
    let doc = json!({"id": b.id, "title": b.title, "line": b.line, "ratio": b.ratio, "goal": b.goal, "verdict": b.verdict(), "details": b.details});
    std::fs::write(ctx.out.join(format!("{}.json", b.id.to_lowercase())), serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(b)
}

fn summary_md(summary: &Value, benches: &[Bench]) -> String {
    let m = &summary["machine"];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Run {} ({} s), {} cores, {}, kernel {}; load average {} at the start, {} at the end.",
        summary["started_at"].as_str().unwrap_or(""),
        summary["duration_s"],
        m["nproc"],
        m["cpu"].as_str().unwrap_or(""),
        m["kernel"].as_str().unwrap_or(""),
        m["loadavg_start"].as_str().unwrap_or(""),
        m["loadavg_end"].as_str().unwrap_or("")
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| bench | measured, side by side | ratio | goal | verdict |");
    let _ = writeln!(s, "| --- | --- | --- | --- | --- |");
    for b in benches {
        let ratio = b.ratio.map_or("-".to_string(), |r| format!("{r:.2}×"));
        let _ = writeln!(s, "| {} {} | {} | {ratio} | {} | {} |", b.id, b.title, b.line, b.goal, b.verdict());
    }
    s
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect()).unwrap_or_default();
    if let Some(h) = home {
        candidates.push(h.join(".cargo/bin").join(name));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".to_string(), |(_, v)| v.trim().to_string());
    let mhz = cpuinfo.lines().find(|l| l.starts_with("cpu MHz")).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string());
    json!({
        "date": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu": cpu,
        "cpu_mhz": mhz,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "memory": std::fs::read_to_string("/proc/meminfo").unwrap_or_default().lines().next().unwrap_or("").split_whitespace().skip(1).collect::<Vec<_>>().join(" "),
        "loadavg_start": loadavg(),
    })
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// The form every generator sends to the fixed endpoint: what agentcert's issuance sends.
const TOKEN_FORM: &str = "grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.test";

/// A target profile for one of the bench's own servers.
fn bench_profile(ctx: &Ctx, name: &str, issuer: &str) -> Result<PathBuf> {
    let text = format!(
        "# written by cargo xtask bench\n[target]\nname = \"bench {name}\"\nissuer = \"{issuer}\"\n\n[clients.agent_a]\nclient_id = \"{CLIENT_ID}\"\nauth_method = \"client_secret_basic\"\nclient_secret = \"{CLIENT_SECRET}\"\n\n[clients.resource_server]\nclient_id = \"bench-rs\"\nauth_method = \"client_secret_basic\"\nclient_secret = \"{CLIENT_SECRET}\"\n\n[resources]\ndefault = \"https://api.example.test\"\n"
    );
    write_profile(ctx, name, &text)
}

fn write_profile(ctx: &Ctx, name: &str, text: &str) -> Result<PathBuf> {
    let dir = ctx.out.join("profiles");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// A fixtures/targets profile pointed at `issuer`, its key files made absolute.
fn fixture_profile(ctx: &Ctx, fixture: &str, from_issuer: &str, issuer: &str) -> Result<PathBuf> {
    let path = ctx.root.join("fixtures/targets").join(format!("{fixture}.toml"));
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let keys = ctx.root.join("fixtures/keys");
    let text = text
        .replace(&format!("issuer = \"{from_issuer}\""), &format!("issuer = \"{issuer}\""))
        .replace("\"../keys/", &format!("\"{}/", keys.display()));
    if !text.contains(issuer) {
        bail!("{} has no issuer line `issuer = \"{from_issuer}\"` to point at the server", path.display());
    }
    write_profile(ctx, fixture, &text)
}

/// `agentcert load ARGS --target PROFILE --out target/bench/NAME`, measured; its first load
/// entry.
fn agentcert_load(ctx: &Ctx, name: &str, profile: &Path, args: &[&str]) -> Result<(Value, Finished)> {
    let out = ctx.out.join("runs").join(name);
    let _ = std::fs::remove_dir_all(&out);
    let f = run_measured(
        Command::new(&ctx.agentcert).arg("load").args(args).arg("--target").arg(profile).arg("--out").arg(&out).env("NO_COLOR", "1"),
    )?;
    f.ok().with_context(|| format!("agentcert load {}", args.join(" ")))?;
    let results: Value = serde_json::from_slice(&std::fs::read(out.join("results.json"))?)?;
    let load = results["load"][0].clone();
    if load.is_null() {
        bail!("agentcert load {} wrote no load entry:\n{}", args.join(" "), f.stderr);
    }
    Ok((load, f))
}

fn f64_of(v: &Value, path: &[&str]) -> f64 {
    path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(f64::NAN)
}

/// One closed-model generator measurement.
fn closed_figures(tool: &str, concurrency: u32, rate: f64, requests: f64, errors: f64, p99_ms: f64, f: &Finished) -> Value {
    json!({
        "tool": tool,
        "concurrency": concurrency,
        "rate": round1(rate),
        "requests": requests,
        "errors": errors,
        "p99_ms": round3(p99_ms),
        "cpu_s": round3(f.cpu.as_secs_f64()),
        "wall_s": round3(f.wall.as_secs_f64()),
        "cpu_us_per_request": round1(f.cpu.as_secs_f64() * 1e6 / requests.max(1.0)),
        "peak_rss_kib": f.max_rss_kib,
    })
}

fn best(runs: &[Value]) -> Value {
    runs.iter().max_by(|a, b| f64_of(a, &["rate"]).total_cmp(&f64_of(b, &["rate"]))).cloned().unwrap_or(Value::Null)
}

/// oha against `url` for `seconds`: closed with `concurrency`, or at `rate` with latency
/// correction. Returns (requests a second, requests, non-2xx + errors, p99 ms).
fn oha(ctx: &Ctx, url: &str, concurrency: u32, seconds: u64, rate: Option<f64>) -> Result<(f64, f64, f64, f64, Finished)> {
    let oha = ctx.oha.as_ref().context("oha is not installed")?;
    let mut cmd = Command::new(oha);
    cmd.args(["--no-tui", "--output-format", "json", "-z", &format!("{seconds}s"), "-c", &concurrency.to_string(), "-m", "POST"]).args([
        "-H",
        "content-type: application/x-www-form-urlencoded",
        "-H",
        &format!("authorization: {}", basic(CLIENT_ID, CLIENT_SECRET)),
        "-d",
        TOKEN_FORM,
    ]);
    if let Some(q) = rate {
        cmd.args(["-q", &q.to_string(), "--latency-correction"]);
    }
    let f = run_measured(cmd.arg(url))?;
    f.ok().context("oha")?;
    let v: Value = serde_json::from_str(&f.stdout).with_context(|| format!("oha's JSON: {}", f.stdout))?;
    let codes = &v["statusCodeDistribution"];
    let ok = codes["200"].as_f64().unwrap_or(0.0);
    let all: f64 = codes.as_object().map_or(0.0, |m| m.values().filter_map(Value::as_f64).sum());
    let errors: f64 = v["errorDistribution"].as_object().map_or(0.0, |m| m.values().filter_map(Value::as_f64).sum());
    let rate = f64_of(&v, &["summary", "requestsPerSec"]);
    let p99 = f64_of(&v, &["latencyPercentiles", "p99"]) * 1000.0;
    Ok((rate, all, all - ok + errors, p99, f))
}

/// wrk against `url`, closed, for `seconds`. Returns (requests a second, requests, non-2xx +
/// socket errors, p99 ms).
fn wrk(ctx: &Ctx, url: &str, concurrency: u32, seconds: u64) -> Result<(f64, f64, f64, f64, Finished)> {
    let wrk = ctx.wrk.as_ref().context("wrk is not installed")?;
    let script = ctx.out.join("profiles/wrk-post.lua");
    std::fs::create_dir_all(script.parent().unwrap())?;
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"{TOKEN_FORM}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nwrk.headers[\"Authorization\"] = \"{}\"\n",
            basic(CLIENT_ID, CLIENT_SECRET)
        ),
    )?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(concurrency as usize);
    let f = run_measured(
        Command::new(wrk)
            .args(["-t", &threads.to_string(), "-c", &concurrency.to_string(), "-d", &format!("{seconds}s"), "--latency", "-s"])
            .arg(&script)
            .arg(url),
    )?;
    f.ok().context("wrk")?;
    let text = &f.stdout;
    let after = |label: &str| text.lines().find_map(|l| l.trim().strip_prefix(label).map(|r| r.trim().to_string()));
    let rate: f64 = after("Requests/sec:").context("wrk printed no Requests/sec")?.parse()?;
    let requests: f64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN);
    let non2xx: f64 = after("Non-2xx or 3xx responses:").and_then(|n| n.parse().ok()).unwrap_or(0.0);
    let socket: f64 =
        after("Socket errors:").map_or(0.0, |l| l.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<f64>().ok()).sum());
    let p99 = after("99%").map_or(f64::NAN, |v| parse_wrk_duration(&v));
    Ok((rate, requests, non2xx + socket, p99, f))
}

/// `1.23ms`, `456.00us`, `1.01s` → ms.
fn parse_wrk_duration(s: &str) -> f64 {
    let s = s.trim();
    for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] {
        if let Some(n) = s.strip_suffix(unit) {
            if let Ok(v) = n.parse::<f64>() {
                return v * scale;
            }
        }
    }
    f64::NAN
}

/// B1: generator capacity against the fixed-response endpoint.
fn b1(ctx: &Ctx) -> Result<Bench> {
    eprintln!("B1: generator capacity against a fixed-response loopback endpoint");
    let server = bench_servers::start(&ctx.rt, None)?;
    let profile = bench_profile(ctx, "fixed", &server.issuer())?;
    let url = format!("{}/token", server.issuer());
    let (mut ours, mut ohas, mut wrks) = (vec![], vec![], vec![]);
    for c in CONCURRENCY {
        let (r, f) = agentcert_load(
            ctx,
            &format!("b1-agentcert-c{c}"),
            &profile,
            &["--scenario", "issuance", "--model", "closed", "--concurrency", &c.to_string(), "--duration", CLOSED_FOR],
        )?;
        ours.push(closed_figures(
            "agentcert",
            c,
            f64_of(&r, &["achieved_rate"]),
            f64_of(&r, &["requests"]),
            f64_of(&r, &["errors"]),
            f64_of(&r, &["latency_ms", "p99"]),
            &f,
        ));
        eprintln!("  agentcert -c {c}: {}/s", ours.last().unwrap()["rate"]);
        if ctx.oha.is_some() {
            let (rate, n, errors, p99, f) = oha(ctx, &url, c, 5, None)?;
            ohas.push(closed_figures("oha", c, rate, n, errors, p99, &f));
            eprintln!("  oha -c {c}: {}/s", ohas.last().unwrap()["rate"]);
        }
        if ctx.wrk.is_some() {
            let (rate, n, errors, p99, f) = wrk(ctx, &url, c, 5)?;
            wrks.push(closed_figures("wrk", c, rate, n, errors, p99, &f));
            eprintln!("  wrk -c {c}: {}/s", wrks.last().unwrap()["rate"]);
        }
    }
    let (a, o, w) = (best(&ours), best(&ohas), best(&wrks));
    let ar = f64_of(&a, &["rate"]);
    let reference = if !o.is_null() {
        Some(("oha", &o))
    } else if !w.is_null() {
        Some(("wrk", &w))
    } else {
        None
    };
    let (line, ratio, pass) = match reference {
        Some((tool, r)) => {
            let ratio = ar / f64_of(r, &["rate"]);
            let mut line = format!(
                "agentcert {:.0}/s vs {tool} {:.0}/s (best of -c {}); CPU/request agentcert {} µs, {tool} {} µs",
                ar,
                f64_of(r, &["rate"]),
                CONCURRENCY.map(|c| c.to_string()).join("/"),
                a["cpu_us_per_request"],
                r["cpu_us_per_request"]
            );
            if tool == "oha" && !w.is_null() {
                let _ = write!(line, "; wrk {:.0}/s ({} µs)", f64_of(&w, &["rate"]), w["cpu_us_per_request"]);
            }
            (line, Some(ratio), Some(ratio >= 0.8))
        }
        None => (format!("agentcert {ar:.0}/s; no oha or wrk to compare with"), None, None),
    };
    Ok(Bench {
        id: "B1",
        title: "generator capacity",
        line,
        ratio,
        goal: "≥ 0.8× oha".into(),
        pass,
        details: json!({
            "endpoint": "fixed token response (axum, in the bench process), HTTP/1.1 keep-alive, client_secret_basic",
            "duration": CLOSED_FOR,
            "agentcert": {"best_rate": ar, "runs": ours},
            "oha": {"best": o, "runs": ohas},
            "wrk": {"best": w, "runs": wrks},
            "server_requests": server.requests.load(std::sync::atomic::Ordering::Relaxed),
        }),
    })
}

/// The true latency percentile `q` of a fixed-rate schedule against `stall`: slot `i` is sent
/// at `i / rate` (the stall's anchor being the first slot) and answered after the stall's wait
/// plus `service_ms`. HdrHistogram's definition: the smallest value at or below which at least
/// `q` of the values lie.
pub fn true_percentile(rate: f64, seconds: u64, stall: &StallSchedule, service_ms: f64, q: f64) -> f64 {
    let n = (rate * seconds as f64 + 1e-9).floor() as usize;
    let mut lat: Vec<f64> =
        (0..n).map(|i| stall.wait(Duration::from_secs_f64(i as f64 / rate)).as_secs_f64() * 1000.0 + service_ms).collect();
    lat.sort_by(f64::total_cmp);
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    lat[rank - 1]
}

/// B2: coordinated omission.
fn b2(ctx: &Ctx) -> Result<Bench> {
    eprintln!("B2: coordinated omission: {B2_RATE}/s for {B2_SECONDS} s against a server that stalls 1 s in every 10 s");
    let stall = StallSchedule {
        period: Duration::from_secs(10),
        from: Duration::from_secs(4) + Duration::from_secs_f64(0.5 / B2_RATE),
        length: Duration::from_secs(1),
    };
    let seconds = B2_SECONDS.to_string();
    // Closed first: its median is the service time the true distribution adds to every wait.
    let server = bench_servers::start(&ctx.rt, Some(stall))?;
    let profile = bench_profile(ctx, "stall-closed", &server.issuer())?;
    let (closed, _) = agentcert_load(
        ctx,
        "b2-closed",
        &profile,
        &["--scenario", "issuance", "--model", "closed", "--concurrency", "8", "--duration", &format!("{seconds}s")],
    )?;
    let service_ms = f64_of(&closed, &["latency_ms", "p50"]);
    let server = bench_servers::start(&ctx.rt, Some(stall))?;
    let profile = bench_profile(ctx, "stall-open", &server.issuer())?;
    let (open, _) = agentcert_load(
        ctx,
        "b2-open",
        &profile,
        &["--scenario", "issuance", "--rate", &B2_RATE.to_string(), "--duration", &format!("{seconds}s"), "--max-in-flight", "256"],
    )?;
    let truth = true_percentile(B2_RATE, B2_SECONDS, &stall, service_ms, 0.99);
    let truth_p50 = true_percentile(B2_RATE, B2_SECONDS, &stall, service_ms, 0.50);
    let truth_p90 = true_percentile(B2_RATE, B2_SECONDS, &stall, service_ms, 0.90);
    let open_p99 = f64_of(&open, &["latency_ms", "p99"]);
    let closed_p99 = f64_of(&closed, &["latency_ms", "p99"]);
    let ratio = open_p99 / truth;
    let open_ok = (ratio - 1.0).abs() <= 0.05 && f64_of(&open, &["dropped"]) == 0.0;
    let closed_hides = closed_p99 < truth * 0.1;
    let mut oha_p99 = None;
    if ctx.oha.is_some() {
        let server = bench_servers::start(&ctx.rt, Some(stall))?;
        let (_, n, errors, p99, _) = oha(ctx, &format!("{}/token", server.issuer()), 256, B2_SECONDS, Some(B2_RATE))?;
        oha_p99 = Some(json!({"p99_ms": round3(p99), "ratio_to_true": round3(p99 / truth), "requests": n, "errors": errors}));
    }
    let mut line = format!(
        "open p99 {open_p99:.1} ms vs true {truth:.1} ms (exact, from the schedule); closed p99 {closed_p99:.2} ms (uncorrected; max {:.0} ms)",
        f64_of(&closed, &["latency_ms", "max"])
    );
    if let Some(o) = &oha_p99 {
        let _ = write!(line, "; oha --latency-correction p99 {:.1} ms ({:.2}×)", f64_of(o, &["p99_ms"]), f64_of(o, &["ratio_to_true"]));
    }
    Ok(Bench {
        id: "B2",
        title: "coordinated omission",
        line,
        ratio: Some(ratio),
        goal: "open p99 within ±5% of true; closed p99 < 10% of it".into(),
        pass: Some(open_ok && closed_hides),
        details: json!({
            "rate": B2_RATE,
            "seconds": B2_SECONDS,
            "stall": {"period_s": 10, "from_s": stall.from.as_secs_f64(), "length_s": 1, "anchor": "the server's first token request"},
            "service_ms": service_ms,
            "true": {"p50_ms": round3(truth_p50), "p90_ms": round3(truth_p90), "p99_ms": round3(truth)},
            "open": {"latency_ms": open["latency_ms"], "late": open["late"], "dropped": open["dropped"], "requests": open["requests"], "achieved_rate": open["achieved_rate"]},
            "closed": {"latency_ms": closed["latency_ms"], "requests": closed["requests"], "achieved_rate": closed["achieved_rate"]},
            "open_within_5_percent": open_ok,
            "closed_p99_under_10_percent": closed_hides,
            "oha": oha_p99,
        }),
    })
}

/// The reference server, alone in its own process (release build).
fn start_reference(ctx: &Ctx) -> Result<(Server, String)> {
    let port = free_port()?;
    let server = Server::start(
        "reference server",
        Command::new(&ctx.agentcert).args(["serve", "--listen", &format!("127.0.0.1:{port}")]),
        "agentcert reference server: issuer",
        Duration::from_secs(20),
    )?;
    let issuer = server.ready_line.rsplit(' ').next().unwrap_or_default().to_string();
    Ok((server, issuer))
}

/// One core's ES256 rate, signing an access token's claims as the reference server does
/// (jsonwebtoken over aws-lc-rs), and the bare aws-lc-rs signature.
fn es256_rates() -> Result<(f64, f64)> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| anyhow::anyhow!("key generation"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).map_err(|_| anyhow::anyhow!("key"))?;
    let key = jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some("bench-key-thumbprint-0123456789abcdefghijklmnop".into());
    let claims = json!({
        "iss": "http://127.0.0.1:40000", "sub": "agent-b", "aud": "https://api.example.test", "client_id": "agent-b",
        "scope": "calendar.read", "iat": 1_760_000_000, "exp": 1_760_000_300, "jti": "4f1c2d9a-7b7e-4e61-9d5e-0c1f2a3b4c5d",
    });
    let rate = |f: &mut dyn FnMut()| {
        for _ in 0..200 {
            f();
        }
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(1500) {
            for _ in 0..100 {
                f();
            }
            n += 100;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let jwt = rate(&mut || {
        std::hint::black_box(jsonwebtoken::encode(&header, &claims, &key).expect("signs"));
    });
    let raw = rate(&mut || {
        std::hint::black_box(pair.sign(&rng, b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudC1iIn0").expect("signs"));
    });
    Ok((jwt, raw))
}

/// A closed-model issuance measurement against a server process, with its CPU over the run.
fn closed_against(ctx: &Ctx, name: &str, profile: &Path, server_pid: u32, client: &str) -> Result<Vec<Value>> {
    let mut runs = vec![];
    for c in CONCURRENCY {
        let before = cpu_of(server_pid).unwrap_or_default();
        let (r, f) = agentcert_load(
            ctx,
            &format!("{name}-c{c}"),
            profile,
            &["--scenario", "issuance", "--model", "closed", "--concurrency", &c.to_string(), "--duration", CLOSED_FOR, "--client", client],
        )?;
        let server_cpu = cpu_of(server_pid).unwrap_or_default().saturating_sub(before);
        let requests = f64_of(&r, &["requests"]);
        let mut v = closed_figures(
            "agentcert",
            c,
            f64_of(&r, &["achieved_rate"]),
            requests,
            f64_of(&r, &["errors"]),
            f64_of(&r, &["latency_ms", "p99"]),
            &f,
        );
        v["errors_by_class"] = r["errors_by_class"].clone();
        v["server_cpu_s"] = json!(round3(server_cpu.as_secs_f64()));
        v["server_cpu_us_per_token"] = json!(round1(server_cpu.as_secs_f64() * 1e6 / requests.max(1.0)));
        eprintln!("  {name} -c {c}: {}/s, {} errors, server {} µs CPU/token", v["rate"], v["errors"], v["server_cpu_us_per_token"]);
        runs.push(v);
    }
    Ok(runs)
}

/// B3: the reference server's issuance against the physical limit, and against oidc-provider.
fn b3(ctx: &Ctx, reference: &(Server, String), fixed_rate: f64) -> Result<Bench> {
    eprintln!("B3: reference server client_credentials issuance");
    let profile = fixture_profile(ctx, "reference", "http://127.0.0.1:0", &reference.1)?;
    let runs = closed_against(ctx, "b3-reference", &profile, reference.0.pid(), "agent_b")?;
    let best_ref = best(&runs);
    let ref_rate = f64_of(&best_ref, &["rate"]);
    let (jwt_rate, raw_rate) = es256_rates()?;
    eprintln!("  ES256 on one core: {jwt_rate:.0} JWTs/s (jsonwebtoken), {raw_rate:.0} signatures/s (aws-lc-rs)");
    let limit = jwt_rate.min(fixed_rate);
    let ratio = ref_rate / limit;

    let oidc = oidc_provider(ctx).unwrap_or_else(|e| json!({"error": format!("{e:#}")}));
    let oidc_rate = oidc["best"]["rate"].as_f64();
    let mut line = format!(
        "reference {ref_rate:.0} tokens/s vs limit {limit:.0}/s = min(ES256 JWT signing on one core {jwt_rate:.0}/s, fixed endpoint {fixed_rate:.0}/s); server {} µs CPU/token",
        best_ref["server_cpu_us_per_token"]
    );
    match oidc_rate {
        Some(o) => {
            let _ = write!(
                line,
                "; oidc-provider {o:.0} tokens/s ({:.1}× slower; {} µs CPU/token)",
                ref_rate / o,
                oidc["best"]["server_cpu_us_per_token"]
            );
        }
        None => {
            let _ = write!(line, "; oidc-provider not measured ({})", oidc["error"].as_str().unwrap_or("?"));
        }
    }
    let errors_ok = f64_of(&best_ref, &["errors"]) == 0.0;
    // The server shares two cores with the generator; per CPU-second of its own, it issues
    // this many tokens, against the signing rate of one core.
    let per_cpu_s = 1e6 / f64_of(&best_ref, &["server_cpu_us_per_token"]);
    let _ = write!(line, "; per server CPU-second {per_cpu_s:.0} tokens = {:.2}× one core's signing rate", per_cpu_s / jwt_rate);
    Ok(Bench {
        id: "B3",
        title: "issuance vs the physical limit",
        line,
        ratio: Some(ratio),
        goal: "≥ 0.5× the limit".into(),
        pass: Some(ratio >= 0.5 && errors_ok),
        details: json!({
            "client": "agent-b (client_secret_basic), closed model, agentcert as the generator",
            "reference": {"best": best_ref, "runs": runs},
            "es256_one_core": {"jwt_per_s": round1(jwt_rate), "raw_signatures_per_s": round1(raw_rate), "jwt_us": round3(1e6 / jwt_rate)},
            "fixed_endpoint_rate": fixed_rate,
            "limit": round1(limit),
            "ratio_to_limit": round3(ratio),
            "tokens_per_server_cpu_second": round1(per_cpu_s),
            "ratio_per_cpu_second_to_signing": round3(per_cpu_s / jwt_rate),
            "oidc_provider": oidc,
            "ratio_to_oidc_provider": oidc_rate.map(|o| round3(ref_rate / o)),
            "keycloak_note": "Keycloak's published sizing is 120–450 client-credential grants/s per vCPU (not measured here)",
            "reference_per_vcpu": round1(ref_rate / std::thread::available_parallelism().map_or(1, |n| n.get()) as f64),
        }),
    })
}

fn oidc_provider(ctx: &Ctx) -> Result<Value> {
    let dir = ctx.root.join("fixtures/peers/oidc-provider");
    crate::run(Command::new("bash").arg(dir.join("install.sh")))?;
    let port = free_port()?;
    let server = Server::start(
        "oidc-provider",
        Command::new("bash").arg(dir.join("start.sh")).env("PORT", port.to_string()),
        "listening http://127.0.0.1:",
        Duration::from_secs(30),
    )?;
    let profile = fixture_profile(ctx, "oidc-provider", "http://127.0.0.1:3000", &format!("http://127.0.0.1:{port}"))?;
    // start.sh execs node, so the pid is node's.
    let runs = closed_against(ctx, "b3-oidc-provider", &profile, server.pid(), "agent_b")?;
    Ok(json!({"best": best(&runs), "runs": runs, "version": "9.13.3", "token_format": "jwt"}))
}

/// Sequential requests' round trips, ms, sorted.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// B4: revocation latency on the reference server.
fn b4(ctx: &Ctx, reference: &(Server, String)) -> Result<Bench> {
    eprintln!("B4: revocation latency on the reference server");
    let issuer = reference.1.clone();
    let profile = fixture_profile(ctx, "reference", "http://127.0.0.1:0", &issuer)?;
    // The round trips, measured by the bench's own client: introspection of an active token,
    // and, for tokens revoked one at a time, the revoke call and the introspection after it.
    let rtt = ctx.rt.block_on(async {
        let http = reqwest::Client::new();
        let md: Value = http.get(format!("{issuer}/.well-known/oauth-authorization-server")).send().await?.json().await?;
        let endpoint = |name: &str| md[name].as_str().map(str::to_string).with_context(|| format!("no {name}"));
        let (token_ep, introspect_ep, revoke_ep) = (endpoint("token_endpoint")?, endpoint("introspection_endpoint")?, endpoint("revocation_endpoint")?);
        let token = || async {
            let v: Value = http
                .post(&token_ep)
                .basic_auth(REF_CLIENT.0, Some(REF_CLIENT.1))
                .form(&[("grant_type", "client_credentials"), ("resource", "https://api.example.test")])
                .send()
                .await?
                .json()
                .await?;
            v["access_token"].as_str().map(str::to_string).with_context(|| format!("no token: {v}"))
        };
        let introspect = |t: String| {
            let http = http.clone();
            let ep = introspect_ep.clone();
            async move {
                let started = Instant::now();
                let v: Value = http.post(&ep).basic_auth(REF_RS.0, Some(REF_RS.1)).form(&[("token", t.as_str())]).send().await?.json().await?;
                anyhow::Ok((started.elapsed().as_secs_f64() * 1000.0, v["active"].as_bool()))
            }
        };
        let active = token().await?;
        let mut intro = vec![];
        for _ in 0..300 {
            let (ms, a) = introspect(active.clone()).await?;
            if a != Some(true) {
                bail!("an active token introspected {a:?}");
            }
            intro.push(ms);
        }
        let (mut revoke, mut after, mut whole, mut first_poll_inactive) = (vec![], vec![], vec![], 0u32);
        for _ in 0..100 {
            let t = token().await?;
            let started = Instant::now();
            let status = http.post(&revoke_ep).basic_auth(REF_CLIENT.0, Some(REF_CLIENT.1)).form(&[("token", t.as_str()), ("token_type_hint", "access_token")]).send().await?.status();
            revoke.push(started.elapsed().as_secs_f64() * 1000.0);
            if !status.is_success() {
                bail!("revocation answered {status}");
            }
            let (ms, a) = introspect(t).await?;
            after.push(ms);
            whole.push(started.elapsed().as_secs_f64() * 1000.0);
            first_poll_inactive += u32::from(a == Some(false));
        }
        for v in [&mut intro, &mut revoke, &mut after, &mut whole] {
            v.sort_by(f64::total_cmp);
        }
        anyhow::Ok(json!({
            "introspection_ms": {"samples": intro.len(), "p50": round3(percentile(&intro, 0.5)), "p99": round3(percentile(&intro, 0.99)), "max": round3(percentile(&intro, 1.0))},
            "revoke_ms": {"samples": revoke.len(), "p50": round3(percentile(&revoke, 0.5)), "p99": round3(percentile(&revoke, 0.99))},
            "introspection_after_revoke_ms": {"p50": round3(percentile(&after, 0.5)), "p99": round3(percentile(&after, 0.99))},
            "revoke_start_to_inactive_ms": {"p50": round3(percentile(&whole, 0.5)), "p99": round3(percentile(&whole, 0.99))},
            "first_introspection_inactive": first_poll_inactive,
            "of": 100,
        }))
    })?;
    let (r, _) = agentcert_load(
        ctx,
        "b4-revocation",
        &profile,
        &["--scenario", "revocation", "--rate", "50", "--duration", "6s", "--client", "agent_b"],
    )?;
    let p99 = f64_of(&r, &["latency_ms", "p99"]);
    let rtt_p99 = f64_of(&rtt, &["introspection_ms", "p99"]);
    let bound = rtt_p99 + 1.0;
    let errors = f64_of(&r, &["errors"]);
    Ok(Bench {
        id: "B4",
        title: "revocation latency",
        line: format!(
            "p99 revoke-to-inactive {p99:.2} ms (agentcert, from the revoke call's start, p50 {:.2} ms, {} ops, {errors} errors) vs introspection round trip p99 {rtt_p99:.2} ms + 1 ms; the bench's own client: first introspection after the revoke inactive {}/100, revoke start to inactive p99 {:.2} ms",
            f64_of(&r, &["latency_ms", "p50"]), r["requests"], rtt["first_introspection_inactive"], f64_of(&rtt, &["revoke_start_to_inactive_ms", "p99"])
        ),
        ratio: Some(p99 / bound),
        goal: "≤ one introspection round trip + 1 ms".into(),
        pass: Some(p99 <= bound && errors == 0.0),
        details: json!({"agentcert": {"latency_ms": r["latency_ms"], "requests": r["requests"], "errors": r["errors"], "basis": r["latency_basis"]}, "round_trips": rtt, "bound_ms": round3(bound)}),
    })
}

/// B5: agentcert's peak memory simulating a population with token caching.
fn b5(ctx: &Ctx, reference: &(Server, String)) -> Result<Bench> {
    eprintln!("B5: memory: {B5_AGENTS} agents, {B5_ACTIONS_PER_HOUR} actions/h each, token cache reuse, {B5_SECONDS} s");
    let profile = fixture_profile(ctx, "reference", "http://127.0.0.1:0", &reference.1)?;
    let (r, f) = agentcert_load(
        ctx,
        "b5-population",
        &profile,
        &[
            "--scenario",
            "population",
            "--agents",
            &B5_AGENTS.to_string(),
            "--actions-per-hour",
            &B5_ACTIONS_PER_HOUR.to_string(),
            "--token-cache",
            "reuse",
            "--duration",
            &format!("{B5_SECONDS}s"),
            "--client",
            "agent_b",
        ],
    )?;
    let mb = |kib: u64| kib as f64 * 1024.0 / 1e6;
    let peak = mb(f.vm_hwm_kib.max(f.max_rss_kib));
    let v = &r["token_volume"];
    Ok(Bench {
        id: "B5",
        title: "memory",
        line: format!(
            "peak RSS {:.1} MB (VmHWM {:.1} MB, rusage {:.1} MB) for {B5_AGENTS} agents: {} actions, {} tokens issued ({} errors, {} late, {} dropped)",
            peak,
            mb(f.vm_hwm_kib),
            mb(f.max_rss_kib),
            v["actions"],
            v["tokens_issued"],
            r["errors"],
            r["late"],
            r["dropped"]
        ),
        ratio: Some(peak / 100.0),
        goal: "≤ 100 MB".into(),
        pass: Some(peak <= 100.0),
        details: json!({"vm_hwm_kib": f.vm_hwm_kib, "ru_maxrss_kib": f.max_rss_kib, "cpu_s": round3(f.cpu.as_secs_f64()), "load": {"achieved_rate": r["achieved_rate"], "requests": r["requests"], "errors": r["errors"], "late": r["late"], "dropped": r["dropped"], "latency_ms": r["latency_ms"], "token_volume": v}}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_true_p99_of_a_stall_schedule() {
        // 100/s for 20 s: 2000 slots, 200 of them in the two 1 s stalls (from 4.005 s), waiting
        // 0.995, 0.985 … 0.005 s (twice each). The 1980th smallest is the 180th of those.
        let s = StallSchedule { period: Duration::from_secs(10), from: Duration::from_millis(4005), length: Duration::from_secs(1) };
        let p99 = true_percentile(100.0, 20, &s, 0.0, 0.99);
        assert!((p99 - 895.0).abs() < 0.01, "{p99}");
        assert_eq!(true_percentile(100.0, 20, &s, 0.25, 0.5), 0.25);
    }

    #[test]
    fn wrk_durations() {
        assert_eq!(parse_wrk_duration("1.50ms"), 1.5);
        assert_eq!(parse_wrk_duration("250.00us"), 0.25);
        assert_eq!(parse_wrk_duration("1.01s"), 1010.0);
    }
}
