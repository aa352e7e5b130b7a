//! A slow peer under load: the user service answers, but later than the
//! order service waits (its `FAULT_DELAY_MS`, or a delay that grows by the
//! second). Each run counts the attempts that reach the user service per
//! order sent, the retry amplification, with and without a retry budget and
//! a breaker, and accounts for every span and log record.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, ensure};
use otlp_csp_loadgen::Report;

use super::chain::Four;
use super::faults::Receiver;
use super::{Settings, Spans};

type Vars = &'static [(&'static str, &'static str)];

/// One run: the user service's delay, and the order service's settings for
/// its calls to it.
pub struct SlowCase {
    pub name: &'static str,
    pub user: Vars,
    pub order: Vars,
    /// The run has a retry budget of this many percent (for the bound).
    pub budget_percent: Option<u32>,
    pub expect: &'static str,
}

/// The order service waits 50 ms for the user service; a slow user answers
/// after 100 ms. The breaker is kept out of the way (it would need 100000
/// failures in a row) except where the case is about it.
pub const SLOW_CASES: &[SlowCase] = &[
    SlowCase {
        name: "slow_user_no_budget",
        user: &[("FAULT_DELAY_MS", "100")],
        order: &[
            ("PEER_TIMEOUT_MS", "50"),
            ("RETRY_BUDGET_PCT", "none"),
            ("BREAKER_FAILURES", "100000"),
        ],
        budget_percent: None,
        expect: "every lookup tried 3 times",
    },
    SlowCase {
        name: "slow_user_budget",
        user: &[("FAULT_DELAY_MS", "100")],
        order: &[("PEER_TIMEOUT_MS", "50"), ("BREAKER_FAILURES", "100000")],
        budget_percent: Some(20),
        expect: "retries at most 20 % of lookups, plus 10",
    },
    SlowCase {
        name: "slow_user_breaker",
        user: &[("FAULT_DELAY_MS", "100")],
        order: &[("PEER_TIMEOUT_MS", "50")],
        budget_percent: Some(20),
        expect: "the breaker opens: lookups refused unsent",
    },
    SlowCase {
        name: "slowing_user",
        user: &[("FAULT_DELAY_RAMP_MS_PER_S", "20")],
        order: &[("PEER_TIMEOUT_MS", "50")],
        budget_percent: Some(20),
        expect: "fine until the delay passes 50 ms, then as above",
    },
];

/// What one run measured.
pub struct SlowRun {
    pub case: &'static SlowCase,
    pub load: Report,
    pub spans: Spans,
    pub logs: Spans,
    /// Requests the user service received (its server spans).
    pub user_requests: u64,
}

impl SlowRun {
    /// Orders that reached the order service's user lookup: the load's and
    /// the one probe order.
    pub fn orders(&self) -> u64 {
        self.load.sent() + 1
    }

    /// Attempts at the user service per order.
    pub fn amplification(&self) -> f64 {
        self.user_requests as f64 / self.orders() as f64
    }

    /// The most attempts the budget allows: one per order, plus its share,
    /// plus the full bucket it starts with (10).
    pub fn budget_bound(&self) -> Option<u64> {
        let pct = u64::from(self.case.budget_percent?);
        Some(self.orders() + self.orders() * pct / 100 + 10)
    }

    /// Every order answered with some HTTP status, every span and log
    /// record accounted for, and the budget's bound kept.
    pub fn check(&self) -> Result<()> {
        let l = &self.load;
        ensure!(
            l.transport == 0 && l.timed_out == 0 && l.unsent == 0,
            "{}: not every order was answered: {}",
            self.case.name,
            l.summary()
        );
        for (what, c) in [("spans", &self.spans), ("log records", &self.logs)] {
            ensure!(
                c.uncounted() == 0 && c.received == c.exported,
                "{}: {what} ended {} exported {} received {} failed {} dropped {}",
                self.case.name,
                c.ended,
                c.exported,
                c.received,
                c.failed,
                c.dropped
            );
        }
        if let Some(bound) = self.budget_bound() {
            ensure!(
                self.user_requests <= bound,
                "{}: {} attempts at the user service for {} orders, over the \
                 budget's {bound}",
                self.case.name,
                self.user_requests,
                self.orders()
            );
        }
        Ok(())
    }
}

/// Runs one case at the settings' chain rate against a healthy receiver.
pub fn run(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    receiver: &Path,
    case: &'static SlowCase,
) -> Result<SlowRun> {
    let collector = Receiver::start(receiver, None, None)?;
    let each: [(&str, Vars); 2] = [("user", case.user), ("order", case.order)];
    let four = Four::start_each(collector.grpc, &[], &each)?;
    let phase = Duration::from_secs_f64(s.seconds);
    let load = four.load_probed(rt, s.chain_rate, phase, s.connections, false);
    let (mut spans, mut logs, mut user_requests) =
        (Spans::default(), Spans::default(), 0);
    for (name, sp, lr) in four.stop_each()? {
        if name == "user" {
            user_requests = sp.ended;
        }
        spans.add(&sp);
        logs.add(&lr);
    }
    let kept = collector.stop()?;
    spans.received = kept.spans;
    logs.received = kept.logs;
    Ok(SlowRun {
        case,
        load: load?,
        spans,
        logs,
        user_requests,
    })
}

/// The runs as a table.
pub fn table(runs: &[SlowRun]) -> String {
    let mut out = String::from(
        "slow peer              orders  2xx share  P99 ms  user attempts  per order  \
         budget bound  accounting  (expected)\n",
    );
    for r in runs {
        let ok = r.load.ok as f64 / r.load.sent().max(1) as f64;
        let bound = r.budget_bound().map_or("-".into(), |b| b.to_string());
        out.push_str(&format!(
            "{:<22} {:>6} {:>9.2} {:>7.1} {:>14} {:>10.2} {:>13}  {}  ({})\n",
            r.case.name,
            r.orders(),
            ok,
            r.load.latency_ms(0.99),
            r.user_requests,
            r.amplification(),
            bound,
            if r.check().is_ok() { "met" } else { "MISSED" },
            r.case.expect
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(case: &'static SlowCase, sent: u64, user_requests: u64) -> SlowRun {
        let mut recorder = otlp_csp_loadgen::Recorder::default();
        let now = std::time::Instant::now();
        for _ in 0..sent {
            recorder.record(now, now, now, otlp_csp_loadgen::Outcome::Status(504));
        }
        SlowRun {
            case,
            load: recorder.report(Duration::from_secs(1), 0),
            spans: Spans::default(),
            logs: Spans::default(),
            user_requests,
        }
    }

    #[test]
    fn the_budget_bound_rejects_unbudgeted_retries() {
        // 99 orders + the probe: a 20 % budget allows 100 + 20 + 10.
        assert_eq!(run(&SLOW_CASES[1], 99, 130).budget_bound(), Some(130));
        assert!(run(&SLOW_CASES[1], 99, 130).check().is_ok());
        // Three attempts per order, as without a budget: rejected.
        assert!(run(&SLOW_CASES[1], 99, 300).check().is_err());
        // Without a budget there is no bound to break.
        assert!(run(&SLOW_CASES[0], 99, 300).check().is_ok());
        assert!((run(&SLOW_CASES[0], 99, 300).amplification() - 3.0).abs() < 1e-9);
    }
}
