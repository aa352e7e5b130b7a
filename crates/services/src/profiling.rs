//! A service that profiles itself: with `OTLP_CSP_PROFILE=FILE` set, the
//! process samples its own stacks (pprof, in process, [`FREQUENCY`] times
//! per second of its CPU time) from start to stop, and writes them to FILE in the folded
//! format (`service;outer;...;leaf COUNT`) when it stops. Chapter 21's
//! runner turns the files of the four services into one flame graph.
//!
//! pprof drops a sample whose interrupted instruction is in libc, libgcc,
//! pthread or the vDSO (unwinding from inside them can deadlock), and one
//! that arrives while another thread's sample is being stored. The time in
//! `malloc`, `free` and the system calls (whose signal arrives as the call
//! returns into libc) is therefore missing from the stacks. The file says
//! how much: the samples the process's CPU time should have given, minus
//! those recorded, under the frame [`UNSAMPLED`].

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// Samples per second of CPU time: a prime, so sampling does not beat in
/// step with a periodic part of the work, and below the kernel's tick rate
/// (250 Hz here: `CONFIG_HZ`), which bounds how often a CPU-time timer can
/// fire, so that CPU time × `FREQUENCY` is the number of samples due.
pub const FREQUENCY: i32 = 199;

/// The frame that stands for the samples due but not recorded.
pub const UNSAMPLED: &str = "[unsampled: libc, libgcc, pthread, vdso, or lost]";

/// The libraries pprof does not unwind from.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// The running profile, if `OTLP_CSP_PROFILE` asked for one.
pub struct Profile {
    guard: pprof::ProfilerGuard<'static>,
    file: PathBuf,
    root: &'static str,
    cpu_at_start: Duration,
}

impl Profile {
    /// Starts sampling when `OTLP_CSP_PROFILE` names a file; `root` is the
    /// outermost frame of every stack (the service's name).
    pub fn from_env(root: &'static str) -> std::io::Result<Option<Profile>> {
        let Some(file) = std::env::var_os("OTLP_CSP_PROFILE") else {
            return Ok(None);
        };
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            .blocklist(&BLOCKLIST)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Some(Profile {
            guard,
            file: file.into(),
            root,
            cpu_at_start: process_cpu_time()?,
        }))
    }

    /// Stops sampling and writes the folded stacks; returns the samples
    /// written.
    pub fn write(self) -> std::io::Result<u64> {
        let cpu = process_cpu_time()?.saturating_sub(self.cpu_at_start);
        let report = self.guard.report().build().map_err(std::io::Error::other)?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&self.file)?);
        let mut recorded = 0;
        for (frames, &count) in &report.data {
            let count = count.max(0) as u64;
            // pprof lists the leaf first; inlined frames innermost first.
            let names: Vec<String> = frames
                .frames
                .iter()
                .rev()
                .flat_map(|inlined| inlined.iter().rev().map(|s| s.name()))
                .collect();
            // The frames that start a thread and run tokio's worker loop
            // are on every task's stack: cut them, keep the task's own.
            let start = names
                .iter()
                .rposition(|n| n.starts_with("tokio::runtime::task::core::Core<"))
                .map_or(0, |i| i + 1);
            let mut stack = vec![self.root.to_owned()];
            stack.extend_from_slice(&names[start..]);
            writeln!(out, "{} {count}", stack.join(";"))?;
            recorded += count;
        }
        let expected = (cpu.as_secs_f64() * f64::from(FREQUENCY)) as u64;
        if let Some(missing) = expected.checked_sub(recorded).filter(|&n| n > 0) {
            writeln!(out, "{};{UNSAMPLED} {missing}", self.root)?;
        }
        out.flush()?;
        Ok(recorded)
    }
}

/// User plus system CPU time of this process so far (`getrusage`).
fn process_cpu_time() -> std::io::Result<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes the struct it is given; zeroed is a valid one.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: initialised above (zeroed, then filled by getrusage).
    let usage = unsafe { usage.assume_init() };
    let time =
        |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(time(usage.ru_utime) + time(usage.ru_stime))
}
