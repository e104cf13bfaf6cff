//! The `agentcert` command line. Parsing and dispatch only: the work is done by the engine,
//! the suites and the reporters.

use agentcert_engine::context::Roles;
use agentcert_engine::profile::Mode;
use agentcert_engine::runner::{self, RunOptions};
use agentcert_engine::{HarnessError, TargetProfile};
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Conformance suite and load harness for OAuth 2.0 authorization servers that serve AI agents.
///
/// With no --target, agentcert starts its embedded reference authorization server on a
/// loopback port and runs against that. Point it at your own server with a target profile
/// (see fixtures/targets/reference.toml for a commented example).
///
/// Exit codes: 0 every required check passed; 1 a check failed or errored (or a baseline is
/// stale); 2 agentcert could not run (bad profile, unreachable target, not an authorization
/// server).
#[derive(Parser)]
#[command(name = "agentcert", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole job: the conformance suites, then the reports.
    Run(RunArgs),
    /// Run the conformance suites only.
    Check(RunArgs),
    /// Load the target with a scenario and measure latency without coordinated omission.
    ///
    /// The default open model sends at a constant arrival rate and measures latency from each
    /// request's intended send time, so a server stall shows in the percentiles. Writes an
    /// HdrHistogram interval log, a percentile table and Goose's HTML report per scenario,
    /// and results.json. Exit 1 when a --threshold is missed.
    Load(Box<LoadArgs>),
    /// Merge the results of a load split over workers (`load --workers`) into one run.
    ///
    /// Adds the workers' HdrHistograms (losslessly) and recomputes the percentiles from the
    /// sum, sums the counts, and computes the achieved rate over the common window (earliest
    /// start to latest end of sends). Writes results.json, an interval log and a percentile
    /// table per scenario. Exit 1 when a --threshold the workers recorded is missed; exit 2
    /// when the directories are not one complete run.
    Merge(MergeArgs),
    /// Serve the reference authorization server alone, until Ctrl-C.
    Serve(ServeArgs),
    /// List the checks and the requirements they cite.
    List(ListArgs),
    /// Compare two results.json files: changed verdicts (regressions first), new and gone
    /// checks, and load figures that moved beyond a tolerance.
    ///
    /// Exit 1 when anything regressed (a check now failing or erroring, a new failing check, a
    /// latency, rate, capacity or error-ratio regression beyond tolerance), 0 otherwise, 2 when
    /// a file cannot be read.
    Diff(DiffArgs),
    /// Run the whole job like `run`, then seal the output directory as a signed certification
    /// bundle: the reports, one evidence transcript per check, the target's metadata, and
    /// manifest.json (every file's SHA-256) with its detached ES256 JWS in manifest.jws.
    Certify(CertifyArgs),
    /// Check a certification bundle: the manifest's signature against the vendor's public
    /// key, and every file against the manifest. Exit 0 valid, 1 invalid, 2 unreadable.
    Verify(VerifyArgs),
}

#[derive(Args)]
struct DiffArgs {
    /// The earlier results.json.
    old: PathBuf,
    /// The later results.json.
    new: PathBuf,
    /// Output for a terminal or as Markdown (a pull-request comment).
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    /// How much p50/p90/p99 may rise before it is a regression (changes under 1 ms never are).
    #[arg(long, value_name = "PERCENT", default_value = "10%")]
    latency_tolerance: String,
    /// How much the achieved rate (and a capacity found) may fall before it is a regression.
    #[arg(long, value_name = "PERCENT", default_value = "5%")]
    rate_tolerance: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
}

#[derive(Args)]
struct CertifyArgs {
    /// The vendor's signing key: a PKCS#8 P-256 private key in PEM.
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct VerifyArgs {
    /// The bundle directory (`certify --out`).
    bundle: PathBuf,
    /// The vendor's public key in PEM (-----BEGIN PUBLIC KEY-----).
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
}

#[derive(Args)]
struct RunArgs {
    /// Target profile (TOML). Without it, the embedded reference server is the target.
    #[arg(long, value_name = "FILE")]
    target: Option<PathBuf>,
    /// Run only these suites (repeatable). `agentcert list` shows them.
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// Where to write the reports: results.json, junit.xml, report.html, summary.md (and for
    /// `certify`, the bundle: the directory must be new or empty).
    #[arg(long, value_name = "DIR", default_value = "agentcert-out")]
    out: PathBuf,
    /// Report a wrong error code as a warning instead of a failure (overrides the profile).
    #[arg(long, conflicts_with = "strict")]
    lenient: bool,
    /// Fail a wrong error code (overrides the profile).
    #[arg(long)]
    strict: bool,
    /// No colors in the terminal output.
    #[arg(long)]
    no_color: bool,
    /// `run` only: skip the load phase (a short issuance and revocation-latency load).
    #[arg(long)]
    no_load: bool,
    /// `run` only: let the load phase load a target that is not on loopback.
    #[arg(long)]
    allow_remote: bool,
    /// Each request's time limit, body included: 2s, 500ms (overrides the profile's
    /// `[limits] timeout`) [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    timeout: Option<std::time::Duration>,
    /// The largest response body read; a longer one is an error (overrides the profile's
    /// `[limits] max_body_bytes`) [default: 1048576].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    max_body_bytes: Option<u64>,
}

fn parse_positive_duration(s: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be more than zero".into()),
        Ok(d) if d > std::time::Duration::from_secs(600) => Err("must be at most 10m: a longer wait is a hang, not a bound".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("`{s}` is not a duration like \"2s\" or \"500ms\": {e}")),
    }
}

#[derive(Args)]
struct LoadArgs {
    /// The scenario (repeatable): issuance, exchange, revocation, push-revocation, population,
    /// jwt-bearer.
    #[arg(long = "scenario", value_name = "NAME", required = true)]
    scenarios: Vec<String>,
    /// Arrival rate in the open model: 200, 200/s, 600/m [default: 200/s].
    #[arg(long, value_name = "RATE")]
    rate: Option<String>,
    /// How long to send: 5s, 500ms, 2m; at most 10m [default: 5s].
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// open (arrival rate), closed (fixed concurrency: service time) or ramp [default: open].
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// Users in the closed model [default: 8].
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Rate steps over time: 50/s:10s,100/s:10s,200/s:10s.
    #[arg(long, value_name = "STEPS")]
    ramp: Option<String>,
    /// Stop after this many operations.
    #[arg(long, value_name = "N")]
    max_requests: Option<u64>,
    /// The most operations in flight in the open model (Goose users) [default: 256].
    #[arg(long, value_name = "N")]
    max_in_flight: Option<usize>,
    /// Pass/fail rule (repeatable): issuance.p99<50ms, errors<0.1%, achieved_rate>190/s.
    #[arg(long = "threshold", value_name = "RULE")]
    thresholds: Vec<String>,
    /// The client to act as: agent_a, agent_b, agent_x [default: agent_a].
    #[arg(long, value_name = "ROLE")]
    client: Option<String>,
    /// population: how many agents [default: 1000].
    #[arg(long, value_name = "N")]
    agents: Option<u64>,
    /// population: actions per agent per hour [default: 360].
    #[arg(long, value_name = "N")]
    actions_per_hour: Option<String>,
    /// population: token cache policy, none or reuse [default: reuse].
    #[arg(long, value_name = "POLICY")]
    token_cache: Option<String>,
    /// push-revocation: plain client-credentials requests per revocation, sent beside the
    /// revocations so that they are measured under issuance load; 0 for none [default: 5].
    #[arg(long, value_name = "N")]
    background_issuance: Option<String>,
    /// Target profile (TOML). Without it, the embedded reference server is the target.
    #[arg(long, value_name = "FILE")]
    target: Option<PathBuf>,
    /// Where to write results.json and the histograms.
    #[arg(long, value_name = "DIR", default_value = "agentcert-out")]
    out: PathBuf,
    /// Load a target that is not on loopback. Load only servers you operate.
    #[arg(long)]
    allow_remote: bool,
    /// Split the load over N worker processes (each runs 1/N of the rate); merge their
    /// output directories with `agentcert merge`.
    #[arg(long, value_name = "N")]
    workers: Option<u32>,
    /// This worker's index, 0 to N-1 (in a Kubernetes Indexed Job: $(JOB_COMPLETION_INDEX)).
    #[arg(long, value_name = "I")]
    worker_index: Option<u32>,
    /// The workers' shared start: RFC 3339 or unix seconds, ahead of every worker [default: now].
    #[arg(long, value_name = "TIME")]
    start_at: Option<String>,
    /// Search for the highest open-model rate that meets --slo: short steps (each --duration,
    /// default 5s) doubling from --rate (default 50/s) up to --max-rate, then bisection. The
    /// bound on steps and time is printed before it starts. Exit 1 when no rate met the SLO.
    #[arg(long)]
    find_capacity: bool,
    /// The SLO each capacity step must meet: comma-separated rules, as in 'p99<50ms,errors<0.1%'.
    #[arg(long, value_name = "RULES")]
    slo: Option<String>,
    /// The highest rate the capacity search tries [default: 5000/s].
    #[arg(long, value_name = "RATE")]
    max_rate: Option<String>,
}

#[derive(Args)]
struct MergeArgs {
    /// The workers' output directories, one per worker.
    #[arg(value_name = "DIR", required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged results.json and histograms.
    #[arg(long, value_name = "DIR", default_value = "agentcert-out")]
    out: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    /// Server configuration (TOML; see fixtures/reference/server.toml). Without it, the
    /// embedded configuration with agentcert's test clients.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the configuration).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

#[derive(Args)]
struct ListArgs {
    /// List the requirement catalog, each requirement with the checks that cover it.
    #[arg(long)]
    requirements: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fatal(&format!("cannot start the async runtime: {e}")),
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Run(args) => run(args, true, None).await,
            Command::Check(args) => run(args, false, None).await,
            Command::Certify(args) => match agentcert::certify::Certifier::prepare(&args.key, &args.run.out) {
                Ok(certifier) => run(args.run, true, Some(certifier)).await,
                Err(e) => Err(e),
            },
            Command::Diff(args) => diff(args),
            Command::Verify(args) => verify(args),
            Command::Load(args) => load(*args).await,
            Command::Merge(args) => merge(args),
            Command::Serve(args) => serve(args).await,
            Command::List(args) => list(args),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => fatal(&e.to_string()),
    }
}

fn fatal(message: &str) -> ExitCode {
    eprintln!("agentcert: error: {message}");
    ExitCode::from(2)
}

async fn run(args: RunArgs, with_load: bool, certify: Option<agentcert::certify::Certifier>) -> Result<ExitCode, HarnessError> {
    let checks = agentcert_suites::select(&args.suites).map_err(HarnessError::Setup)?;
    if certify.is_none() {
        writable_out(&args.out)?;
    }
    let catalog = agentcert_suites::catalog();
    let color = !args.no_color && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let opts = RunOptions {
        mode_override: match (args.lenient, args.strict) {
            (true, _) => Some(Mode::Lenient),
            (_, true) => Some(Mode::Strict),
            _ => None,
        },
        ..RunOptions::default()
    };

    // The embedded target lives as long as this function; `_server` keeps it up.
    let (profile, roles, _server) = match &args.target {
        Some(path) => (TargetProfile::load(path)?, Roles::default(), None),
        None => {
            let t = agentcert::embedded::start(&[]).await?;
            eprintln!("agentcert: embedded reference server at {}", t.server.issuer);
            let (server, profile, roles) = t.into_parts();
            (profile, roles, Some(server))
        }
    };

    let mut profile = profile;
    if let Some(t) = args.timeout {
        profile.limits.timeout = Some(t);
    }
    if let Some(b) = args.max_body_bytes {
        profile.limits.max_body_bytes = Some(usize::try_from(b).unwrap_or(usize::MAX));
    }
    let load_profile = profile.clone();
    let revoke_within = profile.timing.revoke_within;
    let mut progress = agentcert_reports::Progress::new(color, std::io::stderr().is_terminal());
    let mut results = runner::run(profile, roles, &checks, &catalog, &opts, &mut |e| progress.on_event(&e)).await?;
    print!("{}", agentcert_reports::terminal_summary(&results, color));
    // For a bundle, the metadata as served, fetched again while the target is still up.
    let metadata = match &certify {
        Some(c) => Some(c.fetch_metadata(&load_profile, &results).await?),
        None => None,
    };
    if with_load && !args.no_load {
        let plan = agentcert_scenarios::LoadPlan::run_phase(args.allow_remote);
        match agentcert_scenarios::run(load_profile, None, &plan, &args.out, std::io::stderr().is_terminal()).await {
            Ok(load) => {
                print!("{}", agentcert_scenarios::summary_table(&load));
                results.load = load;
            }
            Err(e) => eprintln!("agentcert: load phase skipped: {e}"),
        }
    }
    let ctx = agentcert_reports::ReportContext { catalog: Some(&catalog), revoke_within: Some(revoke_within) };
    let written = agentcert_reports::write_all_with(&results, &args.out, &ctx)
        .map_err(|e| HarnessError::Setup(format!("cannot write reports to {}: {e}", args.out.display())))?;
    for path in written {
        println!("wrote {}", path.display());
    }
    if let (Some(c), Some(m)) = (certify, metadata) {
        let files = c.seal(&args.out, &results, &m)?;
        println!("sealed {}: {files} files in manifest.json, signed by key {} in manifest.jws", args.out.display(), c.kid());
    }
    Ok(ExitCode::from(results.exit_code() as u8))
}

/// Finds out before any work whether the reports can be written: a run that takes minutes
/// and then cannot save them has wasted them.
/// It leaves nothing behind: directories it had to create for the probe are removed again,
/// so that a run refused later for bad input has still written nothing.
fn writable_out(dir: &std::path::Path) -> Result<(), HarnessError> {
    let fail = |e: std::io::Error| HarnessError::Setup(format!("cannot write reports to {}: {e}", dir.display()));
    // The outermost directory that does not exist yet, if any: what the probe creates.
    let created = dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).last().map(std::path::Path::to_path_buf);
    let result = std::fs::create_dir_all(dir).and_then(|()| {
        let probe = dir.join(".agentcert-write-probe");
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    });
    if let Some(created) = created {
        let _ = std::fs::remove_dir_all(created);
    }
    result.map_err(fail)
}

async fn load(args: LoadArgs) -> Result<ExitCode, HarnessError> {
    writable_out(&args.out)?;
    let options = agentcert_scenarios::LoadOptions {
        scenarios: args.scenarios,
        rate: args.rate,
        duration: args.duration,
        model: args.model,
        concurrency: args.concurrency,
        ramp: args.ramp,
        max_requests: args.max_requests,
        max_in_flight: args.max_in_flight,
        thresholds: args.thresholds,
        client: args.client,
        agents: args.agents,
        actions_per_hour: args.actions_per_hour,
        token_cache: args.token_cache,
        background_issuance: args.background_issuance,
        allow_remote: args.allow_remote,
    };
    let capacity_options =
        agentcert_scenarios::capacity::CapacityOptions { find_capacity: args.find_capacity, slo: args.slo, max_rate: args.max_rate };
    let capacity = match capacity_options.any() {
        true => Some(agentcert_scenarios::capacity::CapacityPlan::from_options(&options, &capacity_options).map_err(HarnessError::Setup)?),
        false => None,
    };
    if capacity.is_some() && args.workers.is_some() {
        return Err(HarnessError::Setup("--find-capacity runs in one process; drop --workers".into()));
    }
    let plan = match &capacity {
        Some(c) => c.load.clone(),
        None => agentcert_scenarios::LoadPlan::from_options(&options).map_err(HarnessError::Setup)?,
    };
    let worker_options =
        agentcert_scenarios::worker::WorkerOptions { workers: args.workers, worker_index: args.worker_index, start_at: args.start_at };
    let worker = agentcert_scenarios::worker::Worker::from_options(&worker_options, &plan, std::time::SystemTime::now())
        .map_err(HarnessError::Setup)?;
    if worker.is_some() && args.target.is_none() {
        return Err(HarnessError::Setup(
            "--workers share one target: name it with --target (each worker would start an embedded server of its own)".into(),
        ));
    }
    let (started, clock) = (std::time::SystemTime::now(), std::time::Instant::now());
    let (profile, roles, _server) = match &args.target {
        Some(path) => (TargetProfile::load(path)?, Roles::default(), None),
        None => {
            let t = agentcert::embedded::start(&[]).await?;
            eprintln!("agentcert: embedded reference server at {}", t.server.issuer);
            (t.profile, Roles { home: Some(t.home), partner: Some(t.partner) }, Some(t.server))
        }
    };
    let progress = std::io::stderr().is_terminal();
    let load = match (&worker, &capacity) {
        (Some(w), _) => agentcert_scenarios::worker::run(profile.clone(), roles, &plan, w, &args.out, progress).await,
        (None, Some(c)) => {
            eprintln!("{}", c.describe());
            agentcert_scenarios::capacity::search(profile.clone(), roles, c, &args.out, progress).await
        }
        (None, None) => agentcert_scenarios::run(profile.clone(), roles, &plan, &args.out, progress).await,
    }
    .map_err(HarnessError::Setup)?;
    print!("{}", agentcert_scenarios::summary_table(&load));
    print!("{}", agentcert_scenarios::capacity::capacity_table(&load));
    let results = agentcert_scenarios::results_document(&profile, started, clock.elapsed(), load);
    // Every report, not results.json alone: a directory whose report.html still shows an older
    // run beside a new results.json would contradict itself.
    let written = agentcert_reports::write_all(&results, &args.out)
        .map_err(|e| HarnessError::Setup(format!("cannot write reports to {}: {e}", args.out.display())))?;
    for path in written {
        println!("wrote {}", path.display());
    }
    for r in &results.load {
        for file in [Some(&r.histogram_file), Some(&r.percentiles_file), r.goose_report_file.as_ref()].into_iter().flatten() {
            println!("wrote {}", args.out.join(file).display());
        }
    }
    Ok(load_exit_code(&results.load))
}

/// 1 when a threshold was missed, or when every operation of a scenario failed (its latency
/// figures then time only refusals, which is no measure of the server), else 0.
fn load_exit_code(load: &[agentcert_engine::results::LoadResult]) -> ExitCode {
    let missed = agentcert_scenarios::missed(load);
    let all_failed: Vec<&str> = load.iter().filter(|r| r.requests > 0 && r.errors >= r.requests).map(|r| r.scenario.as_str()).collect();
    for scenario in &all_failed {
        eprintln!("agentcert: every {scenario} operation failed (see errors_by_class in results.json): its latency figures time only the failures");
    }
    if missed.is_empty() && all_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn merge(args: MergeArgs) -> Result<ExitCode, HarnessError> {
    let merged = agentcert_scenarios::merge::merge(&args.dirs, &args.out).map_err(HarnessError::Setup)?;
    print!("{}", agentcert_scenarios::summary_table(&merged.results.load));
    let written = agentcert_reports::write_all(&merged.results, &args.out)
        .map_err(|e| HarnessError::Setup(format!("cannot write reports to {}: {e}", args.out.display())))?;
    for path in written.iter().chain(&merged.written) {
        println!("wrote {}", path.display());
    }
    Ok(load_exit_code(&merged.results.load))
}

fn diff(args: DiffArgs) -> Result<ExitCode, HarnessError> {
    use agentcert_reports::diff;
    let setup = HarnessError::Setup;
    let tolerances = diff::Tolerances {
        latency: diff::parse_percent(&args.latency_tolerance).map_err(setup)?,
        rate: diff::parse_percent(&args.rate_tolerance).map_err(setup)?,
        ..diff::Tolerances::default()
    };
    let old = diff::read_results(&args.old).map_err(setup)?;
    let new = diff::read_results(&args.new).map_err(setup)?;
    let d = diff::diff(&args.old.display().to_string(), &old, &args.new.display().to_string(), &new, tolerances);
    match args.format {
        DiffFormat::Text => print!("{}", diff::render_text(&d)),
        DiffFormat::Markdown => print!("{}", diff::render_markdown(&d)),
    }
    Ok(ExitCode::from(d.exit_code() as u8))
}

fn verify(args: VerifyArgs) -> Result<ExitCode, HarnessError> {
    let pem = std::fs::read_to_string(&args.key)
        .map_err(|e| HarnessError::Setup(format!("cannot read the public key {}: {e}", args.key.display())))?;
    let v = agentcert_reports::bundle::verify(&args.bundle, &pem).map_err(HarnessError::Setup)?;
    print!("{}", agentcert::certify::describe(&args.bundle, &v));
    Ok(if v.valid() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn serve(args: ServeArgs) -> Result<ExitCode, HarnessError> {
    let setup = |e: anyhow::Error| HarnessError::Setup(format!("{e:#}"));
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| HarnessError::Setup(format!("cannot read {}: {e}", path.display())))?;
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            agentcert_reference::Config::from_toml(&text, dir).map_err(setup)?
        }
        None => agentcert::embedded::server_config().map_err(setup)?,
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let server = agentcert_reference::start(config).await.map_err(setup)?;
    // A server outlives whoever reads its first lines: a closed stdout must not stop it
    // (println! would panic on the broken pipe).
    let mut out = std::io::stdout();
    let _ = writeln!(out, "agentcert reference server: issuer {}", server.issuer);
    let _ = writeln!(out, "metadata: {}", agentcert_engine::discovery::rfc8414_url(&server.issuer));
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn list(args: ListArgs) -> Result<ExitCode, HarnessError> {
    let catalog = agentcert_suites::catalog();
    let checks = agentcert_suites::all_checks();
    if args.requirements {
        print!("{}", agentcert_suites::listing::requirements(&catalog, &checks));
    } else {
        print!("{}", agentcert_suites::listing::checks(&catalog, &checks));
    }
    Ok(ExitCode::SUCCESS)
}
