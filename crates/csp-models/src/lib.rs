//! A small, readable CSP kernel and the partial-order machinery of Part III
//! of the book *OTLP × CSP in Rust*.
//!
//! - [`csp`]: events, alphabets, processes (`STOP`, `SKIP`, prefix, external
//!   and internal choice, sequential and alphabetised parallel composition,
//!   hiding, recursion through named definitions) and their transitions;
//! - [`lts`]: the state space of a process, its traces up to a length, trace
//!   refinement, divergence, and export to the Aldebaran format;
//! - [`order`]: Mazurkiewicz traces (independence, equivalence by swapping),
//!   runs as partial orders (pomsets), linearisations;
//! - [`clocks`]: executions, Lamport's happens-before, Lamport and vector
//!   clocks;
//! - [`spans`]: span trees read from exported OpenTelemetry spans, and a log
//!   of events stamped with vector clocks;
//! - [`systems`]: the buffer, pipeline, workers and retrying link that the
//!   chapters check;
//! - [`merc`]: the same refinement questions asked of the `merc_refinement`
//!   crate, an independent checker;
//! - [`counting`]: how many trace sets and how many small span forests there
//!   are (more of the first: no map between them is one-to-one).

#![warn(missing_docs)]

pub mod clocks;
pub mod counting;
pub mod csp;
pub mod lts;
pub mod merc;
pub mod order;
pub mod spans;
pub mod systems;

/// Why a model could not be built or explored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    /// A name was used that has no definition.
    #[error("process `{0}` is not defined")]
    Undefined(String),
    /// A name unfolds into itself without an event in between.
    #[error("recursion through `{0}` is unguarded: it unfolds {max} times without an event", max = csp::MAX_UNFOLD)]
    Unguarded(String),
    /// The state space is larger than the limit.
    #[error(
        "more than {0} states: the process is infinite-state or too large to explore"
    )]
    TooManyStates(usize),
    /// An independence relation relating an event to itself.
    #[error("an event is never independent of itself (`{0}`)")]
    Reflexive(String),
    /// Order edges that form a cycle.
    #[error("the order has a cycle through `{0}`: not a partial order")]
    Cyclic(String),
    /// An edge naming an element that does not exist.
    #[error("element {0} does not exist (there are {1})")]
    NoSuchElement(usize, usize),
    /// A component uses an event outside its alphabet.
    #[error("event `{0}` is not in its component's alphabet")]
    OutsideAlphabet(String),
    /// An execution that cannot happen.
    #[error("not an execution: {0}")]
    BadExecution(String),
    /// The external refinement checker refused the model.
    #[error("merc could not read the model: {0}")]
    Merc(String),
}
