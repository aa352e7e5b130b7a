//! The processes Part III checks: a bounded buffer, a two-stage pipeline,
//! two parallel workers, and a link that retries over a hidden channel.
//! Channels carry the values 0 and 1; `in.0` is "0 arrives on `in`".

use crate::csp::{
    Alphabet, Definitions, Event, Process, alphabet, call, parallel, prefix,
};

/// The values a channel carries in these models.
pub const VALUES: [u8; 2] = [0, 1];

/// The events of channel `name`: `name.0`, `name.1`.
pub fn channel(name: &str) -> Alphabet {
    VALUES
        .iter()
        .map(|v| Event::new(&format!("{name}.{v}")))
        .collect()
}

/// An external choice over the values: `□ v ∈ {0,1} • branch(v)`.
fn choice_over_values(branch: impl Fn(u8) -> Process) -> Process {
    VALUES
        .iter()
        .map(|&v| branch(v))
        .reduce(Process::ext)
        .expect("there are values")
}

// ANCHOR: buffer
/// `BUF⟨s⟩`, a FIFO buffer of `capacity` holding `s`: it accepts on `in`
/// while not full, offers the oldest value on `out` while not empty.
/// Returns the definitions and the empty buffer `BUF⟨⟩`.
pub fn buffer(capacity: usize) -> (Definitions, Process) {
    let name = |s: &[u8]| {
        let items: Vec<String> = s.iter().map(u8::to_string).collect();
        format!("BUF⟨{}⟩", items.join(","))
    };
    let mut defs = Definitions::new();
    let mut contents: Vec<Vec<u8>> = vec![vec![]];
    while let Some(s) = contents.pop() {
        let mut branches = Vec::new();
        if s.len() < capacity {
            for v in VALUES {
                let mut longer = s.clone();
                longer.push(v);
                branches.push(prefix(&format!("in.{v}"), call(&name(&longer))));
                contents.push(longer);
            }
        }
        if let Some((head, rest)) = s.split_first() {
            branches.push(prefix(&format!("out.{head}"), call(&name(rest))));
        }
        let body = branches
            .into_iter()
            .reduce(Process::ext)
            .expect("capacity ≥ 1");
        defs = defs.define(&name(&s), body);
    }
    (defs, call(&name(&[])))
}
// ANCHOR_END: buffer

// ANCHOR: pipeline
/// Two one-place stages joined by channel `mid`, which is hidden:
/// `(LEFT [in,mid || mid,out] RIGHT) \ mid`, with
/// `LEFT = □v • in.v → mid.v → LEFT`, `RIGHT = □v • mid.v → out.v → RIGHT`.
pub fn two_stage_pipeline() -> (Definitions, Process) {
    let defs = Definitions::new()
        .define(
            "LEFT",
            choice_over_values(|v| {
                prefix(
                    &format!("in.{v}"),
                    prefix(&format!("mid.{v}"), call("LEFT")),
                )
            }),
        )
        .define(
            "RIGHT",
            choice_over_values(|v| {
                prefix(
                    &format!("mid.{v}"),
                    prefix(&format!("out.{v}"), call("RIGHT")),
                )
            }),
        );
    let left: Alphabet = channel("in").union(&channel("mid")).cloned().collect();
    let right: Alphabet = channel("mid").union(&channel("out")).cloned().collect();
    let system =
        parallel(call("LEFT"), left, right, call("RIGHT")).hide(channel("mid"));
    (defs, system)
}
// ANCHOR_END: pipeline

// ANCHOR: workers
/// Two workers taking items from `in` and putting results on `out`,
/// side by side: `WORKER ||| WORKER`, `WORKER = □v • in.v → out.v → WORKER`.
pub fn two_workers() -> (Definitions, Process) {
    let defs = Definitions::new().define(
        "WORKER",
        choice_over_values(|v| {
            prefix(
                &format!("in.{v}"),
                prefix(&format!("out.{v}"), call("WORKER")),
            )
        }),
    );
    (defs, call("WORKER").interleave(call("WORKER")))
}
// ANCHOR_END: workers

// ANCHOR: retry
/// A sender and a receiver joined by a hidden channel with retries: the
/// receiver may refuse a value (`retry`), and the sender then sends it again.
/// `SEND = □v • in.v → TRY.v`, `TRY.v = mid.v → (ok → SEND □ retry → TRY.v)`,
/// `RECV = □v • mid.v → ((ok → out.v → RECV) ⊓ (retry → RECV))`,
/// and `mid`, `ok`, `retry` are hidden.
pub fn retrying_link() -> (Definitions, Process) {
    let mut defs = Definitions::new()
        .define(
            "SEND",
            choice_over_values(|v| {
                prefix(&format!("in.{v}"), call(&format!("TRY.{v}")))
            }),
        )
        .define(
            "RECV",
            choice_over_values(|v| {
                let accept = prefix("ok", prefix(&format!("out.{v}"), call("RECV")));
                let refuse = prefix("retry", call("RECV"));
                prefix(&format!("mid.{v}"), accept.int(refuse))
            }),
        );
    // ANCHOR_END: retry
    // ANCHOR: retry_try
    for v in VALUES {
        let again = prefix("ok", call("SEND"))
            .ext(prefix("retry", call(&format!("TRY.{v}"))));
        defs = defs.define(&format!("TRY.{v}"), prefix(&format!("mid.{v}"), again));
    }
    let control = alphabet(["ok", "retry"]);
    let shared: Alphabet = channel("mid").union(&control).cloned().collect();
    let send: Alphabet = channel("in").union(&shared).cloned().collect();
    let recv: Alphabet = channel("out").union(&shared).cloned().collect();
    let system = parallel(call("SEND"), send, recv, call("RECV")).hide(shared);
    (defs, system)
}
// ANCHOR_END: retry_try

/// Whether `trace` takes values out of `out` in a different order than
/// they went into `in` (something no FIFO buffer does).
pub fn reorders(trace: &[Event]) -> bool {
    let values = |chan: &str| -> Vec<String> {
        trace
            .iter()
            .filter_map(|e| e.name().strip_prefix(chan).map(str::to_owned))
            .collect()
    };
    let (ins, outs) = (values("in."), values("out."));
    outs.iter().zip(&ins).any(|(o, i)| o != i)
}
