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
use resilience_models::batch::BatchModel;
use resilience_models::breaker::BreakerModel;
use resilience_models::pipeline::{PipelineModel, Stage};
use resilience_models::tlc::{self, EXIT_INVARIANT_VIOLATED, EXIT_OK, TlcRun};
use stateright::{Checker, Model};

const GROUP: &str = "ch17_models";

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

    let t5 = tlc_run(
        &jar,
        &specs.join("t5_batch"),
        "BatchSpans",
        "BatchSpans.cfg",
        &metadir,
    )?;
    ensure!(
        t5.exit_code == EXIT_OK,
        "T5: TLC exited with {} (expected {EXIT_OK})",
        t5.exit_code
    );
    ensure!(
        t5.distinct_states == batch_states as u64,
        "T5: TLC found {} distinct states, stateright {}: the two models differ",
        t5.distinct_states,
        batch_states
    );
    println!("T5: TLC and stateright agree on the number of distinct states");
    results.push(Measurement::count(
        id("t5_tlc_states"),
        t5.distinct_states as f64,
        "states",
    ));
    results.push(Measurement::count(id("t5_tlc_seconds"), t5.seconds, "s"));

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
