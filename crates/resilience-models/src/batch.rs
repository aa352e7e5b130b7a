//! T5: the batch span processor, as a stateright model whose state space is
//! defined exactly like the TLA+ specification `specs/t5_batch/BatchSpans.tla`,
//! so that the two checkers must report the same number of distinct states.
//!
//! The model follows the book's fast processor,
//! `crates/telemetry/src/fast_batch.rs` on `crates/span-queue`: several
//! producer threads end spans and push each into a bounded queue that never
//! blocks. A push is two steps, as in `BoundedQueue::push`: claiming a slot
//! (one CAS on the tail, which also sees the close mark, so a full or closed
//! queue refuses the span and counts it), then writing the span into it.
//! One exporter thread takes up to `batch` written spans from the head
//! (`pop_into`) and exports them, counting a failed export's spans. Shutdown
//! closes the queue between two exports while the producers keep running;
//! the exporter drains every claimed slot (`Worker::finish`, `is_drained`)
//! and stops.
//!
//! [`Bug`] plants three bugs, the same three as `BatchSpansBugs.tla`; the
//! tests show the checker rejecting each.

use std::collections::BTreeSet;

use stateright::{Model, Property};

/// A span: (producer, number), both from 1, as `<<p, k>>` in the spec.
pub type SpanId = (u8, u8);

/// P producers ending K spans each, a queue of capacity Q, batches of at
/// most B, and optionally a planted bug.
#[derive(Debug, Clone, Copy)]
pub struct BatchModel {
    /// Producer threads P.
    pub producers: u8,
    /// Spans each producer ends K.
    pub spans: u8,
    /// Queue capacity Q.
    pub capacity: usize,
    /// Largest batch B.
    pub batch: usize,
    /// A planted bug, or `None` for the processor as written.
    pub bug: Option<Bug>,
}

/// Bugs planted on purpose, each a plausible slip in the code modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// The exporter stops when a pop finds nothing instead of waiting until
    /// every claimed slot has been popped (`is_drained`): a span whose push
    /// claimed its slot before the close is left behind. Breaks "drained".
    StopOnEmptyPop,
    /// A push reads the close flag, then claims a slot in a second step: a
    /// close between the two lets the span in after the exporter stopped.
    /// Breaks "drained".
    CheckThenClaim,
    /// A failed batch is put back at the tail for a retry, behind spans
    /// that ended after it. Breaks "per-producer FIFO".
    RequeueFailed,
}

/// What a producer thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pc {
    /// Between pushes.
    Idle,
    /// Read "not closed", has not claimed a slot yet (only [`Bug::CheckThenClaim`]).
    Checked,
    /// Claimed a slot, still writing its span into it.
    Writing,
}

// ANCHOR: state
/// One state; the fields are the TLA+ spec's variables, one for one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchState {
    /// `ended[p]`: spans producer p has offered (index p - 1).
    pub ended: Vec<u8>,
    /// `pc[p]`: idle, or writing its claimed slot.
    pub pc: Vec<Pc>,
    /// `queue`: claimed slots, oldest first, written or not.
    pub queue: Vec<SpanId>,
    /// `batch`: what the exporter took and is exporting.
    pub batch: Vec<SpanId>,
    /// `exported`: what it delivered, in delivery order.
    pub exported: Vec<SpanId>,
    /// `failed`: spans in batches whose export failed (counted).
    pub failed: BTreeSet<SpanId>,
    /// `droppedFull`: spans refused by a full queue (counted).
    pub dropped_full: BTreeSet<SpanId>,
    /// `droppedClosed`: spans refused after shutdown began (counted).
    pub dropped_closed: BTreeSet<SpanId>,
    /// `closed`: shutdown has begun; pushes are refused.
    pub closed: bool,
    /// `stopped`: the exporter has finished.
    pub stopped: bool,
}
// ANCHOR_END: state

/// The spec's actions; a producer is numbered from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchAction {
    /// Producer p offers its next span: refused, or a slot claimed.
    End(u8),
    /// Producer p writes its span into the slot it claimed.
    Write(u8),
    /// Producer p claims the slot it checked for ([`Bug::CheckThenClaim`]).
    ClaimLate(u8),
    /// The exporter takes up to B written spans from the head.
    Take,
    /// The export of the batch succeeds.
    Export,
    /// The export of the batch fails; its spans are counted.
    Fail,
    /// The failed batch goes back to the tail ([`Bug::RequeueFailed`]).
    Requeue,
    /// The exporter reads the shutdown request and closes the queue.
    Close,
    /// The exporter stops.
    Stop,
}

impl BatchState {
    /// Whether the span in a claimed slot has been written: not unless its
    /// producer is still writing it (then it is that producer's last span).
    pub fn written(&self, (p, k): SpanId) -> bool {
        let i = usize::from(p - 1);
        !(self.pc[i] == Pc::Writing && k == self.ended[i])
    }

    /// How many slots from the head are written: a pop stops at the first
    /// one that is not, as the head moves one slot at a time.
    pub fn ready_len(&self) -> usize {
        self.queue.iter().take_while(|s| self.written(**s)).count()
    }

    /// Every span offered so far (`Ended` in the spec).
    pub fn offered(&self) -> BTreeSet<SpanId> {
        (1..)
            .zip(&self.ended)
            .flat_map(|(p, &n)| (1..=n).map(move |k| (p, k)))
            .collect()
    }

    /// Spans with an outcome: exported, failed or dropped (`Outcome`).
    pub fn outcome(&self) -> BTreeSet<SpanId> {
        let mut all: BTreeSet<SpanId> = self.exported.iter().copied().collect();
        all.extend(&self.failed);
        all.extend(&self.dropped_full);
        all.extend(&self.dropped_closed);
        all
    }
}

impl Model for BatchModel {
    type State = BatchState;
    type Action = BatchAction;

    fn init_states(&self) -> Vec<BatchState> {
        let p = usize::from(self.producers);
        vec![BatchState {
            ended: vec![0; p],
            pc: vec![Pc::Idle; p],
            queue: vec![],
            batch: vec![],
            exported: vec![],
            failed: BTreeSet::new(),
            dropped_full: BTreeSet::new(),
            dropped_closed: BTreeSet::new(),
            closed: false,
            stopped: false,
        }]
    }

    // ANCHOR: actions
    fn actions(&self, s: &BatchState, actions: &mut Vec<BatchAction>) {
        for (p, i) in (1..=self.producers).zip(0..) {
            match s.pc[i] {
                Pc::Idle if s.ended[i] < self.spans => {
                    actions.push(BatchAction::End(p))
                }
                Pc::Idle => {}
                Pc::Checked => actions.push(BatchAction::ClaimLate(p)),
                Pc::Writing => actions.push(BatchAction::Write(p)),
            }
        }
        if !s.stopped && s.batch.is_empty() && s.ready_len() > 0 {
            actions.push(BatchAction::Take);
        }
        if !s.batch.is_empty() {
            actions.push(BatchAction::Export);
            actions.push(BatchAction::Fail);
            let room = s.queue.len() + s.batch.len() <= self.capacity;
            if self.bug == Some(Bug::RequeueFailed) && room {
                actions.push(BatchAction::Requeue);
            }
        }
        if !s.closed && s.batch.is_empty() {
            actions.push(BatchAction::Close);
        }
        let drained = match self.bug {
            Some(Bug::StopOnEmptyPop) => s.ready_len() == 0,
            _ => s.queue.is_empty(),
        };
        if !s.stopped && s.closed && s.batch.is_empty() && drained {
            actions.push(BatchAction::Stop);
        }
    }
    // ANCHOR_END: actions

    // ANCHOR: next_end
    fn next_state(
        &self,
        last: &BatchState,
        action: BatchAction,
    ) -> Option<BatchState> {
        let mut s = last.clone();
        match action {
            BatchAction::End(p) => {
                let i = usize::from(p - 1);
                if s.closed {
                    s.ended[i] += 1;
                    s.dropped_closed.insert((p, s.ended[i]));
                } else if self.bug == Some(Bug::CheckThenClaim) {
                    s.pc[i] = Pc::Checked;
                } else {
                    self.claim(&mut s, p);
                }
            }
            BatchAction::ClaimLate(p) => self.claim(&mut s, p),
            BatchAction::Write(p) => s.pc[usize::from(p - 1)] = Pc::Idle,
            // ANCHOR_END: next_end
            // ANCHOR: next_rest
            BatchAction::Take => {
                let n = s.ready_len().min(self.batch);
                s.batch = s.queue.drain(..n).collect();
            }
            BatchAction::Export => s.exported.append(&mut s.batch),
            BatchAction::Fail => s.failed.extend(s.batch.drain(..)),
            BatchAction::Requeue => s.queue.append(&mut s.batch),
            BatchAction::Close => s.closed = true,
            BatchAction::Stop => s.stopped = true,
        }
        Some(s)
    }
    // ANCHOR_END: next_rest

    // ANCHOR: safety
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::<Self>::always("accounting", |_, s| {
                let mut places: BTreeSet<SpanId> = s.outcome();
                places.extend(s.queue.iter().chain(&s.batch));
                let sizes = s.queue.len()
                    + s.batch.len()
                    + s.exported.len()
                    + s.failed.len()
                    + s.dropped_full.len()
                    + s.dropped_closed.len();
                let offered = s.offered();
                places == offered && sizes == offered.len()
            }),
            Property::<Self>::always("per-producer FIFO", |_, s| {
                s.exported.iter().enumerate().all(|(i, a)| {
                    s.exported[i + 1..].iter().all(|b| a.0 != b.0 || a.1 < b.1)
                })
            }),
            Property::<Self>::always("drained", |_, s| {
                !s.stopped || s.offered().is_subset(&s.outcome())
            }),
            // ANCHOR_END: safety
            // ANCHOR: termination
            // Every step makes progress (see `progress`), so every path is
            // finite; a state with no successor must be the finished one.
            Property::<Self>::always("shutdown terminates", |m, s| {
                let mut next = Vec::new();
                m.actions(s, &mut next);
                let done = s.ended.iter().all(|&n| n == m.spans)
                    && s.pc.iter().all(|&pc| pc == Pc::Idle);
                !next.is_empty() || (s.stopped && done)
            }),
            // ANCHOR_END: termination
            // ANCHOR: witnesses
            // The race the model is about happens: the queue closes while a
            // push that claimed its slot is still writing it.
            Property::<Self>::sometimes("close races a write", |_, s| {
                s.closed && !s.stopped && s.pc.contains(&Pc::Writing)
            }),
            // The export order mixes producers: 1, 2, 1 or 2, 1, 2.
            Property::<Self>::sometimes("producers interleave", |_, s| {
                s.exported
                    .windows(3)
                    .any(|w| w[0].0 == w[2].0 && w[0].0 != w[1].0)
            }),
            // ANCHOR_END: witnesses
        ]
    }
}

impl BatchModel {
    /// The constants of the chapter's check (the TLA+ `.cfg` uses the same).
    pub const CHAPTER: BatchModel = BatchModel {
        producers: 2,
        spans: 2,
        capacity: 2,
        batch: 2,
        bug: None,
    };

    /// The chapter's model with a planted bug.
    pub const fn with_bug(bug: Bug) -> BatchModel {
        BatchModel {
            bug: Some(bug),
            ..Self::CHAPTER
        }
    }

    /// The property each planted bug must break.
    pub fn broken_by(bug: Bug) -> &'static str {
        match bug {
            Bug::StopOnEmptyPop | Bug::CheckThenClaim => "drained",
            Bug::RequeueFailed => "per-producer FIFO",
        }
    }

    /// Producer p claims a slot for its next span, or is refused when the
    /// queue is full (the close was tested before, in the same CAS).
    fn claim(&self, s: &mut BatchState, p: u8) {
        let i = usize::from(p - 1);
        s.ended[i] += 1;
        let span = (p, s.ended[i]);
        if s.queue.len() == self.capacity {
            s.dropped_full.insert(span);
            s.pc[i] = Pc::Idle;
        } else {
            s.queue.push(span);
            s.pc[i] = Pc::Writing;
        }
    }
}

/// A measure that every action of the model without bugs strictly
/// increases, which is why its state graph has no cycles (checked by a test
/// over every reachable state): a span weighs 1 in a slot being written, 2
/// once written, 3 in a batch, 4 once exported or failed, 5 once dropped.
pub fn progress(s: &BatchState) -> usize {
    let written = s.queue.iter().filter(|x| s.written(**x)).count();
    s.queue.len()
        + written
        + 3 * s.batch.len()
        + 4 * (s.exported.len() + s.failed.len())
        + 5 * (s.dropped_full.len() + s.dropped_closed.len())
        + usize::from(s.closed)
        + usize::from(s.stopped)
}

#[cfg(test)]
mod tests;
