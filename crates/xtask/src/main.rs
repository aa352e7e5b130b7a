//! The book's own commands (the xtask pattern): `cargo xtask <command>`.
//!
//! - `serve [--port N]`: install the pinned tools if needed, build the book and
//!   serve it on http://localhost:3000, rebuilding on change.
//! - `build`: the same, writing the static site to `book/html` only.
//! - `test`: every check of the book (see `test.rs`); CI runs exactly this.
//! - `bench`: run the criterion benchmarks and record the machine they ran on.
//! - `baseline`: write `book/benchmarks/baseline.json` from the last bench run.
//! - `quickstart`: replay the quick start's pages in a new crate (see `quickstart.rs`).

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

use anyhow::{Result, bail};
use std::path::PathBuf;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("serve") => {
            let port = match args.get(1).map(String::as_str) {
                Some("--port") => args.get(2).cloned().unwrap_or_else(|| "3000".into()),
                Some(other) => bail!("unknown option {other}; usage: cargo xtask serve [--port N]"),
                None => "3000".into(),
            };
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
                &port,
            ]))
        }
        Some("build") => {
            let tools = tools::ensure()?;
            build_book(&tools)?;
            println!("The book is in book/html/index.html");
            Ok(())
        }
        Some("test") => test::all(&root),
        Some("figures") => run::step(
            "A quick benchmark run, built into the book, shows criterion's own estimates",
            || test::bench_figures_reach_html(&root),
        ),
        Some("examples") => run::step(
            "Every example is in a chapter and prints what its chapter shows",
            || test::check_examples(&root),
        ),
        Some("quickstart") => run::step(
            "Every command and file of the quick start, replayed in a new crate",
            || quickstart::replay(&root),
        ),
        Some("collector") => {
            run::step("Examples against rotel", || {
                collector::examples_against_rotel(&root)
            })?;
            run::step("Collector outage under load", || {
                collector::collector_outage(&root)
            })
        }
        Some("system") => {
            run::step(
                "One trace across the four service processes (rotel)",
                || system::trace_across_processes(&root),
            )?;
            run::step("SIGTERM to every service under load", || {
                system::sigterm_under_load(&root)
            })?;
            let skipped = run::step("The payment service behind a cut link (namespaces)", || {
                system::partition_in_namespaces(&root)
            })?;
            if let Some(reason) = skipped {
                println!("    SKIPPED: {reason}");
            }
            Ok(())
        }
        Some("bench") => bench(),
        Some("baseline") => run::preprocessor(&["baseline"]),
        Some("fuzz") => fuzz::fuzz(&root, args.get(1).map(String::as_str)),
        Some("load") => load::command(&root, args.get(1).map(String::as_str)),
        _ => bail!(
            "usage: cargo xtask <serve [--port N] | build | test | bench | baseline | fuzz [S] | collector | system | load [S] | quickstart>\n\
             serve     build the book and serve it on http://localhost:3000\n\
             build     build the static site into book/html\n\
             test      run every test of the book (what CI runs)\n\
             bench     run the benchmarks; the next build shows their figures\n\
             baseline  save the last benchmark run as book/benchmarks/baseline.json\n\
             fuzz [S]  fuzz every parser of outside input for S seconds each (default 60)\n\
             collector run the examples against a real collector, then stop it under load\n\
             system    the four service binaries: one trace, SIGTERM under load, a cut link\n\
             load [S]  chapter 21's load runs, S seconds per phase (default 10)\n\
             quickstart  replay the quick start's pages, commands and files, in a new crate"
        ),
    }
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

fn bench() -> Result<()> {
    run::step("Running the benchmarks (cargo bench)", || {
        run::cargo(&["bench", "--locked", "--workspace", "--bench", "*"])
    })?;
    run::preprocessor(&["record-provenance"])?;
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
