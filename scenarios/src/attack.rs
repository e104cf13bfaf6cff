//! One scenario under Goose. Goose drives the users, keeps its own per-request statistics and
//! writes its HTML report; its model is closed (each user waits for its answer), so agentcert
//! puts the pacer in front of every transaction and keeps its own HdrHistogram. In the open
//! model Goose's users are just the concurrency cap: whichever is free takes the next slot.
//!
//! A conductor runs beside Goose: once a second it closes an interval histogram and reports
//! live figures, and when the pacer has nothing left to send and nothing in flight, it stops
//! Goose through its killswitch (so a run ends with its schedule, not at Goose's whole-second
//! run time, which stays as a backstop).

use crate::histogram::LatencyRecorder;
use crate::outcome::{ErrorCounts, Latency};
use crate::pacer::{Pacer, Turn, DRAIN_GRACE};
use crate::scenario::Scenario;
use crate::wire::Wire;
use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Goose's request timeout. A request that gets no answer in this time is a `timeout` error.
pub const REQUEST_TIMEOUT_S: u64 = 10;
/// How long a user waits, once the run is over, before asking again (Goose stops it as soon
/// as its transaction returns).
const IDLE: Duration = Duration::from_millis(20);

/// Goose keeps process-wide state (its logger, its killswitch, its Ctrl-C handler): one
/// attack at a time per process.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Everything the users share.
#[derive(Debug)]
pub struct Attack {
    pub scenario: Scenario,
    pub wire: Arc<Wire>,
    pub pacer: Pacer,
    pub latency: LatencyRecorder,
    pub errors: ErrorCounts,
    /// Whether latency is measured from the intended send time (open) or the actual one.
    pub open: bool,
    /// Set when the run is over. Users with no slot left wait on it, rather than spinning
    /// through empty transactions.
    pub finished: tokio::sync::watch::Sender<bool>,
}

/// Live figures, once a second.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    pub elapsed: Duration,
    pub sent: u64,
    /// Operations sent in the last second.
    pub rate: f64,
    pub errors: u64,
}

impl Attack {
    /// One Goose transaction: one slot, or a short idle when there is none.
    async fn turn(&self, user: &mut GooseUser) -> TransactionResult {
        let now = Instant::now();
        let slot = match self.pacer.take(now) {
            Turn::Go(slot) => slot,
            Turn::Done => {
                let _ = self.finished.subscribe().wait_for(|over| *over).await;
                tokio::time::sleep(IDLE).await;
                return Ok(());
            }
        };
        if slot.intended > now {
            tokio::time::sleep_until(slot.intended.into()).await;
        }
        let sent_at = Instant::now();
        self.pacer.sent(&slot, sent_at);
        let basis = if self.open { slot.intended } else { sent_at };
        let outcome = self.scenario.act(user, &self.wire, slot.index).await;
        let done = Instant::now();
        match outcome.latency {
            Latency::SinceBasis => self.latency.record(done.saturating_duration_since(basis)),
            Latency::Measured(d) => self.latency.record(d),
            Latency::None => {}
        }
        if let Some(class) = outcome.error {
            self.errors.add(class);
        }
        self.pacer.done(done);
        Ok(())
    }

    fn tick(&self, elapsed: Duration, last_sent: &mut u64) -> Tick {
        let sent = self.pacer.tally().sent;
        let rate = (sent - *last_sent) as f64;
        *last_sent = sent;
        Tick { elapsed, sent, rate, errors: self.errors.total() }
    }
}

/// Runs the attack with `users` Goose users against `host`, Goose's report to `report`, and
/// `on_tick` called once a second. Returns when every user has stopped.
pub async fn execute(
    attack: Arc<Attack>,
    users: usize,
    host: &str,
    report: &Path,
    on_tick: &mut (dyn FnMut(&Tick) + Send),
) -> Result<(), String> {
    let _one = ONE_AT_A_TIME.lock().await;
    silence_goose_logging();
    let name = attack.scenario.name().name();
    let shared = attack.clone();
    let transaction: TransactionFunction = Arc::new(move |user| {
        let shared = shared.clone();
        Box::pin(async move { shared.turn(user).await })
    });
    let goose_error = |e: GooseError| format!("Goose: {e}");
    let backstop = attack_length(&attack.pacer) + DRAIN_GRACE + Duration::from_secs(REQUEST_TIMEOUT_S + 5);
    // A worker's users are launched ahead of its shared start, and wait for it.
    let ahead = attack.pacer.start().map_or(Duration::ZERO, |s| s.saturating_duration_since(Instant::now()));
    let report = report.to_string_lossy();
    let goose = GooseAttack::initialize_with_config(GooseConfiguration::default())
        .map_err(goose_error)?
        // One client (one connection pool) shared by every user: a client each would cost
        // every user a TLS setup and ~100 KB before the first request, which at hundreds of
        // users is seconds of start-up and most of the generator's memory.
        .set_client_builder_without_cookies(GooseClientBuilder::new().without_cookies())
        .map_err(goose_error)?
        .register_scenario(goose::goose::Scenario::new(name).register_transaction(Transaction::new(transaction).set_name(name)))
        .set_default(GooseDefault::Host, host)
        .and_then(|g| g.set_default(GooseDefault::Users, users))
        // Every user at once: in the open model they are capacity, not load.
        .and_then(|g| g.set_default(GooseDefault::IncreaseRate, "100000"))
        .and_then(|g| g.set_default(GooseDefault::RunTime, (ahead + backstop).as_secs() as usize + 2))
        .and_then(|g| g.set_default(GooseDefault::Timeout, REQUEST_TIMEOUT_S.to_string().as_str()))
        // Goose's report covers the run from when every user is up, a few milliseconds in:
        // Goose resets its statistics then, and `--no-reset-metrics` would print to stdout.
        .and_then(|g| g.set_default(GooseDefault::ReportFile, report.as_ref()))
        // A transaction is one slot, or a user idling at the end: only requests mean
        // something in Goose's report.
        .and_then(|g| g.set_default(GooseDefault::NoTransactionMetrics, true))
        .and_then(|g| g.set_default(GooseDefault::NoScenarioMetrics, true))
        .and_then(|g| g.set_default(GooseDefault::NoPrintMetrics, true))
        .and_then(|g| g.set_default(GooseDefault::NoTelnet, true))
        .and_then(|g| g.set_default(GooseDefault::Quiet, 1usize))
        // Goose's own mitigation backfills guessed requests; the pacer measures real ones.
        .and_then(|g| g.set_default(GooseDefault::CoordinatedOmissionMitigation, GooseCoordinatedOmissionMitigation::Disabled))
        .map_err(goose_error)?;

    let run = goose.execute();
    tokio::pin!(run);
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut second, mut last_sent, mut stopping) = (1u64, 0u64, false);
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            _ = ticker.tick() => {
                let Some(start) = attack.pacer.start() else { continue };
                // A worker's start may still be ahead: nothing is due before it.
                let now = Instant::now();
                while now.saturating_duration_since(start) >= Duration::from_secs(second) {
                    attack.latency.rotate(Duration::from_secs(second));
                    on_tick(&attack.tick(Duration::from_secs(second), &mut last_sent));
                    second += 1;
                }
                // Over when the schedule is done, on Ctrl-C (Goose's handler pulls the
                // killswitch), or at the backstop.
                if !stopping && (attack.pacer.finished(now) || goose::is_killswitch_triggered() || now.saturating_duration_since(start) > backstop) {
                    stopping = true;
                    attack.finished.send_replace(true);
                    goose::trigger_killswitch("agentcert: the run is over");
                }
            }
        }
    };
    goose::reset_killswitch();
    // The last, partial interval.
    if let Some(start) = attack.pacer.start() {
        attack.latency.rotate(Instant::now() - start);
    }
    result.map(|_| ()).map_err(goose_error)
}

/// The longest the pacer can hand out turns.
fn attack_length(pacer: &Pacer) -> Duration {
    match pacer.mode() {
        crate::pacer::Mode::Open(s) => s.end(),
        crate::pacer::Mode::Closed { duration, .. } => *duration,
    }
}

/// Goose logs through the `log` crate to stdout, per request failure at warn level even when
/// quiet. agentcert reports errors itself, by class; so a logger that drops everything is
/// installed first (Goose's own then fails to install, which it tolerates).
fn silence_goose_logging() {
    struct Silent;
    impl log::Log for Silent {
        fn enabled(&self, _: &log::Metadata) -> bool {
            false
        }
        fn log(&self, _: &log::Record) {}
        fn flush(&self) {}
    }
    static SILENT: Silent = Silent;
    if log::set_logger(&SILENT).is_ok() {
        log::set_max_level(log::LevelFilter::Off);
    }
}
