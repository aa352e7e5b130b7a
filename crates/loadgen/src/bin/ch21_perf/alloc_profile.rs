//! `ch21-perf --alloc-profile`: where the bytes allocated per request go.
//!
//! Runs `ch21-target-dhat` (the one-hop target under dhat's heap profiler)
//! traced at 100 %, exporting to rotel, over the one-hop runs' connections
//! (a share of whose requests carry a `traceparent`). Every connection
//! sends its first requests before profiling starts, and the export queue
//! is empty when it does: the profile holds only the known number of
//! requests sent in the window and the export of exactly their spans. dhat writes one entry per
//! distinct stack; this module groups those entries by call site and by
//! owner and records the result (group `ch21_alloc`).

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use book_results::Measurement;
use otlp_csp_loadgen::{Bounds, Connection as _, Outcome, Target, closed_loop};

use super::{
    EXPORT_BATCH, Killed, Rotel, Settings, connections, parse_final,
    read_final_line, stats, wait_with_limit,
};

/// Requests each connection sends before the profile starts.
const WARM_UP_PER_CONNECTION: usize = 100;
/// Requests in the profiled window.
pub const REQUESTS: u64 = 5_000;
/// The goal for the book's own share, bytes per request.
pub const GOAL_BYTES: f64 = 800.0;
/// The site where `global::tracer`'s spans are boxed.
const BOXED_SPAN: &str = "ObjectSafeTracer::build_with_context_boxed";
/// Sites below this many bytes per request are summed on one line.
const SMALL_SITE: f64 = 1.0;

/// Who asked for the memory: the crate of the innermost frame that belongs
/// to one of these groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// The server's HTTP stack: hyper (HTTP/1 server), axum, http, tower.
    Http,
    /// The OTLP exporter's gRPC client: tonic, prost, h2, hyper's HTTP/2
    /// client (only the exporter speaks HTTP/2 in this process).
    Grpc,
    Tokio,
    /// The OpenTelemetry API, SDK and OTLP exporter crates.
    Otel,
    /// The book's code: `otlp_csp_*`, `span_queue`, the target's handler.
    Book,
    /// No frame of the stack belongs to a group above.
    Other,
}

impl Owner {
    pub const ALL: [Owner; 6] = [
        Owner::Http,
        Owner::Grpc,
        Owner::Tokio,
        Owner::Otel,
        Owner::Book,
        Owner::Other,
    ];

    /// The id in the results.
    pub fn id(self) -> &'static str {
        match self {
            Owner::Http => "http",
            Owner::Grpc => "grpc",
            Owner::Tokio => "tokio",
            Owner::Otel => "otel",
            Owner::Book => "book",
            Owner::Other => "other",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Owner::Http => "HTTP",
            Owner::Grpc => "gRPC",
            Owner::Tokio => "tokio",
            Owner::Otel => "OTel",
            Owner::Book => "book",
            Owner::Other => "other",
        }
    }
}

/// What one frame of a stack is, for attribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The profiler, the counting allocator, the allocator shims.
    Allocator,
    /// std, alloc, core, or a symbol of no Rust crate (libc, `???`).
    Std,
    /// A crate of an owner group.
    Owned(Owner),
    /// Any other crate (bytes, hashbrown, futures, ...): the site may be
    /// here, the owner is further down the stack.
    Passing,
}

/// The symbol of a dhat frame, `0xADDR: SYMBOL (FILE:LINE:COL)`.
fn symbol(frame: &str) -> &str {
    let s = frame.split_once(": ").map_or(frame, |(_, s)| s);
    s.rfind(" (").map_or(s, |i| &s[..i])
}

/// The path that names the code of `symbol`: for `<T as Trait>::f`, the
/// type's path, or the trait's when the type is generic, primitive or the
/// standard library's (the impl is then in the trait's crate).
fn code_path(symbol: &str) -> &str {
    qualified(symbol).0
}

/// `symbol` as the path of its code ([`code_path`]) and what follows it
/// (`::f` of `<T as Trait>::f`; empty unless `symbol` starts with `<`).
fn qualified(symbol: &str) -> (&str, &str) {
    let Some(inner) = symbol.strip_prefix('<') else {
        return (symbol, "");
    };
    // Find the ` as ` and the `>` that belong to the opening `<`.
    let (mut depth, mut split, mut end) = (1usize, None, inner.len());
    let bytes = inner.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            b' ' if depth == 1
                && split.is_none()
                && inner[i..].starts_with(" as ") =>
            {
                split = Some(i);
            }
            _ => {}
        }
    }
    let rest = inner.get(end + 1..).unwrap_or("");
    let Some(split) = split else {
        return (type_path(&inner[..end]), rest);
    };
    let (ty, tr) = (type_path(&inner[..split]), &inner[split + 4..end]);
    match crate_name(ty) {
        Some("std" | "alloc" | "core") | None => (tr, rest),
        Some(_) => (ty, rest),
    }
}

/// A type without its leading `&`, `&'a`, `mut`, `dyn`, `*const`, `*mut`.
fn type_path(mut ty: &str) -> &str {
    loop {
        let before = ty;
        ty = ty.trim_start_matches('&');
        if let Some(rest) = ty.strip_prefix('\'') {
            ty = rest.split_once(' ').map_or("", |(_, r)| r);
        }
        for p in ["mut ", "dyn ", "*const ", "*mut "] {
            ty = ty.strip_prefix(p).unwrap_or(ty);
        }
        if ty == before {
            return ty;
        }
    }
}

/// The crate a path starts with, if it starts with one.
fn crate_name(path: &str) -> Option<&str> {
    let (first, _) = path.split_once("::")?;
    let ok = !first.is_empty()
        && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(first)
}

// ANCHOR: classify
/// The attribution rules.
pub fn classify(symbol: &str) -> Class {
    if symbol.starts_with("__rg_") || symbol.starts_with("__rust_") {
        return Class::Allocator;
    }
    let path = code_path(symbol);
    let Some(krate) = crate_name(path) else {
        return Class::Std;
    };
    let under = |prefix: &str| path.starts_with(prefix);
    match krate {
        "std" | "alloc" | "core" => Class::Std,
        "dhat" | "backtrace" => Class::Allocator,
        // The counting allocator that hands allocations to dhat's.
        _ if under("otlp_csp_loadgen::alloc::") => Class::Allocator,
        "tonic" | "tonic_prost" | "prost" | "h2" => Class::Owned(Owner::Grpc),
        _ if under("hyper::proto::h2")
            || under("hyper::client")
            || under("hyper_util::client")
            || under("tower::buffer") =>
        {
            Class::Owned(Owner::Grpc)
        }
        "hyper" | "hyper_util" | "axum" | "axum_core" | "http" | "http_body"
        | "http_body_util" | "httparse" | "httpdate" | "tower" | "tower_service"
        | "tower_layer" | "matchit" => Class::Owned(Owner::Http),
        "tokio" | "tokio_util" | "tokio_stream" | "mio" => {
            Class::Owned(Owner::Tokio)
        }
        k if k.starts_with("opentelemetry") => Class::Owned(Owner::Otel),
        k if k.starts_with("otlp_csp")
            || k.starts_with("ch21_target")
            || k == "span_queue" =>
        {
            Class::Owned(Owner::Book)
        }
        _ => Class::Passing,
    }
}
// ANCHOR_END: classify

/// A symbol made short for the table: closures folded into their function,
/// generic arguments dropped, `<impl Trait for Type>` written `Type`, the
/// middle of a long path elided.
pub fn short(symbol: &str) -> String {
    let (path, rest) = qualified(symbol);
    let text = format!("{path}{rest}");
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '<' {
            out.push(c);
            continue;
        }
        // Skip to the matching `>`; keep the type of an `<impl .. for T>`.
        let mut depth = 1;
        let mut end = text.len();
        let mut prev = c;
        for (j, d) in chars.by_ref() {
            match d {
                '<' => depth += 1,
                '>' if prev != '-' => depth -= 1,
                _ => {}
            }
            prev = d;
            if depth == 0 {
                end = j;
                break;
            }
        }
        let inner = &text[i + 1..end];
        if let Some((_, ty)) = inner
            .strip_prefix("impl ")
            .and_then(|t| t.rsplit_once(" for "))
        {
            out.push_str(short(ty).rsplit("::").next().unwrap_or_default());
        }
    }
    let segments: Vec<&str> = out
        .split("::")
        .filter(|s| !s.is_empty() && !s.starts_with("{{"))
        .collect();
    let elided = match segments.as_slice() {
        [first, .., a, b] if segments.len() > 3 => format!("{first}::…::{a}::{b}"),
        _ => segments.join("::"),
    };
    match segments.as_slice() {
        [first, .., last] if elided.chars().count() > 60 => {
            format!("{first}::…::{last}")
        }
        _ => elided,
    }
}

/// Allocations made at one site for one owner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Site {
    pub bytes: u64,
    pub blocks: u64,
}

/// A profile, grouped: per (site, owner frame, owner), and the totals.
#[derive(Debug, Default)]
pub struct Profile {
    /// Key: the first frame outside the allocator and the standard library
    /// (the site), the frame that decided the owner, the owner.
    pub sites: BTreeMap<(String, String, Owner), Site>,
    pub bytes: u64,
    pub blocks: u64,
}

impl Profile {
    /// Bytes and blocks of the sites whose name contains `name`.
    pub fn at(&self, name: &str) -> Site {
        let mut out = Site::default();
        for ((site, _, _), s) in &self.sites {
            if site.contains(name) {
                out.bytes += s.bytes;
                out.blocks += s.blocks;
            }
        }
        out
    }

    /// Bytes and blocks per owner.
    pub fn by_owner(&self) -> BTreeMap<Owner, Site> {
        let mut out = BTreeMap::new();
        for ((_, _, owner), s) in &self.sites {
            let o: &mut Site = out.entry(*owner).or_default();
            o.bytes += s.bytes;
            o.blocks += s.blocks;
        }
        out
    }
}

/// Reads dhat's JSON (`pps`: `tb` bytes, `tbk` blocks, `fs` indices into
/// `ftbl`, innermost frame first) and groups it with `classify`.
pub fn read_with(json: &str, classify: impl Fn(&str) -> Class) -> Result<Profile> {
    let v: serde_json::Value = serde_json::from_str(json).context("not JSON")?;
    let mode = v["mode"].as_str().unwrap_or_default();
    ensure!(
        mode == "rust-heap",
        "not a dhat heap profile (mode {mode:?})"
    );
    let ftbl: Vec<&str> = v["ftbl"]
        .as_array()
        .context("no ftbl")?
        .iter()
        .map(|f| f.as_str().context("a frame is not a string"))
        .collect::<Result<_>>()?;
    let mut p = Profile::default();
    for pp in v["pps"].as_array().context("no pps")? {
        let count = |k: &str| pp[k].as_u64().with_context(|| format!("no {k}"));
        let (bytes, blocks) = (count("tb")?, count("tbk")?);
        let mut site = None;
        let mut owner = None;
        for f in pp["fs"].as_array().context("no fs")? {
            let i = f.as_u64().context("a frame index is not a number")? as usize;
            let sym = symbol(ftbl.get(i).with_context(|| format!("no frame {i}"))?);
            match classify(sym) {
                Class::Allocator | Class::Std => continue,
                Class::Passing => {}
                Class::Owned(o) => owner = Some((sym, o)),
            }
            site.get_or_insert(sym);
            if owner.is_some() {
                break;
            }
        }
        let site = site.map_or_else(|| "(the standard library)".into(), short);
        let (by, owner) =
            owner.map_or((site.clone(), Owner::Other), |(s, o)| (short(s), o));
        let s = p.sites.entry((site, by, owner)).or_default();
        s.bytes += bytes;
        s.blocks += blocks;
        p.bytes += bytes;
        p.blocks += blocks;
    }
    Ok(p)
}

/// [`read_with`] the book's rules.
pub fn read(json: &str) -> Result<Profile> {
    read_with(json, classify)
}

/// The per-site table, bytes and allocations per request, largest first;
/// sites under [`SMALL_SITE`] bytes per request summed on one line.
pub fn sites_table(p: &Profile, requests: u64) -> String {
    let per = |x: u64| x as f64 / requests as f64;
    let mut rows: Vec<_> = p.sites.iter().collect();
    rows.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
    let mut out = format!("{:>7} {:>6}  {:<5}  site\n", "B/req", "allocs", "owner");
    let (mut small, mut small_sites) = (Site::default(), 0);
    for ((site, by, owner), s) in rows {
        if per(s.bytes) < SMALL_SITE {
            small.bytes += s.bytes;
            small.blocks += s.blocks;
            small_sites += 1;
            continue;
        }
        let line = |what: &str| {
            format!(
                "{:>7.1} {:>6.3}  {:<5}  {what}\n",
                per(s.bytes),
                per(s.blocks),
                owner.label()
            )
        };
        out.push_str(&line(site));
        if by != site {
            out.push_str(&format!("{:23}  from {by}\n", ""));
        }
    }
    if small_sites > 0 {
        out.push_str(&format!(
            "{:>7.1} {:>6.3}  {:<5}  {small_sites} sites under {SMALL_SITE} B each\n",
            per(small.bytes),
            per(small.blocks),
            "",
        ));
    }
    out.push_str(&format!(
        "{:>7.1} {:>6.3}  {:<5}  total\n",
        per(p.bytes),
        per(p.blocks),
        ""
    ));
    out
}

/// Sends one command to the target and waits for its answer.
fn command(
    stdin: &mut ChildStdin,
    stdout: &mut BufReader<ChildStdout>,
    line: &str,
    answer: &str,
) -> Result<()> {
    writeln!(stdin, "{line}")?;
    stdin.flush()?;
    let mut got = String::new();
    loop {
        got.clear();
        ensure!(
            stdout.read_line(&mut got)? > 0,
            "the target ended after {line:?}"
        );
        match got.trim_end() {
            a if a == answer => return Ok(()),
            a if a.starts_with("profile") => {
                bail!("{line:?}: the target said {a:?}")
            }
            _ => {}
        }
    }
}

/// What the profiled run measured.
struct Window {
    profile: Profile,
    requests: u64,
}

fn profile_target(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    bin: &Path,
    file: &Path,
) -> Result<Window> {
    let rotel = Rotel::start(&s.rotel, s.logs.join("ch21-rotel-alloc.log"))?;
    let mut child = Killed(
        Command::new(bin)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("TARGET_SAMPLE_RATIO", "1")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", rotel.grpc),
            )
            .env("DHAT_FILE", file)
            // The same export batches as the runs above: with dhat slowing
            // every allocation, the specification's 512 spans per trip can
            // fall behind, and a dropped span never reaches the collector.
            .env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", EXPORT_BATCH.to_string())
            .env("OTEL_BSP_MAX_QUEUE_SIZE", (4 * EXPORT_BATCH).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?,
    );
    let mut stdin = child.0.stdin.take().context("no stdin")?;
    let mut stdout = BufReader::new(child.0.stdout.take().context("no stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("ch21-target-dhat printed {line:?}"))?
        .to_owned();
    let hello = Target::parse(&format!("http://{addr}/hello"))?;

    // Warm-up, not profiled: each connection's first requests (its read
    // buffer, its task) and the exporter's first batches (its channel).
    let conns = rt.block_on(async {
        let mut tasks = Vec::new();
        for mut c in connections(&hello, s.connections).await? {
            tasks.push(tokio::spawn(async move {
                for _ in 0..WARM_UP_PER_CONNECTION {
                    let outcome = c.call().await;
                    ensure!(outcome == Outcome::Ok, "warm-up: {outcome:?}");
                }
                anyhow::Ok(c)
            }));
        }
        let mut conns = Vec::new();
        for t in tasks {
            conns.push(t.await??);
        }
        anyhow::Ok(conns)
    })?;
    // The window starts with the export queue empty.
    let before = drained(&addr)?;
    command(&mut stdin, &mut stdout, "profile start", "profile started")?;
    let bounds = Bounds::new(REQUESTS, Duration::from_secs(300))?;
    let report = rt.block_on(closed_loop(conns, bounds))?;
    ensure!(
        report.all_answered() && report.ok == REQUESTS,
        "profiled window: {}; last error {:?}",
        report.summary(),
        report.last_error
    );
    // ... and ends when the collector has every span of the window.
    let expected = before.exported + REQUESTS;
    let deadline = Instant::now() + Duration::from_secs(30);
    while rotel.received()? < expected {
        if Instant::now() >= deadline {
            let st = stats(&addr)?;
            let c = |k: &str| st.get(k).copied().unwrap_or(0);
            bail!(
                "the collector got {} of {expected} spans within 30 s; the \
                 target counts {} exported, {} failed, {} dropped",
                rotel.received()?,
                c("exported"),
                c("failed"),
                c("dropped")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    command(&mut stdin, &mut stdout, "profile stop", "profile saved")?;

    drop(stdin);
    let final_line = read_final_line(&mut stdout)?;
    let exit = wait_with_limit(&mut child.0, Duration::from_secs(30))?;
    ensure!(exit.success(), "ch21-target-dhat exited with {exit}");
    let mut spans = parse_final(&final_line)?;
    spans.received = rotel.stop_when_received(spans.exported)?;
    let answered = (WARM_UP_PER_CONNECTION * s.connections) as u64 + REQUESTS;
    ensure!(
        spans.ended == answered
            && spans.uncounted() == 0
            && spans.received == spans.exported
            && spans.exported == expected
            && spans.dropped == before.dropped,
        "{answered} requests, {spans:?}, before the window {before:?}: \
         a span of the window was lost or dropped"
    );
    let json = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}", file.display()))?;
    Ok(Window {
        profile: read(&json)
            .with_context(|| format!("reading {}", file.display()))?,
        requests: REQUESTS,
    })
}

/// The target's span counts once its export queue is empty: every span
/// ended so far exported or failed, or no export for longer than the batch
/// processor's longest wait (5 s), so that the spans left were dropped.
/// `GET /stats` is answered before the profile starts, so it is not in it.
fn drained(addr: &str) -> Result<Drained> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut last, mut since) = (u64::MAX, Instant::now());
    loop {
        let st = stats(addr)?;
        let c = |k: &str| st.get(k).copied().unwrap_or(0);
        let done = c("exported") + c("failed");
        if done != last {
            (last, since) = (done, Instant::now());
        }
        if done == c("ended") || since.elapsed() > Duration::from_secs(6) {
            return Ok(Drained {
                exported: c("exported"),
                dropped: c("ended") - done,
            });
        }
        ensure!(
            Instant::now() < deadline,
            "the export queue did not drain: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Span counts when the export queue was empty.
#[derive(Debug)]
struct Drained {
    exported: u64,
    /// Dropped in the warm-up (its first burst can fill the queue before
    /// the exporter has connected): counted, and before the window.
    dropped: u64,
}

/// The whole `--alloc-profile` run: profile, print, record.
pub fn run(rt: &tokio::runtime::Runtime, s: &Settings, load: f64) -> Result<()> {
    let bin = std::env::current_exe()?
        .parent()
        .context("the runner has no directory")?
        .join("ch21-target-dhat");
    ensure!(
        bin.is_file(),
        "{} not found: build it with `--features record,dhat --bins`",
        bin.display()
    );
    let file = s.logs.join("ch21-dhat-heap.json");
    let w = profile_target(rt, s, &bin, &file)?;
    let (p, n) = (&w.profile, w.requests);
    let per = |x: u64| x as f64 / n as f64;
    let table = sites_table(p, n);
    print!("{table}");
    let owners = p.by_owner();
    for (o, site) in &owners {
        println!(
            "{:>7.1} B/request in {:>5.2} allocations: {}",
            per(site.bytes),
            per(site.blocks),
            o.label()
        );
    }
    let book = per(owners.get(&Owner::Book).map_or(0, |s| s.bytes));
    // Counted as OpenTelemetry's (its frame asks for the memory), caused by
    // the handler's choice of `global::tracer`, whose spans are boxed.
    let boxed = p.at(BOXED_SPAN);
    let verdict = |b: f64| if b <= GOAL_BYTES { "met" } else { "MISSED" };
    let with_boxed = book + per(boxed.bytes);
    let goal = [
        ("the book's own code", book),
        ("  with the global tracer's boxed span", with_boxed),
    ]
    .map(|(what, b)| {
        format!(
            "{what:<40} {b:>5.0} B/request (<= {GOAL_BYTES:.0})  {}\n",
            verdict(b)
        )
    })
    .concat();
    print!("{goal}");
    println!(
        "profile: {} (open it in DHAT's viewer, dh_view.html)",
        file.display()
    );

    let g = |id: &str| format!("ch21_alloc/{id}");
    let mut m = vec![
        Measurement::count(g("load_average"), load, "runnable tasks")
            .with_statistic("loadavg1"),
        Measurement::count(g("requests"), n as f64, "requests"),
        Measurement::count(g("connections"), s.connections as f64, "connections"),
        Measurement::count(g("bytes_per_request"), per(p.bytes), "B/req")
            .with_statistic("mean"),
        Measurement::count(
            g("allocs_per_request"),
            per(p.blocks),
            "allocations/req",
        )
        .with_statistic("mean"),
        Measurement::count(g("sites"), p.sites.len() as f64, "sites")
            .with_text(table),
        Measurement::count(g("book_share"), book, "B/req")
            .with_statistic("mean")
            .with_text(goal),
        Measurement::count(g("boxed_span_bytes"), per(boxed.bytes), "B/req")
            .with_statistic("mean"),
        Measurement::count(
            g("boxed_span_allocs"),
            per(boxed.blocks),
            "allocations/req",
        )
        .with_statistic("mean"),
    ];
    for o in Owner::ALL {
        let s = owners.get(&o).cloned().unwrap_or_default();
        m.push(
            Measurement::count(
                g(&format!("{}_bytes", o.id())),
                per(s.bytes),
                "B/req",
            )
            .with_statistic("mean"),
        );
        m.push(
            Measurement::count(
                g(&format!("{}_allocs", o.id())),
                per(s.blocks),
                "allocations/req",
            )
            .with_statistic("mean"),
        );
    }
    let path = book_results::record("ch21_alloc", m)?;
    println!("recorded {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small dhat file: five stacks, innermost frame first, as dhat 0.3
    /// writes them (its own frame on top).
    const SAMPLE: &str = r#"{
      "dhatFileVersion": 2, "mode": "rust-heap", "verb": "Allocated",
      "pps": [
        {"tb": 8192, "tbk": 1, "fs": [1, 2, 3, 4]},
        {"tb": 300, "tbk": 3, "fs": [1, 5, 6, 7, 8]},
        {"tb": 512, "tbk": 1, "fs": [1, 10, 8]},
        {"tb": 64, "tbk": 2, "fs": [1, 12, 13]},
        {"tb": 40, "tbk": 1, "fs": [1, 9, 11, 14, 15]}
      ],
      "ftbl": [
        "[root]",
        "0x1: <dhat::Alloc as core::alloc::global::GlobalAlloc>::alloc (???:0:0)",
        "0x2: bytes::bytes_mut::BytesMut::reserve_inner (???:0:0)",
        "0x3: hyper::proto::h1::io::Buffered<T,B>::poll_read_from_io (???:0:0)",
        "0x4: tokio::runtime::task::core::Core<T,S>::poll (???:0:0)",
        "0x5: <alloc::vec::Vec<T,A> as core::clone::Clone>::clone (???:0:0)",
        "0x6: <&T as alloc::string::ToString>::to_string (???:0:0)",
        "0x7: <opentelemetry_otlp::span::SpanExporter as opentelemetry_sdk::trace::export::SpanExporter>::export::{{closure}} (???:0:0)",
        "0x8: otlp_csp_telemetry::fast_batch::Worker<E>::run (???:0:0)",
        "0x9: <otlp_csp_loadgen::alloc::Counting as core::alloc::global::GlobalAlloc>::alloc (???:0:0)",
        "0xa: otlp_csp_telemetry::fast_batch::Worker<E>::export_batch (src/fast_batch.rs:300:9)",
        "0xb: std::thread::local::LocalKey<T>::with (???:0:0)",
        "0xc: <alloc::borrow::Cow<str> as axum_core::response::into_response::IntoResponse>::into_response (???:0:0)",
        "0xd: ch21_target_dhat::target::hello::{{closure}} (???:0:0)",
        "0xe: start_thread (./nptl/pthread_create.c:442:8)",
        "0xf: clone3 (linux/x86_64/clone3.S:81:0)"
      ]
    }"#;

    fn owner_bytes(p: &Profile) -> Vec<(Owner, u64)> {
        p.by_owner()
            .into_iter()
            .map(|(o, s)| (o, s.bytes))
            .collect()
    }

    /// What the sample must give: the check that a grouping is right.
    fn check_sample(p: &Profile) -> Result<()> {
        let want = vec![
            (Owner::Http, 8192 + 64),
            (Owner::Otel, 300),
            (Owner::Book, 512),
            (Owner::Other, 40),
        ];
        ensure!(owner_bytes(p) == want, "{:?} != {want:?}", owner_bytes(p));
        ensure!(
            (p.bytes, p.blocks) == (9108, 8),
            "totals {}, {}",
            p.bytes,
            p.blocks
        );
        let sum: u64 = p.sites.values().map(|s| s.bytes).sum();
        ensure!(sum == p.bytes, "the sites hold {sum} of {} bytes", p.bytes);
        Ok(())
    }

    #[test]
    fn the_sample_is_attributed_byte_for_byte() {
        let p = read(SAMPLE).unwrap();
        check_sample(&p).unwrap();
        // The site is the first frame past the allocator and std; the owner
        // the first frame of a group.
        let key = (
            "bytes::…::BytesMut::reserve_inner".to_owned(),
            "hyper::…::Buffered::poll_read_from_io".to_owned(),
            Owner::Http,
        );
        assert_eq!(
            p.sites[&key],
            Site {
                bytes: 8192,
                blocks: 1
            }
        );
        let table = sites_table(&p, 2);
        assert!(
            table
                .contains("4096.0  0.500  HTTP   bytes::…::BytesMut::reserve_inner")
        );
        assert!(table.contains("from hyper::…::Buffered::poll_read_from_io"));
        assert!(table.ends_with("4554.0  4.000         total\n"), "{table}");
    }

    #[test]
    fn frames_are_read_as_the_code_that_runs() {
        let c = |s: &str| classify(symbol(s));
        assert_eq!(
            c("0x1: <&str as axum_core::X>::f (a:1:2)"),
            Class::Owned(Owner::Http)
        );
        assert_eq!(
            c("0x1: <hyper::proto::h2::client::ClientTask<B> as core::F>::poll (?)"),
            Class::Owned(Owner::Grpc)
        );
        assert_eq!(
            c("0x1: <T as alloc::string::ToString>::to_string"),
            Class::Std
        );
        assert_eq!(
            c("0x1: <std::sys::thread::unix::Thread>::new::thread_start"),
            Class::Std
        );
        assert_eq!(c("0x1: __rg_alloc (?)"), Class::Allocator);
        assert_eq!(
            c("0x1: hashbrown::raw::RawTable<T>::reserve_rehash"),
            Class::Passing
        );
        assert_eq!(
            c(
                "0x1: <opentelemetry_sdk::trace::span::Span as core::ops::drop::Drop>::drop"
            ),
            Class::Owned(Owner::Otel)
        );
        assert_eq!(
            short("<F as axum::handler::Handler<(M,T1),S>>::call::{{closure}}"),
            "axum::…::Handler::call"
        );
        let from = "opentelemetry_proto::transform::trace::tonic::<impl \
                    core::convert::From<opentelemetry_sdk::trace::export::SpanData> \
                    for opentelemetry_proto::proto::tonic::trace::v1::Span>::from";
        assert_eq!(short(from), "opentelemetry_proto::…::Span::from");
        let long = "opentelemetry_proto::transform::trace::tonic::\
                    group_spans_by_resource_and_scope";
        assert_eq!(
            short(long),
            "opentelemetry_proto::…::group_spans_by_resource_and_scope"
        );
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(read("not json").is_err());
        assert!(read(r#"{"mode": "rust-ad-hoc", "pps": [], "ftbl": []}"#).is_err());
        let missing = r#"{"mode": "rust-heap", "pps": [{"tb": 1, "tbk": 1, "fs": [7]}], "ftbl": []}"#;
        assert!(read(missing).is_err());
    }

    /// Planted bugs: each grouping is wrong in one rule, and the check of
    /// the sample rejects it.
    mod planted {
        use super::*;

        /// Whatever names `otlp` is the book's: the OTLP exporter too.
        fn otlp_is_the_book(sym: &str) -> Class {
            if crate_name(code_path(sym)).is_some_and(|k| k.contains("otlp")) {
                return Class::Owned(Owner::Book);
            }
            classify(sym)
        }

        /// The counting allocator's frame is the book's code.
        fn counting_is_the_book(sym: &str) -> Class {
            if sym.contains("otlp_csp_loadgen::alloc") {
                return Class::Owned(Owner::Book);
            }
            classify(sym)
        }

        /// The owner is the outermost frame of a group, not the innermost.
        fn outermost(json: &str) -> Profile {
            let reversed: serde_json::Value = {
                let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
                for pp in v["pps"].as_array_mut().unwrap() {
                    let fs = pp["fs"].as_array_mut().unwrap();
                    fs[1..].reverse();
                }
                v
            };
            read(&reversed.to_string()).unwrap()
        }

        #[test]
        fn an_sdk_frame_given_to_the_book_is_rejected() {
            let p = read_with(SAMPLE, otlp_is_the_book).unwrap();
            assert!(check_sample(&p).is_err());
        }

        #[test]
        fn the_allocator_given_to_the_book_is_rejected() {
            let p = read_with(SAMPLE, counting_is_the_book).unwrap();
            assert!(check_sample(&p).is_err());
        }

        #[test]
        fn the_outermost_owner_is_rejected() {
            assert!(check_sample(&outermost(SAMPLE)).is_err());
        }
    }
}
