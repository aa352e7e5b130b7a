//! `cargo xtask quickstart`: the book's quick start, replayed literally.
//!
//! The quick start is the pages that `book/src/SUMMARY.md` links under
//! `quickstart/`. A reader follows them in a new crate of their own, outside
//! the book's workspace. The replay does exactly what the reader does, page
//! after page in SUMMARY order, in a fresh directory outside the repository
//! (`$TMPDIR/otlp-csp-quickstart-PID`: removed when everything passed, kept
//! and named when something failed), and fails wherever a page shows
//! something that does not happen. The current directory, the files and the
//! background jobs carry over from one page to the next.
//!
//! # What a page may contain
//!
//! A page is read top to bottom. Two kinds of fenced block do something;
//! everything else is only shown.
//!
//! **File listings.** A fenced block of any language (```` ```rust,noplayground ````,
//! ```` ```toml ````, ...) whose body is the one line `{{#include PATH}}`, where
//! PATH (relative to the page's folder) names a file under
//! `examples/quickstart/STEPDIR/`, writes that file into the crate at its
//! path below STEPDIR, relative to the current directory:
//! `examples/quickstart/03-pipeline/src/pipeline.rs` is written to
//! `src/pipeline.rs` (folders are created). An include with an anchor or a
//! line range (`PATH:NAME`), or of any other file, is only shown.
//!
//! - `Cargo.toml` at the top of STEPDIR is checked before it is written: its
//!   `[dependencies]`, `[dev-dependencies]` and `[build-dependencies]` must
//!   equal those of the manifest already in the crate, as `cargo new` and the
//!   pages' `cargo add` lines made it. So the listing cannot drift from the
//!   commands; anything else in it (a `[[bench]]` section) is the reader's to
//!   add by hand.
//! - A STEPDIR ending in `-solution` holds an exercise's answer. The first
//!   listing from such a folder on a page snapshots the crate (every file but
//!   those under `target/` and `.venv/`); at the end of the page the snapshot
//!   is put back (files added since are deleted, changed ones rewritten), so
//!   the next page starts from the step's own files, as it does for a reader
//!   who solved the exercise their own way.
//!
//! **Console blocks.** Every ```` ```console ```` block is run. A line starting
//! `$ ` is a command; the lines after it, up to the next `$ ` line or the end
//! of the block, are what it prints (stdout and stderr through one pipe, so
//! interleaved as a terminal shows them). The commands are a small shell:
//!
//! - `cd DIR`: changes the current directory; DIR is relative, and may not
//!   lead out of the replay's directory.
//! - `[VAR=value ...] PROGRAM ARGS...`: runs PROGRAM (found on `PATH`, or a
//!   relative path with a `/` such as `.venv/bin/pip`, taken from the current
//!   directory) with stdin closed and VAR set, and waits for it: 900 s at most
//!   for `cargo` (a cold build), 300 s for anything else. It must exit 0,
//!   unless its output shows a line starting `error:`, `error[` or `Error:`;
//!   then it must fail.
//! - `[VAR=value ...] PROGRAM ARGS... &`: starts background job `%N`, in its
//!   own process group. Jobs are numbered like bash's: one more than the
//!   highest job still running, so the first job after all others were killed
//!   is `%1` again. The lines under it are what the job prints first: the
//!   replay waits (900 s at most: a `cargo run` may compile first) until the
//!   job's output begins with them, then goes on. A job that exits before it
//!   printed them fails the replay. The block may show bash's `[N] PID` line
//!   first: N must be the job's number, PID is not compared.
//! - `kill %N`, `kill -TERM %N`, `kill -INT %N`: sends SIGTERM (the first
//!   two) or SIGINT to job N's process group and waits 60 s at most for the
//!   job to exit. The lines under it are everything the job printed after the
//!   lines shown when it was started. How the job exited is not checked (a
//!   server stopped by Ctrl-C may well exit with 130).
//!
//! Words are separated by spaces. A whole word may be quoted, `'like this'`
//! or `"like this"` (no `$`, backquote, backslash or `!` within double
//! quotes), and so may the value of a `VAR=value` (`VAR="a b"`). Anything else
//! a shell would interpret — `|`, `&&`, `;`, redirections, `$VAR`, globs,
//! `~`, a quote inside a word, a builtin such as `export` — is an error naming
//! the page and line. Jobs still running when the replay ends, or fails, are
//! killed with their process groups.
//!
//! # How output is compared
//!
//! Each side's lines lose trailing whitespace (and trailing empty lines); the
//! program's also lose colour codes and anything before a carriage return.
//! Then, as in the chapters' example runs, trace ids (32 hex digits), span ids
//! (16) and durations (`12µs`, `3.5ms`) are compared by shape: the n-th
//! distinct id the page shows must be one and the same id wherever the page
//! shows it, and a different one from every other id the page shows — across
//! all commands of the page, so an id a server logged and a later request
//! printed must really be the same id. Two wildcards, as in trycmd:
//!
//! - a line that is exactly `...` matches any number of whole lines, none included;
//! - `[..]` within a line matches any text within that line.
//!
//! Everything else must be equal. A difference names the page and line of the
//! command, and shows both sides (normalised) and the first line that differs.
//!
//! # Environment
//!
//! Every command sees the xtask's environment as a reader's shell would have
//! it: without `OTEL_*`, `BOOK_RESULTS_DIR`, `CRITERION_HOME`, without every
//! `RUST*` variable but rustup's own (`RUSTUP_*`: the toolchain stays the
//! one the book is tested with), and without every `CARGO*` variable but
//! `CARGO_HOME` (the registry already downloaded is reused) and the reader's
//! own settings of how cargo fetches and builds (`CARGO_NET_*`,
//! `CARGO_HTTP_*`, `CARGO_REGISTRIES_*`, `CARGO_REGISTRY_*`,
//! `CARGO_INCREMENTAL`, `CARGO_BUILD_JOBS`). `cargo xtask` sets `CARGO`,
//! `CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ..., and the book's target directory
//! must not leak in. Added: `CARGO_TERM_COLOR=never`, `NO_COLOR=1`,
//! `PIP_DISABLE_PIP_VERSION_CHECK=1`, `PIP_NO_INPUT=1`.
//!
//! # Results
//!
//! When the whole replay passed, each page's time (the sum of its commands,
//! waiting for background jobs included) and the part of it spent in `cargo`
//! commands are recorded as `quickstart/<page stem>` and
//! `quickstart/<page stem>_cargo`, with `quickstart/total`; the criterion
//! results the reader's benchmarks left in the crate's `target/criterion` as
//! group `quickstart_bench`.

use anyhow::{Context, Result, bail, ensure};
use book_results::Measurement;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::examples::{DURATION, DURATION_PATTERN, Normalizer, SPAN_ID, TRACE_ID};

/// Longest a foreground `cargo` command may take (a cold build of the crate).
const CARGO_LIMIT: Duration = Duration::from_secs(900);
/// Longest any other foreground command may take (`pip install`).
const OTHER_LIMIT: Duration = Duration::from_secs(300);
/// Longest a background job may take to print its first lines.
const READY_LIMIT: Duration = Duration::from_secs(900);
/// Longest a job may take to exit after `kill`.
const KILL_LIMIT: Duration = Duration::from_secs(60);
/// How long after a process exited its output pipe may stay open (held by
/// something it started) before the rest of its group is killed.
const PIPE_GRACE: Duration = Duration::from_secs(5);

/// `cargo xtask quickstart`: replays the quick start in a new directory and,
/// when it passed, records its timings and benchmark results.
pub fn replay(root: &Path) -> Result<()> {
    let pages = quickstart_pages(root)?;
    let temp = std::env::temp_dir();
    let temp = temp.canonicalize().unwrap_or(temp);
    let workdir = temp.join(format!("otlp-csp-quickstart-{}", std::process::id()));
    ensure!(
        !workdir.starts_with(root),
        "the replay's directory {} is inside the repository, where cargo would see the \
         book's workspace; point TMPDIR elsewhere",
        workdir.display()
    );
    if workdir.exists() {
        std::fs::remove_dir_all(&workdir)
            .with_context(|| format!("removing the stale {}", workdir.display()))?;
    }
    std::fs::create_dir_all(&workdir)
        .with_context(|| format!("creating {}", workdir.display()))?;
    let replayed = match replay_pages(root, &pages, &workdir) {
        Ok(replayed) => replayed,
        Err(e) => {
            eprintln!(
                "    the reader's directory is kept for a look: {}",
                workdir.display()
            );
            return Err(e);
        }
    };
    for page in &replayed.pages {
        println!(
            "    {}: {:.1} s (cargo {:.1} s)",
            page.stem,
            page.wall.as_secs_f64(),
            page.cargo.as_secs_f64()
        );
    }
    book_results::record("quickstart", timing_measurements(&replayed.pages))?;
    let benches = criterion_measurements(&replayed.crate_dir)?;
    if !benches.is_empty() {
        println!(
            "    {} criterion results of the reader's benchmarks recorded",
            benches.len()
        );
        book_results::record("quickstart_bench", benches)?;
    }
    std::fs::remove_dir_all(&workdir)
        .with_context(|| format!("removing {}", workdir.display()))?;
    Ok(())
}

/// What a whole replay measured, and where the crate ended up.
#[derive(Debug)]
pub struct Replayed {
    pub pages: Vec<PageTiming>,
    /// The current directory after the last page: the reader's crate.
    pub crate_dir: PathBuf,
}

/// One page's time: all of its commands, and the part spent in `cargo`.
#[derive(Debug, Clone)]
pub struct PageTiming {
    pub stem: String,
    pub wall: Duration,
    pub cargo: Duration,
}

/// Replays `pages` (markdown files under `root`) in order, starting in
/// `workdir`. Every background job still running at the end, or when a page
/// fails, is killed.
pub fn replay_pages(
    root: &Path,
    pages: &[PathBuf],
    workdir: &Path,
) -> Result<Replayed> {
    let mut session = Session::new(workdir, reader_environment(std::env::vars_os()));
    let mut timings = Vec::new();
    for page in pages {
        timings.push(replay_page(&mut session, root, page)?);
    }
    Ok(Replayed {
        pages: timings,
        crate_dir: session.cwd.clone(),
    })
}

// ---------------------------------------------------------------------------
// The pages

static SUMMARY_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\]\(\s*([^)\s#]+)[^)]*\)").unwrap());

/// The quick start's pages in SUMMARY order: every link of
/// `book/src/SUMMARY.md` whose target starts with `quickstart/`.
pub fn quickstart_pages(root: &Path) -> Result<Vec<PathBuf>> {
    let src = root.join("book/src");
    let summary = src.join("SUMMARY.md");
    let text = std::fs::read_to_string(&summary)
        .with_context(|| format!("reading {}", summary.display()))?;
    let mut pages = Vec::new();
    for cap in SUMMARY_LINK.captures_iter(&text) {
        let page = src.join(&cap[1]);
        if cap[1].starts_with("quickstart/") && !pages.contains(&page) {
            pages.push(page);
        }
    }
    ensure!(
        !pages.is_empty(),
        "book/src/SUMMARY.md links no quick start page (no link to `quickstart/...`): \
         there is nothing to replay"
    );
    Ok(pages)
}

/// What a page does, in page order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A listing of a file of `examples/quickstart/STEPDIR/`, to be written into the crate.
    Write(FileListing),
    /// A `$ ` line of a console block, with the output shown under it.
    Run(ConsoleCommand),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileListing {
    /// `page.md:line` of the include, for messages.
    pub location: String,
    /// The file in `examples/quickstart/STEPDIR/`.
    pub source: PathBuf,
    /// Where it goes, relative to the current directory (its path below STEPDIR).
    pub dest: PathBuf,
    /// Whether STEPDIR ends in `-solution`.
    pub solution: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleCommand {
    /// `page.md:line` of the `$ ` line.
    pub location: String,
    /// The page line of the first expected output line.
    pub output_line: usize,
    /// The command as the page shows it, without `$ `.
    pub text: String,
    pub action: Action,
    /// The lines the page shows under the command.
    pub expected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Cd(PathBuf),
    Run(Program),
    Kill { job: usize, signal: Signal },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub env: Vec<(String, String)>,
    pub program: String,
    pub args: Vec<String>,
    /// Ends in `&`: a background job.
    pub background: bool,
}

impl Program {
    fn is_cargo(&self) -> bool {
        Path::new(&self.program).file_name() == Some("cargo".as_ref())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    fn number(self) -> i32 {
        match self {
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
        }
    }
}

/// A page's steps. `page` is the markdown file under `root`; its includes
/// are resolved against its folder.
pub fn parse_page(root: &Path, page: &Path, text: &str) -> Result<Vec<Step>> {
    let rel = relative_name(root, page);
    let quickstart_examples = normalize_path(&root.join("examples/quickstart"));
    let page_dir = normalize_path(page.parent().unwrap_or(root));
    let mut steps = Vec::new();
    for fence in fenced_blocks(text) {
        if fence.is_console() {
            steps.extend(console_commands(&rel, &fence)?.into_iter().map(Step::Run));
        } else if let Some(listing) =
            file_listing(&rel, &quickstart_examples, &page_dir, &fence)
        {
            steps.push(Step::Write(listing));
        }
    }
    Ok(steps)
}

fn relative_name(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A fenced code block: its info string, and its body lines with their
/// (1-based) line numbers.
struct Fence<'a> {
    info: &'a str,
    body: Vec<(usize, &'a str)>,
}

impl Fence<'_> {
    fn is_console(&self) -> bool {
        self.info.split([',', ' ', '\t']).next() == Some("console")
    }
}

fn fenced_blocks(text: &str) -> Vec<Fence<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut fences = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, marker, info)) = opening_fence(lines[i]) else {
            i += 1;
            continue;
        };
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !closes_fence(lines[i], marker) {
            body.push((i + 1, strip_indent(lines[i], indent)));
            i += 1;
        }
        i += 1;
        fences.push(Fence { info, body });
    }
    fences
}

/// `(indent, marker, info)` of a line opening a fence (three or more
/// backticks or tildes).
fn opening_fence(line: &str) -> Option<(usize, &str, &str)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let length = trimmed.len() - trimmed.trim_start_matches(fence_char).len();
    let info = trimmed[length..].trim();
    (length >= 3 && !(fence_char == '`' && info.contains('`'))).then(|| {
        let marker = &trimmed[..length];
        (indent, marker, info)
    })
}

fn closes_fence(line: &str, marker: &str) -> bool {
    let trimmed = line.trim();
    let fence_char = marker.chars().next().unwrap_or('`');
    trimmed.len() >= marker.len() && trimmed.chars().all(|c| c == fence_char)
}

fn strip_indent(line: &str, indent: usize) -> &str {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    &line[spaces.min(indent)..]
}

static WHOLE_FILE_INCLUDE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\{\{#include\s+([^}\s]+)\s*\}\}$").unwrap());

/// The file a block lists, if its body is one `{{#include PATH}}` of a whole
/// file under `examples/quickstart/STEPDIR/`.
fn file_listing(
    rel: &str,
    quickstart_examples: &Path,
    page_dir: &Path,
    fence: &Fence,
) -> Option<FileListing> {
    let [(line, body)] = fence.body.as_slice() else {
        return None;
    };
    let cap = WHOLE_FILE_INCLUDE.captures(body.trim())?;
    let path = &cap[1];
    if path.contains(':') {
        return None; // an anchor or a line range: a part, shown only
    }
    let source = normalize_path(&page_dir.join(path));
    let inside = source.strip_prefix(quickstart_examples).ok()?;
    let mut components = inside.components();
    let step_dir = components.next()?.as_os_str().to_str()?.to_owned();
    let dest = components.as_path().to_path_buf();
    if dest.as_os_str().is_empty() {
        return None;
    }
    Some(FileListing {
        location: format!("{rel}:{line}"),
        source,
        dest,
        solution: step_dir.ends_with("-solution"),
    })
}

/// The commands of a console block, each with the lines shown under it.
fn console_commands(rel: &str, fence: &Fence) -> Result<Vec<ConsoleCommand>> {
    let mut commands: Vec<ConsoleCommand> = Vec::new();
    for &(line, text) in &fence.body {
        let location = format!("{rel}:{line}");
        if let Some(command) = text.strip_prefix("$ ") {
            let action = parse_command(command).map_err(|why| {
                anyhow::anyhow!("{location}: `{command}`: {why}\n{SUPPORTED_SHELL}")
            })?;
            commands.push(ConsoleCommand {
                location,
                output_line: line + 1,
                text: command.trim().to_owned(),
                action,
                expected: Vec::new(),
            });
        } else if text.trim_end() == "$" {
            bail!("{location}: a `$` without a command");
        } else if let Some(last) = commands.last_mut() {
            last.expected.push(text.to_owned());
        } else if !text.trim().is_empty() {
            bail!(
                "{location}: a console block must start with a `$ ` command line; \
                 this output belongs to no command"
            );
        }
    }
    Ok(commands)
}

const SUPPORTED_SHELL: &str = "The quick start's console blocks support `cd DIR`, \
     `[VAR=value ...] PROGRAM ARGS... [&]` and `kill [-INT|-TERM] %N`, with whole words \
     quoted as 'word' or \"word\" (see crates/xtask/src/quickstart.rs).";

/// Characters a shell would interpret in an unquoted word.
const SHELL_SPECIAL: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '*', '?', '[', ']', '{', '}',
    '!',
];

/// Builtins a reader's shell runs itself; the replay does not have them.
const SHELL_BUILTINS: &[&str] = &[
    "export", "source", ".", "set", "unset", "alias", "wait", "fg", "bg", "jobs",
    "exit", "pushd", "popd", "eval", "exec", "trap", "ulimit", "umask", "disown",
];

/// One command line → what the replay does; `Err` says what is not supported.
fn parse_command(command: &str) -> Result<Action, String> {
    let (command, background) = split_background(command);
    let words = shell_words(command)?;
    let assignments = words
        .iter()
        .take_while(|w| !w.quoted && as_assignment(&w.text).is_some())
        .count();
    let env: Vec<(String, String)> = words[..assignments]
        .iter()
        .filter_map(|w| as_assignment(&w.text))
        .collect();
    let Some(program) = words.get(assignments) else {
        return Err("there is no command to run".into());
    };
    let args: Vec<String> = words[assignments + 1..]
        .iter()
        .map(|w| w.text.clone())
        .collect();
    let plain = env.is_empty() && !background;
    match program.text.as_str() {
        "cd" => match args.as_slice() {
            [dir] if plain && Path::new(dir).is_relative() => {
                Ok(Action::Cd(PathBuf::from(dir)))
            }
            [dir] if plain => {
                Err(format!("`cd {dir}`: the directory must be relative"))
            }
            _ => Err("`cd` takes one directory, and no `VAR=value` or `&`".into()),
        },
        "kill" if plain => parse_kill(&args),
        "kill" => Err("`kill` takes no `VAR=value` or `&`".into()),
        builtin if SHELL_BUILTINS.contains(&builtin) => Err(format!(
            "`{builtin}` is a shell builtin the replay does not run"
        )),
        _ => Ok(Action::Run(Program {
            env,
            program: program.text.clone(),
            args,
            background,
        })),
    }
}

/// `cmd args &` → (`cmd args`, true).
fn split_background(command: &str) -> (&str, bool) {
    let trimmed = command.trim_end();
    match trimmed.strip_suffix('&') {
        Some(rest) if rest.ends_with([' ', '\t']) => (rest, true),
        _ => (trimmed, false),
    }
}

fn parse_kill(args: &[String]) -> Result<Action, String> {
    let (signal, job) =
        match args {
            [job] => (Signal::Term, job),
            [flag, job] if flag == "-TERM" => (Signal::Term, job),
            [flag, job] if flag == "-INT" => (Signal::Int, job),
            _ => return Err(
                "only `kill %N`, `kill -TERM %N` and `kill -INT %N` are supported"
                    .into(),
            ),
        };
    match job.strip_prefix('%').and_then(|n| n.parse::<usize>().ok()) {
        Some(job) if job > 0 => Ok(Action::Kill { job, signal }),
        _ => Err(format!("`{job}` is not a job (`%1`, `%2`, ...)")),
    }
}

#[derive(Debug)]
struct Word {
    text: String,
    /// The word started with a quote (so it cannot be `VAR=value`).
    quoted: bool,
}

/// Splits a command line into words: spaces separate them, a whole word or
/// the value of `VAR=value` may be quoted; whatever else a shell would
/// interpret is refused.
fn shell_words(command: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut chars = command.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            break;
        };
        if first == '\'' || first == '"' {
            chars.next();
            let text = quoted(&mut chars, first)?;
            end_of_word(&mut chars)?;
            words.push(Word { text, quoted: true });
            continue;
        }
        if first == '~' || first == '#' {
            return Err(format!("`{first}` at the start of a word is shell syntax"));
        }
        let mut text = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            if c == '\'' || c == '"' {
                if !(text.ends_with('=') && as_assignment(&text).is_some()) {
                    return Err(
                        "a quote inside a word: quote whole words, or the value of VAR=value"
                            .into(),
                    );
                }
                text.push_str(&quoted(&mut chars, c)?);
                end_of_word(&mut chars)?;
                break;
            }
            if SHELL_SPECIAL.contains(&c) {
                let what = if c == '&' && chars.peek() == Some(&'&') {
                    "&&".to_owned()
                } else {
                    c.to_string()
                };
                return Err(format!(
                    "`{what}` is shell syntax the replay does not support"
                ));
            }
            text.push(c);
        }
        words.push(Word {
            text,
            quoted: false,
        });
    }
    Ok(words)
}

/// The rest of a quoted word after its opening `quote`, up to the closing one.
fn quoted(
    chars: &mut impl Iterator<Item = char>,
    quote: char,
) -> Result<String, String> {
    let mut text = String::new();
    for c in chars.by_ref() {
        if c == quote {
            return Ok(text);
        }
        if quote == '"' && ['$', '`', '\\', '!'].contains(&c) {
            return Err(format!(
                "`{c}` inside double quotes is shell syntax; use single quotes"
            ));
        }
        text.push(c);
    }
    Err(format!("no closing {quote}"))
}

fn end_of_word(
    chars: &mut std::iter::Peekable<std::str::Chars>,
) -> Result<(), String> {
    match chars.peek() {
        None => Ok(()),
        Some(c) if c.is_whitespace() => Ok(()),
        Some(_) => {
            Err("text right after a closing quote: quote the whole word".into())
        }
    }
}

/// `NAME=value` with a shell variable name → `(NAME, value)`.
fn as_assignment(word: &str) -> Option<(String, String)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| (name.to_owned(), value.to_owned()))
}

// ---------------------------------------------------------------------------
// Comparing output

/// Whether the output a page shows is a failing command's: a line starting
/// `error:`, `error[` or `Error:`.
pub fn shows_error(expected: &[String]) -> bool {
    expected.iter().any(|l| {
        ["error:", "error[", "Error:"]
            .iter()
            .any(|p| l.starts_with(p))
    })
}

/// An id placeholder of a normalised line: `<trace#n>` or `<span#n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum IdVar {
    Trace(usize),
    Span(usize),
}

/// Which real id each placeholder of a page stands for, one to one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Bindings {
    ids: BTreeMap<IdVar, String>,
    vars: BTreeMap<String, IdVar>,
}

impl Bindings {
    /// Binds `var` to `id`; false if either is already bound to another.
    fn bind(&mut self, var: IdVar, id: &str) -> bool {
        match (self.ids.get(&var), self.vars.get(id)) {
            (Some(bound), _) => bound == id,
            (None, Some(_)) => false,
            (None, None) => {
                self.ids.insert(var, id.to_owned());
                self.vars.insert(id.to_owned(), var);
                true
            }
        }
    }

    /// Actual lines as the page would show them: bound ids as their
    /// placeholders, other ids numbered after them, durations replaced.
    fn shown(&self, lines: &[String]) -> Vec<String> {
        let mut names = self.vars.clone();
        let mut name = |id: &str, kind: fn(usize) -> IdVar| {
            let next = 1 + names
                .values()
                .filter(|v| v.same_kind(kind(0)))
                .map(|v| v.number())
                .max()
                .unwrap_or(0);
            names
                .entry(id.to_owned())
                .or_insert(kind(next))
                .placeholder()
        };
        lines
            .iter()
            .map(|line| {
                let line = TRACE_ID.replace_all(line, |c: &regex::Captures| {
                    name(&c[0], IdVar::Trace)
                });
                let line = SPAN_ID.replace_all(&line, |c: &regex::Captures| {
                    name(&c[0], IdVar::Span)
                });
                DURATION.replace_all(&line, "<duration>").into_owned()
            })
            .collect()
    }
}

impl IdVar {
    fn number(self) -> usize {
        match self {
            IdVar::Trace(n) | IdVar::Span(n) => n,
        }
    }

    fn same_kind(self, other: IdVar) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }

    fn placeholder(self) -> String {
        match self {
            IdVar::Trace(n) => format!("<trace#{n}>"),
            IdVar::Span(n) => format!("<span#{n}>"),
        }
    }
}

/// One line of expected output, ready to match.
#[derive(Debug)]
enum PatternLine {
    /// `...`: any number of lines.
    AnyLines,
    /// A line; `[..]`, ids and durations are holes in `regex`, ids captured in order.
    Line { regex: Regex, ids: Vec<IdVar> },
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[\.\.\]|<trace#(\d+)>|<span#(\d+)>|<duration>").unwrap()
});

impl PatternLine {
    /// A normalised expected line as a pattern.
    fn compile(line: &str) -> PatternLine {
        if line == "..." {
            return PatternLine::AnyLines;
        }
        let mut regex = String::from("^");
        let mut ids = Vec::new();
        let mut last = 0;
        for cap in PLACEHOLDER.captures_iter(line) {
            let whole = cap.get(0).unwrap();
            regex.push_str(&regex::escape(&line[last..whole.start()]));
            last = whole.end();
            if let Some(n) = cap.get(1) {
                regex.push_str("([0-9a-f]{32})");
                ids.push(IdVar::Trace(n.as_str().parse().unwrap_or(0)));
            } else if let Some(n) = cap.get(2) {
                regex.push_str("([0-9a-f]{16})");
                ids.push(IdVar::Span(n.as_str().parse().unwrap_or(0)));
            } else if whole.as_str() == "<duration>" {
                regex.push_str(&format!("(?:{DURATION_PATTERN})"));
            } else {
                regex.push_str(".*");
            }
        }
        regex.push_str(&regex::escape(&line[last..]));
        regex.push('$');
        PatternLine::Line {
            regex: Regex::new(&regex)
                .expect("escaped text and fixed holes form a regex"),
            ids,
        }
    }

    /// The bindings extended by this line's ids, if `actual` matches it.
    fn match_line(&self, actual: &str, bindings: &Bindings) -> Option<Bindings> {
        let PatternLine::Line { regex, ids } = self else {
            return None;
        };
        let captures = regex.captures(actual)?;
        let mut bindings = bindings.clone();
        for (i, var) in ids.iter().enumerate() {
            if !bindings.bind(*var, &captures[i + 1]) {
                return None;
            }
        }
        Some(bindings)
    }
}

/// A successful match: the page's bindings after it, and how many actual
/// lines the pattern covered.
#[derive(Debug)]
struct Matched {
    bindings: Bindings,
    consumed: usize,
}

/// How far the best attempt got: (pattern line, actual line) of the first difference.
type Furthest = (usize, usize);

/// Matches `pattern` against `actual` (all of it when `whole`, else a
/// prefix of it, as short as possible), consistently with the ids bound so far.
fn match_lines(
    pattern: &[PatternLine],
    actual: &[String],
    bindings: &Bindings,
    whole: bool,
) -> Result<Matched, Furthest> {
    let mut matcher = Matcher {
        pattern,
        actual,
        whole,
        failed: HashSet::new(),
        furthest: (0, 0),
    };
    matcher.from(0, 0, bindings).ok_or(matcher.furthest)
}

struct Matcher<'a> {
    pattern: &'a [PatternLine],
    actual: &'a [String],
    whole: bool,
    /// Positions already known not to match, with the bindings they were tried with.
    failed: HashSet<(usize, usize, Bindings)>,
    furthest: Furthest,
}

impl Matcher<'_> {
    fn from(&mut self, p: usize, a: usize, bindings: &Bindings) -> Option<Matched> {
        if p == self.pattern.len() {
            if !self.whole || a == self.actual.len() {
                return Some(Matched {
                    bindings: bindings.clone(),
                    consumed: a,
                });
            }
            self.furthest = self.furthest.max((p, a));
            return None;
        }
        let key = (p, a, bindings.clone());
        if self.failed.contains(&key) {
            return None;
        }
        let found = match &self.pattern[p] {
            PatternLine::AnyLines => {
                (a..=self.actual.len()).find_map(|k| self.from(p + 1, k, bindings))
            }
            line => match self
                .actual
                .get(a)
                .and_then(|actual| line.match_line(actual, bindings))
            {
                Some(extended) => self.from(p + 1, a + 1, &extended),
                None => {
                    self.furthest = self.furthest.max((p, a));
                    None
                }
            },
        };
        if found.is_none() {
            self.failed.insert(key);
        }
        found
    }
}

/// The page's side of a comparison: lines normalised page-wide, and patterns.
struct Expected {
    shown: Vec<String>,
    pattern: Vec<PatternLine>,
}

/// One page's comparisons: the numbering of the ids the page shows, and the
/// real ids they stand for, both kept from one command to the next.
#[derive(Default)]
struct PageCheck {
    numbering: Normalizer,
    bindings: Bindings,
}

/// What a comparison is about, for its error message.
struct Subject<'a> {
    /// `page.md:line` of the command.
    location: &'a str,
    /// What printed the output: "`cargo run`", or a job's output at its `kill`.
    what: String,
    /// Page line of the first expected line.
    first_line: usize,
}

impl PageCheck {
    /// Normalises the next expected lines of the page, in page order.
    fn expect(&mut self, lines: &[String]) -> Expected {
        let shown: Vec<String> =
            lines.iter().map(|l| self.numbering.line(l)).collect();
        let pattern = shown.iter().map(|l| PatternLine::compile(l)).collect();
        Expected { shown, pattern }
    }

    /// Requires `actual` to match all of `expected`.
    fn compare(
        &mut self,
        subject: &Subject,
        expected: &[String],
        actual: &[String],
    ) -> Result<()> {
        let expected = self.expect(without_trailing_blank_lines(expected));
        let actual = without_trailing_blank_lines(actual);
        match match_lines(&expected.pattern, actual, &self.bindings, true) {
            Ok(matched) => {
                self.bindings = matched.bindings;
                Ok(())
            }
            Err(furthest) => bail!(
                "{}",
                self.mismatch(subject, &expected.shown, actual, furthest)
            ),
        }
    }

    /// Whether `actual` begins with `expected`; if so, binds its ids and
    /// returns how many lines of `actual` that took.
    fn prefix(&mut self, expected: &Expected, actual: &[String]) -> Option<usize> {
        let matched =
            match_lines(&expected.pattern, actual, &self.bindings, false).ok()?;
        self.bindings = matched.bindings;
        Some(matched.consumed)
    }

    /// Why `actual` does not begin with `expected`.
    fn prefix_mismatch(
        &self,
        subject: &Subject,
        expected: &Expected,
        actual: &[String],
    ) -> String {
        let furthest =
            match match_lines(&expected.pattern, actual, &self.bindings, false) {
                Ok(_) => (expected.pattern.len(), actual.len()),
                Err(furthest) => furthest,
            };
        self.mismatch(subject, &expected.shown, actual, furthest)
    }

    fn mismatch(
        &self,
        subject: &Subject,
        expected: &[String],
        actual: &[String],
        (p, a): Furthest,
    ) -> String {
        let actual = self.bindings.shown(actual);
        let page_side = match expected.get(p) {
            Some(line) => format!("page line {}: {line}", subject.first_line + p),
            None => "the end of the page's output".to_owned(),
        };
        let actual_side = match actual.get(a) {
            Some(line) => format!("output line {}: {line}", a + 1),
            None => "the end of the output".to_owned(),
        };
        format!(
            "{}: {} printed something else than the page shows (ids and durations are \
             compared by shape; `...` and `[..]` are wildcards).\n\
             First difference: {page_side}\n                  {actual_side}\n\
             page (normalised):\n  {}\nactual (normalised):\n  {}",
            subject.location,
            subject.what,
            expected.join("\n  "),
            actual.join("\n  ")
        )
    }
}

fn without_trailing_blank_lines(lines: &[String]) -> &[String] {
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    &lines[..end]
}

/// Output as a terminal shows it, line by line: colour codes removed, only
/// what follows the last carriage return of a line, trailing whitespace removed.
fn terminal_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let line = strip_ansi(line);
            let line = line.trim_end_matches('\r');
            line.rsplit('\r')
                .next()
                .unwrap_or_default()
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// The lines of `text` that are complete (ended by a newline).
fn complete_lines(text: &str) -> Vec<String> {
    terminal_lines(&text[..text.rfind('\n').map_or(0, |i| i + 1)])
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters, then one final byte in @..~
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}'
                        || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some())
                    {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Files

/// Writes a listed file into the crate; checks a `Cargo.toml` first.
fn write_listing(cwd: &Path, listing: &FileListing) -> Result<()> {
    let bytes = std::fs::read(&listing.source).with_context(|| {
        format!(
            "{}: reading the listed file {}",
            listing.location,
            listing.source.display()
        )
    })?;
    let dest = cwd.join(&listing.dest);
    if listing.dest == Path::new("Cargo.toml") {
        let made = std::fs::read_to_string(&dest).with_context(|| {
            format!(
                "{}: the page shows Cargo.toml, but the crate has none yet ({})",
                listing.location,
                dest.display()
            )
        })?;
        let shown = String::from_utf8_lossy(&bytes);
        if let Err(differences) = compare_dependency_tables(&made, &shown) {
            bail!(
                "{}: the page's Cargo.toml ({}) does not have the dependencies the crate's \
                 commands (`cargo new`, `cargo add`) made:\n  {}",
                listing.location,
                listing.source.display(),
                differences.join("\n  ")
            );
        }
    }
    if std::fs::read(&dest).ok().as_deref() != Some(&bytes[..]) {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&dest, &bytes)
            .with_context(|| format!("writing {}", dest.display()))?;
    }
    Ok(())
}

/// The dependency tables whose entries a manifest listing must share with
/// the manifest the commands made.
const DEPENDENCY_TABLES: [&str; 3] =
    ["dependencies", "dev-dependencies", "build-dependencies"];

/// Compares the dependency tables of two manifests; `Err` lists each entry
/// that differs, naming its table and crate.
pub fn compare_dependency_tables(
    made: &str,
    shown: &str,
) -> Result<(), Vec<String>> {
    let parse = |text: &str, what: &str| {
        text.parse::<toml::Table>()
            .map_err(|e| vec![format!("{what} is not valid TOML: {e}")])
    };
    let made = parse(made, "the crate's Cargo.toml")?;
    let shown = parse(shown, "the page's Cargo.toml")?;
    let empty = toml::Table::new();
    let mut differences = Vec::new();
    for table in DEPENDENCY_TABLES {
        let entries = |manifest: &toml::Table| {
            manifest
                .get(table)
                .and_then(toml::Value::as_table)
                .cloned()
                .unwrap_or_else(|| empty.clone())
        };
        let (made, shown) = (entries(&made), entries(&shown));
        let names: BTreeSet<&String> = made.keys().chain(shown.keys()).collect();
        for name in names {
            let (a, b) = (made.get(name), shown.get(name));
            if a != b {
                let show = |v: Option<&toml::Value>| {
                    v.map_or("nothing".to_owned(), |v| format!("`{name} = {v}`"))
                };
                differences.push(format!(
                    "[{table}] {name}: the crate has {}, the page shows {}",
                    show(a),
                    show(b)
                ));
            }
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(differences)
    }
}

/// The crate's files (all but those under `target/` and `.venv/`) at one
/// moment, to put back at the end of a page that listed a solution.
#[derive(Debug)]
pub struct Snapshot {
    dir: PathBuf,
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
}

/// Top-level folders of the crate a snapshot leaves alone.
const NOT_SNAPSHOTTED: [&str; 2] = ["target", ".venv"];

impl Snapshot {
    pub fn take(dir: &Path) -> Result<Snapshot> {
        let (files, dirs) = crate_contents(dir)?;
        let files = files
            .into_iter()
            .map(|rel| {
                let bytes = std::fs::read(dir.join(&rel)).with_context(|| {
                    format!("reading {}", dir.join(&rel).display())
                })?;
                Ok((rel, bytes))
            })
            .collect::<Result<_>>()?;
        Ok(Snapshot {
            dir: dir.to_path_buf(),
            files,
            dirs,
        })
    }

    /// Deletes what was added since, and rewrites what changed.
    pub fn restore(&self) -> Result<()> {
        let (files, dirs) = crate_contents(&self.dir)?;
        for rel in dirs.iter().filter(|d| !self.dirs.contains(*d)) {
            let path = self.dir.join(rel);
            if path.exists() {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
        for rel in files.iter().filter(|f| !self.files.contains_key(*f)) {
            let path = self.dir.join(rel);
            if path.exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
        for rel in &self.dirs {
            std::fs::create_dir_all(self.dir.join(rel))?;
        }
        for (rel, bytes) in &self.files {
            let path = self.dir.join(rel);
            if std::fs::read(&path).ok().as_ref() != Some(bytes) {
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// The files and folders under `dir` (relative), but for `target/` and
/// `.venv/` at its top; symbolic links are left out.
fn crate_contents(dir: &Path) -> Result<(BTreeSet<PathBuf>, BTreeSet<PathBuf>)> {
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let path = dir.join(&rel);
        for entry in std::fs::read_dir(&path)
            .with_context(|| format!("reading {}", path.display()))?
        {
            let entry = entry?;
            let child = rel.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if rel.as_os_str().is_empty()
                    && NOT_SNAPSHOTTED.iter().any(|n| entry.file_name() == *n)
                {
                    continue;
                }
                dirs.insert(child.clone());
                stack.push(child);
            } else if kind.is_file() {
                files.insert(child);
            }
        }
    }
    Ok((files, dirs))
}

// ---------------------------------------------------------------------------
// Running commands

/// The environment of a reader's shell, made from the xtask's (see the module doc).
pub fn reader_environment(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vars
        .into_iter()
        .filter(|(name, _)| name.to_str().is_some_and(in_reader_shell))
        .collect();
    for (name, value) in [
        ("CARGO_TERM_COLOR", "never"),
        ("NO_COLOR", "1"),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        ("PIP_NO_INPUT", "1"),
    ] {
        env.retain(|(n, _)| n != name);
        env.push((name.into(), value.into()));
    }
    env
}

/// Whether a variable of the xtask's environment is one a reader's shell has too.
fn in_reader_shell(name: &str) -> bool {
    const CARGO_SETTINGS: [&str; 4] = [
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    if name.starts_with("OTEL_")
        || ["BOOK_RESULTS_DIR", "CRITERION_HOME"].contains(&name)
    {
        return false;
    }
    if name.starts_with("RUSTUP_") || name == "CARGO_HOME" {
        return true;
    }
    if name.starts_with("CARGO") {
        return CARGO_SETTINGS.iter().any(|p| name.starts_with(p))
            || ["CARGO_INCREMENTAL", "CARGO_BUILD_JOBS"].contains(&name);
    }
    !name.starts_with("RUST")
}

/// A process in its own process group with stdout and stderr in one pipe,
/// read into a buffer on a thread. Dropping it kills the whole group.
struct Spawned {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    pipe_closed: Arc<AtomicBool>,
}

fn spawn_merged(mut cmd: Command) -> std::io::Result<Spawned> {
    let (mut reader, writer) = std::io::pipe()?;
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .process_group(0);
    die_with_parent(&mut cmd);
    let child = cmd.spawn()?;
    // The command holds the pipe's write end: drop it, or the reader never sees the end.
    drop(cmd);
    let output = Arc::new(Mutex::new(Vec::new()));
    let pipe_closed = Arc::new(AtomicBool::new(false));
    let (buffer, closed) = (output.clone(), pipe_closed.clone());
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buffer.lock().unwrap().extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        closed.store(true, Ordering::SeqCst);
    });
    Ok(Spawned {
        child,
        output,
        pipe_closed,
    })
}

/// On Linux, the child is killed if the xtask dies (Ctrl-C) before it could
/// kill the child's group itself.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

impl Spawned {
    fn signal_group(&self, signal: i32) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory effects; the group is the child's own.
        unsafe {
            libc::kill(-group, signal);
        }
    }

    fn text_so_far(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Its exit status, if it exits within `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Result<Option<ExitStatus>> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if start.elapsed() > limit {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything it printed, once it exited: waits for the pipe to close,
    /// killing the rest of its group if something there still holds it.
    fn final_text(&self) -> String {
        let closed = |limit: Duration| {
            let start = Instant::now();
            while !self.pipe_closed.load(Ordering::SeqCst) && start.elapsed() < limit
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        closed(PIPE_GRACE);
        if !self.pipe_closed.load(Ordering::SeqCst) {
            self.signal_group(libc::SIGKILL);
            closed(Duration::from_secs(1));
        }
        self.text_so_far()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.signal_group(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A background job: the process, its command, and how many lines of its
/// output were shown when it was started.
struct Job {
    process: Spawned,
    text: String,
    shown_at_start: usize,
    is_cargo: bool,
}

/// The reader's shell: current directory, environment and jobs. Dropping it
/// kills every job still running.
struct Session {
    /// The directory the replay started in; `cd` stays within it.
    home: PathBuf,
    cwd: PathBuf,
    env: Vec<(OsString, OsString)>,
    jobs: BTreeMap<usize, Job>,
}

/// How long a command took, and whether it counts as `cargo` time.
struct Took {
    wall: Duration,
    cargo: bool,
}

impl Session {
    fn new(dir: &Path, env: Vec<(OsString, OsString)>) -> Session {
        Session {
            home: normalize_path(dir),
            cwd: normalize_path(dir),
            env,
            jobs: BTreeMap::new(),
        }
    }

    fn run(
        &mut self,
        command: &ConsoleCommand,
        check: &mut PageCheck,
    ) -> Result<Took> {
        let start = Instant::now();
        let cargo = match &command.action {
            Action::Cd(dir) => {
                self.cd(command, dir)?;
                false
            }
            Action::Run(program) if program.background => {
                self.start_job(command, program, check)?;
                program.is_cargo()
            }
            Action::Run(program) => {
                self.run_foreground(command, program, check)?;
                program.is_cargo()
            }
            Action::Kill { job, signal } => {
                self.kill(command, *job, *signal, check)?
            }
        };
        Ok(Took {
            wall: start.elapsed(),
            cargo,
        })
    }

    fn cd(&mut self, command: &ConsoleCommand, dir: &Path) -> Result<()> {
        ensure!(
            without_trailing_blank_lines(&command.expected).is_empty(),
            "{}: `cd` prints nothing, but the page shows output under it",
            command.location
        );
        let target = normalize_path(&self.cwd.join(dir));
        ensure!(
            target.starts_with(&self.home),
            "{}: `{}` leaves the replay's directory {}",
            command.location,
            command.text,
            self.home.display()
        );
        ensure!(
            target.is_dir(),
            "{}: `{}`: there is no directory {}",
            command.location,
            command.text,
            target.display()
        );
        self.cwd = target;
        Ok(())
    }

    fn command(&self, program: &Program) -> Command {
        let executable = if program.program.contains('/') {
            self.cwd.join(&program.program)
        } else {
            PathBuf::from(&program.program)
        };
        let mut cmd = Command::new(executable);
        cmd.args(&program.args)
            .current_dir(&self.cwd)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(program.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn spawn(&self, command: &ConsoleCommand, program: &Program) -> Result<Spawned> {
        spawn_merged(self.command(program)).with_context(|| {
            format!(
                "{}: `{}`: cannot start `{}` (in {})",
                command.location,
                command.text,
                program.program,
                self.cwd.display()
            )
        })
    }

    fn run_foreground(
        &mut self,
        command: &ConsoleCommand,
        program: &Program,
        check: &mut PageCheck,
    ) -> Result<()> {
        let limit = if program.is_cargo() {
            CARGO_LIMIT
        } else {
            OTHER_LIMIT
        };
        let mut process = self.spawn(command, program)?;
        let Some(status) = process.wait_exit(limit)? else {
            bail!(
                "{}: `{}` did not finish within {} s; its output so far:\n{}",
                command.location,
                command.text,
                limit.as_secs(),
                process.text_so_far()
            );
        };
        let text = process.final_text();
        drop(process);
        check_exit_status(command, status, &text)?;
        check.compare(
            &Subject {
                location: &command.location,
                what: format!("`{}`", command.text),
                first_line: command.output_line,
            },
            &command.expected,
            &terminal_lines(&text),
        )
    }

    /// Starts a job and waits until it printed the lines shown under it.
    fn start_job(
        &mut self,
        command: &ConsoleCommand,
        program: &Program,
        check: &mut PageCheck,
    ) -> Result<()> {
        let number = self.jobs.keys().next_back().map_or(1, |n| n + 1);
        let (expected, first_line) = without_job_line(command, number)?;
        let mut process = self.spawn(command, program)?;
        let expected = check.expect(without_trailing_blank_lines(expected));
        let subject = Subject {
            location: &command.location,
            what: format!("job %{number} `{}`", command.text),
            first_line,
        };
        let deadline = Instant::now() + READY_LIMIT;
        let shown_at_start = loop {
            if let Some(n) =
                check.prefix(&expected, &complete_lines(&process.text_so_far()))
            {
                break n;
            }
            if let Some(status) = process.child.try_wait()? {
                // It may have printed its lines just before it exited.
                let lines = terminal_lines(&process.final_text());
                match check.prefix(&expected, &lines) {
                    Some(n) => break n,
                    None => bail!(
                        "job %{number} exited ({status}) before it printed what the page shows:\n{}",
                        check.prefix_mismatch(&subject, &expected, &lines)
                    ),
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "job %{number} did not print what the page shows within {} s:\n{}",
                    READY_LIMIT.as_secs(),
                    check.prefix_mismatch(
                        &subject,
                        &expected,
                        &terminal_lines(&process.text_so_far())
                    )
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        self.jobs.insert(
            number,
            Job {
                process,
                text: command.text.clone(),
                shown_at_start,
                is_cargo: program.is_cargo(),
            },
        );
        Ok(())
    }

    fn kill(
        &mut self,
        command: &ConsoleCommand,
        number: usize,
        signal: Signal,
        check: &mut PageCheck,
    ) -> Result<bool> {
        let Some(mut job) = self.jobs.remove(&number) else {
            bail!(
                "{}: `{}`: there is no job %{number} (running: {})",
                command.location,
                command.text,
                self.job_list()
            );
        };
        job.process.signal_group(signal.number());
        if job.process.wait_exit(KILL_LIMIT)?.is_none() {
            bail!(
                "{}: job %{number} `{}` did not exit within {} s of `{}` (it is killed now)",
                command.location,
                job.text,
                KILL_LIMIT.as_secs(),
                command.text
            );
        }
        let text = job.process.final_text();
        let lines = terminal_lines(&text);
        let after_start = lines.get(job.shown_at_start..).unwrap_or_default();
        check.compare(
            &Subject {
                location: &command.location,
                what: format!(
                    "job %{number} `{}` (its output at `{}`)",
                    job.text, command.text
                ),
                first_line: command.output_line,
            },
            &command.expected,
            after_start,
        )?;
        Ok(job.is_cargo)
    }

    fn job_list(&self) -> String {
        if self.jobs.is_empty() {
            return "none".into();
        }
        self.jobs
            .iter()
            .map(|(n, job)| format!("%{n} `{}`", job.text))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

static JOB_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[(\d+)\] (?:\d+|\[\.\.\])$").unwrap());

/// The lines a job must print first, without bash's `[N] PID` line if the
/// page shows it (N must be the job's number); and the page line of the first.
fn without_job_line(
    command: &ConsoleCommand,
    number: usize,
) -> Result<(&[String], usize)> {
    match command
        .expected
        .first()
        .and_then(|l| JOB_LINE.captures(l.trim_end()))
    {
        Some(cap) => {
            ensure!(
                cap[1] == number.to_string(),
                "{}: `{}` is job %{number}, but the page shows it as [{}]",
                command.location,
                command.text,
                &cap[1]
            );
            Ok((&command.expected[1..], command.output_line + 1))
        }
        None => Ok((&command.expected, command.output_line)),
    }
}

/// A foreground command must exit 0 unless the page shows it failing.
fn check_exit_status(
    command: &ConsoleCommand,
    status: ExitStatus,
    text: &str,
) -> Result<()> {
    let must_fail = shows_error(&command.expected);
    if must_fail && status.success() {
        bail!(
            "{}: `{}` succeeded, but the page shows it failing (a line starts with `error:`, \
             `error[` or `Error:`); it printed:\n{text}",
            command.location,
            command.text
        );
    }
    if !must_fail && !status.success() {
        bail!(
            "{}: `{}` failed ({status}); it printed:\n{text}",
            command.location,
            command.text
        );
    }
    Ok(())
}

/// Replays one page: its listings written, its commands run and compared;
/// a solution's files taken back at the end.
fn replay_page(
    session: &mut Session,
    root: &Path,
    page: &Path,
) -> Result<PageTiming> {
    let text = std::fs::read_to_string(page)
        .with_context(|| format!("reading {}", page.display()))?;
    let steps = parse_page(root, page, &text)?;
    let mut check = PageCheck::default();
    let mut snapshot: Option<Snapshot> = None;
    let mut timing = PageTiming {
        stem: crate::examples::stem(page),
        wall: Duration::ZERO,
        cargo: Duration::ZERO,
    };
    for step in &steps {
        match step {
            Step::Write(listing) => {
                if listing.solution && snapshot.is_none() {
                    snapshot = Some(Snapshot::take(&session.cwd)?);
                }
                write_listing(&session.cwd, listing)?;
            }
            Step::Run(command) => {
                println!("    {} $ {}", command.location, command.text);
                let took = session.run(command, &mut check)?;
                timing.wall += took.wall;
                if took.cargo {
                    timing.cargo += took.wall;
                }
            }
        }
    }
    if let Some(snapshot) = snapshot {
        snapshot.restore().with_context(|| {
            format!(
                "{}: putting back the crate as it was before the solution",
                relative_name(root, page)
            )
        })?;
    }
    Ok(timing)
}

// ---------------------------------------------------------------------------
// Results

/// `quickstart/<stem>`, `quickstart/<stem>_cargo` per page, and `quickstart/total`.
fn timing_measurements(pages: &[PageTiming]) -> Vec<Measurement> {
    let seconds = |id: String, d: Duration| {
        Measurement::count(id, d.as_secs_f64(), "s").with_statistic("wall")
    };
    let mut out = Vec::new();
    for page in pages {
        out.push(seconds(format!("quickstart/{}", page.stem), page.wall));
        out.push(seconds(
            format!("quickstart/{}_cargo", page.stem),
            page.cargo,
        ));
    }
    let total = pages.iter().map(|p| p.wall).sum();
    out.push(seconds("quickstart/total".into(), total));
    out
}

/// The reader's criterion results in `<crate>/target/criterion`, read by the
/// book's one criterion reader (slope if criterion computed one, else mean):
/// id `quickstart_bench/FUNCTION`, or `quickstart_bench/GROUP_FUNCTION`
/// where two groups share a function name.
fn criterion_measurements(crate_dir: &Path) -> Result<Vec<Measurement>> {
    let fresh =
        book_results::criterion::read_all(&crate_dir.join("target/criterion"))?;
    let last = |id: &str| id.rsplit('/').next().unwrap_or(id).to_owned();
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for result in &fresh {
        *uses.entry(last(&result.measurement.id)).or_default() += 1;
    }
    Ok(fresh
        .into_iter()
        .map(|result| {
            let mut m = result.measurement;
            let name = match last(&m.id) {
                function if uses[&function] > 1 => m.id.replace('/', "_"),
                function => function,
            };
            m.id = format!("quickstart_bench/{name}");
            m
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    /// A scratch repository: `book/src/quickstart/` for pages,
    /// `examples/quickstart/` for listed files, `work/` for the replay.
    struct Fixture {
        root: PathBuf,
    }

    impl Fixture {
        fn new(name: &str) -> Fixture {
            let root = std::env::temp_dir()
                .join(format!("xtask-quickstart-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("work")).unwrap();
            Fixture { root }
        }

        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let path = self.root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }

        fn page(&self, name: &str, text: &str) -> PathBuf {
            self.write(&format!("book/src/quickstart/{name}"), text)
        }

        fn replay(&self, pages: &[PathBuf]) -> Result<Replayed> {
            replay_pages(&self.root, pages, &self.root.join("work"))
        }

        /// The error of replaying one page, as `cargo xtask` would print it.
        fn error_of(&self, page_text: &str) -> String {
            let page = self.page("01-page.md", page_text);
            let _ = std::fs::remove_dir_all(self.root.join("work"));
            std::fs::create_dir_all(self.root.join("work")).unwrap();
            format!("{:#}", self.replay(&[page]).unwrap_err())
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn steps_of(text: &str) -> Result<Vec<Step>> {
        let root = Path::new("/repo");
        parse_page(root, &root.join("book/src/quickstart/02-x.md"), text)
    }

    #[test]
    fn a_page_becomes_listings_and_commands() {
        let page = "\
# Step

```rust,noplayground
{{#include ../../../examples/quickstart/02-x/src/main.rs}}
```

Only shown: a part, another folder's file, and a block of two lines.

```toml
{{#include ../../../examples/quickstart/02-x/Cargo.toml:deps}}
```
```rust
{{#include ../../../examples/ch01_hello_trace.rs}}
```
```rust
{{#include ../../../examples/quickstart/02-x/src/lib.rs}}
// and more
```

```console
$ cargo new shop
    Creating binary (application) `shop` package
$ cd shop
$ OTEL_SERVICE_NAME=shop FOO=\"a b\" cargo run --release &
[..]Running `target/release/shop`
listening
$ kill -INT %1
bye
$ kill %2
```

- In a list:

  ```text
  {{#include ../../../examples/quickstart/02-x-solution/src/pipeline.rs}}
  ```
";
        let steps = steps_of(page).unwrap();
        let listing = |line: usize, source: &str, dest: &str, solution: bool| {
            Step::Write(FileListing {
                location: format!("book/src/quickstart/02-x.md:{line}"),
                source: PathBuf::from("/repo/examples/quickstart").join(source),
                dest: PathBuf::from(dest),
                solution,
            })
        };
        let command =
            |line: usize, text: &str, action: Action, expected: &[&str]| {
                Step::Run(ConsoleCommand {
                    location: format!("book/src/quickstart/02-x.md:{line}"),
                    output_line: line + 1,
                    text: text.into(),
                    action,
                    expected: lines(expected),
                })
            };
        let program = |env: &[(&str, &str)], args: &[&str], background: bool| {
            Action::Run(Program {
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                program: "cargo".into(),
                args: lines(args),
                background,
            })
        };
        assert_eq!(
            steps,
            vec![
                listing(4, "02-x/src/main.rs", "src/main.rs", false),
                command(
                    21,
                    "cargo new shop",
                    program(&[], &["new", "shop"], false),
                    &["    Creating binary (application) `shop` package"]
                ),
                command(23, "cd shop", Action::Cd("shop".into()), &[]),
                command(
                    24,
                    "OTEL_SERVICE_NAME=shop FOO=\"a b\" cargo run --release &",
                    program(
                        &[("OTEL_SERVICE_NAME", "shop"), ("FOO", "a b")],
                        &["run", "--release"],
                        true
                    ),
                    &["[..]Running `target/release/shop`", "listening"]
                ),
                command(
                    27,
                    "kill -INT %1",
                    Action::Kill {
                        job: 1,
                        signal: Signal::Int
                    },
                    &["bye"]
                ),
                command(
                    29,
                    "kill %2",
                    Action::Kill {
                        job: 2,
                        signal: Signal::Term
                    },
                    &[]
                ),
                listing(
                    35,
                    "02-x-solution/src/pipeline.rs",
                    "src/pipeline.rs",
                    true
                ),
            ]
        );
    }

    #[test]
    fn shell_syntax_beyond_the_subset_is_refused_naming_the_line() {
        for (command, reason) in [
            ("cat a | wc -l", "`|`"),
            ("cargo build && cargo run", "`&&`"),
            ("cargo build; cargo run", "`;`"),
            ("cargo run > out.txt", "`>`"),
            ("echo $HOME", "`$`"),
            ("ls src/*.rs", "`*`"),
            ("ls ~/x", "`~`"),
            ("echo \"$HOME\"", "inside double quotes"),
            ("echo a\"b\"", "a quote inside a word"),
            ("echo 'a'b", "after a closing quote"),
            ("echo 'unclosed", "no closing '"),
            ("export A=1", "builtin"),
            ("A=1", "no command"),
            ("cd /tmp", "must be relative"),
            ("cd a b", "one directory"),
            ("kill -9 %1", "only `kill %N`"),
            ("kill 1234", "not a job"),
            ("A=1 cd x", "one directory"),
        ] {
            let page = format!("text\n\n```console\n$ true\n$ {command}\n```\n");
            let error = format!("{:#}", steps_of(&page).unwrap_err());
            assert!(
                error.contains("02-x.md:5") && error.contains(reason),
                "`{command}`: {error}"
            );
        }
        let error =
            format!("{:#}", steps_of("```console\noutput\n```\n").unwrap_err());
        assert!(
            error.contains("02-x.md:2") && error.contains("no command"),
            "{error}"
        );
        // What is allowed: quoted words, quoted values, `=`, `@`, `%`, `,`.
        let steps = steps_of(
            "```console\n$ cargo add 'tokio@=1.54.1' --features \"rt macros\" -F a,b\n```\n",
        )
        .unwrap();
        let Step::Run(ConsoleCommand {
            action: Action::Run(program),
            ..
        }) = &steps[0]
        else {
            panic!("{steps:?}")
        };
        assert_eq!(
            program.args,
            lines(&[
                "add",
                "tokio@=1.54.1",
                "--features",
                "rt macros",
                "-F",
                "a,b"
            ])
        );
    }

    fn patterns(expected: &[&str]) -> Vec<PatternLine> {
        let mut numbering = Normalizer::default();
        expected
            .iter()
            .map(|l| PatternLine::compile(&numbering.line(l)))
            .collect()
    }

    fn matches(expected: &[&str], actual: &[&str]) -> bool {
        match_lines(
            &patterns(expected),
            &lines(actual),
            &Bindings::default(),
            true,
        )
        .is_ok()
    }

    #[test]
    fn the_wildcards_match_lines_and_text_within_a_line() {
        // `...`: zero lines, one, several; between, first and last.
        assert!(matches(&["a", "...", "b"], &["a", "b"]));
        assert!(matches(&["a", "...", "b"], &["a", "x", "y", "z", "b"]));
        assert!(matches(&["...", "b"], &["x", "b"]));
        assert!(matches(&["a", "..."], &["a"]));
        assert!(matches(&["...", "b", "...", "b"], &["b", "x", "b", "b"]));
        assert!(!matches(&["a", "...", "b"], &["a", "x"]));
        assert!(!matches(&["a", "...", "b"], &["x", "a", "b"]));
        // `[..]`: any text within one line, none included.
        assert!(matches(
            &["Compiling shop v0.1.0 ([..])"],
            &["Compiling shop v0.1.0 (/tmp/x/shop)"]
        ));
        assert!(matches(&["[..]Finished [..]"], &["Finished `dev` profile"]));
        assert!(!matches(&["Finished [..]"], &["Finished"]));
        assert!(!matches(&["a [..] b"], &["a x", "y b"]));
        // Everything else exactly, and a regex character is just a character.
        assert!(!matches(&["a.c"], &["abc"]));
        assert!(!matches(&["4 spans"], &["4 spans", "extra"]));
        assert!(!matches(&["4 spans", "more"], &["4 spans"]));
        // Durations by shape.
        assert!(matches(&["took 12ms"], &["took 3.5µs"]));
        assert!(!matches(&["took 12ms"], &["took soon"]));
    }

    #[test]
    fn a_prefix_match_takes_as_few_lines_as_it_can() {
        let m = match_lines(
            &patterns(&["...", "listening"]),
            &lines(&["Compiling", "listening", "request 1"]),
            &Bindings::default(),
            false,
        )
        .unwrap();
        assert_eq!(m.consumed, 2);
        assert!(
            match_lines(
                &patterns(&["listening"]),
                &lines(&["Compiling"]),
                &Bindings::default(),
                false
            )
            .is_err()
        );
    }

    const TRACE_A: &str = "0af7651916cd43dd8448eb211c80319c";
    const TRACE_B: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN_A: &str = "00f067aa0ba902b7";
    const SPAN_B: &str = "b7ad6b7169203331";

    fn subject() -> Subject<'static> {
        Subject {
            location: "p.md:3",
            what: "`cargo run`".into(),
            first_line: 4,
        }
    }

    #[test]
    fn ids_are_compared_by_shape_across_the_whole_page() {
        // The page shows one trace id in two outputs; the run prints another
        // id, but the same one both times: a match.
        let page_first = lines(&[&format!("trace {TRACE_A} span {SPAN_A}")]);
        let page_second = lines(&[&format!("got {TRACE_A}")]);
        let mut check = PageCheck::default();
        check
            .compare(
                &subject(),
                &page_first,
                &lines(&[&format!("trace {TRACE_B} span {SPAN_B}")]),
            )
            .unwrap();
        check
            .compare(
                &subject(),
                &page_second,
                &lines(&[&format!("got {TRACE_B}")]),
            )
            .unwrap();

        // The second output has a different id than the first: not what the page shows.
        let mut check = PageCheck::default();
        check
            .compare(
                &subject(),
                &page_first,
                &lines(&[&format!("trace {TRACE_B} span {SPAN_B}")]),
            )
            .unwrap();
        let error = check
            .compare(
                &subject(),
                &page_second,
                &lines(&[&format!("got {TRACE_A}")]),
            )
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("p.md:3")
                && error.contains("got <trace#2>")
                && error.contains("page line 4: got <trace#1>"),
            "{error}"
        );

        // And two ids the page shows as different must be different.
        let mut check = PageCheck::default();
        let two = lines(&[&format!("{SPAN_A} {SPAN_B}")]);
        assert!(
            check
                .compare(&subject(), &two, &lines(&[&format!("{SPAN_A} {SPAN_A}")]))
                .is_err()
        );
    }

    #[test]
    fn a_command_must_fail_exactly_when_the_page_shows_an_error() {
        assert!(shows_error(&lines(&[
            "   Compiling shop",
            "error[E0308]: mismatched types"
        ])));
        assert!(shows_error(&lines(&["error: could not compile `shop`"])));
        assert!(shows_error(&lines(&["Error: connection refused"])));
        assert!(!shows_error(&lines(&[
            "  error: indented",
            "errors: 0",
            "ERROR x"
        ])));

        let fixture = Fixture::new("exit");
        // A failure the page shows, with the real message.
        assert!(
            fixture
                .replay(&[fixture.page(
                    "01-fail.md",
                    "```console\n$ cargo --bogus\nerror: unexpected argument [..]\n...\n```\n"
                )])
                .is_ok()
        );
        // A failure the page does not show.
        let error = fixture.error_of("```console\n$ cat missing.txt\n...\n```\n");
        assert!(
            error.contains("01-page.md:2") && error.contains("failed"),
            "{error}"
        );
        // A success shown as a failure.
        let error = fixture
            .error_of("```console\n$ printf 'error: no\\n'\nerror: no\n```\n");
        assert!(
            error.contains("succeeded, but the page shows it failing"),
            "{error}"
        );
    }

    #[test]
    fn a_listed_manifest_must_have_the_dependencies_cargo_add_made() {
        let made = "[package]\nname = \"shop\"\n\n[dependencies]\n\
                    tokio = { version = \"1.54.1\", features = [\"rt\"] }\nanyhow = \"1.0.105\"\n";
        let shown = "[package]\nname = \"shop\"\n\n[dependencies]\nanyhow = \"1.0.105\"\n\n\
                     [dependencies.tokio]\nversion = \"1.54.1\"\nfeatures = [\"rt\"]\n\n\
                     [[bench]]\nname = \"pipeline\"\nharness = false\n";
        assert_eq!(compare_dependency_tables(made, shown), Ok(()));

        let drifted = shown.replace("\"1.54.1\"", "\"1.54.0\"");
        let differences = compare_dependency_tables(made, &drifted).unwrap_err();
        assert_eq!(differences.len(), 1, "{differences:?}");
        assert!(
            differences[0].starts_with("[dependencies] tokio:")
                && differences[0].contains("1.54.0"),
            "{differences:?}"
        );
        let extra = format!("{shown}\n[dev-dependencies]\ncriterion = \"0.8.2\"\n");
        let differences = compare_dependency_tables(made, &extra).unwrap_err();
        assert!(
            differences[0]
                .contains("[dev-dependencies] criterion: the crate has nothing"),
            "{differences:?}"
        );
    }

    #[test]
    fn a_snapshot_puts_the_crate_back() {
        let fixture = Fixture::new("snapshot");
        let dir = fixture.root.join("work");
        let write = |rel: &str, text: &str| {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("Cargo.toml", "[package]");
        write("src/main.rs", "fn main() {}");
        write("target/debug/shop", "binary");
        let snapshot = Snapshot::take(&dir).unwrap();
        assert!(snapshot.files.keys().all(|f| !f.starts_with("target")));

        write("src/main.rs", "fn main() { solved() }");
        write("src/solution/mod.rs", "fn solved() {}");
        write("notes.txt", "new");
        write("target/debug/shop", "rebuilt");
        write(".venv/bin/pip", "pip");
        snapshot.restore().unwrap();

        let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).ok();
        assert_eq!(read("src/main.rs").as_deref(), Some("fn main() {}"));
        assert_eq!(read("Cargo.toml").as_deref(), Some("[package]"));
        assert!(!dir.join("src/solution").exists());
        assert!(!dir.join("notes.txt").exists());
        // target/ and .venv/ are the reader's builds: left as they are.
        assert_eq!(read("target/debug/shop").as_deref(), Some("rebuilt"));
        assert_eq!(read(".venv/bin/pip").as_deref(), Some("pip"));
    }

    #[test]
    fn a_page_set_is_replayed_end_to_end() {
        let fixture = Fixture::new("e2e");
        fixture.write(
            "examples/quickstart/01-setup/src/x.txt",
            &format!("hello\ntrace {TRACE_A}\n"),
        );
        fixture.write(
            "examples/quickstart/02-exercise-solution/src/x.txt",
            "solved\n",
        );
        let first = fixture.page(
            "01-setup.md",
            &format!(
                "# Set up\n\n\
                 ```console\n$ mkdir shop\n$ cd shop\n```\n\n\
                 ```text\n{{{{#include ../../../examples/quickstart/01-setup/src/x.txt}}}}\n```\n\n\
                 ```console\n\
                 $ cat src/x.txt\nhello\ntrace {TRACE_B}\n\
                 $ tail -f src/x.txt &\n[1] 4242\nhello\n\
                 $ sleep 30 &\n\
                 $ printf '%s\\n' one two\none\ntwo\n\
                 $ kill %1\ntrace {TRACE_B}\n\
                 $ kill -INT %2\n\
                 ```\n"
            ),
        );
        let second = fixture.page(
            "02-exercise.md",
            "```text\n{{#include ../../../examples/quickstart/02-exercise-solution/src/x.txt}}\n```\n\
             ```console\n$ cat src/x.txt\nsolved\n$ sleep 30 &\n$ sleep 30 &\n[2] 99\n$ kill %2\n```\n",
        );
        let third = fixture.page(
            "03-after.md",
            "The job of the previous page is still %1.\n\n\
             ```console\n$ cat src/x.txt\nhello\n...\n$ kill %1\n```\n",
        );
        let replayed = fixture.replay(&[first, second, third]).unwrap();
        let stems: Vec<&str> =
            replayed.pages.iter().map(|p| p.stem.as_str()).collect();
        assert_eq!(stems, ["01-setup", "02-exercise", "03-after"]);
        assert_eq!(replayed.crate_dir, fixture.root.join("work/shop"));
        assert!(replayed.pages.iter().all(|p| p.cargo.is_zero()));
        assert!(!fixture.root.join("work/shop/src/solution").exists());
    }

    #[test]
    fn a_page_that_differs_from_the_run_is_rejected() {
        let fixture = Fixture::new("wrong");
        fixture.write("examples/quickstart/01-a/src/x.txt", "hello\n");
        fixture.write("examples/quickstart/01-a/src/y.txt", "hello\nworld\n");
        let include = "```text\n{{#include ../../../examples/quickstart/01-a/src/x.txt}}\n```\n\
                       ```text\n{{#include ../../../examples/quickstart/01-a/src/y.txt}}\n```\n";
        for (page, wanted) in [
            // A wrong line.
            (
                format!("{include}```console\n$ cat src/x.txt\nhullo\n```\n"),
                "page line 9: hullo",
            ),
            // A line too many.
            (
                format!("{include}```console\n$ cat src/x.txt\nhello\nworld\n```\n"),
                "the end of the output",
            ),
            // A program that does not exist.
            (
                "```console\n$ no-such-program-here\n```\n".to_owned(),
                "cannot start",
            ),
            // A directory that does not exist.
            ("```console\n$ cd nowhere\n```\n".to_owned(), "no directory"),
            (
                "```console\n$ cd ..\n```\n".to_owned(),
                "leaves the replay's directory",
            ),
            // Killing a job that was never started.
            (
                "```console\n$ kill %1\n```\n".to_owned(),
                "there is no job %1",
            ),
            // A job that exits without printing its first lines.
            (
                "```console\n$ printf 'starting\\n' &\nready\n```\n".to_owned(),
                "exited",
            ),
            // The job number bash would print is not the job's.
            (
                "```console\n$ sleep 30 &\n[2] 77\n```\n".to_owned(),
                "is job %1",
            ),
            // Output after the job's first lines that the page does not show.
            (
                format!(
                    "{include}```console\n$ tail -f src/y.txt &\nhello\n$ kill %1\n```\n"
                ),
                "page's output",
            ),
        ] {
            let error = fixture.error_of(&page);
            assert!(
                error.contains("book/src/quickstart/01-page.md:")
                    && error.contains(wanted),
                "wanted {wanted:?} in:\n{error}"
            );
        }
    }

    #[test]
    fn a_listed_manifest_is_checked_against_cargo_new() {
        let fixture = Fixture::new("manifest");
        let manifest = |deps: &str| {
            format!(
                "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [dependencies]\n{deps}\n[[bench]]\nname = \"b\"\nharness = false\n"
            )
        };
        fixture.write("examples/quickstart/01-ok/Cargo.toml", &manifest(""));
        fixture.write(
            "examples/quickstart/01-drift/Cargo.toml",
            &manifest("tokio = \"1\"\n"),
        );
        let page = |step: &str| {
            format!(
                "```console\n$ cargo new --vcs none shop\n...\n$ cd shop\n```\n\n\
                 ```toml\n{{{{#include ../../../examples/quickstart/{step}/Cargo.toml}}}}\n```\n"
            )
        };
        let ok = fixture.page("01-ok.md", &page("01-ok"));
        let replayed = fixture.replay(&[ok]).unwrap();
        assert!(replayed.pages[0].cargo > Duration::ZERO);
        let written =
            std::fs::read_to_string(fixture.root.join("work/shop/Cargo.toml"))
                .unwrap();
        assert!(written.contains("[[bench]]"), "{written}");

        let error = fixture.error_of(&page("01-drift"));
        assert!(
            error.contains("01-page.md:8") && error.contains("[dependencies] tokio"),
            "{error}"
        );
    }

    #[test]
    fn the_pages_are_the_quickstart_links_of_the_summary_in_order() {
        let fixture = Fixture::new("summary");
        fixture.write(
            "book/src/SUMMARY.md",
            "# Summary\n\n[Introduction](introduction.md)\n\n# Quick start\n\n\
             - [Set up](quickstart/01-setup.md)\n- [Pipeline](quickstart/03-pipeline.md)\n\
             - [First span](quickstart/02-first-span.md)\n\n# Part I\n\n- [CSP](part1/ch02.md)\n",
        );
        let src = fixture.root.join("book/src");
        assert_eq!(
            quickstart_pages(&fixture.root).unwrap(),
            vec![
                src.join("quickstart/01-setup.md"),
                src.join("quickstart/03-pipeline.md"),
                src.join("quickstart/02-first-span.md"),
            ]
        );
        fixture.write(
            "book/src/SUMMARY.md",
            "# Summary\n\n[Introduction](introduction.md)\n",
        );
        let error = quickstart_pages(&fixture.root).unwrap_err().to_string();
        assert!(error.contains("no quick start page"), "{error}");
    }

    #[test]
    fn the_reader_shell_has_none_of_the_variables_cargo_xtask_sets() {
        let vars = [
            "PATH",
            "HOME",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "CARGO",
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "RUSTFLAGS",
            "RUSTC",
            "RUST_BACKTRACE",
            "OTEL_SERVICE_NAME",
            "BOOK_RESULTS_DIR",
            "CARGO_NET_OFFLINE",
            "CARGO_INCREMENTAL",
            "CARGO_TERM_COLOR",
        ]
        .map(|k| (OsString::from(k), OsString::from("x")));
        let env = reader_environment(vars);
        let names: Vec<&str> =
            env.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "PATH",
                "HOME",
                "CARGO_HOME",
                "RUSTUP_HOME",
                "RUSTUP_TOOLCHAIN",
                "CARGO_NET_OFFLINE",
                "CARGO_INCREMENTAL",
                "CARGO_TERM_COLOR",
                "NO_COLOR",
                "PIP_DISABLE_PIP_VERSION_CHECK",
                "PIP_NO_INPUT",
            ]
        );
        assert!(env.contains(&("CARGO_TERM_COLOR".into(), "never".into())));
    }

    #[test]
    fn output_is_taken_as_a_terminal_shows_it() {
        assert_eq!(
            terminal_lines(
                "\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m shop  \nfetch 10%\rfetch 100%\r\nlast"
            ),
            lines(&["   Compiling shop", "fetch 100%", "last"])
        );
        assert_eq!(complete_lines("a\nb\npartial"), lines(&["a", "b"]));
    }

    #[test]
    fn results_are_valid_book_results() {
        let fixture = Fixture::new("results");
        let criterion = fixture.root.join("work/target/criterion");
        let write = |folder: &str, id: (&str, Option<&str>), slope: bool| {
            let (mean, slope) =
                ((120.0, 110.0, 130.0), slope.then_some((100.0, 95.0, 105.0)));
            book_results::testutil::write_criterion_result(
                &criterion,
                folder,
                (id.0, id.1, None),
                mean,
                slope,
            );
        };
        write("pipeline/stage", ("pipeline", Some("stage")), true);
        write("pipeline/send", ("pipeline", Some("send")), false);
        write("pool/send", ("pool", Some("send")), true);
        fixture.write("work/target/criterion/report/index.html", "");
        let benches = criterion_measurements(&fixture.root.join("work")).unwrap();
        let summary: Vec<(&str, f64, &str)> = benches
            .iter()
            .map(|m| (m.id.as_str(), m.value, m.statistic.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("quickstart_bench/pipeline_send", 120.0, "mean"),
                ("quickstart_bench/stage", 100.0, "slope"),
                ("quickstart_bench/pool_send", 100.0, "slope"),
            ]
        );
        assert_eq!(
            (benches[1].lower, benches[1].upper),
            (Some(95.0), Some(105.0))
        );
        let dir = fixture.root.join("results");
        book_results::record::write_group(
            &dir,
            "quickstart_bench",
            benches,
            &fixture.root,
        )
        .unwrap();

        let timings = timing_measurements(&[PageTiming {
            stem: "01-setup".into(),
            wall: Duration::from_secs_f64(41.2),
            cargo: Duration::from_secs(39),
        }]);
        let ids: Vec<&str> = timings.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "quickstart/01-setup",
                "quickstart/01-setup_cargo",
                "quickstart/total"
            ]
        );
        assert!(
            timings
                .iter()
                .all(|m| m.unit == "s" && m.statistic == "wall")
        );
        book_results::record::write_group(
            &dir,
            "quickstart",
            timings,
            &fixture.root,
        )
        .unwrap();
    }
}
