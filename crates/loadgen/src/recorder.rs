//! What one connection saw: two latency histograms and the outcomes.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// How one request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer, body read to the end.
    Ok,
    /// An answer with another status.
    Status(u16),
    /// The connection failed (the text says how).
    Transport(String),
    /// No answer before the load's hard deadline.
    TimedOut,
}

/// Records requests; one per connection, merged at the end.
#[derive(Clone, Debug)]
pub struct Recorder {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    ok: u64,
    bad_status: u64,
    transport: u64,
    timed_out: u64,
    last_error: Option<String>,
}

/// Highest latency a histogram holds exactly (larger values are clamped to it).
const HIGHEST_NANOS: u64 = 3_600_000_000_000;

fn histogram() -> Histogram<u64> {
    // 1 ns to 1 h at 3 significant digits: every value within 0.1 %.
    Histogram::new_with_bounds(1, HIGHEST_NANOS, 3)
        .expect("constant bounds are valid")
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            latency: histogram(),
            service: histogram(),
            ok: 0,
            bad_status: 0,
            transport: 0,
            timed_out: 0,
            last_error: None,
        }
    }
}

impl Recorder {
    /// Records a request that was due at `due`, sent at `sent` and over at
    /// `done`. Latency counts from `due` (so the time a request waited
    /// for a free connection counts), service time from `sent`.
    pub fn record(
        &mut self,
        due: Instant,
        sent: Instant,
        done: Instant,
        outcome: Outcome,
    ) {
        self.latency
            .saturating_record(nanos(done.saturating_duration_since(due)));
        self.service
            .saturating_record(nanos(done.saturating_duration_since(sent)));
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Status(code) => {
                self.bad_status += 1;
                self.last_error = Some(format!("HTTP status {code}"));
            }
            Outcome::Transport(e) => {
                self.transport += 1;
                self.last_error = Some(e);
            }
            Outcome::TimedOut => self.timed_out += 1,
        }
    }

    /// Adds another connection's records to these.
    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
        self.ok += other.ok;
        self.bad_status += other.bad_status;
        self.transport += other.transport;
        self.timed_out += other.timed_out;
        if other.last_error.is_some() {
            self.last_error.clone_from(&other.last_error);
        }
    }

    /// The report, with the load's wall time and the requests never sent.
    pub fn report(self, elapsed: Duration, unsent: u64) -> Report {
        Report {
            latency: self.latency,
            service: self.service,
            ok: self.ok,
            bad_status: self.bad_status,
            transport: self.transport,
            timed_out: self.timed_out,
            unsent,
            elapsed,
            last_error: self.last_error,
        }
    }
}

/// The result of one load.
#[derive(Clone, Debug)]
pub struct Report {
    /// From the time each request was due to its answer, in nanoseconds.
    /// In a closed loop "due" is the send time, so this equals `service`.
    pub latency: Histogram<u64>,
    /// From the time each request was sent to its answer, in nanoseconds.
    pub service: Histogram<u64>,
    /// 2xx answers.
    pub ok: u64,
    /// Answers with another status.
    pub bad_status: u64,
    /// Connection failures.
    pub transport: u64,
    /// Requests cut off by the hard deadline.
    pub timed_out: u64,
    /// Scheduled requests never sent because the hard deadline passed first.
    pub unsent: u64,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// The last error seen, if any.
    pub last_error: Option<String>,
}

impl Report {
    /// Requests sent (answered or not).
    pub fn sent(&self) -> u64 {
        self.ok + self.bad_status + self.transport + self.timed_out
    }

    /// Whether every scheduled request was sent and answered with a 2xx.
    pub fn all_answered(&self) -> bool {
        self.sent() == self.ok && self.unsent == 0
    }

    /// 2xx answers per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency (from due time) at `quantile` (0.5, 0.99), in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1e6
    }

    /// The service time at `quantile`, in milliseconds.
    pub fn service_ms(&self, quantile: f64) -> f64 {
        self.service.value_at_quantile(quantile) as f64 / 1e6
    }

    /// One line for a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} ok, {} bad status, {} transport errors, {} timed out, {} unsent in {:.2} s \
             ({:.0} req/s); latency p50 {:.3} ms p99 {:.3} ms max {:.3} ms; \
             service time p50 {:.3} ms p99 {:.3} ms",
            self.ok,
            self.bad_status,
            self.transport,
            self.timed_out,
            self.unsent,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.latency_ms(0.5),
            self.latency_ms(0.99),
            self.latency.max() as f64 / 1e6,
            self.service_ms(0.5),
            self.service_ms(0.99),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schedule;

    /// One connection, one request due every millisecond, a service that
    /// answers in 0.5 ms except once, when it stalls for 100 ms. Simulated in virtual time, so
    /// the figures are exact.
    fn simulate(stall_at: u64) -> Report {
        let schedule = Schedule::new(1000.0).unwrap(); // one request per ms
        let t0 = Instant::now();
        let mut free_at = t0;
        let mut rec = Recorder::default();
        for i in 0..1000 {
            let due = t0 + schedule.due(i);
            let sent = due.max(free_at); // waits for the one connection
            let service = if i == stall_at {
                Duration::from_millis(100)
            } else {
                Duration::from_micros(500)
            };
            let done = sent + service;
            rec.record(due, sent, done, Outcome::Ok);
            free_at = done;
        }
        rec.report(Duration::from_secs(1), 0)
    }

    #[test]
    fn a_stall_counts_against_every_request_due_during_it() {
        let r = simulate(500);
        // Service time hides the stall: one slow request in a thousand.
        assert_eq!(r.service.count_between(0, 501_000), 999);
        assert!(r.service_ms(0.99) < 0.51, "{}", r.service_ms(0.99));
        // From the due time, the j-th request after the stall waited for it
        // to end: 100 - j/2 ms late, until the queue drained 200 requests on.
        let late = r.latency.count_between(2_000_000, u64::MAX);
        assert!((190..=200).contains(&late), "{late} late");
        assert!(r.latency_ms(0.99) > 90.0, "{}", r.latency_ms(0.99));
        assert!(r.all_answered());
    }

    #[test]
    fn without_a_stall_both_histograms_agree() {
        let r = simulate(u64::MAX);
        assert_eq!(
            r.latency.value_at_quantile(0.99),
            r.service.value_at_quantile(0.99)
        );
    }

    #[test]
    fn failures_are_counted_not_hidden() {
        let t = Instant::now();
        let mut a = Recorder::default();
        a.record(t, t, t, Outcome::Ok);
        a.record(t, t, t, Outcome::Status(503));
        let mut b = Recorder::default();
        b.record(t, t, t, Outcome::Transport("reset".into()));
        b.record(t, t, t, Outcome::TimedOut);
        a.merge(&b);
        let r = a.report(Duration::from_secs(1), 2);
        assert_eq!((r.ok, r.bad_status, r.transport, r.timed_out), (1, 1, 1, 1));
        assert_eq!(r.sent(), 4);
        assert!(!r.all_answered());
        assert_eq!(r.latency.len(), 4);
    }
}
