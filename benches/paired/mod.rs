//! Interleaved comparisons for Part V's ratio goals, run by a bench binary
//! after criterion. Criterion times one function after the other; here the
//! arms of a comparison take turns, one chunk of iterations each per round
//! (the first arm starts round 0, the second round 1, …), and each round's
//! ratio compares runs made milliseconds apart. The figures are recorded as
//! the results group `paired_GROUP` (`book_results::paired` says which),
//! and `cargo xtask bench` judges the goals on them.
//!
//! They run in `cargo bench` (criterion's `--bench`), for the run's
//! `--measurement-time` per arm, never in `cargo test`, a
//! `--profile-time` or a `--list` run. A filter runs the comparisons with an
//! arm whose id contains it as plain text.

use std::hint::black_box;
use std::time::{Duration, Instant};

use book_results::Measurement;
use book_results::paired::{Comparison, load_average};

/// Time per arm and round: long enough that the clock's resolution and the
/// call to `Instant::now` do not count, short enough for many rounds.
const CHUNK: Duration = Duration::from_millis(5);
/// Fewer rounds than this give no spread worth printing.
const MIN_ROUNDS: usize = 5;

/// One function of a comparison.
pub struct Arm<'a> {
    name: &'static str,
    run: Box<dyn FnMut() + 'a>,
    settle: Option<Box<dyn FnMut() + 'a>>,
}

impl<'a> Arm<'a> {
    pub fn new<R>(name: &'static str, mut f: impl FnMut() -> R + 'a) -> Self {
        Arm {
            name,
            run: Box::new(move || {
                black_box(f());
            }),
            settle: None,
        }
    }

    /// Run untimed after each of this arm's chunks, before the next arm's:
    /// a flush, so that the work one arm leaves to a background thread is
    /// not charged to the next.
    #[allow(dead_code)] // only benches with a background thread settle
    pub fn settle(mut self, f: impl FnMut() + 'a) -> Self {
        self.settle = Some(Box::new(f));
        self
    }

    /// Iterations per chunk: doubled until one chunk takes `CHUNK`.
    fn calibrate(&mut self) -> u64 {
        let mut iterations = 1;
        loop {
            if self.chunk(iterations) >= CHUNK || iterations >= 1 << 30 {
                return iterations;
            }
            iterations *= 2;
        }
    }

    fn chunk(&mut self, iterations: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iterations {
            (self.run)();
        }
        let took = start.elapsed();
        if let Some(settle) = &mut self.settle {
            settle();
        }
        took
    }
}

/// The comparisons of one bench binary, recorded together at the end.
pub struct Paired {
    bench_group: &'static str,
    budget: Duration,
    filter: Option<String>,
    results: Vec<Measurement>,
}

impl Paired {
    /// `None` unless this process runs as `cargo bench` runs it. `budget`
    /// is the time per comparison unless `--measurement-time` says.
    pub fn from_args(bench_group: &'static str, budget: Duration) -> Option<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        if !has("--bench") || has("--profile-time") || has("--list") || has("--test")
        {
            return None;
        }
        let value = |flag: &str| {
            let at = args.iter().position(|a| a == flag)?;
            args.get(at + 1)
        };
        let budget = value("--measurement-time")
            .and_then(|s| s.parse::<f64>().ok())
            .map_or(budget, Duration::from_secs_f64);
        Some(Paired {
            bench_group,
            budget,
            filter: positional(&args),
            results: Vec::new(),
        })
    }

    /// Times `arms` in turn until each arm's budget is spent (at least
    /// `MIN_ROUNDS` rounds); ratios divide by the first arm; `floor` names
    /// the arm whose time is taken off both sides of a second ratio.
    pub fn compare(&mut self, mut arms: Vec<Arm<'_>>, floor: Option<&str>) {
        let names: Vec<String> = arms.iter().map(|a| a.name.to_owned()).collect();
        if let Some(filter) = &self.filter {
            let id = |name: &String| format!("{}/{name}", self.bench_group);
            if !names.iter().any(|n| id(n).contains(filter.as_str())) {
                return;
            }
        }
        let iterations: Vec<u64> = arms.iter_mut().map(Arm::calibrate).collect();
        let mut rounds = Vec::new();
        // Each arm gets the time criterion gives one function.
        let budget = self.budget * arms.len() as u32;
        let start = Instant::now();
        while rounds.len() < MIN_ROUNDS || start.elapsed() < budget {
            let n = arms.len();
            let mut round = vec![0.0; n];
            for k in 0..n {
                let i = (rounds.len() + k) % n;
                let took = arms[i].chunk(iterations[i]);
                round[i] = took.as_nanos() as f64 / iterations[i] as f64;
            }
            rounds.push(round);
        }
        let comparison = Comparison {
            bench_group: self.bench_group.to_owned(),
            floor: floor.and_then(|f| names.iter().position(|n| n == f)),
            arms: names,
            rounds,
        };
        match comparison.measurements() {
            Ok(results) => {
                for m in results.iter().filter(|m| m.unit == "×") {
                    let (low, high) =
                        (m.lower.unwrap_or(0.0), m.upper.unwrap_or(0.0));
                    eprintln!(
                        "{}: {:.3} × (quartiles {low:.3}–{high:.3})",
                        m.id, m.value
                    );
                }
                self.results.extend(results);
            }
            Err(e) => {
                eprintln!("{} comparison not recorded: {e:#}", self.bench_group)
            }
        }
    }

    /// Writes the comparisons and the load average as one results group.
    pub fn record(mut self) {
        if self.results.is_empty() {
            return;
        }
        let group = book_results::paired::group(self.bench_group);
        if let Ok(load) = load_average() {
            let id = format!("{group}/load_average");
            let m = Measurement::count(id, load, "load").with_statistic("loadavg1");
            self.results.push(m);
        }
        match book_results::record(&group, self.results) {
            Ok(path) => eprintln!("interleaved comparisons: {}", path.display()),
            Err(e) => eprintln!("interleaved comparisons not recorded: {e:#}"),
        }
    }
}

/// Criterion's filter: the first argument that is neither a flag nor a
/// flag's value. Criterion's flags that take no value are listed; every
/// other flag takes one.
fn positional(args: &[String]) -> Option<String> {
    const BARE: [&str; 11] = [
        "--bench",
        "--quiet",
        "-v",
        "--test",
        "--list",
        "--noplot",
        "--discard-baseline",
        "--exact",
        "--ignored",
        "--quick",
        "--verbose",
    ];
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if !arg.starts_with('-') {
            return Some(arg.clone());
        }
        if !BARE.contains(&arg.as_str()) && !arg.contains('=') {
            rest.next();
        }
    }
    None
}
