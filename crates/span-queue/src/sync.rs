//! The atomics and cells the queue is built on: `std`'s normally, loom's
//! under `RUSTFLAGS="--cfg loom"` so that loom sees every access.

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// `std`'s cell with loom's closure-based access API.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(test)]
        pause::here();
        f(self.0.get())
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(test)]
        pause::here();
        f(self.0.get())
    }
}

/// A pause point for the crate's unit tests, compiled into nothing else.
///
/// The queue touches a slot's value only between winning that position's
/// compare-and-swap and publishing the slot's stamp: a producer writes there,
/// a consumer reads. A thread held at this point is exactly the thread that
/// chapter 12 says can stop the consumers (a producer) or cannot stop the
/// producers (a consumer); `src/progress.rs` holds threads here to show both.
#[cfg(all(test, not(loom)))]
pub(crate) mod pause {
    use std::cell::RefCell;

    type Hook = Box<dyn FnOnce()>;

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    /// Runs `hook` the next time this thread is about to touch a slot's
    /// value, and only then: other threads are not affected.
    pub(crate) fn at_next_slot_access(hook: impl FnOnce() + 'static) {
        HOOK.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
    }

    pub(super) fn here() {
        if let Some(hook) = HOOK.with(|h| h.borrow_mut().take()) {
            hook();
        }
    }
}
