//! Which CPUs a process may run on (Linux, `sched_setaffinity(2)`), so that
//! the load generator and the service it loads each get cores of their own
//! instead of taking turns on the same ones.

use std::io;
use std::process::Command;

/// The CPUs this process's calling thread may run on, in increasing order.
pub fn allowed() -> io::Result<Vec<usize>> {
    sys::get()
}

/// The first allowed CPU for the load generator, the rest for the target;
/// `None` with fewer than two.
pub fn split(allowed: &[usize]) -> Option<(Vec<usize>, Vec<usize>)> {
    match allowed {
        [first, rest @ ..] if !rest.is_empty() => {
            Some((vec![*first], rest.to_vec()))
        }
        _ => None,
    }
}

/// Restricts every thread of this process to `cpus`. Threads started later
/// inherit the mask of the thread that starts them, and so do child
/// processes.
pub fn set_process(cpus: &[usize]) -> io::Result<()> {
    for entry in std::fs::read_dir("/proc/self/task")? {
        let name = entry?.file_name();
        let Some(tid) = name.to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        match sys::set(tid, cpus) {
            Ok(()) => {}
            // The thread ended between the listing and the call.
            Err(e) if e.raw_os_error() == Some(sys::NO_SUCH_THREAD) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Makes `cmd`'s child start on `cpus` only. The mask is set in the child
/// between `fork` and `exec`: no helper program (`taskset`) runs first, so
/// the child's start-up time is its own.
pub fn pin_command(cmd: &mut Command, cpus: &[usize]) -> io::Result<()> {
    sys::pin_command(cmd, cpus)
}

/// `cpus` as `taskset -c` writes them: `0`, `1-3`, `0,2`.
pub fn list(cpus: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        out.push(match j - i {
            0 => cpus[i].to_string(),
            1 => format!("{},{}", cpus[i], cpus[j]),
            _ => format!("{}-{}", cpus[i], cpus[j]),
        });
        i = j + 1;
    }
    out.join(",")
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;
    use std::os::unix::process::CommandExt as _;
    use std::process::Command;

    pub const NO_SUCH_THREAD: i32 = libc::ESRCH;

    fn mask(cpus: &[usize]) -> io::Result<libc::cpu_set_t> {
        let limit = libc::CPU_SETSIZE as usize;
        if cpus.is_empty() || cpus.iter().any(|c| *c >= limit) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("CPU list {cpus:?} is empty or beyond CPU {limit}"),
            ));
        }
        // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set,
        // and every index was checked to be below CPU_SETSIZE.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for cpu in cpus {
                libc::CPU_SET(*cpu, &mut set);
            }
            Ok(set)
        }
    }

    pub fn get() -> io::Result<Vec<usize>> {
        // SAFETY: the kernel writes at most size_of::<cpu_set_t>() bytes
        // into `set`, which is that large.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut set) != 0 {
                return Err(io::Error::last_os_error());
            }
            let limit = libc::CPU_SETSIZE as usize;
            Ok((0..limit).filter(|c| libc::CPU_ISSET(*c, &set)).collect())
        }
    }

    pub fn set(tid: libc::pid_t, cpus: &[usize]) -> io::Result<()> {
        let set = mask(cpus)?;
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a valid cpu_set_t of `size` bytes.
        if unsafe { libc::sched_setaffinity(tid, size, &set) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn pin_command(cmd: &mut Command, cpus: &[usize]) -> io::Result<()> {
        let set = mask(cpus)?;
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: between fork and exec the closure only makes one system
        // call (async-signal-safe) on a mask built before the fork, and
        // allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, size, &set) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;
    use std::process::Command;

    pub const NO_SUCH_THREAD: i32 = 3;

    fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "CPU affinity is Linux-only here",
        )
    }

    pub fn get() -> io::Result<Vec<usize>> {
        Err(unsupported())
    }

    pub fn set(_tid: i32, _cpus: &[usize]) -> io::Result<()> {
        Err(unsupported())
    }

    pub fn pin_command(_cmd: &mut Command, _cpus: &[usize]) -> io::Result<()> {
        Err(unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_first_cpu_from_the_rest() {
        assert_eq!(split(&[0, 1]), Some((vec![0], vec![1])));
        assert_eq!(split(&[2, 5, 7]), Some((vec![2], vec![5, 7])));
        assert_eq!(split(&[3]), None);
        assert_eq!(split(&[]), None);
    }

    #[test]
    fn lists_cpus_like_taskset() {
        assert_eq!(list(&[0]), "0");
        assert_eq!(list(&[0, 1]), "0,1");
        assert_eq!(list(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(list(&[1, 3, 4, 5]), "1,3-5");
    }

    /// A child pinned to one allowed CPU reports just that CPU in its
    /// `Cpus_allowed_list`; an impossible CPU is a clear error.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_pinned_child_runs_where_it_was_told() {
        let cpus = allowed().unwrap();
        let last = *cpus.last().unwrap();
        let mut cmd = Command::new("grep");
        cmd.args(["Cpus_allowed_list", "/proc/self/status"]);
        pin_command(&mut cmd, &[last]).unwrap();
        let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
        assert_eq!(
            out.split_whitespace().last(),
            Some(last.to_string().as_str())
        );
        let e = pin_command(&mut Command::new("true"), &[1 << 20]).unwrap_err();
        assert!(e.to_string().contains("beyond CPU"), "{e}");
    }
}
