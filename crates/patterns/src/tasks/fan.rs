//! Fan-out/fan-in on tokio tasks: one task per item, at most `window` at a time.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;
use opentelemetry::context::FutureExt as _;
use opentelemetry::{Context, KeyValue};
use tokio::task::JoinSet;

use super::runtime;
use crate::Order;
use crate::error::{BuildError, Panicked, RunError, nonzero, panic_message};
use crate::messaging::Destination;
use crate::trace::Tracing;

/// The tokio flavour of [`threads::FanOut`](crate::threads::FanOut): each
/// item runs as its own task in a [`JoinSet`], with at most `window` items
/// in flight (running, or finished and waiting for their turn in input order).
#[derive(Clone, Debug)]
pub struct FanOut {
    window: usize,
    order: Order,
    tracing: Tracing,
    destination: Destination,
}

impl FanOut {
    /// At most `window` items in flight, results in input order.
    pub fn new(window: usize) -> Result<Self, BuildError> {
        Ok(Self {
            window: nonzero(window, "fan-out window")?,
            order: Order::Input,
            tracing: Tracing::global(),
            destination: Destination::tasks("fan_out"),
        })
    }

    /// Results in input order or in completion order.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Where each item's span goes (default: [`Tracing::global`]).
    pub fn tracing(mut self, tracing: Tracing) -> Self {
        self.tracing = tracing;
        self
    }

    /// Applies `f` to every item and returns the results (in the configured order).
    pub async fn map<T, R, I, F, Fut>(
        &self,
        items: I,
        f: F,
    ) -> Result<Vec<R>, RunError>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        let mut out = Vec::new();
        self.run(items, f, |r| out.push(r)).await?;
        Ok(out)
    }

    /// Runs `f` on every item, each in its own task, and hands each result to
    /// `sink`. Each item's span (`process fan_out`, with its index) is a child
    /// of the caller's current span. The first panic stops the run and aborts
    /// the tasks still running.
    pub async fn run<T, R, I, F, Fut, S>(
        &self,
        items: I,
        f: F,
        mut sink: S,
    ) -> Result<(), RunError>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        S: FnMut(R),
    {
        let runtime = runtime("a tokio fan-out")?;
        let parent = Context::current();
        let f = Arc::new(f);
        let mut items = items.into_iter().enumerate().fuse();
        let mut running = JoinSet::new();
        let mut index_of = HashMap::new(); // task id → item index, to name a panic
        let mut early = BTreeMap::new(); // finished ahead of their turn (input order)
        let mut next = 0;
        loop {
            while running.len() + early.len() < self.window {
                let Some((index, item)) = items.next() else {
                    break;
                };
                let (f, tracing, parent) =
                    (f.clone(), self.tracing.clone(), parent.clone());
                let destination = self.destination;
                let task = async move {
                    let step = tracing.process(&destination, &parent);
                    step.attribute(|| KeyValue::new("item.index", index as i64));
                    let work = {
                        let _in_span = step.context().clone().attach();
                        f(item)
                    };
                    let work = work.with_context(step.context().clone());
                    let value = match AssertUnwindSafe(work).catch_unwind().await {
                        Ok(value) => value,
                        Err(payload) => step.resume_panic(payload),
                    };
                    step.end();
                    (index, value)
                };
                let handle = running.spawn_on(task, &runtime);
                index_of.insert(handle.id(), index);
            }
            let Some(joined) = running.join_next_with_id().await else {
                return Ok(()); // nothing running and nothing left to start
            };
            let (index, value) = match joined {
                Ok((id, done)) => {
                    index_of.remove(&id);
                    done
                }
                // Returning drops the JoinSet, which aborts the other tasks.
                Err(e) => {
                    let index = index_of.get(&e.id()).copied().unwrap_or(usize::MAX);
                    let message = if e.is_panic() {
                        panic_message(e.into_panic().as_ref())
                    } else {
                        "the task was cancelled (its runtime shut down)".to_owned()
                    };
                    return Err(Panicked {
                        what: format!("item {index}"),
                        message,
                    }
                    .into());
                }
            };
            match self.order {
                Order::Completion => sink(value),
                Order::Input => {
                    early.insert(index, value);
                    while let Some(value) = early.remove(&next) {
                        sink(value);
                        next += 1;
                    }
                }
            }
        }
    }
}
