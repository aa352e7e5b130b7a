//! `trace-view`: draws an OTLP/JSON capture as a waterfall page.
//!
//! Thin on purpose: reading, layout and drawing are the library's; this
//! file only parses the arguments, reads and writes files, and turns bad
//! input into exit code 2 with the library's message.

use std::path::PathBuf;
use std::process::ExitCode;
use trace_view::{Options, layout, parse, render_chrome, render_page};

const USAGE: &str = "usage: trace-view INPUT.json [-o OUT.html] [--chrome OUT.json] [--max-spans N]
  INPUT.json  OTLP/JSON traces: one request, or one request per line; - reads stdin
  -o          the page to write (default: INPUT with .html, or trace-view.html for stdin)
  --chrome    also write Chrome trace-event JSON (Perfetto, speedscope)
  --max-spans draw at most N spans, the first by start time (default 10000)";

#[derive(Debug, PartialEq, Eq)]
struct Args {
    input: String,
    html: PathBuf,
    chrome: Option<PathBuf>,
    max_spans: usize,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let (mut input, mut html, mut chrome) = (None, None, None);
    let mut max_spans = trace_view::capture::DEFAULT_MAX_SPANS;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "-o" | "--output" => html = Some(PathBuf::from(value()?)),
            "--chrome" => chrome = Some(PathBuf::from(value()?)),
            "--max-spans" => {
                let v = value()?;
                max_spans = v.parse().ok().filter(|&n| n > 0).ok_or(format!(
                    "--max-spans takes a positive whole number, not {v:?}"
                ))?;
            }
            "-h" | "--help" => return Err(String::new()), // usage, exit 0
            a if a.starts_with('-') && a != "-" => {
                return Err(format!("unknown option {a}"));
            }
            a if input.is_none() => input = Some(a.to_owned()),
            a => return Err(format!("one input only (got a second: {a})")),
        }
    }
    let input = input.ok_or("no INPUT given")?;
    let html = html.unwrap_or_else(|| match input.as_str() {
        "-" => PathBuf::from("trace-view.html"),
        path => PathBuf::from(path).with_extension("html"),
    });
    Ok(Args {
        input,
        html,
        chrome,
        max_spans,
    })
}

fn read_input(input: &str) -> Result<Vec<u8>, String> {
    let result = match input {
        "-" => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                .map(|_| bytes)
        }
        path => std::fs::read(path),
    };
    result.map_err(|e| format!("cannot read {input}: {e}"))
}

fn write(path: &PathBuf, text: &str) -> Result<(), String> {
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn run(args: &Args) -> Result<(), String> {
    let bytes = read_input(&args.input)?;
    let options = Options {
        max_spans: args.max_spans,
    };
    let capture =
        parse(&bytes, &options).map_err(|e| format!("{}: {e}", args.input))?;
    let layout = layout(&capture);
    for warning in &layout.warnings {
        println!("warning: {warning}");
    }
    write(&args.html, &render_page(&layout))?;
    let counts = format!(
        "{} trace(s), {} span(s), {} warning(s)",
        layout.traces.len(),
        layout.rows.len(),
        layout.warnings.len()
    );
    println!("wrote {}: {counts}", args.html.display());
    if let Some(chrome) = &args.chrome {
        write(chrome, &render_chrome(&layout))?;
        println!("wrote {}: Chrome trace-event JSON", chrome.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("trace-view: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("trace-view: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &str) -> Result<Args, String> {
        parse_args(
            &words
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn arguments() {
        let a = args("run.jsonl --chrome c.json --max-spans 5").unwrap();
        assert_eq!(a.html, PathBuf::from("run.html"));
        assert_eq!(a.chrome, Some(PathBuf::from("c.json")));
        assert_eq!(a.max_spans, 5);
        assert_eq!(args("- -o x.html").unwrap().html, PathBuf::from("x.html"));
        assert_eq!(args("-").unwrap().html, PathBuf::from("trace-view.html"));
        for bad in ["", "a b", "a --max-spans 0", "a --max-spans", "a --frob"] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
    }
}
