//! A two-stage pipeline over bounded channels, the shape of Part I's
//! `patterns::threads::Pipeline`: a source sends N items into channel 1, stage
//! 1 maps each into channel 2, stage 2 maps each to the sink. Each stage
//! loops "receive, apply, send" and, when its input is closed and empty,
//! drops its sender, which closes the next channel.

use stateright::{Model, Property};

/// N items through two stages joined by channels of capacity C.
#[derive(Debug, Clone, Copy)]
pub struct PipelineModel {
    /// Items the source sends (0..N).
    pub items: u8,
    /// Capacity C of each channel.
    pub capacity: usize,
    /// A deliberate bug for the chapter: a stage that treats an *empty*
    /// input as a finished one (`try_recv` and `Empty` mistaken for the end).
    pub stop_on_empty: bool,
}

// ANCHOR: stage
/// A stage is waiting to receive, holds an item to send, or has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Blocked in `recv`.
    Receiving,
    /// Blocked in `send` with this (already mapped) item.
    Sending(u8),
    /// Left its loop and dropped its sender.
    Exited,
}
// ANCHOR_END: stage

// ANCHOR: state
/// One state of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PipelineState {
    /// Items the source has sent.
    pub sent: u8,
    /// Channel 1 (source to stage 1), and whether its sender is gone.
    pub ch1: Vec<u8>,
    /// Whether the source has dropped its sender.
    pub ch1_closed: bool,
    /// Stage 1.
    pub stage1: Stage,
    /// Channel 2 (stage 1 to stage 2).
    pub ch2: Vec<u8>,
    /// Stage 2; it delivers straight to `out`.
    pub stage2: Stage,
    /// What the sink received, in order.
    pub out: Vec<u8>,
}
// ANCHOR_END: state

/// Who moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipelineAction {
    /// The source sends its next item, or closes after the last.
    Source,
    /// Stage 1 receives, or sends, or exits.
    Stage1,
    /// Stage 2 receives, or delivers, or exits.
    Stage2,
}

/// Stage 1 multiplies by 2, stage 2 adds 1: the sink must see 2i+1.
pub fn expected(i: u8) -> u8 {
    2 * i + 1
}

impl PipelineModel {
    fn source_done(&self, s: &PipelineState) -> bool {
        s.ch1_closed
    }

    // ANCHOR: may_exit
    /// May a stage whose input is `input` (closed when `closed`) exit now?
    fn may_exit(&self, input: &[u8], closed: bool) -> bool {
        input.is_empty() && (closed || self.stop_on_empty)
    }
    // ANCHOR_END: may_exit
}

impl Model for PipelineModel {
    type State = PipelineState;
    type Action = PipelineAction;

    fn init_states(&self) -> Vec<PipelineState> {
        vec![PipelineState {
            sent: 0,
            ch1: vec![],
            ch1_closed: false,
            stage1: Stage::Receiving,
            ch2: vec![],
            stage2: Stage::Receiving,
            out: vec![],
        }]
    }

    // ANCHOR: actions
    fn actions(&self, s: &PipelineState, actions: &mut Vec<PipelineAction>) {
        // Only actions that can move are offered: a blocked thread waits.
        if !self.source_done(s)
            && (s.sent == self.items || s.ch1.len() < self.capacity)
        {
            actions.push(PipelineAction::Source);
        }
        let stage1_can_move = match s.stage1 {
            Stage::Receiving => {
                !s.ch1.is_empty() || self.may_exit(&s.ch1, s.ch1_closed)
            }
            Stage::Sending(_) => s.ch2.len() < self.capacity,
            Stage::Exited => false,
        };
        if stage1_can_move {
            actions.push(PipelineAction::Stage1);
        }
        // ANCHOR_END: actions
        // ANCHOR: stage2
        let ch2_closed = s.stage1 == Stage::Exited;
        let stage2_can_move = match s.stage2 {
            Stage::Receiving => {
                !s.ch2.is_empty() || self.may_exit(&s.ch2, ch2_closed)
            }
            Stage::Sending(_) => true,
            Stage::Exited => false,
        };
        if stage2_can_move {
            actions.push(PipelineAction::Stage2);
        }
    }
    // ANCHOR_END: stage2

    // ANCHOR: next_state
    fn next_state(
        &self,
        last: &PipelineState,
        action: PipelineAction,
    ) -> Option<PipelineState> {
        let mut s = last.clone();
        match action {
            PipelineAction::Source if s.sent == self.items => s.ch1_closed = true,
            PipelineAction::Source => {
                s.ch1.push(s.sent);
                s.sent += 1;
            }
            PipelineAction::Stage1 => match s.stage1 {
                Stage::Receiving if s.ch1.is_empty() => s.stage1 = Stage::Exited,
                Stage::Receiving => s.stage1 = Stage::Sending(2 * s.ch1.remove(0)),
                Stage::Sending(x) => {
                    s.ch2.push(x);
                    s.stage1 = Stage::Receiving;
                }
                Stage::Exited => return None,
            },
            // ANCHOR_END: next_state
            PipelineAction::Stage2 => match s.stage2 {
                Stage::Receiving if s.ch2.is_empty() => s.stage2 = Stage::Exited,
                Stage::Receiving => s.stage2 = Stage::Sending(s.ch2.remove(0) + 1),
                Stage::Sending(x) => {
                    s.out.push(x);
                    s.stage2 = Stage::Receiving;
                }
                Stage::Exited => return None,
            },
        }
        Some(s)
    }

    // ANCHOR: properties
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::<Self>::always("FIFO and nothing invented", |_, s| {
                s.out
                    .iter()
                    .enumerate()
                    .all(|(i, x)| *x == expected(i as u8))
            }),
            Property::<Self>::always("terminates without loss", |m, s| {
                let mut next = Vec::new();
                m.actions(s, &mut next);
                let finished = s.stage2 == Stage::Exited;
                let complete = s.out.len() == m.items as usize;
                // A state with no move is the end; it must be the good end.
                !next.is_empty() || (finished && complete)
            }),
        ]
    }
    // ANCHOR_END: properties
}

impl PipelineModel {
    /// The chapter's constants: 3 items, channels of capacity 1.
    pub const CHAPTER: PipelineModel = PipelineModel {
        items: 3,
        capacity: 1,
        stop_on_empty: false,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;

    #[test]
    fn the_pipeline_delivers_everything_in_order_and_ends() {
        let checker = PipelineModel::CHAPTER.checker().spawn_bfs().join();
        checker.assert_properties();
        assert!(checker.unique_state_count() > 20);
    }

    #[test]
    fn stopping_on_an_empty_channel_loses_items() {
        let model = PipelineModel {
            stop_on_empty: true,
            ..PipelineModel::CHAPTER
        };
        let checker = model.checker().spawn_bfs().join();
        let path = checker.assert_any_discovery("terminates without loss");
        assert!(path.last_state().out.len() < model.items as usize);
        checker.assert_no_discovery("FIFO and nothing invented");
    }
}
