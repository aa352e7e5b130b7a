//! What a paused thread can and cannot stop (chapter 12, "The queue").
//!
//! Each test holds one thread still at the one place where a thread of this
//! queue owns something the others need: after it won a position's
//! compare-and-swap, before it published the slot's stamp
//! (`sync::pause`). Then it runs the other threads' operations and sees
//! whether they finish, and what they return.
//!
//! - `push` is lock-free: a paused producer or consumer cannot keep another
//!   push from returning (`pushes_finish_while_a_producer_is_paused`,
//!   `a_paused_consumer_cannot_stop_a_push`).
//! - `pop` is not: a paused producer hides every later item from every
//!   consumer (`a_paused_producer_hides_later_items_from_consumers`).
//! - The check that a push returns can fail: it rejects a planted bug, a
//!   push that takes a lock (`the_progress_check_rejects_a_push_that_takes_a_lock`).

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::sync::pause;
use crate::{BoundedQueue, Rejected};

/// How long the others may take while one thread is held before the check
/// calls them stopped. What they do takes microseconds; a push that waits
/// for the held thread would take forever.
const STOPPED: Duration = Duration::from_secs(5);

/// Runs `held` on a thread of its own and holds it at its first slot
/// access; while it is held, runs `others` on another thread and gives
/// them [`STOPPED`] to return; then lets the held thread go on. Returns
/// both results, or an error if the held thread never got to a slot or
/// the others did not return while it was held.
fn while_held<H, O>(
    held: impl FnOnce() -> H + Send,
    others: impl FnOnce() -> O + Send,
) -> Result<(H, O), String>
where
    H: Send,
    O: Send,
{
    thread::scope(|s| {
        let (at_slot, reached) = mpsc::channel();
        let (go_on, resume) = mpsc::channel::<()>();
        let held = s.spawn(move || {
            pause::at_next_slot_access(move || {
                let _ = at_slot.send(());
                let _ = resume.recv();
            });
            held()
        });
        let mut error = None;
        let mut others_thread = None;
        if reached.recv_timeout(STOPPED).is_err() {
            error = Some("the held thread never touched a slot".to_owned());
        } else {
            let (done, finished) = mpsc::channel();
            others_thread = Some(s.spawn(move || {
                let result = others();
                let _ = done.send(());
                result
            }));
            if finished.recv_timeout(STOPPED).is_err() {
                error = Some(format!(
                    "the others did not return within {STOPPED:?} while one \
                     thread was held between its claim and its stamp"
                ));
            }
        }
        // Always let the held thread go, so that the scope can end.
        let _ = go_on.send(());
        let held = held.join().expect("the held thread panicked");
        let others = others_thread.map(|t| t.join().expect("the others panicked"));
        match (error, others) {
            (None, Some(others)) => Ok((held, others)),
            (Some(e), _) => Err(e),
            (None, None) => unreachable!("the others run unless there is an error"),
        }
    })
}

/// The operations the checks use, so that they run against the planted
/// bug as well as against the queue.
trait Queue: Sync {
    fn push(&self, v: u32) -> Result<(), Rejected<u32>>;
    fn pop(&self) -> Option<u32>;
}

impl Queue for BoundedQueue<u32> {
    fn push(&self, v: u32) -> Result<(), Rejected<u32>> {
        BoundedQueue::push(self, v)
    }

    fn pop(&self) -> Option<u32> {
        BoundedQueue::pop(self)
    }
}

/// The planted bug: the same queue, but a push holds a lock from before its
/// compare-and-swap until after its stamp. Every item still comes out once
/// and in order; only the progress guarantee is gone.
struct LockedPush {
    lock: Mutex<()>,
    queue: BoundedQueue<u32>,
}

impl Queue for LockedPush {
    fn push(&self, v: u32) -> Result<(), Rejected<u32>> {
        let _guard = self.lock.lock().unwrap();
        self.queue.push(v)
    }

    fn pop(&self) -> Option<u32> {
        self.queue.pop()
    }
}

/// What producer B and a consumer saw while producer A was held.
#[derive(Debug)]
struct Seen {
    /// What B's pushes of 2 and then 3 returned.
    pushes: [Result<(), Rejected<u32>>; 2],
    /// What one pop returned after B's pushes.
    popped: Option<u32>,
}

/// The check of chapter 12's claim about producers, on a queue of two
/// slots: producer A pushes 1 and is held after claiming slot 0; producer B
/// pushes 2 and 3, and then a consumer pops once; B's pushes must return
/// while A is held. Afterwards A finishes and the queue is drained; returns
/// what B and the consumer saw and the drained items.
fn pushes_while_a_producer_is_held(
    q: &impl Queue,
) -> Result<(Seen, Vec<u32>), String> {
    let (a, seen) = while_held(
        || q.push(1),
        || {
            let pushes = [q.push(2), q.push(3)];
            Seen {
                pushes,
                popped: q.pop(),
            }
        },
    )?;
    assert_eq!(a, Ok(()), "producer A claimed its slot before it was held");
    let mut drained = Vec::from_iter(seen.popped);
    drained.extend(std::iter::from_fn(|| q.pop()));
    Ok((seen, drained))
}

#[test]
fn pushes_finish_while_a_producer_is_paused() {
    let q = BoundedQueue::new(2).unwrap();
    let (seen, _) = pushes_while_a_producer_is_held(&q).expect("a push was stopped");
    // B took slot 1; slot 0 is A's, still unwritten, so 3 is refused as full
    // rather than made to wait for A.
    assert_eq!(seen.pushes, [Ok(()), Err(Rejected::Full(3))]);
}

#[test]
fn a_paused_producer_hides_later_items_from_consumers() {
    let q = BoundedQueue::new(2).unwrap();
    let (seen, drained) = pushes_while_a_producer_is_held(&q).unwrap();
    // B's push of 2 had returned Ok (its slot written, its stamp published)
    // and yet the pop found nothing: slot 0 still waits for A.
    assert_eq!(seen.pushes[0], Ok(()));
    assert_eq!(seen.popped, None);
    // Nothing was lost: once A went on, both came out, A's first.
    assert_eq!(drained, [1, 2]);
    assert_eq!(q.stats().popped, 2);
}

#[test]
fn a_paused_consumer_cannot_stop_a_push() {
    let q = BoundedQueue::new(1).unwrap();
    q.push(1).unwrap();
    // The consumer won position 0 and is held before reading slot 0; the
    // next push needs that very slot, and is refused as full, not held.
    let (popped, pushed) = while_held(|| q.pop(), || q.push(2))
        .expect("a paused consumer stopped a push");
    assert_eq!(pushed, Err(Rejected::Full(2)));
    assert_eq!(popped, Some(1));
    assert_eq!(q.push(3), Ok(()));
}

#[test]
fn the_progress_check_rejects_a_push_that_takes_a_lock() {
    let q = LockedPush {
        lock: Mutex::new(()),
        queue: BoundedQueue::new(2).unwrap(),
    };
    let error = pushes_while_a_producer_is_held(&q).unwrap_err();
    assert!(error.contains("did not return"), "{error}");
    // B's pushes did finish once A went on, with the same answers as on the
    // real queue: the check failed on progress alone.
    let s = q.queue.stats();
    assert_eq!((s.pushed, s.dropped_full), (2, 1));
}
