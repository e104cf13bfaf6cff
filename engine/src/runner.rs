//! The runner: discovery, capability detection, then every selected check in order, each
//! with its own recorder, a time limit, and panic isolation. It reports progress as events
//! and returns the whole run as one [`RunResults`].

use crate::catalog::Catalog;
use crate::check::{Capability, Check, Outcome, Verdict};
use crate::context::{Ctx, Roles, Target};
use crate::discovery;
use crate::home_issuer::HomeIssuer;
use crate::http::{Limits, Recorder};
use crate::partner::Partner;
use crate::profile::{ClientRole, Mode, TargetProfile};
use crate::redact::Redactor;
use crate::results::{CheckResult, RunResults, Summary, TargetInfo, SCHEMA_VERSION};
use crate::HarnessError;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What happens during a run, for live displays. `results.json` is built from the same
/// outcomes, so the terminal and the file cannot disagree.
#[derive(Debug)]
pub enum Event<'a> {
    Discovered { metadata_url: &'a str, capabilities: Vec<(Capability, bool)> },
    CheckStarted { check: &'a Check, index: usize, total: usize },
    CheckFinished { result: &'a CheckResult, index: usize, total: usize },
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub limits: Limits,
    /// The longest one check may take before it is stopped and marked `error`.
    pub check_timeout: Duration,
    pub mode_override: Option<Mode>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { limits: Limits::default(), check_timeout: Duration::from_secs(60), mode_override: None }
    }
}

/// Runs `checks` against the target the profile describes. `roles` are the home issuer and
/// partner if the caller already started them (the embedded run must, so the reference server
/// can trust them); otherwise they are started from the profile's `[home_issuer]` and `[partner]`.
pub async fn run(
    mut profile: TargetProfile,
    roles: impl Into<Roles>,
    checks: &[Check],
    catalog: &Catalog,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<RunResults, HarnessError> {
    let started = Instant::now();
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    if let Some(m) = opts.mode_override {
        profile.target.mode = m;
    }
    // The profile's `[limits]` (which the command line may have set) override the options.
    let opts = &RunOptions {
        limits: profile.limits.apply(opts.limits),
        check_timeout: profile.limits.check_timeout.unwrap_or(opts.check_timeout),
        ..opts.clone()
    };
    let http = Recorder::new(opts.limits, Redactor::new(profile.secrets())).map_err(|e| HarnessError::Setup(e.to_string()))?;

    let Roles { home, partner } = roles.into();
    let home = match (home, &profile.home_issuer) {
        (Some(h), _) => Some(h),
        (None, Some(h)) => Some(HomeIssuer::start(&h.listen).await.map_err(|e| HarnessError::Setup(format!("{e:#}")))?),
        (None, None) => None,
    };
    let partner = match (partner, &profile.partner) {
        (Some(p), _) => Some(p),
        (None, Some(p)) => Some(Partner::start(&p.listen).await.map_err(|e| HarnessError::Setup(format!("{e:#}")))?),
        (None, None) => None,
    };

    let metadata = discovery::discover(&http, &profile).await?;
    let mut target = Target { profile, metadata, capabilities: Default::default(), home, partner };
    let jwt_probe = probe_jwt_access_tokens(&target, &http).await;
    target.capabilities = discovery::detect(&http, &target.profile, &target.metadata, jwt_probe).await;
    on_event(Event::Discovered {
        metadata_url: &target.metadata.url,
        capabilities: target.capabilities.iter().map(|(c, s)| (*c, s.enabled)).collect(),
    });
    let target = Arc::new(target);

    let mut results = Vec::with_capacity(checks.len());
    for (index, check) in checks.iter().enumerate() {
        on_event(Event::CheckStarted { check, index, total: checks.len() });
        let result = run_one(check, &target, &http, catalog, opts).await;
        on_event(Event::CheckFinished { result: &result, index, total: checks.len() });
        results.push(result);
    }

    let profile = &target.profile;
    Ok(RunResults {
        schema_version: SCHEMA_VERSION.into(),
        agentcert_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        target: TargetInfo {
            name: profile.target.name.clone(),
            issuer: profile.issuer().to_string(),
            profile: profile.source.clone(),
            mode: format!("{:?}", profile.target.mode).to_lowercase(),
            metadata_url: Some(target.metadata.url.clone()),
        },
        capabilities: target.capabilities.iter().map(|(c, s)| (c.name().to_string(), s.clone())).collect(),
        summary: Summary::tally(&results),
        checks: results,
        load: vec![],
    })
}

async fn run_one(check: &Check, target: &Arc<Target>, http: &Recorder, catalog: &Catalog, opts: &RunOptions) -> CheckResult {
    let started = Instant::now();
    let recorder = http.fork();
    let missing: Vec<&str> =
        check.needs.iter().filter(|c| !target.capabilities.get(c).is_some_and(|s| s.enabled)).map(|c| c.name()).collect();
    let outcome = if !missing.is_empty() {
        let why: Vec<String> = check
            .needs
            .iter()
            .filter(|c| missing.contains(&c.name()))
            .map(|c| format!("{} ({})", c.name(), target.capabilities.get(c).map(|s| s.source.as_str()).unwrap_or("unknown")))
            .collect();
        Outcome::skip(format!("needs {}", why.join(", ")))
    } else {
        let ctx = Ctx::new(target.clone(), recorder.clone());
        // Spawned, so that a panicking check becomes an `error` verdict, not a dead run.
        let task = tokio::spawn((check.run)(ctx));
        match tokio::time::timeout(opts.check_timeout, task).await {
            Err(_) => Outcome::error(format!("check did not finish within {:?}", opts.check_timeout)),
            Ok(Err(join)) => Outcome::error(format!("check panicked: {}", panic_message(join))),
            Ok(Ok(Err(e))) => Outcome::error(format!("{e:#}")),
            Ok(Ok(Ok(o))) => o,
        }
    };
    let level = catalog.level_of(check.requirements);
    let outcome = grade(outcome, level, target.profile.target.mode);
    let baseline_reason = target.profile.expected_failures.get(check.id);
    let baseline = match (baseline_reason, outcome.verdict) {
        (Some(_), Verdict::Fail | Verdict::Error) => Some("expected".to_string()),
        (Some(_), Verdict::Pass) => Some("stale".to_string()),
        _ => None,
    };
    // A reason may quote what the server or the transport said (an error naming a URL whose
    // query holds a token, say): it is redacted like evidence, and kept to a readable length.
    let said = truncate_reason(recorder.redactor().text(&outcome.reason));
    let reason = match (&baseline, baseline_reason) {
        (Some(b), Some(why)) if b == "expected" => format!("{said} [expected by the target's baseline: {why}]"),
        (Some(_), Some(_)) => format!("{said} [the baseline expects this check to fail: remove it from expected_failures]"),
        _ => said,
    };
    CheckResult {
        id: check.id.into(),
        suite: check.suite.into(),
        title: check.title.into(),
        requirements: check.requirements.iter().map(|s| s.to_string()).collect(),
        citations: check
            .requirements
            .iter()
            .map(|id| catalog.get(id).map(|r| r.citation()).unwrap_or_else(|| format!("{id} (not in catalog)")))
            .collect(),
        level,
        verdict: outcome.verdict,
        reason,
        baseline,
        duration_ms: started.elapsed().as_millis() as u64,
        evidence: recorder.take_transcript(),
    }
}

/// The longest reason kept; the evidence holds the rest.
const REASON_MAX: usize = 4096;

fn truncate_reason(mut reason: String) -> String {
    if reason.len() > REASON_MAX {
        let mut cut = REASON_MAX;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push_str("… (cut; see the evidence)");
    }
    reason
}

/// A failed SHOULD or MAY is a warning, not a failure (BCP 14). Lenient mode is applied by
/// the checks that compare error codes; see `Ctx::profile().target.mode`.
fn grade(outcome: Outcome, level: crate::catalog::Level, _mode: Mode) -> Outcome {
    if outcome.verdict == Verdict::Fail && !level.failing_is_fatal() {
        return Outcome { verdict: Verdict::Warn, reason: format!("{} (a {level:?}-level rule: reported as a warning)", outcome.reason) };
    }
    outcome
}

fn panic_message(join: tokio::task::JoinError) -> String {
    match join.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into()),
        Err(e) => e.to_string(),
    }
}

/// Is an access token a JWT? Asks for one as agent A and looks. `None` when no token could be
/// had (the checks that need one will then say why).
async fn probe_jwt_access_tokens(target: &Target, http: &Recorder) -> Option<bool> {
    let probe = Arc::new(Target {
        profile: target.profile.clone(),
        metadata: target.metadata.clone(),
        capabilities: Default::default(),
        home: None,
        partner: None,
    });
    let ctx = Ctx::new(probe, http.fork());
    let token = ctx.issue_token(ClientRole::AgentA).await.ok()?;
    Some(crate::jose::decode_unverified(&token).is_ok())
}
