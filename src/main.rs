//! The `agentcert` command line. Parsing and dispatch only: the work is done by the engine,
//! the suites and the reporters.

use agentcert_engine::context::Roles;
use agentcert_engine::profile::Mode;
use agentcert_engine::runner::{self, RunOptions};
use agentcert_engine::{HarnessError, TargetProfile};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
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
    /// Serve the reference authorization server alone, until Ctrl-C.
    Serve(ServeArgs),
    /// List the checks and the requirements they cite.
    List(ListArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Target profile (TOML). Without it, the embedded reference server is the target.
    #[arg(long, value_name = "FILE")]
    target: Option<PathBuf>,
    /// Run only these suites (repeatable). `agentcert list` shows them.
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// Where to write results.json and junit.xml.
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
            Command::Run(args) | Command::Check(args) => run(args).await,
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

async fn run(args: RunArgs) -> Result<ExitCode, HarnessError> {
    let checks = agentcert_suites::select(&args.suites).map_err(HarnessError::Setup)?;
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

    let mut progress = agentcert_reports::Progress::new(color, std::io::stderr().is_terminal());
    let results = runner::run(profile, roles, &checks, &catalog, &opts, &mut |e| progress.on_event(&e)).await?;
    print!("{}", agentcert_reports::terminal_summary(&results, color));
    let written = agentcert_reports::write_all(&results, &args.out)
        .map_err(|e| HarnessError::Setup(format!("cannot write reports to {}: {e}", args.out.display())))?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::from(results.exit_code() as u8))
}

async fn serve(args: ServeArgs) -> Result<ExitCode, HarnessError> {
    let setup = |e: anyhow::Error| HarnessError::Setup(format!("{e:#}"));
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| HarnessError::Setup(format!("cannot read {}: {e}", path.display())))?;
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            agentcert_reference::Config::from_toml(&text, dir).map_err(setup)?
        }
        None => agentcert::embedded::server_config().map_err(setup)?,
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let server = agentcert_reference::start(config).await.map_err(setup)?;
    println!("agentcert reference server: issuer {}", server.issuer);
    println!("metadata: {}", agentcert_engine::discovery::rfc8414_url(&server.issuer));
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
