//! Sizing the tokio runtime from the CPUs the container may actually use.
//!
//! A container limited to 2 CPUs on a 64-core host still sees 64 cores in
//! `/proc/cpuinfo`. The limit is a CFS bandwidth quota in its cgroup:
//! `cpu.max` (`"200000 100000"`: 200 ms of CPU time per 100 ms period) on
//! cgroup v2, `cpu.cfs_quota_us` and `cpu.cfs_period_us` on v1. A runtime with
//! 64 worker threads under a 2-CPU quota spends the quota in bursts and is
//! throttled for the rest of each period.

use std::path::{Path, PathBuf};

use crate::config::ConfigError;

/// Where the worker count came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// Worker threads to start.
    pub workers: usize,
    /// CPUs the cgroup quota allows (`None`: no quota found).
    pub quota_cpus: Option<f64>,
    /// What `std::thread::available_parallelism` said.
    pub available: usize,
    /// Why `workers` has its value, in words.
    pub reason: String,
    /// One thread for the I/O driver, the timers and every task
    /// (`RUNTIME_FLAVOR=current_thread`): `workers` is then not used.
    pub current_thread: bool,
}

// ANCHOR: parse
/// Parses cgroup v2 `cpu.max`: `"max 100000"` (no limit) or
/// `"QUOTA PERIOD"` in microseconds. Returns the limit in CPUs.
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut fields = text.split_whitespace();
    let quota = fields.next()?;
    let period: f64 = fields.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0).then(|| quota / period)
}

/// Parses cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`; a quota of
/// `-1` means no limit.
pub fn parse_cfs(quota: &str, period: &str) -> Option<f64> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: i64 = period.trim().parse().ok()?;
    (quota > 0 && period > 0).then(|| quota as f64 / period as f64)
}
// ANCHOR_END: parse

/// The smallest CPU limit on the way from this process's cgroup up to the
/// root (a parent's limit binds its children too). `root` is the cgroup
/// mount (`/sys/fs/cgroup`), `proc_self_cgroup` the text of `/proc/self/cgroup`.
pub fn cpu_quota(root: &Path, proc_self_cgroup: &str) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut keep = |limit: Option<f64>| {
        if let Some(l) = limit {
            best = Some(best.map_or(l, |b: f64| b.min(l)));
        }
    };
    for line in proc_self_cgroup.lines() {
        // "hierarchy-id:controllers:path"
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        if controllers.is_empty() {
            // cgroup v2: one unified hierarchy.
            for dir in ancestors(&root.join(relative), root) {
                keep(read(&dir.join("cpu.max")).and_then(|t| parse_cpu_max(&t)));
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            // cgroup v1: the cpu controller's own mount.
            for mount in [controllers, "cpu", "cpu,cpuacct"] {
                let base = root.join(mount);
                for dir in ancestors(&base.join(relative), &base) {
                    if let (Some(q), Some(p)) = (
                        read(&dir.join("cpu.cfs_quota_us")),
                        read(&dir.join("cpu.cfs_period_us")),
                    ) {
                        keep(parse_cfs(&q, &p));
                    }
                }
            }
        }
    }
    best
}

fn ancestors(start: &Path, root: &Path) -> Vec<PathBuf> {
    start
        .ancestors()
        .take_while(|p| p.starts_with(root))
        .map(Path::to_path_buf)
        .collect()
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

// ANCHOR: decide
/// The worker count: an explicit override wins; otherwise the quota rounded
/// up (a 1.5-CPU quota can keep two threads busy half the time), never more
/// than the CPUs the scheduler lets us run on, never fewer than one.
pub fn decide(
    override_workers: Option<usize>,
    quota: Option<f64>,
    available: usize,
) -> Sizing {
    let available = available.max(1);
    let (workers, reason) = match (override_workers, quota) {
        (Some(n), _) if n > 0 => (n, format!("WORKER_THREADS={n}")),
        (_, Some(q)) => {
            let n = (q.ceil() as usize).clamp(1, available);
            (n, format!("cgroup CPU quota {q:.2} CPUs"))
        }
        (_, None) => (available, "no CPU quota: available parallelism".to_owned()),
    };
    Sizing {
        workers,
        quota_cpus: quota,
        available,
        reason,
        current_thread: false,
    }
}
// ANCHOR_END: decide

/// Reads this process's cgroup, `WORKER_THREADS` and the available
/// parallelism, and decides. A `WORKER_THREADS` that is not a positive whole
/// number is an error naming it.
pub fn detect() -> Result<Sizing, ConfigError> {
    let override_workers = match std::env::var("WORKER_THREADS") {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(ConfigError {
                    variable: "WORKER_THREADS".into(),
                    value: v,
                    expected: "a whole number of at least 1".into(),
                });
            }
        },
        _ => None,
    };
    let quota = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| cpu_quota(Path::new("/sys/fs/cgroup"), &text));
    let available = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut sizing = decide(override_workers, quota, available);
    if current_thread(std::env::var("RUNTIME_FLAVOR").ok().as_deref())? {
        sizing.current_thread = true;
        sizing.workers = 1;
        sizing.reason = "RUNTIME_FLAVOR=current_thread".into();
    }
    Ok(sizing)
}

/// Whether `RUNTIME_FLAVOR` (unset, `multi_thread` or `current_thread`)
/// asks for a current-thread runtime; any other value is an error naming it.
pub fn current_thread(flavor: Option<&str>) -> Result<bool, ConfigError> {
    match flavor {
        None | Some("" | "multi_thread") => Ok(false),
        Some("current_thread") => Ok(true),
        Some(other) => Err(ConfigError {
            variable: "RUNTIME_FLAVOR".into(),
            value: other.into(),
            expected: "multi_thread or current_thread".into(),
        }),
    }
}

/// A multi-thread tokio runtime with `sizing.workers` worker threads, or a
/// current-thread one.
pub fn build(sizing: &Sizing) -> std::io::Result<tokio::runtime::Runtime> {
    if sizing.current_thread {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(sizing.workers)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fake cgroup tree under the system temp directory.
    struct FakeRoot(PathBuf);

    impl FakeRoot {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("otlp-csp-cgroup-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn write(&self, relative: &str, text: &str) {
            let path = self.0.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    impl Drop for FakeRoot {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn reads_the_runtime_flavour() {
        assert!(!current_thread(None).unwrap());
        assert!(!current_thread(Some("multi_thread")).unwrap());
        assert!(current_thread(Some("current_thread")).unwrap());
        let e = current_thread(Some("current-thread")).unwrap_err();
        assert_eq!(e.variable, "RUNTIME_FLAVOR");
        assert_eq!(e.value, "current-thread");
    }

    #[test]
    fn parses_cpu_max() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(1.5));
        assert_eq!(parse_cpu_max("50000"), Some(0.5));
        assert_eq!(parse_cpu_max("garbage"), None);
        assert_eq!(parse_cpu_max(""), None);
        assert_eq!(parse_cpu_max("100000 0"), None);
    }

    #[test]
    fn parses_cfs() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("200000\n", "100000\n"), Some(2.0));
        assert_eq!(parse_cfs("x", "100000"), None);
    }

    #[test]
    fn v2_takes_the_tightest_limit_on_the_path() {
        let root = FakeRoot::new("v2");
        root.write("cpu.max", "max 100000\n");
        root.write("kubepods/cpu.max", "400000 100000\n");
        root.write("kubepods/pod1/ctr/cpu.max", "150000 100000\n");
        let quota = cpu_quota(&root.0, "0::/kubepods/pod1/ctr\n");
        assert_eq!(quota, Some(1.5));
        // A container with a cgroup namespace sees itself at the root.
        let root2 = FakeRoot::new("v2ns");
        root2.write("cpu.max", "max 100000\n");
        assert_eq!(cpu_quota(&root2.0, "0::/\n"), None);
    }

    #[test]
    fn v1_reads_the_cpu_controller() {
        let root = FakeRoot::new("v1");
        root.write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
        root.write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
        let text = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n";
        assert_eq!(cpu_quota(&root.0, text), Some(2.5));
        assert_eq!(cpu_quota(&root.0, "12:memory:/docker/abc\n"), None);
    }

    #[test]
    fn decides_from_quota_override_and_cpus() {
        assert_eq!(decide(None, Some(1.5), 64).workers, 2);
        assert_eq!(decide(None, Some(0.2), 64).workers, 1);
        assert_eq!(decide(None, Some(16.0), 4).workers, 4);
        assert_eq!(decide(None, None, 8).workers, 8);
        assert_eq!(decide(Some(3), Some(1.0), 8).workers, 3);
        assert_eq!(decide(Some(0), None, 0).workers, 1);
    }
}
