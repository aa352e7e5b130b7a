//! Executions of message-passing processes, Lamport's happens-before, and
//! the two logical clocks that try to capture it: Lamport clocks and
//! vector clocks (Fidge 1988, Mattern 1989).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::ModelError;

/// What an event of an [`Execution`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Something only its own process sees (e.g. a span starts).
    Local,
    /// Sends message number `msg`.
    Send(usize),
    /// Receives message number `msg`.
    Receive(usize),
}

/// One event: which process did it, and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The process, numbered from 0.
    pub process: usize,
    /// What it did.
    pub action: Action,
}

/// An execution: its events in the order an observer recorded them (one
/// linearisation of the run; any other would give the same answers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Execution {
    steps: Vec<Step>,
    processes: usize,
}

impl Execution {
    /// Checks that every message is sent once, before it is received once.
    pub fn new(steps: Vec<Step>) -> Result<Self, ModelError> {
        let mut sent = BTreeMap::new();
        let mut received = BTreeMap::new();
        for (i, s) in steps.iter().enumerate() {
            match s.action {
                Action::Local => {}
                Action::Send(m) => {
                    if sent.insert(m, i).is_some() {
                        return Err(ModelError::BadExecution(format!(
                            "message {m} sent twice"
                        )));
                    }
                }
                Action::Receive(m) => {
                    if !sent.contains_key(&m) {
                        return Err(ModelError::BadExecution(format!(
                            "message {m} received before it was sent"
                        )));
                    }
                    if received.insert(m, i).is_some() {
                        return Err(ModelError::BadExecution(format!(
                            "message {m} received twice"
                        )));
                    }
                }
            }
        }
        let processes = steps.iter().map(|s| s.process + 1).max().unwrap_or(0);
        Ok(Self { steps, processes })
    }

    /// The events.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The number of processes.
    pub fn processes(&self) -> usize {
        self.processes
    }

    // ANCHOR: happens_before
    /// Lamport's happens-before, computed from its definition: the smallest
    /// transitive relation with `e → f` when `e` comes before `f` in the same
    /// process, or `e` sends the message that `f` receives.
    /// `hb[i][j]` says whether event `i` happens before event `j`.
    pub fn happens_before(&self) -> Vec<Vec<bool>> {
        let n = self.steps.len();
        let mut hb = vec![vec![false; n]; n];
        let mut send_of = BTreeMap::new();
        for (j, f) in self.steps.iter().enumerate() {
            if let Action::Send(m) = f.action {
                send_of.insert(m, j);
            }
            for (i, e) in self.steps[..j].iter().enumerate() {
                if e.process == f.process {
                    hb[i][j] = true;
                }
            }
            if let Action::Receive(m) = f.action {
                hb[send_of[&m]][j] = true;
            }
        }
        // ANCHOR_END: happens_before
        // ANCHOR: transitive
        // Transitive closure; every edge goes forward in the recorded order.
        for j in 0..n {
            for k in 0..j {
                if hb[k][j] {
                    for row in hb.iter_mut().take(k) {
                        if row[k] {
                            row[j] = true;
                        }
                    }
                }
            }
        }
        hb
    }
    // ANCHOR_END: transitive

    // ANCHOR: lamport
    /// Lamport clocks: each process counts its events; a message carries
    /// the sender's count, and the receiver jumps past it.
    pub fn lamport(&self) -> Vec<u64> {
        let mut clock = vec![0u64; self.processes];
        let mut carried = BTreeMap::new();
        let mut out = Vec::with_capacity(self.steps.len());
        for s in &self.steps {
            let c = &mut clock[s.process];
            if let Action::Receive(m) = s.action {
                *c = (*c).max(carried[&m]);
            }
            *c += 1;
            if let Action::Send(m) = s.action {
                carried.insert(m, *c);
            }
            out.push(*c);
        }
        out
    }
    // ANCHOR_END: lamport

    // ANCHOR: vector
    /// Vector clocks: each process counts its own events and keeps the
    /// largest count it has heard of for every other process; a message
    /// carries the sender's whole vector, merged by the receiver.
    pub fn vector(&self) -> Vec<VectorClock> {
        let mut clock = vec![VectorClock::default(); self.processes];
        let mut carried = BTreeMap::new();
        let mut out = Vec::with_capacity(self.steps.len());
        for s in &self.steps {
            let c = &mut clock[s.process];
            if let Action::Receive(m) = s.action {
                c.merge(&carried[&m]);
            }
            c.tick(s.process);
            if let Action::Send(m) = s.action {
                carried.insert(m, c.clone());
            }
            out.push(c.clone());
        }
        out
    }
    // ANCHOR_END: vector
}

impl fmt::Display for Execution {
    /// One event per entry: `p0:send(m1)`, `p1:recv(m1)`, `p2:local`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .steps
            .iter()
            .map(|s| match s.action {
                Action::Local => format!("p{}:local", s.process),
                Action::Send(m) => format!("p{}:send(m{m})", s.process),
                Action::Receive(m) => format!("p{}:recv(m{m})", s.process),
            })
            .collect();
        f.write_str(&parts.join(" "))
    }
}

/// A vector clock: for each process, how many of its events are known to
/// have happened. Missing entries are 0, so processes can be added on the fly.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VectorClock(BTreeMap<usize, u64>);

impl VectorClock {
    /// Counts one more event of `process`.
    pub fn tick(&mut self, process: usize) {
        *self.0.entry(process).or_insert(0) += 1;
    }

    /// Takes the larger count for every process.
    pub fn merge(&mut self, other: &VectorClock) {
        for (&p, &n) in &other.0 {
            let e = self.0.entry(p).or_insert(0);
            *e = (*e).max(n);
        }
    }

    /// The count for `process`.
    pub fn get(&self, process: usize) -> u64 {
        self.0.get(&process).copied().unwrap_or(0)
    }

    /// `self < other`: no entry larger, and the clocks differ.
    pub fn before(&self, other: &VectorClock) -> bool {
        self.partial_cmp(other) == Some(Ordering::Less)
    }

    /// Neither clock is before the other.
    pub fn concurrent(&self, other: &VectorClock) -> bool {
        self.partial_cmp(other).is_none()
    }
}

impl PartialOrd for VectorClock {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let keys = self.0.keys().chain(other.0.keys());
        let (mut less, mut greater) = (false, false);
        for &p in keys {
            match self.get(p).cmp(&other.get(p)) {
                Ordering::Less => less = true,
                Ordering::Greater => greater = true,
                Ordering::Equal => {}
            }
        }
        match (less, greater) {
            (false, false) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (true, true) => None,
        }
    }
}

impl fmt::Debug for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for VectorClock {
    /// `[p0:2 p1:1]`, zero entries left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(p, n)| format!("p{p}:{n}"))
            .collect();
        write!(f, "[{}]", parts.join(" "))
    }
}
