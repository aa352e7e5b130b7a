//! Span trees read from exported spans, and a log of events stamped with
//! vector clocks to compare them with happens-before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::trace::SpanId;
use opentelemetry_sdk::trace::SpanData;

use crate::clocks::VectorClock;

/// One span of a [`SpanTree`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The span's id.
    pub id: SpanId,
    /// Its parent's id ([`SpanId::INVALID`] for a root).
    pub parent: SpanId,
    /// Its name.
    pub name: String,
}

/// The forest the parent/child relation makes of a set of spans: all a
/// span tree records about order.
#[derive(Clone, Debug, Default)]
pub struct SpanTree {
    nodes: HashMap<SpanId, Node>,
}

impl SpanTree {
    /// The tree of `spans` (spans whose parent is not among them are roots).
    pub fn new(spans: &[SpanData]) -> Self {
        let nodes = spans
            .iter()
            .map(|s| {
                let id = s.span_context.span_id();
                let node = Node {
                    id,
                    parent: s.parent_span_id,
                    name: s.name.to_string(),
                };
                (id, node)
            })
            .collect();
        Self { nodes }
    }

    /// The spans.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// The name of `id` (empty if it is not in the tree).
    pub fn name(&self, id: SpanId) -> &str {
        self.nodes.get(&id).map_or("", |n| n.name.as_str())
    }

    /// The parent of `id`, if it is in the tree.
    pub fn parent(&self, id: SpanId) -> Option<SpanId> {
        let p = self.nodes.get(&id)?.parent;
        self.nodes.contains_key(&p).then_some(p)
    }

    /// Whether `a` is `b` or an ancestor of `b`.
    pub fn is_ancestor(&self, a: SpanId, b: SpanId) -> bool {
        let mut at = Some(b);
        while let Some(x) = at {
            if x == a {
                return true;
            }
            at = self.parent(x);
        }
        false
    }

    /// Whether a tree path joins `a` and `b`: one is an ancestor of the other.
    pub fn on_one_path(&self, a: SpanId, b: SpanId) -> bool {
        self.is_ancestor(a, b) || self.is_ancestor(b, a)
    }

    // ANCHOR: render
    /// The tree as indented names, siblings sorted: what a trace
    /// viewer's tree shows once timestamps are set aside.
    pub fn render(&self) -> String {
        let mut roots: Vec<String> = self
            .nodes
            .values()
            .filter(|n| self.parent(n.id).is_none())
            .map(|n| self.render_from(n, 0))
            .collect();
        roots.sort();
        roots.concat()
    }

    fn render_from(&self, node: &Node, depth: usize) -> String {
        let mut children: Vec<String> = self
            .nodes
            .values()
            .filter(|n| self.parent(n.id) == Some(node.id))
            .map(|n| self.render_from(n, depth + 1))
            .collect();
        // Sorting the rendered subtrees makes the text independent of the
        // order the spans were exported in.
        children.sort();
        format!("{}{}\n{}", "  ".repeat(depth), node.name, children.concat())
    }
    // ANCHOR_END: render
}

/// An event recorded inside a span, with the vector clock of the process
/// that recorded it.
#[derive(Clone, Debug)]
pub struct Stamped {
    /// The span the event was recorded in.
    pub span: SpanId,
    /// The process (thread, task or job) that recorded it.
    pub process: usize,
    /// Its vector clock.
    pub clock: VectorClock,
    /// What happened.
    pub what: String,
}

/// The vector clock of one sequential process (a thread, a task, a job),
/// which records its events into a shared [`CausalLog`].
#[derive(Debug)]
pub struct ProcessClock {
    id: usize,
    clock: VectorClock,
}

impl ProcessClock {
    /// Records an event inside `span` and returns its clock.
    pub fn event(
        &mut self,
        log: &CausalLog,
        span: SpanId,
        what: &str,
    ) -> VectorClock {
        self.clock.tick(self.id);
        log.push(Stamped {
            span,
            process: self.id,
            clock: self.clock.clone(),
            what: what.to_owned(),
        });
        self.clock.clone()
    }

    /// Receives a message stamped `stamp`: everything before its sending
    /// now happens before this process's next event.
    pub fn receive(&mut self, stamp: &VectorClock) {
        self.clock.merge(stamp);
    }

    /// The clock a message sent now carries.
    pub fn stamp(&self) -> VectorClock {
        self.clock.clone()
    }
}

// ANCHOR: causal_log
/// Events recorded by many processes, each with its vector clock. The log
/// is only a place to collect them: its lock orders the pushes, but the
/// clocks, not that order, say which event happened before which.
#[derive(Debug, Default)]
pub struct CausalLog {
    next_process: AtomicUsize,
    events: Mutex<Vec<Stamped>>,
}

impl CausalLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock for a new process.
    pub fn process(&self) -> ProcessClock {
        ProcessClock {
            id: self.next_process.fetch_add(1, Ordering::Relaxed),
            clock: VectorClock::default(),
        }
    }
    // ANCHOR_END: causal_log

    fn push(&self, event: Stamped) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }

    /// Every event recorded so far.
    pub fn events(&self) -> Vec<Stamped> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    // ANCHOR: causal_log_bounds
    /// The first and the last event recorded in each span: its start and
    /// its end, as far as happens-before is concerned.
    pub fn bounds(&self) -> HashMap<SpanId, Bounds> {
        let mut out: HashMap<SpanId, Bounds> = HashMap::new();
        for e in self.events() {
            // Within one span, events come from one process in order, so
            // their clocks are totally ordered: keep the least and greatest.
            let Some(b) = out.get_mut(&e.span) else {
                let (first, last) = (e.clone(), e.clone());
                out.insert(e.span, Bounds { first, last });
                continue;
            };
            if e.clock.before(&b.first.clock) {
                b.first = e.clone();
            }
            if b.last.clock.before(&e.clock) {
                b.last = e;
            }
        }
        out
    }
}
// ANCHOR_END: causal_log_bounds

/// The first and the last event recorded in one span.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// Its first event: the span's start, for happens-before.
    pub first: Stamped,
    /// Its last event: the span's end, for happens-before.
    pub last: Stamped,
}
