//! A pipeline: stages on their own threads, joined by bounded channels.

use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use crossbeam_channel::{
    Receiver, Select, Sender, TryRecvError, TrySendError, bounded, select,
};
use opentelemetry::Context;

use super::CancelToken;
use crate::error::{
    BuildError, Panicked, RunError, SendError, nonzero, panic_message,
};
use crate::messaging::Destination;
use crate::trace::{Traced, Tracing};

type Spawner = Box<dyn FnOnce(&Settings) -> Result<Running, BuildError> + Send>;
type Running = (&'static str, JoinHandle<()>);

/// What the channels carry: an item and the context it was produced in,
/// `None` for the empty context, which is what [`Pipeline::run`] feeds. An
/// untraced stage then has no context to carry or to make current. The
/// context is boxed, and each traced stage reuses the box: a message as
/// small as an item and a pointer kept crossbeam's send and receive as
/// fast as for the bare item; with the context inline they were slower.
struct Msg<T> {
    cx: Option<Box<Context>>,
    value: T,
}

impl<T> From<Traced<T>> for Msg<T> {
    fn from(msg: Traced<T>) -> Self {
        Self {
            cx: Some(Box::new(msg.cx)),
            value: msg.value,
        }
    }
}

#[derive(Clone)]
struct Settings {
    tracing: Tracing,
    cancel: Option<CancelToken>,
}

/// A chain of stages, each a thread that takes an item from the channel
/// before it, applies its function, and sends the result to the channel
/// after it. Every channel holds at most `capacity` items, so a slow stage
/// makes the stages before it wait (backpressure) instead of letting a queue
/// grow.
///
/// Build it with [`Pipeline::new`] and [`Pipeline::stage`], then either
/// [`start`](Pipeline::start) it and feed it yourself, or [`run`](Pipeline::run)
/// it over an iterator.
pub struct Pipeline<In, Out> {
    capacity: usize,
    settings: Settings,
    input: Sender<Msg<In>>,
    output: Receiver<Msg<Out>>,
    stages: Vec<Spawner>,
}

impl<T: Send + 'static> Pipeline<T, T> {
    /// A pipeline with no stages yet whose channels hold `capacity` items each.
    pub fn new(capacity: usize) -> Result<Self, BuildError> {
        let capacity = nonzero(capacity, "pipeline capacity")?;
        let (input, output) = bounded(capacity);
        Ok(Self {
            capacity,
            settings: Settings {
                tracing: Tracing::global(),
                cancel: None,
            },
            input,
            output,
            stages: Vec::new(),
        })
    }
}

impl<In: Send + 'static, Out: Send + 'static> Pipeline<In, Out> {
    /// Where the stages' spans go (default: [`Tracing::global`]).
    pub fn tracing(mut self, tracing: Tracing) -> Self {
        self.settings.tracing = tracing;
        self
    }

    /// Stops every stage, and every send into the pipeline, when `token` is
    /// cancelled, even while they wait on a channel.
    pub fn cancel_on(mut self, token: CancelToken) -> Self {
        self.settings.cancel = Some(token);
        self
    }

    /// Appends a stage named `name` that maps each item with `f`. The
    /// channel in front of the stage is the destination `name`, and each
    /// item's span is `process {name}` (see [`messaging`](crate::messaging)).
    pub fn stage<Next, F>(mut self, name: &'static str, f: F) -> Pipeline<In, Next>
    where
        Next: Send + 'static,
        F: FnMut(Out) -> Next + Send + 'static,
    {
        let (tx, next_output) = bounded(self.capacity);
        let rx = self.output;
        let destination = Destination::threads(name);
        self.stages.push(Box::new(move |settings: &Settings| {
            let settings = settings.clone();
            let handle =
                super::spawn("a pipeline stage", name.to_owned(), move || {
                    run_stage(destination, rx, tx, f, settings)
                })?;
            Ok((name, handle))
        }));
        Pipeline {
            capacity: self.capacity,
            settings: self.settings,
            input: self.input,
            output: next_output,
            stages: self.stages,
        }
    }

    /// Starts every stage. Send items into the [`Input`]; drop it (every
    /// clone) to say there are no more, and the stages finish in turn.
    pub fn start(self) -> Result<(Input<In>, Output<Out>), BuildError> {
        let cancel = self.settings.cancel.clone();
        let (tx, mut output) = self.spawn()?;
        let tx = Arc::new(RwLock::new(Some(tx)));
        // Weak: once every `Input` is dropped, the sender goes with them
        // and the pipeline ends the normal way.
        output.close_input = Box::new({
            let tx = Arc::downgrade(&tx);
            move || {
                if let Some(tx) = tx.upgrade() {
                    tx.write().unwrap_or_else(|p| p.into_inner()).take();
                }
            }
        });
        Ok((Input { tx, cancel }, output))
    }

    /// Starts every stage; the first channel's sender, and the output with
    /// nothing to close on the input side.
    fn spawn(self) -> Result<(Sender<Msg<In>>, Output<Out>), BuildError> {
        let mut running = Vec::with_capacity(self.stages.len());
        for spawn in self.stages {
            // On failure the started stages see their channels close and exit.
            running.push(spawn(&self.settings)?);
        }
        let output = Output {
            rx: Some(self.output),
            close_input: Box::new(|| {}),
            stages: running,
        };
        Ok((self.input, output))
    }

    /// Feeds `items` from a scoped thread while this thread collects the
    /// output, so the pipeline's buffers can never fill up with nobody draining
    /// them. Returns the outputs in input order, or the first stage's panic.
    pub fn run<I>(self, items: I) -> Result<Vec<Out>, RunError>
    where
        I: IntoIterator<Item = In>,
        I::IntoIter: Send,
    {
        let cancel = self.settings.cancel.clone();
        let (tx, mut output) = self.spawn()?;
        let items = items.into_iter();
        let collected = std::thread::scope(|s| {
            // The feeder sends on the first channel itself, without an
            // `Input`'s lock: only it sends, and this thread never stops
            // draining early. Its thread is new, so its context is empty.
            s.spawn(move || {
                for value in items {
                    let msg = Msg { cx: None, value };
                    if !send_or_cancel(&tx, msg, cancel.as_ref()) {
                        break; // a stage stopped; `join` says why
                    }
                }
            });
            output.by_ref().collect::<Vec<_>>()
        });
        output.join()?;
        Ok(collected)
    }
}

// ANCHOR: stage_loop
fn run_stage<A, B>(
    destination: Destination,
    rx: Receiver<Msg<A>>,
    tx: Sender<Msg<B>>,
    mut f: impl FnMut(A) -> B,
    settings: Settings,
) {
    let (tracing, cancel) = (&settings.tracing, settings.cancel.as_ref());
    // Ends when upstream is finished, downstream is gone, or `cancel` fires.
    while let Some(Msg { cx, value }) = recv_or_cancel(&rx, cancel) {
        let msg = match cx {
            // Untraced, and the item came with the empty context: the
            // stage's own is that already. Nothing to carry.
            None if tracing.is_off() => Msg {
                cx: None,
                value: f(value),
            },
            cx => {
                let mut cx = cx.unwrap_or_default();
                // The item's span is a child of the span that produced it.
                let step = tracing.process(&destination, &cx);
                // Runs `f` inside the step's span; a panic is recorded there.
                let value = step.run(|| f(value));
                *cx = step.end(); // the next stage's parent, in the same box
                Msg {
                    cx: Some(cx),
                    value,
                }
            }
        };
        if !send_or_cancel(&tx, msg, cancel) {
            return;
        }
    }
}
// ANCHOR_END: stage_loop

// ANCHOR: recv_or_cancel
/// The next message, or `None` if the channel is finished or `cancel` fired.
fn recv_or_cancel<T>(rx: &Receiver<T>, cancel: Option<&CancelToken>) -> Option<T> {
    let Some(cancel) = cancel else {
        return rx.recv().ok();
    };
    if cancel.is_cancelled() {
        return None;
    }
    // A waiting message is taken without `select!`, whose bookkeeping on
    // two channels costs more than the receive itself.
    match rx.try_recv() {
        Ok(msg) => Some(msg),
        Err(TryRecvError::Disconnected) => None,
        Err(TryRecvError::Empty) => select! {
            recv(rx) -> msg => msg.ok(),
            recv(cancel.done()) -> _ => None,
        },
    }
}
// ANCHOR_END: recv_or_cancel

/// Sends `msg`; `false` if the receiver is gone or `cancel` fired.
fn send_or_cancel<T>(tx: &Sender<T>, msg: T, cancel: Option<&CancelToken>) -> bool {
    let Some(cancel) = cancel else {
        return tx.send(msg).is_ok();
    };
    match tx.try_send(msg) {
        Ok(()) => true,
        Err(TrySendError::Disconnected(_)) => false,
        Err(TrySendError::Full(msg)) => select! {
            send(tx, msg) -> sent => sent.is_ok(),
            recv(cancel.done()) -> _ => false,
        },
    }
}

/// The sending end of a started pipeline. Clones feed the same pipeline.
#[derive(Clone)]
pub struct Input<T> {
    // Shared with the `Output`, which closes it when the consumer gives up:
    // the first stage then sees the end of its input and the stages finish
    // in turn, even if an `Input` is still alive somewhere.
    tx: Arc<RwLock<Option<Sender<Msg<T>>>>>,
    cancel: Option<CancelToken>,
}

impl<T> Input<T> {
    /// Sends `value` with the current context, waiting while the first
    /// channel is full.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.send_traced(Traced::new(Context::current(), value))
    }

    /// Sends `value` with a given context.
    pub fn send_traced(&self, msg: Traced<T>) -> Result<(), SendError<T>> {
        let guard = self.tx.read().unwrap_or_else(|p| p.into_inner());
        let Some(tx) = guard.as_ref() else {
            return Err(SendError::Closed(msg.value));
        };
        let msg = Msg::from(msg);
        let Some(cancel) = &self.cancel else {
            return tx
                .send(msg)
                .map_err(|e| SendError::Closed(e.into_inner().value));
        };
        if cancel.is_cancelled() {
            return Err(SendError::Cancelled(msg.value));
        }
        let closed = |value| {
            // A stage that saw the token first has already dropped its end:
            // report the cause, not the symptom.
            if cancel.is_cancelled() {
                SendError::Cancelled(value)
            } else {
                SendError::Closed(value)
            }
        };
        let msg = match tx.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(msg)) => return Err(closed(msg.value)),
            Err(TrySendError::Full(msg)) => msg,
        };
        // `Select` hands the message over only when the send arm is chosen,
        // so a cancelled send can return the value.
        let mut sel = Select::new();
        let send = sel.send(tx);
        sel.recv(cancel.done());
        let op = sel.select();
        if op.index() == send {
            op.send(tx, msg).map_err(|e| closed(e.into_inner().value))
        } else {
            let _ = op.recv(cancel.done());
            Err(SendError::Cancelled(msg.value))
        }
    }
}

/// The receiving end of a started pipeline; it also owns the stage threads.
/// Dropping it stops the pipeline (without waiting for the stages).
pub struct Output<T> {
    rx: Option<Receiver<Msg<T>>>,
    close_input: Box<dyn Fn() + Send + Sync>,
    stages: Vec<Running>,
}

impl<T> Output<T> {
    /// The next output, or `None` once the pipeline has finished (every
    /// input was dropped and every stage is done) or stopped.
    pub fn recv(&self) -> Option<T> {
        Some(self.rx.as_ref()?.recv().ok()?.value)
    }

    /// The next output with the context of the last stage's span, to carry
    /// the trace further.
    pub fn recv_traced(&self) -> Option<Traced<T>> {
        let msg = self.rx.as_ref()?.recv().ok()?;
        let cx = msg.cx.map_or_else(Context::new, |cx| *cx);
        Some(Traced::new(cx, msg.value))
    }

    /// Waits for every stage thread and reports the first stage (in
    /// pipeline order) that panicked. Called before the output is drained,
    /// it stops the pipeline first: the items in it are dropped, and sends
    /// into it fail with [`SendError::Closed`].
    pub fn join(mut self) -> Result<(), Panicked> {
        self.stop();
        let mut first = None;
        for (name, handle) in std::mem::take(&mut self.stages) {
            if let Err(payload) = handle.join() {
                first.get_or_insert(Panicked {
                    what: format!("stage `{name}`"),
                    message: panic_message(payload.as_ref()),
                });
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn stop(&mut self) {
        // First the output: a stage blocked on a full last channel fails its
        // send, and so on upstream, which also frees a producer blocked in
        // `send` (it holds the read lock taken below).
        self.rx = None;
        (self.close_input)();
    }
}

impl<T> Drop for Output<T> {
    fn drop(&mut self) {
        self.stop();
    }
}

impl<T> Iterator for Output<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.recv()
    }
}
