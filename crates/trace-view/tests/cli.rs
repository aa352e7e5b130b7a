//! The `trace-view` binary: what it writes and says, and exit code 2 with a
//! clear message on bad input or arguments.

mod common;

use common::{json_span, request};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("trace-view-cli")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trace-view"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn writes_the_page_and_the_chrome_json() {
    let dir = dir("writes");
    let input = dir.join("run.jsonl");
    let spans = vec![json_span(1, 1, 0, 0, 100), json_span(1, 2, 9, 10, 20)];
    std::fs::write(&input, request("api", spans)).unwrap();
    let chrome = dir.join("run.chrome.json");
    let out = run(
        &[
            input.to_str().unwrap(),
            "--chrome",
            chrome.to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("warning: trace"), "{stdout}");
    assert!(
        stdout.contains("run.html: 1 trace(s), 2 span(s), 1 warning(s)"),
        "{stdout}"
    );
    assert!(
        std::fs::read_to_string(dir.join("run.html"))
            .unwrap()
            .contains("data-span-id")
    );
    assert!(
        std::fs::read_to_string(chrome)
            .unwrap()
            .contains("traceEvents")
    );
}

#[test]
fn reads_stdin() {
    let page = dir("stdin").join("out.html");
    let out = run(
        &["-", "-o", page.to_str().unwrap()],
        request("api", vec![]).as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(page.is_file());
}

#[test]
fn bad_input_and_bad_arguments_exit_with_2_and_say_why() {
    let out = run(
        &["-", "-o", "/nonexistent/x.html"],
        b"{\"resourceSpans\": [",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("trace-view: -: line 1"), "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    for args in [
        &["--max-spans", "x", "a"][..],
        &[],
        &["/nonexistent/in.json"],
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).starts_with("trace-view: "), "{args:?}");
    }
}
