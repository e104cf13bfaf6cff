//! The pacer: who may send what, when.
//!
//! In the open model (the default) operations arrive on a schedule that does not care how the
//! server is doing: slot `i` is due at `start + i / rate`. Each Goose user takes the next slot,
//! sleeps until it is due if it is early, and sends. Latency is then measured from the slot's
//! intended time, not from when the user got round to sending it. That is Gil Tene's fix for
//! coordinated omission ("How NOT to Measure Latency"), as wrk2 applies it: a closed-loop
//! generator that waits for each answer before sending the next stops sending while the
//! server stalls, and so never records the requests a real client population would have sent
//! into the stall. Here those requests are late, and their lateness is latency.
//!
//! Two things can still go wrong on the generator's side, and both are counted, never hidden:
//! a slot sent later than a small tolerance after it was due is `late` (the generator or its
//! concurrency cap was behind), and a slot not sent by the end of the send window is
//! `dropped`.
//!
//! The closed model hands out turns back to back to a fixed number of users until the
//! duration is up; its latency is service time and is labelled so.

use crate::pace::Step;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long after the schedule's last slot a late slot may still be sent. Beyond it, what is
/// left is dropped: the run ends, and the backlog is reported rather than silently drained.
pub const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// The smallest lateness counted as `late`. Tokio's timer wheel ticks in whole milliseconds,
/// so a sleep may end up to 1 ms after its deadline on an idle machine; counting that as late
/// would make the figure noise.
pub const LATE_FLOOR: Duration = Duration::from_millis(2);

/// An open-model schedule: the intended send times of every slot, step by step.
///
/// A schedule may be one worker's share of a whole ([`Schedule::share`]): its slot `j` is the
/// whole schedule's slot `j·count + index`, at that slot's time. Interleaving (rather than
/// cutting the time into pieces) keeps every worker at the whole rate / `count` through every
/// step of a ramp, and the workers' slots together are exactly the whole schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// (first slot, slot count, rate, offset of the step's start)
    steps: Vec<(u64, u64, f64, Duration)>,
    total: u64,
    end: Duration,
    /// (index, count): this schedule's share of the whole; (0, 1) is all of it.
    share: (u64, u64),
}

impl Schedule {
    /// The slots of `steps`, at most `max_requests` of them.
    pub fn new(steps: &[Step], max_requests: u64) -> Schedule {
        let mut out = Vec::new();
        let (mut first, mut offset) = (0u64, Duration::ZERO);
        for s in steps {
            // A hair of slack so that 200/s × 5 s is 1000 slots, not 999.
            let count = (s.rate * s.duration.as_secs_f64() + 1e-9).floor() as u64;
            out.push((first, count, s.rate, offset));
            first += count;
            offset += s.duration;
        }
        let total = first.min(max_requests);
        let mut schedule = Schedule { steps: out, total, end: offset, share: (0, 1) };
        if total > 0 && total < first {
            // Cut short by max_requests: the run ends one interval after its last slot.
            schedule.end = schedule.offset(total - 1) + schedule.interval(total - 1);
        }
        schedule
    }

    /// The slots this schedule hands out (this worker's, for a share).
    pub fn total(&self) -> u64 {
        let (index, count) = self.share;
        self.total.saturating_sub(index).div_ceil(count)
    }

    /// Worker `index` of `count`'s share: every `count`-th slot from slot `index`.
    pub fn share(self, index: u64, count: u64) -> Schedule {
        assert!(count > 0 && index < count, "worker {index} of {count}");
        Schedule { share: (index, count), ..self }
    }

    /// The whole schedule's slot for this schedule's slot `i`.
    fn whole(&self, i: u64) -> u64 {
        i * self.share.1 + self.share.0
    }

    /// When the schedule ends, from its start.
    pub fn end(&self) -> Duration {
        self.end
    }

    /// Operations a second over the whole schedule (over its share, for a share).
    pub fn mean_rate(&self) -> f64 {
        self.total() as f64 / self.end.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    fn step_of(&self, i: u64) -> (u64, f64, Duration) {
        let s = self.steps.iter().rev().find(|(first, count, ..)| *first <= i && *count > 0).unwrap_or(&self.steps[0]);
        (s.0, s.2, s.3)
    }

    /// When slot `i` is due, from the start.
    pub fn offset(&self, i: u64) -> Duration {
        let i = self.whole(i);
        let (first, rate, start) = self.step_of(i);
        start + Duration::from_secs_f64((i - first) as f64 / rate)
    }

    /// The time between slots of the whole schedule around slot `i` (a worker's share keeps
    /// the whole schedule's lateness tolerance and send span, so that the shares add up).
    pub fn interval(&self, i: u64) -> Duration {
        Duration::from_secs_f64(1.0 / self.step_of(self.whole(i)).1)
    }
}

/// Open or closed.
#[derive(Debug, Clone)]
pub enum Mode {
    Open(Schedule),
    Closed { duration: Duration, max_requests: u64 },
}

/// A turn to send: which slot, and when it was meant to go.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub index: u64,
    pub intended: Instant,
}

#[derive(Debug)]
pub enum Turn {
    Go(Slot),
    /// Nothing left to send: the schedule is exhausted or the window has closed.
    Done,
}

/// What the pacer saw, once every user has finished.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tally {
    pub sent: u64,
    pub late: u64,
    pub dropped: u64,
    pub achieved_rate: f64,
    /// From the first slot to the last answer.
    pub elapsed: Duration,
    /// From the start to the end of the sends: the span `achieved_rate` is over.
    pub send_span: Duration,
}

/// Hands out slots to users and keeps the books. Shared by every user; lock-free.
#[derive(Debug)]
pub struct Pacer {
    mode: Mode,
    start: OnceLock<Instant>,
    next: AtomicU64,
    in_flight: AtomicU64,
    sent: AtomicU64,
    late: AtomicU64,
    /// Nanoseconds from the start.
    last_send: AtomicU64,
    last_done: AtomicU64,
}

impl Pacer {
    pub fn new(mode: Mode) -> Pacer {
        Pacer {
            mode,
            start: OnceLock::new(),
            next: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            late: AtomicU64::new(0),
            last_send: AtomicU64::new(0),
            last_done: AtomicU64::new(0),
        }
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The schedule's start: the moment the first user asked for a turn, so that Goose's own
    /// start-up does not count against the first slots; or the time [`Pacer::start_at`] set.
    pub fn start(&self) -> Option<Instant> {
        self.start.get().copied()
    }

    /// Starts the schedule at `at` (a worker's shared start, usually still ahead) rather than
    /// at the first turn. Before any turn only.
    pub fn start_at(&self, at: Instant) {
        let _ = self.start.set(at);
    }

    /// The next turn at `now`. Every `Go` must be followed by [`Pacer::sent`] and
    /// [`Pacer::done`].
    pub fn take(&self, now: Instant) -> Turn {
        let start = *self.start.get_or_init(|| now);
        // In flight before the slot is claimed, so that `finished` never sees a claimed slot
        // that is not yet in flight.
        self.in_flight.fetch_add(1, SeqCst);
        let i = self.next.fetch_add(1, SeqCst);
        let turn = match &self.mode {
            Mode::Open(s) if i < s.total() && now <= start + s.end() + DRAIN_GRACE => {
                Turn::Go(Slot { index: i, intended: start + s.offset(i) })
            }
            Mode::Closed { duration, max_requests } if i < *max_requests && now < start + *duration => {
                // Not before a start set ahead: the user waits for it.
                Turn::Go(Slot { index: i, intended: now.max(start) })
            }
            _ => Turn::Done,
        };
        if matches!(turn, Turn::Done) {
            self.in_flight.fetch_sub(1, SeqCst);
        }
        turn
    }

    /// The slot went out at `at`.
    pub fn sent(&self, slot: &Slot, at: Instant) {
        self.sent.fetch_add(1, SeqCst);
        if let Mode::Open(s) = &self.mode {
            let tolerance = LATE_FLOOR.max(s.interval(slot.index) / 10);
            if at.saturating_duration_since(slot.intended) > tolerance {
                self.late.fetch_add(1, SeqCst);
            }
        }
        self.last_send.fetch_max(self.nanos(at), SeqCst);
    }

    /// The slot's operation finished (answered or failed) at `at`.
    pub fn done(&self, at: Instant) {
        self.last_done.fetch_max(self.nanos(at), SeqCst);
        self.in_flight.fetch_sub(1, SeqCst);
    }

    fn nanos(&self, at: Instant) -> u64 {
        self.start().map_or(0, |s| at.saturating_duration_since(s).as_nanos() as u64)
    }

    /// Whether nothing more will be sent and nothing is in flight.
    pub fn finished(&self, now: Instant) -> bool {
        let Some(start) = self.start() else { return false };
        let claimed = self.next.load(SeqCst);
        let exhausted = match &self.mode {
            Mode::Open(s) => claimed >= s.total() || now > start + s.end() + DRAIN_GRACE,
            Mode::Closed { duration, max_requests } => claimed >= *max_requests || now >= start + *duration,
        };
        exhausted && self.in_flight.load(SeqCst) == 0
    }

    /// The books, once [`Pacer::finished`].
    pub fn tally(&self) -> Tally {
        let sent = self.sent.load(SeqCst);
        let last_send = Duration::from_nanos(self.last_send.load(SeqCst));
        let elapsed = Duration::from_nanos(self.last_done.load(SeqCst));
        let (dropped, send_span) = match &self.mode {
            Mode::Open(s) => {
                // Sent over the schedule's span, or over the span it really took if the
                // generator fell behind: a backlog sent in the drain grace is not on time.
                let last = if s.total() > 0 { s.interval(s.total() - 1) } else { Duration::ZERO };
                (s.total().saturating_sub(sent), s.end().max(last_send + last))
            }
            Mode::Closed { .. } => (0, elapsed),
        };
        let achieved_rate = sent as f64 / send_span.as_secs_f64().max(f64::MIN_POSITIVE);
        Tally { sent, late: self.late.load(SeqCst), dropped, achieved_rate, elapsed, send_span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pace::Step;

    fn steps(list: &[(f64, u64)]) -> Vec<Step> {
        list.iter().map(|&(rate, ms)| Step { rate, duration: Duration::from_millis(ms) }).collect()
    }
    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn intended_times_follow_the_rate() {
        let s = Schedule::new(&steps(&[(200.0, 5000)]), u64::MAX);
        assert_eq!(s.total(), 1000);
        assert_eq!(s.offset(0), Duration::ZERO);
        assert_eq!(s.offset(1), 5 * MS);
        assert_eq!(s.offset(999), 4995 * MS);
        assert_eq!(s.end(), Duration::from_secs(5));
        assert_eq!(s.mean_rate(), 200.0);
    }

    #[test]
    fn a_ramp_continues_where_the_last_step_ended() {
        let s = Schedule::new(&steps(&[(10.0, 1000), (100.0, 1000)]), u64::MAX);
        assert_eq!(s.total(), 110);
        assert_eq!(s.offset(9), 900 * MS);
        assert_eq!(s.offset(10), 1000 * MS);
        assert_eq!(s.offset(11), 1010 * MS);
        assert_eq!(s.interval(5), 100 * MS);
        assert_eq!(s.interval(50), 10 * MS);
        assert_eq!(s.mean_rate(), 55.0);
    }

    #[test]
    fn max_requests_cuts_the_schedule_short() {
        let s = Schedule::new(&steps(&[(100.0, 10_000)]), 50);
        assert_eq!(s.total(), 50);
        assert_eq!(s.end(), 500 * MS);
    }

    /// One user, max-in-flight 1, simulated time: every request takes 1 ms, except that the
    /// server stalls for `stall` from `stall_at`. Returns the tally and the latencies from the
    /// intended send time.
    fn simulate(stall_at: Duration, stall: Duration) -> (Tally, Vec<Duration>) {
        let pacer = Pacer::new(Mode::Open(Schedule::new(&steps(&[(200.0, 2000)]), u64::MAX)));
        let t0 = Instant::now();
        let mut now = t0;
        let mut latencies = vec![];
        while let Turn::Go(slot) = pacer.take(now) {
            now = now.max(slot.intended);
            pacer.sent(&slot, now);
            let offset = now - t0;
            let took = if offset >= stall_at && offset < stall_at + stall { stall_at + stall - offset + MS } else { MS };
            now += took;
            pacer.done(now);
            latencies.push(now - slot.intended);
        }
        assert!(pacer.finished(now));
        (pacer.tally(), latencies)
    }

    #[test]
    fn a_steady_server_is_never_late() {
        let (t, lat) = simulate(Duration::MAX / 4, Duration::ZERO);
        assert_eq!((t.sent, t.late, t.dropped), (400, 0, 0));
        assert!((t.achieved_rate - 200.0).abs() < 0.01, "{t:?}");
        assert!(lat.iter().all(|l| *l == MS));
    }

    #[test]
    fn a_stall_makes_the_slots_behind_it_late_and_their_wait_is_latency() {
        let (t, lat) = simulate(Duration::from_millis(1000), Duration::from_millis(500));
        assert_eq!(t.sent, 400);
        assert_eq!(t.dropped, 0);
        // The ~100 slots due during the stall went out late, and so did the catch-up.
        assert!(t.late >= 100 && t.late < 140, "{t:?}");
        // The slot that met the stall waited it out, and every slot queued behind it
        // carries its share: the 99th percentile is the stall, not the 1 ms service time.
        let mut sorted = lat.clone();
        sorted.sort();
        assert!(sorted[396] >= Duration::from_millis(450), "p99 {:?}", sorted[396]);
        assert!(sorted[200] <= 2 * MS, "p50 {:?}", sorted[200]);
    }

    #[test]
    fn slots_never_sent_by_the_end_of_the_window_are_dropped() {
        // The server stalls from 1.5 s until 3.5 s, past the end (2 s) plus the grace (1 s).
        let (t, _) = simulate(Duration::from_millis(1500), Duration::from_millis(2000));
        assert_eq!(t.sent, 301);
        assert_eq!(t.dropped, 99);
        assert!(t.achieved_rate < 200.0 * 0.8, "{t:?}");
    }

    #[test]
    fn closed_turns_stop_at_the_duration_or_the_cap() {
        let p = Pacer::new(Mode::Closed { duration: Duration::from_secs(1), max_requests: 3 });
        let t0 = Instant::now();
        for _ in 0..3 {
            let Turn::Go(s) = p.take(t0) else { panic!("a turn") };
            assert_eq!(s.intended, t0);
            p.sent(&s, t0);
            assert!(!p.finished(t0));
            p.done(t0 + MS);
        }
        assert!(matches!(p.take(t0), Turn::Done));
        assert!(p.finished(t0));
        let p = Pacer::new(Mode::Closed { duration: Duration::from_secs(1), max_requests: 10 });
        assert!(matches!(p.take(t0), Turn::Go(_)));
        assert!(matches!(p.take(t0 + Duration::from_secs(1)), Turn::Done));
    }
}
