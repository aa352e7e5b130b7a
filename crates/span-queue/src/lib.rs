//! A bounded, lock-free, multi-producer multi-consumer queue that accounts
//! for every item offered to it.
//!
//! The book's fast span processor (chapter 12) hands finished spans from the
//! application's threads to one exporter thread through this queue. A span
//! processor must never block the thread that ends a span, so [`BoundedQueue::push`]
//! never waits: when the queue is full it gives the item back and counts it as
//! dropped. The counters are exact: once no push is in progress,
//!
//! ```text
//! offered == pushed + dropped_full + dropped_closed
//! pushed  == popped + len
//! ```
//!
//! [`BoundedQueue::close`] stops new pushes; [`BoundedQueue::is_quiescent`] then
//! tells the consumer when every push that started before the close has
//! finished, so that one last drain empties the queue and nothing accepted is
//! left behind.
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

mod sync;

use std::fmt;
use std::mem::MaybeUninit;

use sync::{AtomicBool, AtomicU64, AtomicUsize, Ordering, UnsafeCell, fence};

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
        f.write_str("a bounded queue needs a capacity of at least 1 (and below isize::MAX / 4)")
    }
}

impl std::error::Error for ZeroCapacity {}

/// A snapshot of a queue's counters.
///
/// Each counter only grows. While pushes are in progress a snapshot may show
/// `offered` ahead of the outcomes; once the queue [`is_quiescent`](BoundedQueue::is_quiescent),
/// `offered == pushed + dropped_full + dropped_closed` holds exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Calls to `push`.
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

/// Keeps a hot atomic on a cache line of its own, so producers bumping one
/// counter do not slow down readers of another.
#[cfg_attr(not(loom), repr(align(128)))]
struct Padded<T>(T);

struct Slot<T> {
    /// Equals the position a producer may write next (`pos`), or `pos + 1`
    /// once written; a consumer sets it to `pos + one_lap` after reading,
    /// the same slot's position in the next lap.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded lock-free MPMC queue with exact accounting and a close flag.
pub struct BoundedQueue<T> {
    head: Padded<AtomicUsize>,
    tail: Padded<AtomicUsize>,
    offered: Padded<AtomicU64>,
    pushed: Padded<AtomicU64>,
    dropped_full: AtomicU64,
    dropped_closed: AtomicU64,
    popped: Padded<AtomicU64>,
    closed: AtomicBool,
    /// A power of two above the capacity. A position (`head`, `tail`) is a
    /// lap number times `one_lap` plus a slot index below the capacity.
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
        if capacity == 0 || capacity > isize::MAX as usize / 4 {
            return Err(ZeroCapacity);
        }
        let slots = (0..capacity)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ok(Self {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            offered: Padded(AtomicU64::new(0)),
            pushed: Padded(AtomicU64::new(0)),
            dropped_full: AtomicU64::new(0),
            dropped_closed: AtomicU64::new(0),
            popped: Padded(AtomicU64::new(0)),
            closed: AtomicBool::new(false),
            one_lap: (capacity + 1).next_power_of_two(),
            slots,
        })
    }

    /// How many items fit.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Offers an item. Never blocks: a full or closed queue hands the item
    /// back, and the refusal is counted.
    pub fn push(&self, item: T) -> Result<(), Rejected<T>> {
        // Counted before looking at `closed`, with a SeqCst fence between
        // (as in `close`): of this push and a concurrent close, at least one
        // sees the other. Either the push sees the close and refuses, or the
        // closer sees the offer and `is_quiescent` waits for its outcome.
        self.offered.0.fetch_add(1, Ordering::AcqRel);
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            self.dropped_closed.fetch_add(1, Ordering::AcqRel);
            return Err(Rejected::Closed(item));
        }
        match self.enqueue(item) {
            // Release: whoever reads this count also sees the item's slot.
            Ok(()) => {
                self.pushed.0.fetch_add(1, Ordering::AcqRel);
                Ok(())
            }
            Err(item) => {
                self.dropped_full.fetch_add(1, Ordering::AcqRel);
                Err(Rejected::Full(item))
            }
        }
    }

    /// Takes the oldest item, if any. An item whose push is still in
    /// progress is not visible yet.
    pub fn pop(&self) -> Option<T> {
        let item = self.dequeue()?;
        self.popped.0.fetch_add(1, Ordering::SeqCst);
        Some(item)
    }

    /// Moves up to `max` items into `out`, oldest first; returns how many.
    pub fn pop_into(&self, out: &mut Vec<T>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            match self.dequeue() {
                Some(item) => {
                    out.push(item);
                    n += 1;
                }
                None => break,
            }
        }
        if n > 0 {
            self.popped.0.fetch_add(n as u64, Ordering::SeqCst);
        }
        n
    }

    /// Refuses every later push. Items already queued stay to be popped.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether every push that has started has also finished (accepted or
    /// refused). After [`close`](Self::close), once this is true it stays
    /// true, and a pop that then returns `None` means the queue is empty for
    /// good.
    pub fn is_quiescent(&self) -> bool {
        // Outcomes first (acquire: an outcome read makes its offer and, for
        // an accepted item, its slot visible), then offers. Every outcome
        // read belongs to an offer made before the offers are read, so
        // equality means no offer counted there was still in progress.
        fence(Ordering::SeqCst);
        let settled = self.pushed.0.load(Ordering::Acquire)
            + self.dropped_full.load(Ordering::Acquire)
            + self.dropped_closed.load(Ordering::Acquire);
        settled == self.offered.0.load(Ordering::Acquire)
    }

    /// Items in the queue now (exact when nobody pushes or pops).
    pub fn len(&self) -> usize {
        // Head first: head never passes tail, so the difference is >= 0.
        let head = self.head.0.load(Ordering::SeqCst);
        let tail = self.tail.0.load(Ordering::SeqCst);
        let laps = (tail / self.one_lap).wrapping_sub(head / self.one_lap);
        let index = |p: usize| (p & (self.one_lap - 1)) as isize;
        let n = (laps as isize)
            .wrapping_mul(self.capacity() as isize)
            .wrapping_add(index(tail) - index(head));
        n.clamp(0, self.capacity() as isize) as usize
    }

    /// Whether [`len`](Self::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counters now.
    pub fn stats(&self) -> QueueStats {
        QueueStats {
            offered: self.offered.0.load(Ordering::SeqCst),
            pushed: self.pushed.0.load(Ordering::SeqCst),
            dropped_full: self.dropped_full.load(Ordering::SeqCst),
            dropped_closed: self.dropped_closed.load(Ordering::SeqCst),
            popped: self.popped.0.load(Ordering::SeqCst),
            len: self.len(),
        }
    }

    /// The position after `pos`: the next index in this lap, or index 0 of
    /// the next lap.
    fn next(&self, pos: usize) -> usize {
        if (pos & (self.one_lap - 1)) + 1 < self.capacity() {
            pos.wrapping_add(1)
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    fn enqueue(&self, item: T) -> Result<(), T> {
        let mut pos = self.tail.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[pos & (self.one_lap - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(pos) as isize;
            if ahead == 0 {
                // The slot is free for this lap: claim the position.
                match self.tail.0.compare_exchange(
                    pos,
                    self.next(pos),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS makes this thread the only
                        // writer of the slot until it publishes the stamp.
                        slot.value.with_mut(|p| unsafe { (*p).write(item) });
                        slot.stamp.store(pos.wrapping_add(1), Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => pos = now,
                }
            } else if ahead < 0 {
                // The slot still holds the previous lap's item (or its
                // consumer has not finished reading it): full.
                return Err(item);
            } else {
                // Another producer took this position; try the newest tail.
                pos = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    fn dequeue(&self) -> Option<T> {
        let mut pos = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[pos & (self.one_lap - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(pos.wrapping_add(1)) as isize;
            if ahead == 0 {
                match self.head.0.compare_exchange(
                    pos,
                    self.next(pos),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the acquire load of the stamp saw the
                        // producer's release after its write, and winning the
                        // CAS makes this thread the only reader of the slot.
                        let item = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                        slot.stamp
                            .store(pos.wrapping_add(self.one_lap), Ordering::Release);
                        return Some(item);
                    }
                    Err(now) => pos = now,
                }
            } else if ahead < 0 {
                // Nothing written at this position in this lap: empty (or a
                // push in progress, which is not visible until it finishes).
                return None;
            } else {
                // Another consumer took this position; try the newest head.
                pos = self.head.0.load(Ordering::Relaxed);
            }
        }
    }
}

impl<T> Drop for BoundedQueue<T> {
    fn drop(&mut self) {
        while self.dequeue().is_some() {}
    }
}

/// Waits, without blocking on a lock, until every push that started before
/// `queue.close()` has finished; call after [`BoundedQueue::close`]. Yields
/// the thread between looks. Pushes are short and never wait, so this ends
/// quickly unless a pushing thread is descheduled.
pub fn wait_quiescent<T>(queue: &BoundedQueue<T>) {
    while !queue.is_quiescent() {
        sync::yield_now();
    }
}
