//! The soak: the four services at a steady share of the chain rate for
//! minutes, the healthy collector of [`super::faults`] counting, and their
//! resident memory and open file descriptors sampled every second. "Memory
//! stays flat" becomes a figure: the slope of resident memory over the
//! second half of the run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use otlp_csp_loadgen::procfs;

/// The sampled processes' resident memory and descriptors at one moment
/// (the soak samples the four services; the table's runs, the target).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since sampling began.
    pub at: f64,
    /// Sum of the resident set sizes, MiB.
    pub rss_mib: f64,
    /// Sum of the open file descriptors.
    pub fds: u64,
}

/// Samples a set of processes once a second on a thread of its own, from
/// [`Sampler::start`] to [`Sampler::stop`].
#[derive(Default)]
pub struct Sampler {
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<Result<()>>>>,
}

impl Sampler {
    pub fn start(&self, pids: Vec<u32>) {
        let (samples, stop) = (self.samples.clone(), self.stop.clone());
        let thread = std::thread::spawn(move || -> Result<()> {
            let begin = Instant::now();
            let mut next = begin;
            while !stop.load(Ordering::Relaxed) {
                let sample = sample(&pids, begin.elapsed().as_secs_f64())?;
                samples.lock().expect("not poisoned").push(sample);
                // On the second, whatever one sample took.
                next += Duration::from_secs(1);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            Ok(())
        });
        *self.thread.lock().expect("not poisoned") = Some(thread);
    }

    /// Stops sampling and returns every sample taken.
    pub fn stop(&self) -> Result<Vec<Sample>> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.lock().expect("not poisoned").take() {
            t.join().expect("the sampler does not panic")?;
        }
        Ok(self.samples.lock().expect("not poisoned").clone())
    }
}

fn sample(pids: &[u32], at: f64) -> Result<Sample> {
    let (mut rss_kb, mut fds) = (0, 0);
    for &pid in pids {
        rss_kb += procfs::status(pid)?.vm_rss_kb;
        fds += procfs::open_fds(pid)?;
    }
    Ok(Sample {
        at,
        rss_mib: rss_kb as f64 / 1024.0,
        fds,
    })
}

/// What the second half of a soak says about memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// Least-squares slope of resident memory, MiB per minute.
    pub mib_per_minute: f64,
    /// Mean resident memory over the half, MiB.
    pub mean_mib: f64,
    /// Fewest and most descriptors seen in the half.
    pub fds: (u64, u64),
}

/// Growth per hour below which memory counts as flat, as a share of the
/// mean: a leak this slow takes ten hours to add what the services hold.
pub const FLAT_PER_HOUR: f64 = 0.10;

impl Trend {
    /// The trend of the samples taken in the second half of the run.
    pub fn of_second_half(samples: &[Sample]) -> Result<Trend> {
        let end = samples.last().context("no samples")?.at;
        let half: Vec<&Sample> =
            samples.iter().filter(|s| s.at >= end / 2.0).collect();
        anyhow::ensure!(half.len() >= 3, "{} samples: too few", half.len());
        let n = half.len() as f64;
        let mean_t = half.iter().map(|s| s.at).sum::<f64>() / n;
        let mean_mib = half.iter().map(|s| s.rss_mib).sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for s in &half {
            sxy += (s.at - mean_t) * (s.rss_mib - mean_mib);
            sxx += (s.at - mean_t).powi(2);
        }
        let fds = half.iter().map(|s| s.fds);
        Ok(Trend {
            mib_per_minute: sxy / sxx * 60.0,
            mean_mib,
            fds: (fds.clone().min().unwrap_or(0), fds.max().unwrap_or(0)),
        })
    }

    /// Growth over one hour at this slope, as a share of the mean.
    pub fn growth_per_hour(&self) -> f64 {
        self.mib_per_minute * 60.0 / self.mean_mib
    }

    pub fn flat(&self) -> bool {
        self.growth_per_hour() < FLAT_PER_HOUR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(mib: impl Fn(f64) -> f64) -> Vec<Sample> {
        (0..=600)
            .map(|t| Sample {
                at: f64::from(t),
                rss_mib: mib(f64::from(t)),
                fds: 40,
            })
            .collect()
    }

    #[test]
    fn a_steady_service_is_flat_after_its_warm_up() {
        // Grows for the first minute, then holds with a little noise.
        let warm = series(|t| 50.0 + t.min(60.0) / 6.0 + (t % 3.0) * 0.01);
        let trend = Trend::of_second_half(&warm).unwrap();
        assert!(trend.mib_per_minute.abs() < 0.01, "{trend:?}");
        assert!(trend.flat());
        assert_eq!(trend.fds, (40, 40));
    }

    #[test]
    fn a_leak_of_one_mib_a_minute_is_not_flat() {
        // The planted leak: 1 MiB a minute on top of 60 MiB.
        let leak = series(|t| 60.0 + t / 60.0);
        let trend = Trend::of_second_half(&leak).unwrap();
        assert!((trend.mib_per_minute - 1.0).abs() < 1e-9, "{trend:?}");
        assert!(!trend.flat(), "{:.2} per hour", trend.growth_per_hour());
    }

    #[test]
    fn too_few_samples_is_an_error() {
        assert!(Trend::of_second_half(&[]).is_err());
        assert!(Trend::of_second_half(&series(|_| 1.0)[..3]).is_err());
    }
}
