//! What `/proc/PID/status` says about a process: memory and threads.

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
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reads_this_process() {
        let s = status(std::process::id()).unwrap();
        assert!(s.threads >= 1 && s.vm_rss_kb > 0 && s.vm_hwm_kb >= s.vm_rss_kb);
    }
}
