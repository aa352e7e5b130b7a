//! The one-hop runs put the load generator (this process, and the rotel it
//! starts) and the target on separate cores, so that neither takes turns
//! with the other on the same core and the target's CPU is its own.

use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use book_results::Measurement;
use otlp_csp_loadgen::affinity;

/// The target's CPUs while a [`Pinning`] lives; read by [`target_command`].
static TARGET: Mutex<Option<Vec<usize>>> = Mutex::new(None);

/// This process pinned to the generator's cores; dropping it lets every
/// thread run anywhere again (the chain's services are started after).
pub struct Pinning {
    pub generator: Vec<usize>,
    pub target: Vec<usize>,
    before: Vec<usize>,
}

impl Pinning {
    /// Pins this process (every thread) to the first allowed CPU and keeps
    /// the others for the target; `None` on a machine with one CPU.
    pub fn start() -> Result<Option<Pinning>> {
        let before = affinity::allowed().context("reading this process's CPUs")?;
        let Some((generator, target)) = affinity::split(&before) else {
            return Ok(None);
        };
        affinity::set_process(&generator).context("pinning the load generator")?;
        *TARGET.lock().expect("not poisoned") = Some(target.clone());
        Ok(Some(Pinning {
            generator,
            target,
            before,
        }))
    }

    /// For the results (`ch21_perf/pinned`): the target's CPU count, and
    /// who ran where as text.
    pub fn measurement(pinning: Option<&Pinning>) -> Measurement {
        let cpus = pinning.map_or(0, |p| p.target.len());
        Measurement::count("ch21_perf/pinned", cpus as f64, "CPUs for the target")
            .with_text(Self::describe(pinning))
    }

    /// One line: who ran where.
    pub fn describe(pinning: Option<&Pinning>) -> String {
        match pinning {
            Some(p) => format!(
                "load generator and rotel on CPU {}, target on CPU {} (of {})",
                affinity::list(&p.generator),
                affinity::list(&p.target),
                affinity::list(&p.before)
            ),
            None => "not pinned: this machine lets the runner use one CPU".into(),
        }
    }
}

impl Drop for Pinning {
    fn drop(&mut self) {
        *TARGET.lock().expect("not poisoned") = None;
        if let Err(e) = affinity::set_process(&self.before) {
            eprintln!("ch21-perf: could not unpin the runner: {e}");
        }
    }
}

/// Makes `cmd` start on the target's CPUs while a [`Pinning`] lives.
pub fn target_command(cmd: &mut Command) -> Result<()> {
    if let Some(cpus) = TARGET.lock().expect("not poisoned").as_deref() {
        affinity::pin_command(cmd, cpus).context("pinning the target")?;
    }
    Ok(())
}
