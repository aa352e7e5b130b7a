//! A pipeline of tokio tasks joined by bounded channels.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures::FutureExt as _;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{runtime, unless_cancelled};
use crate::error::{BuildError, Panicked, SendError, nonzero, panic_message};
use crate::messaging::Destination;
use crate::trace::{Traced, Tracing};

type StageTask = Pin<Box<dyn Future<Output = ()> + Send>>;
type Spawner = Box<
    dyn FnOnce(&Settings, &CancellationToken) -> (&'static str, StageTask) + Send,
>;

#[derive(Clone)]
struct Settings {
    tracing: Tracing,
    cancel: Option<CancellationToken>,
}

impl Settings {
    /// What the stages watch: a child of the user's token (so cancelling it
    /// stops them), which `Output::join` and dropping the output also cancel
    /// without touching the user's token.
    fn stop_token(&self) -> CancellationToken {
        self.cancel
            .as_ref()
            .map_or_else(CancellationToken::new, CancellationToken::child_token)
    }
}

/// The tokio flavour of [`threads::Pipeline`](crate::threads::Pipeline):
/// each stage is a task running an async function, and each channel holds at
/// most `capacity` items.
pub struct Pipeline<In, Out> {
    capacity: usize,
    settings: Settings,
    input: mpsc::Sender<Traced<In>>,
    output: mpsc::Receiver<Traced<Out>>,
    stages: Vec<Spawner>,
}

impl<T: Send + 'static> Pipeline<T, T> {
    /// A pipeline with no stages yet whose channels hold `capacity` items each.
    pub fn new(capacity: usize) -> Result<Self, BuildError> {
        let capacity = nonzero(capacity, "pipeline capacity")?;
        let (input, output) = mpsc::channel(capacity);
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

    /// Stops every stage, even in the middle of an item, when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.settings.cancel = Some(token);
        self
    }

    /// Appends a stage named `name` running `f` on each item; its spans are
    /// `process {name}` (see [`messaging`](crate::messaging)).
    pub fn stage<Next, F, Fut>(
        mut self,
        name: &'static str,
        f: F,
    ) -> Pipeline<In, Next>
    where
        Next: Send + 'static,
        F: FnMut(Out) -> Fut + Send + 'static,
        Fut: Future<Output = Next> + Send + 'static,
    {
        let (tx, next_output) = mpsc::channel(self.capacity);
        let rx = self.output;
        self.stages.push(Box::new(
            move |settings: &Settings, stop: &CancellationToken| {
                let task = run_stage(
                    Destination::tasks(name),
                    rx,
                    tx,
                    f,
                    settings.tracing.clone(),
                    stop.clone(),
                );
                (name, Box::pin(task) as StageTask)
            },
        ));
        Pipeline {
            capacity: self.capacity,
            settings: self.settings,
            input: self.input,
            output: next_output,
            stages: self.stages,
        }
    }

    /// Spawns every stage on the current runtime.
    pub fn start(self) -> Result<(Input<In>, Output<Out>), BuildError> {
        let runtime = runtime("a tokio pipeline")?;
        let stop = self.settings.stop_token();
        let stages = self
            .stages
            .into_iter()
            .map(|spawn| {
                let (name, task) = spawn(&self.settings, &stop);
                (name, runtime.spawn(task))
            })
            .collect();
        Ok((
            Input {
                tx: self.input,
                cancel: self.settings.cancel,
            },
            Output {
                rx: Some(self.output),
                stages,
                stop,
            },
        ))
    }
}

// ANCHOR: stage_loop
async fn run_stage<A, B, F, Fut>(
    destination: Destination,
    mut rx: mpsc::Receiver<Traced<A>>,
    tx: mpsc::Sender<Traced<B>>,
    mut f: F,
    tracing: Tracing,
    stop: CancellationToken,
) where
    F: FnMut(A) -> Fut,
    Fut: Future<Output = B>,
{
    let cancel = Some(&stop);
    while let Some(Some(msg)) = unless_cancelled(cancel, rx.recv()).await {
        let step = tracing.process(&destination, &msg.cx);
        // The function, and the future it returns, run in the step's
        // context, so spans they start are children of the stage's span.
        let work = {
            let _in_span = step.context().clone().attach();
            f(msg.value)
        };
        let work = AssertUnwindSafe(work.with_context(step.context().clone()));
        let value = match unless_cancelled(cancel, work.catch_unwind()).await {
            Some(Ok(value)) => value,
            // Recorded on the span; the panic then ends the stage's task.
            Some(Err(payload)) => step.resume_panic(payload),
            None => return, // dropping `step` ends its span, marked as abandoned
        };
        let out = Traced::new(step.end(), value);
        match unless_cancelled(cancel, tx.send(out)).await {
            Some(Ok(())) => {}
            _ => return, // cancelled, or downstream is gone
        }
    }
}
// ANCHOR_END: stage_loop

/// The sending end of a started pipeline. Clones feed the same pipeline.
#[derive(Clone)]
pub struct Input<T> {
    tx: mpsc::Sender<Traced<T>>,
    cancel: Option<CancellationToken>,
}

impl<T> Input<T> {
    /// Sends `value` with the current context, waiting while the first channel is full.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.send_traced(Traced::new(Context::current(), value))
            .await
    }

    /// Sends `value` with a given context.
    pub async fn send_traced(&self, msg: Traced<T>) -> Result<(), SendError<T>> {
        // Reserve a slot first: if cancellation wins, the value is still ours to return.
        match unless_cancelled(self.cancel.as_ref(), self.tx.reserve()).await {
            Some(Ok(permit)) => {
                permit.send(msg);
                Ok(())
            }
            // A stage that saw the token first has already dropped its end.
            Some(Err(_))
                if self.cancel.as_ref().is_some_and(|c| c.is_cancelled()) =>
            {
                Err(SendError::Cancelled(msg.value))
            }
            Some(Err(_)) => Err(SendError::Closed(msg.value)),
            None => Err(SendError::Cancelled(msg.value)),
        }
    }
}

/// The receiving end of a started pipeline; it also owns the stage tasks.
/// Dropping it stops the stages (without waiting for them).
pub struct Output<T> {
    rx: Option<mpsc::Receiver<Traced<T>>>,
    stages: Vec<(&'static str, JoinHandle<()>)>,
    stop: CancellationToken,
}

impl<T> Output<T> {
    /// The next output, or `None` once the pipeline has finished or stopped.
    pub async fn recv(&mut self) -> Option<T> {
        self.recv_traced().await.map(|msg| msg.value)
    }

    /// The next output with the context of the last stage's span.
    pub async fn recv_traced(&mut self) -> Option<Traced<T>> {
        self.rx.as_mut()?.recv().await
    }

    /// Waits for every stage task and reports the first stage (in pipeline
    /// order) that panicked or was aborted. Called before the output is
    /// drained, it stops the stages first: items still in the pipeline are
    /// dropped, and sends into it fail with [`SendError::Closed`].
    pub async fn join(mut self) -> Result<(), Panicked> {
        self.stop.cancel();
        self.rx = None;
        let mut first = None;
        for (name, handle) in std::mem::take(&mut self.stages) {
            if let Err(e) = handle.await {
                let message = if e.is_panic() {
                    panic_message(e.into_panic().as_ref())
                } else {
                    "the task was cancelled (its runtime shut down)".to_owned()
                };
                first.get_or_insert(Panicked {
                    what: format!("stage `{name}`"),
                    message,
                });
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl<T> Drop for Output<T> {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
