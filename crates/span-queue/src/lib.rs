//! A bounded multi-producer multi-consumer queue, non-blocking for
//! producers, that accounts for every item offered to it.
//!
//! The book's fast span processor (chapter 12) hands finished spans from the
//! application's threads to one exporter thread through this queue. A span
//! processor must never block the thread that ends a span, so [`BoundedQueue::push`]
//! never waits: when the queue is full it gives the item back and counts it as
//! dropped. The counts are exact, by construction:
//!
//! ```text
//! offered == pushed + dropped_full + dropped_closed
//! pushed  == popped + len
//! ```
//!
//! `pushed` and `popped` are not counters: they are read off the queue's two
//! positions, which advance by exactly one per item, so the fast path pays
//! one atomic read-modify-write per push and one per pop, as the standard
//! library's bounded channel does. Only a refusal touches a counter.
//!
//! [`BoundedQueue::close`] sets a mark bit in the tail position, so a push
//! either claimed its slot before the close or sees the mark and is refused:
//! no push can slip in afterwards. [`BoundedQueue::is_drained`] then tells
//! the consumer when every claimed slot has been popped, so nothing accepted
//! is left behind.
//!
//! # Progress
//!
//! The queue is *non-blocking for producers*: [`BoundedQueue::push`] is
//! lock-free and [`BoundedQueue::pop`] is not. Whatever other threads do,
//! including stopping anywhere, a push goes round its loop again only when
//! another push has just claimed a position (or a close has marked the
//! tail), and otherwise claims a slot or is refused as full or closed. So
//! some push always finishes and no thread can make a push wait; one push
//! can keep losing the race to others, so it is not wait-free. A producer
//! stopped between claiming its slot and publishing it, though, makes `pop`
//! return `None` at that position, and so hides every item pushed after it
//! from every consumer until it goes on. `pop` does not wait, but its `None`
//! is then a wrong answer (a later push has finished) and no consumer makes
//! progress. The unit tests in `src/progress.rs` hold a thread at that point
//! and show both.
//!
//! The ring is Dmitry Vyukov's bounded MPMC queue (each slot carries a stamp
//! that says whose turn it is), the algorithm `crossbeam_queue::ArrayQueue`
//! also uses. It is written here rather than taken from crossbeam because
//! crossbeam's atomics are `std`'s, which the loom model checker cannot see:
//! built with `RUSTFLAGS="--cfg loom"`, this crate uses loom's atomics and
//! cells instead, and `tests/loom.rs` explores every interleaving of small
//! scenarios.
//!
//! ```
//! use span_queue::{BoundedQueue, Rejected};
//!
//! let q = BoundedQueue::new(2).unwrap();
//! assert!(q.push(1).is_ok());
//! assert!(q.push(2).is_ok());
//! assert_eq!(q.push(3), Err(Rejected::Full(3)));
//! assert_eq!(q.pop(), Some(1));
//! q.close();
//! assert_eq!(q.push(4), Err(Rejected::Closed(4)));
//! let s = q.stats();
//! assert_eq!(s.offered, s.pushed + s.dropped_full + s.dropped_closed);
//! ```

#![warn(missing_docs)]

#[cfg(all(test, not(loom)))]
mod progress;
mod sync;

use std::fmt;
use std::mem::MaybeUninit;

use sync::{AtomicU64, AtomicUsize, Ordering, UnsafeCell};

/// Why [`BoundedQueue::push`] gave an item back. Both cases are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected<T> {
    /// The queue was full: the item was dropped (counted in `dropped_full`).
    Full(T),
    /// The queue was closed: the item was dropped (counted in `dropped_closed`).
    Closed(T),
}

impl<T> Rejected<T> {
    /// The item that was not queued.
    pub fn into_inner(self) -> T {
        match self {
            Rejected::Full(t) | Rejected::Closed(t) => t,
        }
    }
}

/// [`BoundedQueue::new`] was asked for a queue that cannot hold anything (or
/// one too large to address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroCapacity;

impl fmt::Display for ZeroCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bounded queue needs a capacity of at least 1 (and below isize::MAX / 8)")
    }
}

impl std::error::Error for ZeroCapacity {}

/// A snapshot of a queue's counters.
///
/// Each count only grows. `offered` counts finished offers, so
/// `offered == pushed + dropped_full + dropped_closed` always; an item is
/// counted as pushed once its slot is claimed, a moment before it can be
/// popped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Calls to `push` that have returned (or claimed a slot).
    pub offered: u64,
    /// Items the queue accepted.
    pub pushed: u64,
    /// Items refused because the queue was full.
    pub dropped_full: u64,
    /// Items refused because the queue was closed.
    pub dropped_closed: u64,
    /// Items taken out by `pop`/`pop_into`.
    pub popped: u64,
    /// Items in the queue now (approximate while others push or pop).
    pub len: usize,
}

impl QueueStats {
    /// Items refused for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_full + self.dropped_closed
    }
}

/// Keeps a hot atomic on a cache line of its own, so producers moving the
/// tail do not slow down the consumer moving the head.
#[cfg_attr(not(loom), repr(align(128)))]
struct Padded<T>(T);

struct Slot<T> {
    /// Equals the position a producer may write next (`pos`), or `pos + 1`
    /// once written; a consumer sets it to `pos + one_lap` after reading,
    /// the same slot's position in the next lap.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded MPMC queue, non-blocking for producers (see "Progress" in the
/// crate docs), with exact accounting and a close flag.
pub struct BoundedQueue<T> {
    head: Padded<AtomicUsize>,
    /// The next position to write; its `mark_bit` is the close flag.
    tail: Padded<AtomicUsize>,
    dropped_full: Padded<AtomicU64>,
    dropped_closed: AtomicU64,
    /// A power of two above the capacity: the bit above every slot index.
    mark_bit: usize,
    /// `2 * mark_bit`. A position is a lap number times `one_lap` plus a
    /// slot index below the capacity.
    one_lap: usize,
    slots: Box<[Slot<T>]>,
}

// SAFETY: a slot's value is written only by the producer that won its
// position (the `tail` CAS) and read only by the consumer that won the same
// position (the `head` CAS); the stamp's release/acquire orders the two. So a
// value moves between threads but is never shared: `T: Send` is enough.
unsafe impl<T: Send> Send for BoundedQueue<T> {}
// SAFETY: see above.
unsafe impl<T: Send> Sync for BoundedQueue<T> {}

impl<T> fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedQueue")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .field("stats", &self.stats())
            .finish()
    }
}

impl<T> BoundedQueue<T> {
    /// A queue holding at most `capacity` items.
    pub fn new(capacity: usize) -> Result<Self, ZeroCapacity> {
        if capacity == 0 || capacity > isize::MAX as usize / 8 {
            return Err(ZeroCapacity);
        }
        let mark_bit = (capacity + 1).next_power_of_two();
        let slots = (0..capacity)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ok(Self {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            dropped_full: Padded(AtomicU64::new(0)),
            dropped_closed: AtomicU64::new(0),
            mark_bit,
            one_lap: mark_bit * 2,
            slots,
        })
    }

    /// How many items fit.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    // ANCHOR: push
    /// Offers an item. Never blocks: a full or closed queue hands the item
    /// back, and the refusal is counted.
    #[inline]
    pub fn push(&self, item: T) -> Result<(), Rejected<T>> {
        self.push_numbered(item).map(|_| ())
    }

    /// Like [`push`](Self::push), and says how many items the queue had
    /// accepted before this one (0 for the first). A producer can act on
    /// every n-th item, e.g. wake a consumer once per batch, without reading
    /// the consumer's side of the queue.
    #[inline]
    // ANCHOR: push_numbered
    pub fn push_numbered(&self, item: T) -> Result<u64, Rejected<T>> {
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                self.dropped_closed.fetch_add(1, Ordering::Relaxed);
                return Err(Rejected::Closed(item));
            }
            let slot = &self.slots[tail & (self.mark_bit - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(tail) as isize;
            if ahead == 0 {
                // The slot is free for this lap: claim the position. The CAS
                // fails if a close set the mark bit meanwhile.
                match self.tail.0.compare_exchange(
                    tail,
                    self.next(tail),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS makes this thread the only
                        // writer of the slot until it publishes the stamp.
                        slot.value.with_mut(|p| unsafe { (*p).write(item) });
                        slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                        return Ok(self.count(tail));
                    }
                    Err(now) => tail = now,
                }
            } else if ahead < 0 {
                // The slot still holds the previous lap's item (or its
                // consumer has not finished reading it): full.
                self.dropped_full.0.fetch_add(1, Ordering::Relaxed);
                return Err(Rejected::Full(item));
            } else {
                // Another producer took this position; try the newest tail.
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }
    // ANCHOR_END: push_numbered
    // ANCHOR_END: push

    /// Takes the oldest item, if any. An item whose push is still in
    /// progress is not visible yet, and neither is any item behind it: a
    /// producer paused between claiming its slot and publishing it makes
    /// `pop` return `None` until it goes on.
    #[inline]
    pub fn pop(&self) -> Option<T> {
        let mut head = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[head & (self.mark_bit - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(head.wrapping_add(1)) as isize;
            if ahead == 0 {
                match self.head.0.compare_exchange(
                    head,
                    self.next(head),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the acquire load of the stamp saw the
                        // producer's release after its write, and winning the
                        // CAS makes this thread the only reader of the slot.
                        let item =
                            slot.value.with(|p| unsafe { (*p).assume_init_read() });
                        slot.stamp.store(
                            head.wrapping_add(self.one_lap),
                            Ordering::Release,
                        );
                        return Some(item);
                    }
                    Err(now) => head = now,
                }
            } else if ahead < 0 {
                // Nothing written at this position in this lap: empty (or a
                // push in progress, which is not visible until it finishes).
                return None;
            } else {
                // Another consumer took this position; try the newest head.
                head = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Moves up to `max` items into `out`, oldest first; returns how many.
    pub fn pop_into(&self, out: &mut Vec<T>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            match self.pop() {
                Some(item) => {
                    out.push(item);
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    // ANCHOR: close
    /// Refuses every later push. Items already queued stay to be popped.
    pub fn close(&self) {
        self.tail.0.fetch_or(self.mark_bit, Ordering::SeqCst);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.tail.0.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// Whether the queue is closed and every item it accepted has been
    /// popped. After `close`, a consumer pops until this is true: a `pop`
    /// that returns `None` while it is false means a push that claimed a
    /// slot before the close is still writing it.
    pub fn is_drained(&self) -> bool {
        let tail = self.tail.0.load(Ordering::SeqCst);
        tail & self.mark_bit != 0
            && tail & !self.mark_bit == self.head.0.load(Ordering::SeqCst)
    }
    // ANCHOR_END: close

    /// Items in the queue now (exact when nobody pushes or pops).
    pub fn len(&self) -> usize {
        // Head first: head never passes tail, so the difference is >= 0.
        let head = self.count(self.head.0.load(Ordering::SeqCst));
        let tail = self.count(self.tail.0.load(Ordering::SeqCst));
        (tail.wrapping_sub(head) as usize).min(self.capacity())
    }

    /// Whether [`len`](Self::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counters now. `pushed` and `popped` are the positions of tail
    /// and head turned into counts.
    pub fn stats(&self) -> QueueStats {
        let popped = self.count(self.head.0.load(Ordering::SeqCst));
        let pushed = self.count(self.tail.0.load(Ordering::SeqCst));
        let dropped_full = self.dropped_full.0.load(Ordering::SeqCst);
        let dropped_closed = self.dropped_closed.load(Ordering::SeqCst);
        QueueStats {
            offered: pushed + dropped_full + dropped_closed,
            pushed,
            dropped_full,
            dropped_closed,
            popped,
            len: (pushed.saturating_sub(popped) as usize).min(self.capacity()),
        }
    }

    /// How many items have passed a position (`pos` without the mark bit).
    #[inline]
    fn count(&self, pos: usize) -> u64 {
        // `one_lap` is a power of two: a shift, not a division.
        let laps = (pos >> self.one_lap.trailing_zeros()) as u64;
        laps * self.capacity() as u64 + (pos & (self.mark_bit - 1)) as u64
    }

    /// The position after `pos`: the next index in this lap, or index 0 of
    /// the next lap.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        if (pos & (self.mark_bit - 1)) + 1 < self.capacity() {
            pos.wrapping_add(1)
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }
}

impl<T> Drop for BoundedQueue<T> {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}
