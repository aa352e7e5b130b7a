//! The book's own commands (the xtask pattern): `cargo xtask <command>`.
//!
//! Each command is a variant of [`Command`], and its doc comment is the help
//! that `cargo xtask --help` prints: the help text and the code are one
//! thing.

mod agreement;
mod captures;
mod collector;
mod examples;
mod fuzz;
mod load;
mod models;
mod own_project;
mod python_client;
mod quickstart;
mod run;
mod system;
mod test;
mod tools;
mod venv;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// The book's own commands: build, serve and test the book, and the
/// stages of `test` one at a time.
#[derive(Debug, Parser)]
#[command(bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the book and serve it on http://localhost:PORT, rebuilding on
    /// change (installs the pinned mdbook and mdbook-mermaid if needed).
    Serve {
        /// The port to serve on.
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Build the static site into book/html.
    Build,
    /// Run every check of the book, stage after stage (what CI runs).
    Test,
    /// Run the criterion benchmarks; the next build shows their figures.
    /// Ends by judging Part V's benchmark goals (met / MISSED).
    Bench {
        /// Judge the goals on criterion's last run, without running it.
        #[arg(long)]
        judge_only: bool,
    },
    /// Save the last benchmark run as book/benchmarks/baseline.json.
    Baseline,
    /// Run every example and compare its output with its chapter; capture
    /// the runs the chapters draw as waterfalls.
    Examples {
        /// Run only the blocks of chapters whose path contains this text
        /// (e.g. `ch17`); the waterfalls are then not captured.
        #[arg(long)]
        only: Option<String>,
    },
    /// Replay the quick start's pages, commands and files, in a new crate.
    Quickstart,
    /// Run the examples against a real collector (rotel), then stop it
    /// under load and account for every span.
    Collector,
    /// The four service binaries: one trace across processes, SIGTERM under
    /// load, a cut link between network namespaces (as root).
    System,
    /// A quick benchmark run built into a scratch book: every figure on the
    /// page must be the one measured.
    Figures,
    /// Fuzz every parser of outside input for SECONDS each (installs
    /// cargo-fuzz; uses RUSTC_BOOTSTRAP=1 on a stable toolchain).
    Fuzz {
        /// Seconds per target [default: 60].
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        seconds: Option<u64>,
    },
    /// Chapter 21's load runs, SECONDS per phase.
    Load {
        /// Seconds per phase, from 1 to 120 [default: 10].
        #[arg(value_parser = clap::value_parser!(u64).range(1..=load::MAX_SECONDS))]
        seconds: Option<u64>,
        /// Interleaved repeats of the one-hop runs (untraced, 1 %, 100 %,
        /// untraced, ...); the book shows each figure's median and range.
        #[arg(long, default_value_t = load::DEFAULT_REPEATS, value_parser = clap::value_parser!(u64).range(1..=9))]
        repeats: u64,
        /// Instead: the chain under each runtime and allocator setting
        /// (multi-thread, one worker, current-thread; system allocator,
        /// mimalloc), in interleaved rounds.
        #[arg(long)]
        tuning: bool,
        /// Instead: the allocation profile of one traced request (dhat),
        /// per call site and per owner.
        #[arg(long, conflicts_with = "tuning")]
        alloc_profile: bool,
    },
    /// Chapter 19's collector faults: the four release-built services at
    /// the chain rate against the book's receiver answering part of the
    /// exports badly, one run per fault; every span accounted for.
    Faults {
        /// Seconds per run, from 1 to 120 [default: 10].
        #[arg(value_parser = clap::value_parser!(u64).range(1..=load::MAX_SECONDS))]
        seconds: Option<u64>,
        /// Interleaved repeats of every collector fault; the book shows
        /// each case's median and range [default: 1].
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=9))]
        repeats: u64,
        /// Only the slow-peer runs (results group `slow_peer`).
        #[arg(long)]
        slow_peer_only: bool,
    },
    /// Chapter 19's soak: the four release-built services at 70 % of the
    /// chain rate, memory and descriptors sampled every second; every span
    /// and log record accounted for.
    Soak {
        /// Seconds, from 10 to 600 [default: 600].
        #[arg(value_parser = clap::value_parser!(u64).range(10..=600))]
        seconds: Option<u64>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = real_main(cli.command) {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main(command: Command) -> Result<()> {
    let root = repo_root();
    std::env::set_current_dir(&root)?;
    match command {
        Command::Serve { port } => serve(port),
        Command::Build => {
            let tools = tools::ensure()?;
            build_book(&tools)?;
            println!("The book is in book/html/index.html");
            Ok(())
        }
        Command::Test => test::all(&root),
        Command::Bench { judge_only } => bench(judge_only),
        Command::Baseline => run::preprocessor(&["baseline"]),
        Command::Examples { only } => run::step(
            "Every example is in a chapter and prints what its chapter shows",
            || test::check_examples(&root, only.as_deref()),
        ),
        Command::Quickstart => run::step(
            "Every command and file of the quick start, replayed in a new crate",
            || quickstart::replay(&root),
        ),
        Command::Collector => {
            run::step("Examples against rotel", || {
                collector::examples_against_rotel(&root)
            })?;
            run::step("Collector outage under load", || {
                collector::collector_outage(&root)
            })
        }
        Command::System => system(&root),
        Command::Figures => run::step(
            "A quick benchmark run, built into the book, shows criterion's own estimates",
            || test::bench_figures_reach_html(&root),
        ),
        Command::Fuzz { seconds } => fuzz::fuzz(&root, seconds),
        Command::Load {
            seconds,
            repeats,
            tuning,
            alloc_profile,
        } => load::command(&root, seconds, repeats, tuning, alloc_profile),
        Command::Soak { seconds } => {
            let seconds = seconds.unwrap_or(load::SOAK_SECONDS);
            run::step(&format!("Chapter 19's soak ({seconds} s)"), || {
                load::soak(&root, seconds)
            })
        }
        Command::Faults {
            seconds,
            repeats,
            slow_peer_only,
        } => {
            let seconds = seconds.unwrap_or(load::DEFAULT_SECONDS);
            run::step(
                &format!(
                    "Chapter 19's collector faults ({seconds} s per run, {repeats} \
                     repeat(s))"
                ),
                || load::faults(&root, seconds, repeats, slow_peer_only),
            )
        }
    }
}

fn serve(port: u16) -> Result<()> {
    let tools = tools::ensure()?;
    run::step("Building the book's preprocessor", || {
        run::cargo(&["build", "--quiet", "--locked", "-p", "book-preprocessor"])
    })?;
    println!("Serving the book on http://localhost:{port} (Ctrl-C to stop)");
    run::command(tools.mdbook_command(&[
        "serve",
        "--hostname",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]))
}

fn system(root: &Path) -> Result<()> {
    run::step(
        "One trace across the four service processes (rotel)",
        || system::trace_across_processes(root),
    )?;
    run::step("SIGTERM to every service under load", || {
        system::sigterm_under_load(root)
    })?;
    run::step("More requests than the gateway admits", || {
        system::concurrency_limit(root)
    })?;
    let skipped = run::step("The four services under a CPU quota (cgroup)", || {
        system::cpu_quota(root)
    })?;
    if let Some(reason) = skipped {
        println!("    SKIPPED: {reason}");
    }
    let skipped =
        run::step("The payment service behind a cut link (namespaces)", || {
            system::partition_in_namespaces(root)
        })?;
    if let Some(reason) = skipped {
        println!("    SKIPPED: {reason}");
    }
    Ok(())
}

/// Builds the preprocessor, then the book into `book/html`.
pub fn build_book(tools: &tools::Tools) -> Result<()> {
    run::step("Building the book's preprocessor", || {
        run::cargo(&["build", "--quiet", "--locked", "-p", "book-preprocessor"])
    })?;
    run::step("Building the book (mdbook build)", || {
        run::command(tools.mdbook_command(&["build"]))
    })
}

fn bench(judge_only: bool) -> Result<()> {
    if !judge_only {
        run::step("Running the benchmarks (cargo bench)", || {
            run::cargo(&["bench", "--locked", "--workspace", "--bench", "*"])
        })?;
        run::preprocessor(&["record-provenance"])?;
    }
    // Where criterion wrote, as the preprocessor finds it.
    let criterion_dir =
        book_results::criterion::criterion_dir(&repo_root(), |name| {
            std::env::var_os(name)
        });
    let results_dir =
        book_results::results_dir(&repo_root(), |name| std::env::var_os(name));
    agreement::print(&criterion_dir, &results_dir)?;
    println!(
        "Fresh figures are in target/criterion; `cargo xtask build` writes them into the book.\n\
         `cargo xtask baseline` keeps them as the committed fallback."
    );
    Ok(())
}

/// The repository root: two levels above this crate's manifest.
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the xtask crate lives in <root>/crates/xtask")
}
