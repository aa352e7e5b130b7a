//! Chapter 17's checks in one run: the stateright models, then TLC on every
//! TLA+ configuration in `specs/`, each against its expected outcome, and
//! the figures recorded for the book (group `ch17_models`).
//!
//! Usage: `ch17-models --tla2tools PATH/tla2tools.jar` (from the repository
//! root; `cargo xtask test` installs the jar and runs this).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use book_results::{Measurement, record};
use resilience_models::batch::{BatchModel, Bug};
use resilience_models::breaker::BreakerModel;
use resilience_models::pipeline::{PipelineModel, Stage};
use resilience_models::tlc::{self, EXIT_INVARIANT_VIOLATED, EXIT_OK, TlcRun};
use stateright::{Checker, Model};

const GROUP: &str = "ch17_models";

/// T5's planted bugs, each in the stateright model and in a `.cfg` of its own.
const BUGS: [Bug; 3] =
    [Bug::StopOnEmptyPop, Bug::CheckThenClaim, Bug::RequeueFailed];

fn main() {
    if let Err(e) = real_main() {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let jar = match args.as_slice() {
        [flag, jar] if flag == "--tla2tools" => PathBuf::from(jar),
        _ => bail!("usage: ch17-models --tla2tools PATH/tla2tools.jar"),
    };
    ensure!(jar.is_file(), "{} is not a file", jar.display());
    // TLC runs in each spec's folder: the jar's path must not be relative.
    let jar = jar.canonicalize()?;
    let root = book_results::workspace_root();
    let mut results = Vec::new();
    let id = |name: &str| format!("{GROUP}/{name}");

    // The stateright models.
    let (breaker_states, secs) =
        explore("circuit breaker", BreakerModel::chapter())?;
    results.push(Measurement::count(
        id("breaker_states"),
        breaker_states as f64,
        "states",
    ));
    results.push(Measurement::count(id("breaker_seconds"), secs, "s"));
    let (pipeline_states, secs) =
        explore("two-stage pipeline", PipelineModel::CHAPTER)?;
    results.push(Measurement::count(
        id("pipeline_states"),
        pipeline_states as f64,
        "states",
    ));
    results.push(Measurement::count(id("pipeline_seconds"), secs, "s"));
    let (batch_states, secs) = explore("batch processor (T5)", BatchModel::CHAPTER)?;
    results.push(Measurement::count(
        id("t5_stateright_states"),
        batch_states as f64,
        "states",
    ));
    results.push(Measurement::count(id("t5_stateright_seconds"), secs, "s"));
    for bug in BUGS {
        let model = BatchModel::with_bug(bug);
        let broken = BatchModel::broken_by(bug);
        let checker = model.checker().spawn_bfs().join();
        let path = checker.discovery(broken).with_context(|| {
            format!(
                "T5 with {bug:?}: stateright found no counterexample to \"{broken}\""
            )
        })?;
        ensure!(
            !(model.property(broken).condition)(&model, path.last_state()),
            "T5 with {bug:?}: the counterexample's last state satisfies \"{broken}\""
        );
        println!(
            "stateright: T5 with {bug:?}: \"{broken}\" violated after {} states",
            path.into_states().len()
        );
    }
    let lossy = PipelineModel {
        stop_on_empty: true,
        ..PipelineModel::CHAPTER
    };
    let checker = lossy.checker().spawn_bfs().join();
    let path = checker
        .discovery("terminates without loss")
        .context("the pipeline that stops on an empty channel lost nothing")?;
    let steps = path.into_vec();
    let mut text = format!(
        "{:<3} {:<8} {:<4} {:<6} {:<6} {:<11} {:<6} {:<11} {}",
        "#", "moved", "sent", "ch1", "closed", "stage 1", "ch2", "stage 2", "sink"
    );
    let mut moved = "start".to_owned();
    for (i, (st, action)) in steps.iter().enumerate() {
        let stage = |s: &Stage| match s {
            Stage::Receiving => "recv".to_owned(),
            Stage::Sending(x) => format!("send {x}"),
            Stage::Exited => "exited".to_owned(),
        };
        let line = format!(
            "{:<3} {:<8} {:<4} {:<6} {:<6} {:<11} {:<6} {:<11} {:?}",
            i + 1,
            moved,
            st.sent,
            format!("{:?}", st.ch1),
            st.ch1_closed,
            stage(&st.stage1),
            format!("{:?}", st.ch2),
            stage(&st.stage2),
            st.out
        );
        text.push('\n');
        text.push_str(line.trim_end());
        moved = action.map(|a| format!("{a:?}")).unwrap_or_default();
    }
    results.push(
        Measurement::count(id("pipeline_bug_trace"), steps.len() as f64, "states")
            .with_text(text),
    );
    println!(
        "stateright: the lossy pipeline loses items after {} states",
        steps.len()
    );

    // TLC.
    let metadir = root.join("target/tlc");
    let specs = root.join("specs");
    let t4 = specs.join("t4_clock_skew");
    let holds = tlc_run(&jar, &t4, "ClockSkew", "holds.cfg", &metadir)?;
    ensure!(
        holds.exit_code == EXIT_OK,
        "T4 holds.cfg: TLC exited with {} (expected {EXIT_OK}), violated {:?}",
        holds.exit_code,
        holds.violated
    );
    results.push(Measurement::count(
        id("t4_holds_states"),
        holds.distinct_states as f64,
        "states",
    ));
    results.push(Measurement::count(
        id("t4_holds_seconds"),
        holds.seconds,
        "s",
    ));

    let violated = tlc_run(&jar, &t4, "ClockSkew", "violated.cfg", &metadir)?;
    check_t4_counterexample(&violated)?;
    let table = tlc::render_trace(
        &violated.trace,
        &[
            "now",
            "offP",
            "offQ",
            "pc",
            "sentAt",
            "sendStamp",
            "recvStamp",
        ],
    );
    results.push(
        Measurement::count(
            id("t4_counterexample"),
            violated.trace.len() as f64,
            "states",
        )
        .with_text(table),
    );
    results.push(Measurement::count(
        id("t4_violated_seconds"),
        violated.seconds,
        "s",
    ));

    check_t5(
        &jar,
        &specs.join("t5_batch"),
        &metadir,
        batch_states,
        &mut results,
    )?;

    report_fragments(&jar, &specs.join("report"), &metadir, &mut results)?;

    let file = record(GROUP, results)?;
    println!("recorded in {}", file.display());
    Ok(())
}

/// Explores every state of `model`, checks its properties, and returns the
/// number of distinct states and the seconds it took.
fn explore<M>(name: &str, model: M) -> Result<(usize, f64)>
where
    M: Model + Send + Sync + 'static,
    M::State: Clone
        + std::fmt::Debug
        + std::hash::Hash
        + PartialEq
        + Send
        + Sync
        + 'static,
    M::Action: Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static,
{
    let start = Instant::now();
    let checker = model.checker().spawn_bfs().join();
    let secs = start.elapsed().as_secs_f64();
    for property in checker.model().properties() {
        let found = checker.discovery(property.name).is_some();
        ensure!(
            found != property.expectation.discovery_is_failure(),
            "{name}: property \"{}\" {}",
            property.name,
            if found {
                "is violated"
            } else {
                "was never witnessed"
            }
        );
    }
    println!("stateright: {name}: every property holds");
    Ok((checker.unique_state_count(), secs))
}

fn tlc_run(
    jar: &Path,
    dir: &Path,
    module: &str,
    config: &str,
    metadir: &Path,
) -> Result<TlcRun> {
    let run = tlc::run(jar, dir, module, config, metadir)?;
    println!(
        "TLC: {module} {config}: exit {}{}",
        run.exit_code,
        run.violated
            .as_ref()
            .map(|v| format!(", {v} violated"))
            .unwrap_or_default()
    );
    Ok(run)
}

/// With MinDelay = 2·Eps, a violation can only be a tie: the send stamped
/// Eps ahead of true time, the receipt Eps behind, after exactly 2·Eps ticks.
fn check_t4_counterexample(run: &TlcRun) -> Result<()> {
    ensure!(
        run.exit_code == EXIT_INVARIANT_VIOLATED
            && run.violated.as_deref() == Some("CausalOrder"),
        "T4 violated.cfg: expected CausalOrder to be violated (exit {EXIT_INVARIANT_VIOLATED}), \
         TLC exited with {} ({:?})",
        run.exit_code,
        run.violated
    );
    let eps = 2;
    let last = run.trace.last().context("no trace")?;
    let send = run
        .trace
        .iter()
        .position(|s| s.vars.get("pc").map(String::as_str) == Some("\"sent\""))
        .context("the trace never sends")?;
    let before_send = &run.trace[send - 1];
    ensure!(
        last.var("pc")? == "\"received\"",
        "the trace ends before the receipt"
    );
    ensure!(
        last.int("recvStamp")? == last.int("sendStamp")?,
        "expected a tie"
    );
    ensure!(
        last.int("now")? - last.int("sentAt")? == 2 * eps,
        "expected a delay of exactly 2·Eps"
    );
    ensure!(
        before_send.int("offP")? == eps && last.int("offQ")? == -eps,
        "expected the sender's clock Eps fast and the receiver's Eps slow"
    );
    println!("T4: the counterexample is the expected tie at a delay of 2·Eps");
    Ok(())
}

/// T5 in TLC: the processor holds every property and has as many distinct
/// states as the stateright model; each planted bug is rejected with the
/// counterexample it must produce. Records the counts and the
/// counterexamples the chapter shows.
fn check_t5(
    jar: &Path,
    dir: &Path,
    metadir: &Path,
    stateright_states: usize,
    results: &mut Vec<Measurement>,
) -> Result<()> {
    let id = |name: &str| format!("{GROUP}/{name}");
    let t5 = tlc_run(jar, dir, "BatchSpans", "BatchSpans.cfg", metadir)?;
    ensure!(
        t5.exit_code == EXIT_OK,
        "T5: TLC exited with {} (expected {EXIT_OK}), violated {:?}",
        t5.exit_code,
        t5.violated
    );
    ensure!(
        t5.distinct_states == stateright_states as u64,
        "T5: TLC found {} distinct states, stateright {}: the two models differ",
        t5.distinct_states,
        stateright_states
    );
    println!("T5: TLC and stateright agree on the number of distinct states");
    results.push(Measurement::count(
        id("t5_tlc_states"),
        t5.distinct_states as f64,
        "states",
    ));
    results.push(Measurement::count(id("t5_tlc_seconds"), t5.seconds, "s"));

    // The planted bugs (specs/t5_batch/BatchSpansBugs.tla).
    // The columns each trace needs; the two traces the chapter shows fit
    // in 85 characters.
    let race = ["ended", "pc", "queue", "closed", "stopped"].as_slice();
    let requeue = ["pc", "queue", "batch", "exported"].as_slice();
    for (config, invariant, name, columns) in [
        ("stop_early.cfg", "Drained", "t5_stop_early", race),
        ("late_claim.cfg", "Drained", "t5_late_claim", race),
        ("requeue.cfg", "FIFO", "t5_requeue", requeue),
    ] {
        let run = tlc_run(jar, dir, "BatchSpansBugs", config, metadir)?;
        ensure!(
            run.exit_code == EXIT_INVARIANT_VIOLATED
                && run.violated.as_deref() == Some(invariant),
            "T5 {config}: expected {invariant} to be violated (exit \
             {EXIT_INVARIANT_VIOLATED}), TLC exited with {} ({:?})",
            run.exit_code,
            run.violated
        );
        check_t5_counterexample(config, &run)?;
        results.push(
            Measurement::count(id(name), run.trace.len() as f64, "states")
                .with_text(tlc::render_trace(&run.trace, columns)),
        );
    }
    Ok(())
}

/// What each planted bug's counterexample must show, beyond the name of
/// the invariant it breaks.
fn check_t5_counterexample(config: &str, run: &TlcRun) -> Result<()> {
    let last = run.trace.last().context("no trace")?;
    let before = run.trace.len().checked_sub(2).map(|i| &run.trace[i]);
    match config {
        // The exporter stopped with a slot claimed and not yet written.
        "stop_early.cfg" => ensure!(
            last.action == "StopOnEmptyPop"
                && last.var("queue")? != "<<>>"
                && last.var("pc")?.contains("\"writing\""),
            "T5 {config}: expected a stop with a claimed slot being written"
        ),
        // A span was let in after the exporter had stopped.
        "late_claim.cfg" => ensure!(
            last.action == "ClaimLate"
                && before.map(|b| b.var("stopped")).transpose()? == Some("TRUE"),
            "T5 {config}: expected a claim after the stop"
        ),
        // A failed batch went back behind a later span.
        _ => ensure!(
            run.trace.iter().any(|s| s.action == "Requeue"),
            "T5 {config}: expected a requeued batch in the trace"
        ),
    }
    println!("T5: {config}: the counterexample is the expected one");
    Ok(())
}

/// The Go report's TLA+ fragments, quoted unmodified in `specs/report/`
/// (chapter 16): SANY on each, and TLC on the one configuration the report
/// ships, each against the outcome the chapter describes.
fn report_fragments(
    jar: &Path,
    dir: &Path,
    metadir: &Path,
    results: &mut Vec<Measurement>,
) -> Result<()> {
    use resilience_models::sany::{self, Outcome};
    let expected: [(&str, &[&str]); 3] = [
        (
            "CSP_OTLP_Isomorphism",
            &[
                "Unknown operator: `BuildSpanTree'.",
                "Unknown operator: `TreeToTrace'.",
            ],
        ),
        ("pipeline", &[]),
        ("BatchSpanProcessor", &[]),
    ];
    let mut text = String::new();
    let mut total = 0;
    for (module, want) in expected {
        let errors = match sany::run(jar, dir, module)? {
            Outcome::Clean => Vec::new(),
            Outcome::SemanticErrors(errors) => errors,
            Outcome::Fatal(why) => bail!("SANY could not read {module}: {why}"),
        };
        ensure!(
            errors.len() == want.len()
                && errors.iter().zip(want).all(|(e, w)| e.ends_with(w)),
            "SANY on {module}: expected {want:?}, found {errors:?}"
        );
        total += errors.len();
        text.push_str(&match errors.len() {
            0 => format!("SANY {module}.tla: no errors\n"),
            n => format!("SANY {module}.tla: {n} semantic errors\n"),
        });
        for e in errors {
            text.push_str(&format!("  {e}\n"));
        }
    }
    // TLC on the two configurations the project ships: each stops before
    // checking a single state.
    let runs = [
        (
            "pipeline",
            "pipeline.cfg",
            "can't enumerate the value of the `hash' field:\nNat",
        ),
        (
            "BatchSpanProcessor",
            "BatchSpanProcessor.cfg",
            "TLC can't handle real numbers.\n0.8",
        ),
    ];
    for (module, config, reason) in runs {
        let out = std::process::Command::new("java")
            .arg("-cp")
            .arg(jar)
            .args(["tlc2.TLC", "-workers", "1", "-cleanup", "-metadir"])
            .arg(metadir)
            .args(["-config", config, &format!("{module}.tla")])
            .current_dir(dir)
            .output()
            .context("starting java (TLC needs Java 11 or later)")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let code = out.status.code().unwrap_or(-1);
        ensure!(
            code != EXIT_OK
                && stdout.contains(reason)
                && !stdout.contains("Model checking completed"),
            "TLC on {module} with {config}: expected it to stop ({reason}), \
             exit {code}:\n{stdout}"
        );
        text.push_str(&format!(
            "TLC {module}.tla with {config}: exit {code}: {}\n",
            reason.replace('\n', " ")
        ));
    }
    println!("report fragments: SANY and TLC gave the expected outcomes");
    results.push(
        Measurement::count(
            format!("{GROUP}/report_sany_errors"),
            total as f64,
            "errors",
        )
        .with_text(text),
    );
    Ok(())
}
