//! The kernel's operational rules (`csp::transitions`) checked against CSP's
//! algebraic laws and its traces semantics, on random processes, in the
//! traces model: two sides of a law must have the same traces up to
//! `BOUND` events. The laws are those of Roscoe's books (*The Theory and
//! Practice of Concurrency*, 1997; *Understanding Concurrent Systems*,
//! 2010), named in the style of their tags (`□-sym`, `hide-combine`);
//! laws marked "traces only" hold in the traces model and not in the
//! failures model, and the traces model is all this kernel claims. Each
//! term of each law is also compared with the traces semantics, written
//! here from the definitions rather than the transitions.
//!
//! A check that never fails proves nothing: the last test plants wrong
//! rules in the kernel (feature `mutants`) and requires proptest to find,
//! for each, a law it breaks.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use common::runner;
use csp_models::csp::mutants::Mutant;
use csp_models::csp::{
    Alphabet, Definitions, Event, Process, Trace, alphabet, call, prefix, show,
    skip, stop,
};
use csp_models::lts::Lts;
use proptest::prelude::*;
use proptest::test_runner::{TestError, TestRunner};

const CASES: u32 = 100;
/// Traces are compared up to this many events (✓ counts as one).
const BOUND: usize = 5;
const POOL: &[&str] = &["a", "b", "c"];

const NAMES: [&str; 2] = ["RUN", "COUNT"];

/// Two recursive processes the random terms may call: one that never
/// terminates, one that may.
fn body(name: &str) -> Process {
    match name {
        "RUN" => prefix("a", call("RUN")),
        _ => prefix("a", prefix("b", call("COUNT"))).ext(prefix("c", skip())),
    }
}

fn definitions() -> Definitions {
    NAMES
        .iter()
        .fold(Definitions::new(), |d, name| d.define(name, body(name)))
}

fn set() -> impl Strategy<Value = Alphabet> {
    proptest::sample::subsequence(POOL.to_vec(), 0..=POOL.len())
        .prop_map(|events| alphabet(events.iter().copied()))
}

/// A random process: STOP, SKIP, prefixes, the two names, and □, ⊓, `;`,
/// ||| and hiding, nested at most three deep.
fn process() -> BoxedStrategy<Process> {
    let ev = proptest::sample::select(POOL.to_vec());
    let leaf = prop_oneof![
        Just(stop()),
        Just(skip()),
        ev.clone().prop_map(|e| prefix(e, stop())),
        ev.clone().prop_map(|e| prefix(e, skip())),
        proptest::sample::select(NAMES.to_vec()).prop_map(call),
    ];
    leaf.prop_recursive(3, 8, 2, move |inner| {
        prop_oneof![
            (ev.clone(), inner.clone()).prop_map(|(e, p)| prefix(e, p)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.ext(q)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.int(q)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.then(q)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.interleave(q)),
            (inner, set()).prop_map(|(p, h)| p.hide(h)),
        ]
    })
    .boxed()
}

/// The variables of the laws: processes P, Q, R, an event e, sets A, B.
#[derive(Clone, Debug)]
struct Case {
    p: Process,
    q: Process,
    r: Process,
    e: &'static str,
    a: Alphabet,
    b: Alphabet,
}

fn case() -> impl Strategy<Value = Case> {
    let ev = proptest::sample::select(POOL.to_vec());
    (process(), process(), process(), ev, set(), set())
        .prop_map(|(p, q, r, e, a, b)| Case { p, q, r, e, a, b })
}

/// Every law as `(name, left, right)`: `left =T right`.
fn laws(c: &Case) -> Vec<(&'static str, Process, Process)> {
    let (p, q, r, e) = (&c.p, &c.q, &c.r, c.e);
    let (a, b) = (&c.a, &c.b);
    let with_e: Alphabet = a.iter().cloned().chain([Event::new(e)]).collect();
    let without_e: Alphabet = a.iter().filter(|x| x.name() != e).cloned().collect();
    let none = Alphabet::new();
    let (p_, q_, r_) = (|| p.clone(), || q.clone(), || r.clone());
    vec![
        // External and internal choice.
        ("□-sym: P □ Q = Q □ P", p_().ext(q_()), q_().ext(p_())),
        (
            "□-assoc",
            p_().ext(q_().ext(r_())),
            p_().ext(q_()).ext(r_()),
        ),
        ("□-idem: P □ P = P", p_().ext(p_()), p_()),
        ("□-unit: P □ STOP = P", p_().ext(stop()), p_()),
        ("⊓-sym: P ⊓ Q = Q ⊓ P", p_().int(q_()), q_().int(p_())),
        (
            "⊓-assoc",
            p_().int(q_().int(r_())),
            p_().int(q_()).int(r_()),
        ),
        ("⊓-idem: P ⊓ P = P", p_().int(p_()), p_()),
        // Traces only: the traces model cannot tell who chooses.
        ("□ =T ⊓: P ⊓ Q = P □ Q", p_().int(q_()), p_().ext(q_())),
        (
            "□-dist: P □ (Q ⊓ R) = (P □ Q) ⊓ (P □ R)",
            p_().ext(q_().int(r_())),
            p_().ext(q_()).int(p_().ext(r_())),
        ),
        (
            "⊓-□-dist: P ⊓ (Q □ R) = (P ⊓ Q) □ (P ⊓ R)",
            p_().int(q_().ext(r_())),
            p_().int(q_()).ext(p_().int(r_())),
        ),
        (
            "prefix-dist: e → (P ⊓ Q) = (e → P) ⊓ (e → Q)",
            prefix(e, p_().int(q_())),
            prefix(e, p_()).int(prefix(e, q_())),
        ),
        // Traces only (in failures the right side may refuse after e).
        (
            "e → (P □ Q) =T (e → P) □ (e → Q)",
            prefix(e, p_().ext(q_())),
            prefix(e, p_()).ext(prefix(e, q_())),
        ),
        // Sequential composition.
        (";-unit-l: SKIP ; P = P", skip().then(p_()), p_()),
        (";-unit-r: P ; SKIP = P", p_().then(skip()), p_()),
        (
            ";-assoc",
            p_().then(q_()).then(r_()),
            p_().then(q_().then(r_())),
        ),
        (";-zero-l: STOP ; P = STOP", stop().then(p_()), stop()),
        (
            ";-step: (e → P) ; Q = e → (P ; Q)",
            prefix(e, p_()).then(q_()),
            prefix(e, p_().then(q_())),
        ),
        (
            ";-dist-l: (P ⊓ Q) ; R = (P ; R) ⊓ (Q ; R)",
            p_().int(q_()).then(r_()),
            p_().then(r_()).int(q_().then(r_())),
        ),
        (
            ";-dist-r: R ; (P ⊓ Q) = (R ; P) ⊓ (R ; Q)",
            r_().then(p_().int(q_())),
            r_().then(p_()).int(r_().then(q_())),
        ),
        // Interleaving; it terminates when both sides do.
        ("|||-sym", p_().interleave(q_()), q_().interleave(p_())),
        (
            "|||-assoc",
            p_().interleave(q_().interleave(r_())),
            p_().interleave(q_()).interleave(r_()),
        ),
        ("|||-unit: P ||| SKIP = P", p_().interleave(skip()), p_()),
        // STOP never terminates, so neither does P ||| STOP.
        (
            "P ||| STOP = P ; STOP",
            p_().interleave(stop()),
            p_().then(stop()),
        ),
        (
            "|||-dist: P ||| (Q ⊓ R) = (P ||| Q) ⊓ (P ||| R)",
            p_().interleave(q_().int(r_())),
            p_().interleave(q_()).int(p_().interleave(r_())),
        ),
        // Hiding.
        (
            "hide-combine: (P \\ A) \\ B = P \\ (A ∪ B)",
            p_().hide(a.clone()).hide(b.clone()),
            p_().hide(a.union(b).cloned().collect()),
        ),
        ("null hiding: P \\ {} = P", p_().hide(none), p_()),
        (
            "hide-step (e ∈ A): (e → P) \\ A = P \\ A",
            prefix(e, p_()).hide(with_e.clone()),
            p_().hide(with_e),
        ),
        (
            "hide-step (e ∉ A): (e → P) \\ A = e → (P \\ A)",
            prefix(e, p_()).hide(without_e.clone()),
            prefix(e, p_().hide(without_e)),
        ),
        (
            "hide-dist: (P ⊓ Q) \\ A = (P \\ A) ⊓ (Q \\ A)",
            p_().int(q_()).hide(a.clone()),
            p_().hide(a.clone()).int(q_().hide(a.clone())),
        ),
        // Traces only (in failures hiding can resolve a □).
        (
            "(P □ Q) \\ A =T (P \\ A) □ (Q \\ A)",
            p_().ext(q_()).hide(a.clone()),
            p_().hide(a.clone()).ext(q_().hide(a.clone())),
        ),
        (
            "hide-;: (P ; Q) \\ A = (P \\ A) ; (Q \\ A)",
            p_().then(q_()).hide(a.clone()),
            p_().hide(a.clone()).then(q_().hide(a.clone())),
        ),
        (
            "hide-|||: (P ||| Q) \\ A = (P \\ A) ||| (Q \\ A)",
            p_().interleave(q_()).hide(a.clone()),
            p_().hide(a.clone()).interleave(q_().hide(a.clone())),
        ),
    ]
}

/// A law that does not hold, with a trace one side has and the other not.
#[derive(Debug)]
struct Broken {
    law: &'static str,
    left: Process,
    right: Process,
    only_left: Option<Trace>,
    only_right: Option<Trace>,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side =
            |t: &Option<Trace>| t.as_deref().map(show).unwrap_or("none".into());
        if self.left == self.right {
            writeln!(f, "{}: {}", self.law, self.left)?;
        } else {
            writeln!(f, "{}: {}  vs  {}", self.law, self.left, self.right)?;
        }
        write!(
            f,
            "only left: {}; only right: {}",
            side(&self.only_left),
            side(&self.only_right)
        )
    }
}

fn traces(p: &Process, defs: &Definitions) -> BTreeSet<Trace> {
    Lts::explore(p, defs).expect("finite").traces(BOUND)
}

/// [`traces`], remembered: the same term appears in several laws.
struct Memo<'a> {
    defs: &'a Definitions,
    seen: HashMap<Process, BTreeSet<Trace>>,
}

impl Memo<'_> {
    fn traces(&mut self, p: &Process) -> BTreeSet<Trace> {
        let defs = self.defs;
        self.seen
            .entry(p.clone())
            .or_insert_with(|| traces(p, defs))
            .clone()
    }
}

fn equal(
    law: &'static str,
    left: &Process,
    right: &Process,
    (l, r): (BTreeSet<Trace>, BTreeSet<Trace>),
) -> Result<(), Box<Broken>> {
    if l == r {
        return Ok(());
    }
    Err(Box::new(Broken {
        law,
        left: left.clone(),
        right: right.clone(),
        only_left: l.difference(&r).min_by_key(|t| t.len()).cloned(),
        only_right: r.difference(&l).min_by_key(|t| t.len()).cloned(),
    }))
}

/// Which checks [`check`] runs.
#[derive(Clone, Copy, PartialEq)]
enum Checks {
    /// The algebraic laws only.
    Laws,
    /// The laws, and each of their terms against the traces semantics.
    LawsAndSemantics,
}

/// Every law (and, if asked, the traces semantics of every term in them).
fn check(defs: &Definitions, c: &Case, checks: Checks) -> Result<(), Box<Broken>> {
    let mut memo = Memo {
        defs,
        seen: HashMap::new(),
    };
    for (law, left, right) in laws(c) {
        let sides = (memo.traces(&left), memo.traces(&right));
        if checks == Checks::LawsAndSemantics {
            // Each side's operational traces against the traces semantics.
            for (side, ops) in [(&left, &sides.0), (&right, &sides.1)] {
                if let Some(den) = semantics(side, BOUND) {
                    equal("traces semantics", side, side, (ops.clone(), den))?;
                }
            }
        }
        equal(law, &left, &right, sides)?;
    }
    // traces(P □ Q) = traces(P) ∪ traces(Q) (and so for ⊓, by the laws).
    let (p, q) = (&c.p, &c.q);
    let ext = p.clone().ext(q.clone());
    let both = memo.traces(p).union(&memo.traces(q)).cloned().collect();
    let law = "traces(P □ Q) = traces(P) ∪ traces(Q)";
    equal(law, &ext, &ext, (memo.traces(&ext), both))?;
    // traces(P ||| STOP) = the traces of P without ✓.
    let with_stop = p.clone().interleave(stop());
    let running = memo
        .traces(p)
        .into_iter()
        .filter(|t| !t.last().is_some_and(Event::is_tick))
        .collect();
    let law = "traces(P ||| STOP) = {s ∈ traces(P) | s has no ✓}";
    equal(
        law,
        &with_stop,
        &with_stop,
        (memo.traces(&with_stop), running),
    )
}

/// The traces of `p` of at most `n` events, from the clauses of the
/// traces semantics (✓ synchronised in |||), not from the transitions.
/// `None` where a name is hidden (its traces would be needed at every
/// length) or for operators the generator does not use.
fn semantics(p: &Process, n: usize) -> Option<BTreeSet<Trace>> {
    const ALL: usize = usize::MAX;
    let empty = || BTreeSet::from([Trace::new()]);
    let ticked = |t: &Trace| t.last().is_some_and(Event::is_tick);
    Some(match p {
        Process::Stop => empty(),
        Process::Skip if n == 0 => empty(),
        Process::Skip => BTreeSet::from([vec![], vec![Event::tick()]]),
        Process::Prefix(_, _) if n == 0 => empty(),
        Process::Prefix(e, next) => {
            let mut out = empty();
            for t in semantics(next, n - 1)? {
                out.insert([vec![e.clone()], t].concat());
            }
            out
        }
        Process::External(l, r) | Process::Internal(l, r) => {
            let mut out = semantics(l, n)?;
            out.extend(semantics(r, n)?);
            out
        }
        Process::Seq(first, second) => {
            let (ps, qs) = (semantics(first, n)?, semantics(second, n)?);
            let mut out = BTreeSet::new();
            for s in ps {
                if !ticked(&s) {
                    out.insert(s);
                    continue;
                }
                let s = &s[..s.len() - 1];
                for t in qs.iter().filter(|t| s.len() + t.len() <= n) {
                    out.insert([s, t].concat());
                }
            }
            out
        }
        Process::Interleave(l, r) => {
            let (ps, qs) = (semantics(l, n)?, semantics(r, n)?);
            let mut out = BTreeSet::new();
            for s in &ps {
                for t in &qs {
                    let both = ticked(s) && ticked(t);
                    let s = &s[..s.len() - usize::from(ticked(s))];
                    let t = &t[..t.len() - usize::from(ticked(t))];
                    let total = s.len() + t.len() + usize::from(both);
                    if total > n {
                        continue;
                    }
                    for mut u in shuffles(s, t) {
                        if both {
                            u.push(Event::tick());
                        }
                        out.insert(u);
                    }
                }
            }
            out
        }
        Process::Hide(inner, hidden) => semantics(inner, ALL)?
            .into_iter()
            .map(|t| {
                t.into_iter()
                    .filter(|e| !hidden.contains(e))
                    .collect::<Trace>()
            })
            .filter(|t| t.len() <= n)
            .collect(),
        // Under hiding, a name's traces would be needed without a bound.
        Process::Call(_) if n > BOUND => return None,
        Process::Call(name) => semantics(&body(name), n)?,
        Process::Parallel(..) => return None,
    })
}

/// Every interleaving of `s` and `t`.
fn shuffles(s: &[Event], t: &[Event]) -> Vec<Trace> {
    match (s.split_first(), t.split_first()) {
        (None, _) => vec![t.to_vec()],
        (_, None) => vec![s.to_vec()],
        (Some((x, s2)), Some((y, t2))) => {
            let mut out = Vec::new();
            for u in shuffles(s2, t) {
                out.push([vec![x.clone()], u].concat());
            }
            for u in shuffles(s, t2) {
                out.push([vec![y.clone()], u].concat());
            }
            out
        }
    }
}

#[test]
fn the_kernel_obeys_the_laws_of_csp_in_the_traces_model() {
    let defs = definitions();
    runner(CASES)
        .run(&case(), |c| {
            check(&defs, &c, Checks::LawsAndSemantics)
                .map_err(|broken| TestCaseError::fail(broken.to_string()))
        })
        .unwrap();
}

/// The same checks fail on a kernel with a planted wrong rule: proptest must
/// find a counterexample for each, and the test fails if it does not.
#[test]
fn the_laws_catch_planted_wrong_rules() {
    for bug in [
        Mutant::SeqShowsTick,
        Mutant::SeqStartsEarly,
        Mutant::HideDropsEvent,
        Mutant::ExternalLeftOnly,
    ] {
        let defs = definitions().with_planted_bug(bug);
        // The laws alone, without the semantics: they must suffice.
        let result = hunter().run(&case(), |c| {
            check(&defs, &c, Checks::Laws)
                .map_err(|b| TestCaseError::fail(b.to_string()))
        });
        let Err(TestError::Fail(_, c)) = result else {
            panic!("{bug:?}: expected a counterexample, got {result:?}");
        };
        let broken =
            check(&defs, &c, Checks::Laws).expect_err("the shrunk case fails");
        println!("{bug:?}: {broken}");
    }
}

/// [`runner`], with fewer shrinking steps: enough for a small counterexample.
fn hunter() -> TestRunner {
    let mut runner = runner(CASES);
    let mut config = runner.config().clone();
    config.max_shrink_iters = 400;
    runner = TestRunner::new_with_rng(config, runner.new_rng());
    runner
}

/// Hoare's `P ||| STOP = P` (1985, without ✓) does not hold once processes
/// can terminate: STOP never does, so `SKIP ||| STOP` cannot.
#[test]
fn p_interleave_stop_is_not_p_when_p_terminates() {
    let defs = definitions();
    let lhs = traces(&skip().interleave(stop()), &defs);
    assert_eq!(lhs, BTreeSet::from([vec![]]));
    assert_ne!(lhs, traces(&skip(), &defs));
}
