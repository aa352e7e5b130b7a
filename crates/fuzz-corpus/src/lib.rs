//! Replays every saved input of a fuzz target (`fuzz/corpus/TARGET/*` and
//! any crash in `fuzz/artifacts/TARGET/*`) through the target's check, on
//! stable Rust and without libFuzzer: a finding, once saved, stays a
//! regression test. Each crate with a fuzz target calls [`replay`] from a
//! test, with the same check function its target calls.

use std::path::{Path, PathBuf};

/// The repository's `fuzz/` folder (this crate lives in `crates/fuzz-corpus`).
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The saved inputs of `target`, corpus then crashes, sorted; hidden files left out.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target))
        else {
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

/// Runs `check` on every saved input of `target`. Panics (failing the
/// calling test) if there is none, or if `check` panics on one, naming it.
pub fn replay(target: &str, check: fn(&[u8])) {
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
