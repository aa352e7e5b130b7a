//! T5: the batch span processor, as a stateright model whose state space is
//! defined exactly like the TLA+ specification `specs/t5_batch/BatchSpans.tla`,
//! so that the two checkers must report the same number of distinct states.
//!
//! The model abstracts the design of the book's fast processor,
//! `crates/telemetry/src/fast_batch.rs` on `crates/span-queue`: an
//! application thread ends spans and pushes them into a bounded queue that
//! never blocks (`BoundedQueue::push`: a full or closed queue refuses the
//! span and counts it); one exporter thread takes up to `batch` spans at a
//! time (`pop_into`) and exports them, counting a failed export's spans;
//! shutdown closes the queue, the exporter drains what is left
//! (`Worker::finish`) and stops.

use stateright::{Model, Property};

/// N spans, a queue of capacity Q, batches of at most B.
#[derive(Debug, Clone, Copy)]
pub struct BatchModel {
    /// Spans the application ends (ids 1..=N, in this order).
    pub spans: u32,
    /// Queue capacity Q.
    pub capacity: usize,
    /// Largest batch B.
    pub batch: usize,
}

// ANCHOR: state
/// One state; the fields are the TLA+ spec's variables, one for one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchState {
    /// `ended`: spans ended so far.
    pub ended: u32,
    /// `queue`: ids waiting for the exporter, oldest first.
    pub queue: Vec<u32>,
    /// `batch`: ids the exporter has taken and is exporting.
    pub batch: Vec<u32>,
    /// `exported`: ids the exporter has delivered, in delivery order.
    pub exported: Vec<u32>,
    /// `failed`: spans in batches whose export failed (counted).
    pub failed: u32,
    /// `droppedFull`: spans refused by a full queue (counted).
    pub dropped_full: u32,
    /// `droppedClosed`: spans refused after shutdown began (counted).
    pub dropped_closed: u32,
    /// `closed`: shutdown has begun; the queue refuses new spans.
    pub closed: bool,
    /// `stopped`: the exporter has finished.
    pub stopped: bool,
}
// ANCHOR_END: state

/// The spec's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchAction {
    /// The application ends the next span (queue it, or drop and count it).
    End,
    /// The exporter takes up to B spans from the head of the queue.
    Take,
    /// The exporter's export of its batch succeeds.
    Export,
    /// The exporter's export of its batch fails; its spans are counted.
    Fail,
    /// Shutdown begins: the queue is closed.
    Shutdown,
    /// The exporter sees a closed, empty queue and no batch, and stops.
    Stop,
}

impl Model for BatchModel {
    type State = BatchState;
    type Action = BatchAction;

    fn init_states(&self) -> Vec<BatchState> {
        vec![BatchState {
            ended: 0,
            queue: vec![],
            batch: vec![],
            exported: vec![],
            failed: 0,
            dropped_full: 0,
            dropped_closed: 0,
            closed: false,
            stopped: false,
        }]
    }

    // ANCHOR: actions
    fn actions(&self, s: &BatchState, actions: &mut Vec<BatchAction>) {
        if s.ended < self.spans {
            actions.push(BatchAction::End);
        }
        if !s.stopped && s.batch.is_empty() && !s.queue.is_empty() {
            actions.push(BatchAction::Take);
        }
        if !s.batch.is_empty() {
            actions.push(BatchAction::Export);
            actions.push(BatchAction::Fail);
        }
        if !s.closed {
            actions.push(BatchAction::Shutdown);
        }
        if !s.stopped && s.closed && s.queue.is_empty() && s.batch.is_empty() {
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
            BatchAction::End => {
                s.ended += 1;
                if s.closed {
                    s.dropped_closed += 1;
                } else if s.queue.len() == self.capacity {
                    s.dropped_full += 1;
                } else {
                    s.queue.push(s.ended);
                }
            }
            // ANCHOR_END: next_end
            // ANCHOR: next_rest
            BatchAction::Take => {
                let n = s.queue.len().min(self.batch);
                s.batch = s.queue.drain(..n).collect();
            }
            BatchAction::Export => s.exported.append(&mut s.batch),
            BatchAction::Fail => {
                s.failed += s.batch.len() as u32;
                s.batch.clear();
            }
            BatchAction::Shutdown => s.closed = true,
            BatchAction::Stop => s.stopped = true,
        }
        Some(s)
    }
    // ANCHOR_END: next_rest

    // ANCHOR: safety
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::<Self>::always("no duplicates", |_, s| {
                let mut ids = s.exported.clone();
                ids.sort_unstable();
                ids.dedup();
                ids.len() == s.exported.len()
            }),
            Property::<Self>::always("FIFO", |_, s| {
                s.exported.is_sorted_by(|a, b| a < b)
            }),
            Property::<Self>::always("conservation", |_, s| {
                let held = (s.queue.len() + s.batch.len() + s.exported.len()) as u32;
                held + s.failed + s.dropped_full + s.dropped_closed == s.ended
            }),
            Property::<Self>::always("flush on shutdown", |_, s| {
                !s.stopped || (s.queue.is_empty() && s.batch.is_empty())
            }),
            // ANCHOR_END: safety
            // ANCHOR: termination
            // Every step makes progress (see `progress`), so every path is
            // finite; a state with no successor must be the finished one.
            Property::<Self>::always("shutdown terminates", |m, s| {
                let mut next = Vec::new();
                m.actions(s, &mut next);
                !next.is_empty() || (s.stopped && s.ended == m.spans)
            }),
        ]
    }
    // ANCHOR_END: termination
}

/// A measure that every action strictly increases, which is why the state
/// graph has no cycles (checked by a test over every reachable state): a
/// span weighs 3 once ended, 4 in a batch, 5 once exported or failed.
pub fn progress(s: &BatchState) -> usize {
    3 * s.ended as usize
        + s.batch.len()
        + 2 * (s.exported.len() + s.failed as usize)
        + usize::from(s.closed)
        + usize::from(s.stopped)
}

impl BatchModel {
    /// The constants of the chapter's check (the TLA+ `.cfg` uses the same).
    pub const CHAPTER: BatchModel = BatchModel {
        spans: 6,
        capacity: 3,
        batch: 2,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;

    #[test]
    fn the_processor_model_holds_every_property() {
        let checker = BatchModel::CHAPTER.checker().spawn_bfs().join();
        checker.assert_properties();
        assert!(checker.unique_state_count() > 100);
    }

    #[test]
    fn every_step_makes_progress() {
        let model = BatchModel::CHAPTER;
        let mut pending = model.init_states();
        let mut seen = std::collections::HashSet::new();
        while let Some(s) = pending.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            for (_, next) in model.next_steps(&s) {
                assert!(progress(&next) > progress(&s), "{s:?} -> {next:?}");
                pending.push(next);
            }
        }
    }

    #[test]
    fn the_properties_reject_bad_states() {
        let model = BatchModel::CHAPTER;
        let good = model.init_states().remove(0);
        let bad = [
            (
                "no duplicates",
                BatchState {
                    ended: 2,
                    exported: vec![1, 1],
                    ..good.clone()
                },
            ),
            (
                "FIFO",
                BatchState {
                    ended: 2,
                    exported: vec![2, 1],
                    ..good.clone()
                },
            ),
            (
                "conservation",
                BatchState {
                    ended: 2,
                    exported: vec![1],
                    ..good.clone()
                },
            ),
            (
                "flush on shutdown",
                BatchState {
                    ended: 1,
                    queue: vec![1],
                    closed: true,
                    stopped: true,
                    ..good.clone()
                },
            ),
        ];
        for (name, state) in bad {
            let property = model.property(name);
            assert!(
                !(property.condition)(&model, &state),
                "{name} accepted {state:?}"
            );
        }
    }
}
