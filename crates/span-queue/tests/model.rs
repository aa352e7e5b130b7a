//! The queue against a sequential model (proptest), and a threaded run that
//! checks nothing accepted is lost and the counters add up.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use span_queue::{BoundedQueue, QueueStats, Rejected, ZeroCapacity};

#[derive(Clone, Debug)]
enum Op {
    Push(u32),
    Pop,
    PopInto(usize),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u32>().prop_map(Op::Push),
        2 => Just(Op::Pop),
        1 => (0usize..5).prop_map(Op::PopInto),
        1 => Just(Op::Close),
    ]
}

/// What a bounded FIFO with a close flag and counters does, one step at a time.
#[derive(Default)]
struct Model {
    items: VecDeque<u32>,
    capacity: usize,
    closed: bool,
    stats: QueueStats,
}

impl Model {
    fn push(&mut self, v: u32) -> Result<(), Rejected<u32>> {
        self.stats.offered += 1;
        if self.closed {
            self.stats.dropped_closed += 1;
            Err(Rejected::Closed(v))
        } else if self.items.len() == self.capacity {
            self.stats.dropped_full += 1;
            Err(Rejected::Full(v))
        } else {
            self.stats.pushed += 1;
            self.items.push_back(v);
            Ok(())
        }
    }

    fn pop(&mut self) -> Option<u32> {
        let v = self.items.pop_front();
        self.stats.popped += u64::from(v.is_some());
        v
    }
}

proptest! {
    #[test]
    fn behaves_like_a_bounded_fifo(capacity in 1usize..6, ops in prop::collection::vec(op(), 0..80)) {
        let q = BoundedQueue::new(capacity).unwrap();
        let mut m = Model { capacity, ..Model::default() };
        for op in ops {
            match op {
                // Alternate the two ways to push; `push_numbered` also says
                // how many items were accepted before this one.
                Op::Push(v) if v % 2 == 0 => prop_assert_eq!(q.push(v), m.push(v)),
                Op::Push(v) => {
                    let want = m.push(v).map(|()| m.stats.pushed - 1);
                    prop_assert_eq!(q.push_numbered(v), want);
                }
                Op::Pop => prop_assert_eq!(q.pop(), m.pop()),
                Op::PopInto(n) => {
                    let mut got = Vec::new();
                    let k = q.pop_into(&mut got, n);
                    let want: Vec<u32> = (0..n).map_while(|_| m.pop()).collect();
                    prop_assert_eq!(k, want.len());
                    prop_assert_eq!(got, want);
                }
                Op::Close => {
                    q.close();
                    m.closed = true;
                }
            }
            m.stats.len = m.items.len();
            prop_assert_eq!(q.stats(), m.stats);
            prop_assert_eq!(q.is_drained(), m.closed && m.items.is_empty());
            prop_assert_eq!(q.is_closed(), m.closed);
        }
    }
}

#[test]
fn zero_capacity_is_an_error() {
    assert_eq!(BoundedQueue::<u8>::new(0).unwrap_err(), ZeroCapacity);
    assert_eq!(
        ZeroCapacity.to_string(),
        "a bounded queue needs a capacity of at least 1 (and below isize::MAX / 8)"
    );
}

#[test]
fn items_left_in_the_queue_are_dropped_with_it() {
    let marker = Arc::new(());
    let q = BoundedQueue::new(4).unwrap();
    for _ in 0..3 {
        q.push(marker.clone()).unwrap();
    }
    assert_eq!(Arc::strong_count(&marker), 4);
    drop(q);
    assert_eq!(Arc::strong_count(&marker), 1);
}

/// Four producers, one consumer that closes half-way and drains: every item
/// accepted is popped exactly once, and offered = pushed + dropped.
#[test]
fn threads_lose_nothing_accepted() {
    const PER_PRODUCER: u32 = 20_000;
    let q = Arc::new(BoundedQueue::new(64).unwrap());
    let finished = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let (q, finished) = (q.clone(), finished.clone());
            std::thread::spawn(move || {
                let mut accepted = Vec::new();
                for i in 0..PER_PRODUCER {
                    let v = p * PER_PRODUCER + i;
                    if q.push(v).is_ok() {
                        accepted.push(v);
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
                accepted
            })
        })
        .collect();
    let mut popped = Vec::new();
    // Close half-way, or once every producer is done.
    while popped.len() < 30_000 && finished.load(Ordering::SeqCst) < 4 {
        match q.pop() {
            Some(v) => popped.push(v),
            None => std::thread::yield_now(),
        }
    }
    q.close();
    // Pop until every slot claimed before the close has been popped.
    while !q.is_drained() {
        match q.pop() {
            Some(v) => popped.push(v),
            None => std::thread::yield_now(),
        }
    }
    assert!(q.pop().is_none());
    let mut accepted: Vec<u32> = producers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    accepted.sort_unstable();
    popped.sort_unstable();
    assert_eq!(popped, accepted);
    let s = q.stats();
    assert_eq!(s.offered, u64::from(4 * PER_PRODUCER));
    assert_eq!(s.offered, s.pushed + s.dropped());
    assert_eq!(s.pushed, s.popped);
    assert_eq!(s.len, 0);
}
