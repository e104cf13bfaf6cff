//! A load run from start to finish: refuse what must not be loaded, discover the endpoints,
//! then each scenario in turn under Goose, its files written and its thresholds judged.

use crate::attack::{self, Attack};
use crate::histogram::{interval_log, percentile_distribution, summary, LatencyRecorder};
use crate::outcome::ErrorCounts;
use crate::pacer::{Mode, Pacer, Schedule};
use crate::plan::{Job, LoadPlan, Shape};
use crate::report;
use crate::safety;
use crate::scenario::push_revocation::{self, BackgroundPlan};
use crate::scenario::{jwt_bearer, Exchange, Issuance, JwtBearer, Population, PushRevocation, Revocation, Scenario, ScenarioName};
use crate::wire::Wire;
use crate::worker::Share;
use agentcert_engine::context::Roles;
use agentcert_engine::discovery::{self, Metadata};
use agentcert_engine::home_issuer::HomeIssuer;
use agentcert_engine::http::{Limits, Recorder};
use agentcert_engine::partner::Partner;
use agentcert_engine::profile::{ClientRole, TargetProfile};
use agentcert_engine::receiver::Session;
use agentcert_engine::redact::Redactor;
use agentcert_engine::results::LoadResult;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Runs every job of `plan` against the target `profile` describes, writing each scenario's
/// files into `out`. `roles` are the home issuer and partner if the caller started them (the
/// embedded target does; a bare `Option<HomeIssuer>` converts); exchange and jwt-bearer start
/// them from the profile otherwise. `progress` shows the live line on stderr. An `Err` is a
/// reason the load could not run at all (exit 2), said in one line.
pub async fn run(
    profile: TargetProfile,
    roles: impl Into<Roles>,
    plan: &LoadPlan,
    out: &Path,
    progress: bool,
) -> Result<Vec<LoadResult>, String> {
    let target = prepare(profile, roles.into(), plan, out).await?;
    let results = async {
        let mut results = vec![];
        for job in &plan.jobs {
            if target.skipped.contains(&job.scenario) {
                continue;
            }
            let scenario = target.scenario(job, plan)?;
            let mut result = run_job(job, plan, scenario, target.wire.clone(), &target.host, out, progress).await?;
            result.thresholds = plan.thresholds.iter().filter(|t| t.applies_to(&result.scenario)).map(|t| t.judge(&result)).collect();
            results.push(result);
        }
        Ok(results)
    }
    .await;
    target.close().await;
    results
}

/// A target ready to load: checked, discovered, with the roles its jobs need running.
pub(crate) struct Prepared {
    pub wire: Arc<Wire>,
    /// The origin Goose sends to.
    pub host: String,
    pub home: Option<Arc<HomeIssuer>>,
    pub partner: Option<Arc<Partner>>,
    /// Jobs the target cannot serve, each already noted on stderr.
    pub skipped: Vec<ScenarioName>,
    /// push-revocation's signals session: a receiver, and a push stream open on the target.
    pub session: Option<Arc<Session>>,
}

impl Prepared {
    /// A fresh scenario for `job` (a population keeps per-run state).
    pub fn scenario(&self, job: &Job, plan: &LoadPlan) -> Result<Scenario, String> {
        scenario(job, plan, &self.wire, self.home.as_ref(), self.partner.as_ref(), self.session.as_ref())
    }

    /// Closes push-revocation's signals session, if one was opened (deleting its stream).
    pub async fn close(self) {
        if let Some(session) = self.session {
            push_revocation::close(session).await;
        }
    }
}

/// Everything before the first request of load: refuse what must not be loaded, discover the
/// endpoints, check each job's needs (skipping, with a note, what the target does not offer),
/// create `out`, start the roles.
pub(crate) async fn prepare(profile: TargetProfile, roles: Roles, plan: &LoadPlan, out: &Path) -> Result<Prepared, String> {
    // Before any request: the target must be one we may load.
    safety::check_target(profile.issuer(), plan.allow_remote)?;
    let http = Recorder::new(Limits::default(), Redactor::new(profile.secrets())).map_err(|e| e.to_string())?;
    let metadata = discovery::discover(&http, &profile).await.map_err(|e| e.to_string())?;
    let mut skipped = vec![];
    for job in &plan.jobs {
        if job.scenario == ScenarioName::JwtBearer {
            if let Some(why) = jwt_bearer::unsupported(&profile, &metadata) {
                eprintln!("agentcert: load jwt-bearer skipped: {}", http.redactor().text(&why));
                skipped.push(job.scenario);
                continue;
            }
        }
        if job.scenario == ScenarioName::PushRevocation {
            if let Some(why) = push_revocation::unsupported(&http, &profile).await {
                if plan.jobs.len() == 1 && !plan.best_effort {
                    return Err(http.redactor().text(&format!("push-revocation: {why}")));
                }
                eprintln!("agentcert: load push-revocation skipped: {}", http.redactor().text(&why));
                skipped.push(job.scenario);
                continue;
            }
        }
        match check_job(job, plan, &profile, &metadata) {
            Ok(()) => {}
            Err(e) if plan.best_effort => {
                eprintln!("agentcert: load {} skipped: {}", job.scenario.name(), http.redactor().text(&e));
                skipped.push(job.scenario);
            }
            Err(e) => return Err(http.redactor().text(&e)),
        }
    }
    let session = match plan.jobs.iter().any(|j| j.scenario == ScenarioName::PushRevocation)
        && !skipped.contains(&ScenarioName::PushRevocation)
    {
        false => None,
        true => match push_revocation::open(&http, &profile, &metadata, plan.client).await {
            Ok(s) => Some(Arc::new(s)),
            Err(e) if plan.best_effort => {
                eprintln!("agentcert: load push-revocation skipped: {}", http.redactor().text(e.trim_start_matches("push-revocation: ")));
                skipped.push(ScenarioName::PushRevocation);
                None
            }
            Err(e) => return Err(e),
        },
    };
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let host = url::Url::parse(profile.issuer()).map_err(|e| e.to_string())?.origin().ascii_serialization();
    let wire = Arc::new(Wire::new(profile, &metadata)?);
    let needs = |name: ScenarioName| plan.jobs.iter().any(|j| j.scenario == name) && !skipped.contains(&name);
    let home = match roles.home {
        Some(h) => Some(Arc::new(h)),
        None if needs(ScenarioName::Exchange) => Some(Arc::new(start_home(&wire.profile).await?)),
        None => None,
    };
    let partner = match roles.partner {
        Some(p) => Some(Arc::new(p)),
        None if needs(ScenarioName::JwtBearer) => Some(Arc::new(start_partner(&wire.profile).await?)),
        None => None,
    };
    Ok(Prepared { wire, host, home, partner, skipped, session })
}

/// Endpoints and clients a job needs, checked before anything is sent.
fn check_job(job: &Job, plan: &LoadPlan, profile: &TargetProfile, md: &Metadata) -> Result<(), String> {
    let name = job.scenario.name();
    let mut endpoints = vec!["token_endpoint"];
    let mut clients = vec![plan.client];
    if job.scenario == ScenarioName::Revocation {
        endpoints.extend(["revocation_endpoint", "introspection_endpoint"]);
        clients.push(ClientRole::ResourceServer);
    }
    if job.scenario == ScenarioName::PushRevocation {
        endpoints.push("revocation_endpoint");
    }
    for member in endpoints {
        let url = md.str(member).ok_or_else(|| format!("{name}: the target's metadata has no {member}"))?;
        safety::check_endpoint(profile.issuer(), member, url)?;
    }
    let wire = Wire::new(profile.clone(), md)?;
    for role in clients {
        wire.check_client(role).map_err(|e| format!("{name}: {e}"))?;
    }
    if job.scenario == ScenarioName::Exchange && profile.home_issuer.is_none() {
        return Err("exchange: the target profile has no [home_issuer] to mint user tokens".into());
    }
    Ok(())
}

async fn start_home(profile: &TargetProfile) -> Result<HomeIssuer, String> {
    let h = profile.home_issuer.as_ref().ok_or("exchange: the target profile has no [home_issuer]")?;
    HomeIssuer::start(&h.listen).await.map_err(|e| format!("{e:#}"))
}

async fn start_partner(profile: &TargetProfile) -> Result<Partner, String> {
    let p = profile.partner.as_ref().ok_or("jwt-bearer: the target profile has no [partner]")?;
    Partner::start(&p.listen).await.map_err(|e| format!("jwt-bearer: partner issuer: {e:#}"))
}

fn scenario(
    job: &Job,
    plan: &LoadPlan,
    wire: &Arc<Wire>,
    home: Option<&Arc<HomeIssuer>>,
    partner: Option<&Arc<Partner>>,
    session: Option<&Arc<Session>>,
) -> Result<Scenario, String> {
    let profile = &wire.profile;
    let timing = &profile.timing;
    Ok(match job.scenario {
        ScenarioName::Issuance => Scenario::Issuance(Issuance { client: plan.client }),
        ScenarioName::Revocation => Scenario::Revocation(Revocation { client: plan.client, within: timing.revoke_within }),
        ScenarioName::Exchange => {
            let h = profile.home_issuer.as_ref().ok_or("exchange: the target profile has no [home_issuer]")?;
            let home = home.ok_or("exchange: no home issuer is running")?.clone();
            Scenario::Exchange(Exchange { client: plan.client, home, subject: h.subject.clone(), scope: h.scope.clone() })
        }
        ScenarioName::Population => {
            let p = plan.population;
            Scenario::Population(Population::new(
                plan.client,
                p.agents,
                p.actions_per_hour,
                p.cache,
                timing.clock_skew,
                timing.max_token_lifetime,
            ))
        }
        ScenarioName::JwtBearer => {
            let partner = partner.ok_or("jwt-bearer: no partner issuer is running")?.clone();
            Scenario::JwtBearer(JwtBearer::new(plan.client, partner, profile, &wire.token_endpoint)?)
        }
        ScenarioName::PushRevocation => {
            let session = session.ok_or("push-revocation: no signals session is open")?.clone();
            // The background requests of a slot are spread over the gap to the next, at the
            // schedule's highest rate; the closed model has no gap.
            let gap = match &job.shape {
                Shape::Open { steps, .. } => match steps.iter().map(|s| s.rate).fold(0.0, f64::max) {
                    peak if peak > 0.0 => Duration::from_secs_f64(1.0 / peak),
                    _ => Duration::ZERO,
                },
                Shape::Closed { .. } => Duration::ZERO,
            };
            let background = BackgroundPlan { multiple: plan.background_issuance, gap, max_in_flight: plan.max_in_flight };
            Scenario::PushRevocation(PushRevocation::new(plan.client, session, timing.revoke_within, wire.clone(), background)?)
        }
    })
}

pub(crate) async fn run_job(
    job: &Job,
    plan: &LoadPlan,
    scenario: Scenario,
    wire: Arc<Wire>,
    host: &str,
    out: &Path,
    progress: bool,
) -> Result<LoadResult, String> {
    run_job_as(job, plan, scenario, wire, host, out, progress, None).await
}

/// [`run_job`], as one worker's `share` of a split load when given ([`crate::worker`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_job_as(
    job: &Job,
    plan: &LoadPlan,
    scenario: Scenario,
    wire: Arc<Wire>,
    host: &str,
    out: &Path,
    progress: bool,
    share: Option<&Share>,
) -> Result<LoadResult, String> {
    let name = job.scenario.name();
    let (mode, users, target_rate) = match &job.shape {
        Shape::Open { steps, .. } => {
            let mut s = Schedule::new(steps, plan.max_requests);
            if let Some(w) = share {
                s = s.share(w.index, w.count);
            }
            let rate = s.mean_rate();
            (Mode::Open(s), plan.max_in_flight, Some(rate))
        }
        Shape::Closed { concurrency, duration } => {
            let (users, max_requests) =
                share.map_or((*concurrency, plan.max_requests), |w| (w.part(*concurrency as u64) as usize, w.part(plan.max_requests)));
            (Mode::Closed { duration: *duration, max_requests }, users, None)
        }
    };
    let open = target_rate.is_some();
    let latency_basis = scenario.latency_basis(open);
    let attack = Arc::new(Attack {
        scenario,
        wire: wire.clone(),
        pacer: Pacer::new(mode),
        latency: LatencyRecorder::default(),
        errors: ErrorCounts::default(),
        open,
        finished: tokio::sync::watch::Sender::new(false),
    });
    if let Some(w) = share {
        attack.pacer.start_at(w.instant);
    }
    let files = (format!("{name}.hlog"), format!("{name}.percentiles.txt"), format!("{name}.goose.html"));
    let goose_report = out.join(&files.2);
    let _ = std::fs::remove_file(&goose_report);
    let http_before = wire.http_requests();
    let mut on_tick = |t: &attack::Tick| {
        if progress {
            report::show_progress(&report::progress_line(name, t));
        }
    };
    let outcome = attack::execute(attack.clone(), users, host, &goose_report, &mut on_tick).await;
    if progress {
        report::clear_progress();
    }
    outcome?;

    let tally = attack.pacer.tally();
    // The log's StartTime is the schedule's start: the first slot, not Goose's launch.
    let since_start = attack.pacer.start().map_or(Duration::ZERO, |s| s.elapsed());
    let started = share.map_or(SystemTime::now() - since_start, |w| w.start);
    let total = attack.latency.total();
    let comment =
        format!("agentcert {} load {name} ({}): latency in µs from {latency_basis}", env!("CARGO_PKG_VERSION"), job.shape.model());
    let write = |file: &str, bytes: &[u8]| {
        std::fs::write(out.join(file), bytes).map_err(|e| format!("cannot write {}: {e}", out.join(file).display()))
    };
    write(&files.0, &interval_log(&attack.latency.intervals(), started, &comment))?;
    write(&files.1, percentile_distribution(&total).as_bytes())?;
    let token_volume = match &attack.scenario {
        Scenario::Population(p) => Some(p.token_volume(tally.elapsed)),
        _ => None,
    };
    let mut result = LoadResult {
        scenario: name.to_string(),
        model: job.shape.model().to_string(),
        target_rate: target_rate.map(round1),
        achieved_rate: round1(tally.achieved_rate),
        duration_s: (tally.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        concurrency: users as u64,
        requests: tally.sent,
        http_requests: wire.http_requests() - http_before,
        errors: attack.errors.total(),
        errors_by_class: attack.errors.by_class(),
        late: tally.late,
        dropped: tally.dropped,
        latency_ms: summary(&total),
        latency_basis: latency_basis.to_string(),
        histogram_file: files.0,
        percentiles_file: files.1,
        goose_report_file: goose_report.exists().then_some(files.2),
        token_volume,
        thresholds: vec![],
        capacity: None,
        worker: share.map(|w| w.info(tally.send_span)),
        background_issuance: None,
    };
    if let Scenario::PushRevocation(p) = &attack.scenario {
        p.annotate(&mut result);
    }
    Ok(result)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
