//! Replays every saved input of the fuzz target `telemetry_config`
//! (`fuzz/corpus/telemetry_config/*` and any crash in
//! `fuzz/artifacts/telemetry_config/*`) through the target's check, on
//! stable Rust and without libFuzzer: a finding, once saved, stays a
//! regression test.

use std::path::{Path, PathBuf};

use otlp_csp_telemetry::config_fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable fuzz directory").path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no saved inputs for {target} in {}",
        fuzz_dir().display()
    );
    for file in &files {
        let data = std::fs::read(file).expect("readable fuzz input");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target} fails on {}", file.display());
    }
    println!("fuzz corpus: {target}: {} inputs replayed", files.len());
}

#[test]
fn telemetry_config_corpus() {
    replay("telemetry_config", config_fuzzing::telemetry_config);
}
