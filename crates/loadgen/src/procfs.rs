//! What `/proc` says about a process: memory and threads (`status`),
//! descriptors, CPU time (`stat`) and the scheduler's view (`schedstat`).

use anyhow::{Context, Result};

/// The fields of `/proc/PID/status` the chapter reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Resident set size now, kB.
    pub vm_rss_kb: u64,
    /// Peak resident set size, kB.
    pub vm_hwm_kb: u64,
    /// OS threads.
    pub threads: u64,
}

/// Parses the text of a `/proc/PID/status` file.
pub fn parse_status(text: &str) -> Result<Status> {
    let field = |name: &str| -> Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(':'))
            .with_context(|| format!("no {name} in /proc status"))?;
        line[name.len() + 1..]
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("bad {name} line {line:?}"))
    };
    Ok(Status {
        vm_rss_kb: field("VmRSS")?,
        vm_hwm_kb: field("VmHWM")?,
        threads: field("Threads")?,
    })
}

/// Reads `/proc/PID/status`.
pub fn status(pid: u32) -> Result<Status> {
    let path = format!("/proc/{pid}/status");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&text)
}

/// How many file descriptors a process has open: the entries of
/// `/proc/PID/fd`.
pub fn open_fds(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/fd");
    let entries =
        std::fs::read_dir(&path).with_context(|| format!("reading {path}"))?;
    Ok(entries.count() as u64)
}

/// CPU time a process has used so far (user + system), in clock ticks,
/// from `/proc/PID/stat`.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_cpu_ticks(&text)
}

/// `utime + stime` from the text of a `/proc/PID/stat` file. The command
/// name (field 2) is in parentheses and may contain spaces, so fields are
/// counted from the last `)`.
pub fn parse_cpu_ticks(text: &str) -> Result<u64> {
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("no ')' in /proc stat")?;
    // After the name: field 3 (state) is index 0, so utime (14) is 11, stime (15) is 12.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("bad /proc stat field {}", i + 3))
    };
    Ok(num(11)? + num(12)?)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless the
/// command is missing, which is reported).
pub fn ticks_per_second() -> Result<u64> {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("running getconf CLK_TCK")?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("getconf CLK_TCK printed no number")
}

/// What the scheduler counted for a process's threads together, summed
/// over `/proc/PID/task/TID/schedstat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sched {
    /// Time on a CPU, ns.
    pub on_cpu_ns: u64,
    /// Time ready to run but waiting on a run queue for a CPU, ns.
    pub waiting_ns: u64,
    /// Times a thread was put on a CPU.
    pub slices: u64,
}

impl Sched {
    /// What happened between `earlier` and `self`. A thread that exited in
    /// between takes its counts with it, so a field that went down is 0.
    pub fn since(&self, earlier: &Sched) -> Sched {
        Sched {
            on_cpu_ns: self.on_cpu_ns.saturating_sub(earlier.on_cpu_ns),
            waiting_ns: self.waiting_ns.saturating_sub(earlier.waiting_ns),
            slices: self.slices.saturating_sub(earlier.slices),
        }
    }
}

/// The scheduler's counts for every thread of `pid`, added up. A thread
/// that exits between the listing and the read is left out.
pub fn sched(pid: u32) -> Result<Sched> {
    let dir = format!("/proc/{pid}/task");
    let mut sum = Sched::default();
    for task in std::fs::read_dir(&dir).with_context(|| format!("reading {dir}"))? {
        let path = task?.path().join("schedstat");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading {}", path.display()));
            }
        };
        let one = parse_schedstat(&text)
            .with_context(|| format!("in {}", path.display()))?;
        sum.on_cpu_ns += one.on_cpu_ns;
        sum.waiting_ns += one.waiting_ns;
        sum.slices += one.slices;
    }
    Ok(sum)
}

/// The three numbers of a `schedstat` file (the kernel's
/// Documentation/scheduler/sched-stats.rst): time on the CPU, time waiting
/// on a run queue (both ns), and timeslices run.
pub fn parse_schedstat(text: &str) -> Result<Sched> {
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(|f| {
            f.parse()
                .with_context(|| format!("bad schedstat field {f:?}"))
        })
        .collect::<Result<_>>()?;
    match fields[..] {
        [on_cpu_ns, waiting_ns, slices] => Ok(Sched {
            on_cpu_ns,
            waiting_ns,
            slices,
        }),
        _ => anyhow::bail!("schedstat has {} fields, not 3: {text:?}", fields.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_descriptors_this_process_opens() {
        let me = std::process::id();
        // A hundred at once: other tests of this binary open and close a
        // few files of their own meanwhile.
        let before = open_fds(me).unwrap();
        let files: Vec<_> = (0..100)
            .map(|_| std::fs::File::open("/proc/self/status").unwrap())
            .collect();
        assert!(open_fds(me).unwrap() >= before + 90);
        drop(files);
        assert!(open_fds(u32::MAX).is_err());
    }

    #[test]
    fn reads_the_three_fields() {
        let text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t5\n";
        assert_eq!(
            parse_status(text).unwrap(),
            Status {
                vm_rss_kb: 1024,
                vm_hwm_kb: 2048,
                threads: 5
            }
        );
        assert!(parse_status("Name:\tx\n").is_err());
    }

    #[test]
    fn reads_cpu_ticks_after_a_name_with_spaces() {
        let text = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 17 5 0 0";
        assert_eq!(parse_cpu_ticks(text).unwrap(), 22);
        assert!(parse_cpu_ticks("42 (x) S 1").is_err());
    }

    #[test]
    fn reads_schedstat_and_refuses_anything_else() {
        let one = parse_schedstat("176729 511353 2\n").unwrap();
        assert_eq!(
            (one.on_cpu_ns, one.waiting_ns, one.slices),
            (176729, 511353, 2)
        );
        assert!(parse_schedstat("1 2").is_err());
        assert!(parse_schedstat("1 2 x").is_err());
        assert!(parse_schedstat("").is_err());
        // A thread gone between two reads: nothing negative.
        let later = Sched {
            on_cpu_ns: 100,
            ..one
        };
        assert_eq!(later.since(&one).on_cpu_ns, 0);
    }

    #[test]
    fn reads_this_process() {
        // This thread runs while it reads: its own time on a CPU is counted.
        let s = sched(std::process::id()).unwrap();
        assert!(s.on_cpu_ns > 0 && s.slices > 0);
        assert!(cpu_ticks(std::process::id()).is_ok());
        assert!(ticks_per_second().unwrap() > 0);
        let s = status(std::process::id()).unwrap();
        assert!(s.threads >= 1 && s.vm_rss_kb > 0 && s.vm_hwm_kb >= s.vm_rss_kb);
    }
}
