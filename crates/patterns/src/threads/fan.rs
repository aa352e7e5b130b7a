//! Fan-out/fan-in on scoped threads: many workers share one input channel,
//! and their results meet in one output channel.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crossbeam_channel::bounded;
use opentelemetry::{Context, KeyValue};

use crate::Order;
use crate::error::{BuildError, Panicked, RunError, nonzero, panic_message};
use crate::messaging::Destination;
use crate::trace::Tracing;

/// Runs a function over items on `workers` threads and collects the results
/// in input order or completion order.
///
/// In input order, at most `window` items are in flight (taken from the
/// input and not yet handed to the caller), which bounds the reorder buffer:
/// a slow item holds back at most `window` finished ones. In completion
/// order the bounded channels alone limit the items in flight.
#[derive(Clone, Debug)]
pub struct FanOut {
    workers: usize,
    window: usize,
    order: Order,
    tracing: Tracing,
    destination: Destination,
}

impl FanOut {
    /// `workers` threads and results in input order, with a window of 64
    /// items or twice the workers, whichever is larger: a small window makes
    /// the feeder wait for credits all the time.
    pub fn new(workers: usize) -> Result<Self, BuildError> {
        let workers = nonzero(workers, "worker count")?;
        Ok(Self {
            workers,
            window: workers.saturating_mul(2).max(64),
            order: Order::Input,
            tracing: Tracing::global(),
            destination: Destination::threads("fan_out"),
        })
    }

    /// Results in input order or in completion order.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// At most `window` items in flight in input order.
    pub fn window(mut self, window: usize) -> Result<Self, BuildError> {
        self.window = nonzero(window, "fan-out window")?;
        Ok(self)
    }

    /// Where each item's span goes (default: [`Tracing::global`]).
    pub fn tracing(mut self, tracing: Tracing) -> Self {
        self.tracing = tracing;
        self
    }

    /// Applies `f` to every item and returns the results (in the configured order).
    pub fn map<T, R, I, F>(&self, items: I, f: F) -> Result<Vec<R>, RunError>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send,
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        let mut out = Vec::new();
        self.run(items, f, |r| out.push(r))?;
        Ok(out)
    }

    /// Applies `f` to every item on the workers and hands each result to
    /// `sink` on the calling thread. Each item's span (`process fan_out`,
    /// with its index as `item.index`) is a child of the caller's current span.
    ///
    /// The first panic in `f` stops the run: no more items are started, and
    /// the panic is returned with the item's index.
    pub fn run<T, R, I, F, S>(
        &self,
        items: I,
        f: F,
        mut sink: S,
    ) -> Result<(), RunError>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send,
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
        S: FnMut(R),
    {
        let parent = Context::current();
        let items = items.into_iter();
        std::thread::scope(|scope| {
            let (work_tx, work_rx) = bounded::<(usize, T)>(self.workers);
            let (done_tx, done_rx) = bounded(self.workers);
            // In input order, one credit per item in flight: the feeder takes
            // one before it sends an item, the collector returns it once `sink`
            // has the result. In completion order the channels bound the items
            // in flight already.
            let (credit_tx, credit_rx) = bounded(self.window);
            let credits = (self.order == Order::Input).then_some(credit_rx);
            if credits.is_some() {
                for _ in 0..self.window {
                    let _ = credit_tx.send(());
                }
            }
            spawn_scoped(scope, "fan-out-feed", move || {
                for item in items.enumerate() {
                    let no_credit =
                        credits.as_ref().is_some_and(|c| c.recv().is_err());
                    if no_credit || work_tx.send(item).is_err() {
                        return; // the collector stopped early
                    }
                }
            })?;
            for i in 0..self.workers {
                let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
                let (f, parent, tracing) = (&f, &parent, &self.tracing);
                let destination = &self.destination;
                spawn_scoped(scope, &format!("fan-out-{i}"), move || {
                    // Untraced, every item runs in the caller's context: it
                    // is made current once, not once per item.
                    let _in_caller =
                        tracing.is_off().then(|| parent.clone().attach());
                    for (index, item) in work_rx {
                        let result = if tracing.is_off() {
                            catch_unwind(AssertUnwindSafe(|| f(item)))
                                .map_err(|payload| panic_message(payload.as_ref()))
                        } else {
                            traced(tracing, destination, parent, index, || f(item))
                        };
                        if done_tx.send((index, result)).is_err() {
                            return;
                        }
                    }
                })?;
            }
            // Only the workers' clones remain: the loop below ends when they exit.
            drop((work_rx, done_tx));

            let mut next = 0; // the index input order delivers next
            let mut early = BTreeMap::new();
            for (index, result) in &done_rx {
                let value = result.map_err(|message| Panicked {
                    what: format!("item {index}"),
                    message,
                })?;
                match self.order {
                    Order::Completion => sink(value),
                    Order::Input => {
                        early.insert(index, value);
                        while let Some(value) = early.remove(&next) {
                            sink(value);
                            next += 1;
                            let _ = credit_tx.send(());
                        }
                    }
                }
            }
            Ok(())
            // Returning early drops `credit_tx` and `done_rx`: the feeder and
            // the workers see closed channels and stop.
        })
    }
}

/// Runs `f` for item `index` inside its span, a child of `parent`; a panic
/// is recorded on the span and returned as its message.
fn traced<R>(
    tracing: &Tracing,
    destination: &Destination,
    parent: &Context,
    index: usize,
    f: impl FnOnce() -> R,
) -> Result<R, String> {
    let step = tracing.process(destination, parent);
    step.attribute(|| KeyValue::new("item.index", index as i64));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _in_span = step.context().clone().attach();
        f()
    }))
    .map_err(|payload| {
        let message = panic_message(payload.as_ref());
        step.panicked(&message);
        message
    });
    step.end();
    result
}

fn spawn_scoped<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    name: &str,
    f: impl FnOnce() + Send + 'scope,
) -> Result<(), BuildError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn_scoped(scope, f)
        .map(drop)
        .map_err(|source| BuildError::Spawn {
            what: "fan-out",
            source,
        })
}
