//! Fan-out/fan-in loses and duplicates nothing; in input order it also keeps the order.

mod common;

use common::quiet_planned_panics;
use otlp_csp_patterns::{Order, RunError, tasks, threads};
use proptest::prelude::*;

fn work(x: u32) -> u64 {
    // Uneven work so that completion order differs from input order.
    let spins = (x % 7) * 200;
    let mut acc = u64::from(x);
    for _ in 0..spins {
        acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(7));
    }
    std::hint::black_box(acc);
    u64::from(x) * 3
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn threads_fan_out_in(
        workers in 1usize..6,
        window in 1usize..12,
        items in prop::collection::vec(0u32..1000, 0..300),
    ) {
        let want: Vec<u64> = items.iter().map(|&x| u64::from(x) * 3).collect();
        let ordered = threads::FanOut::new(workers).unwrap().window(window).unwrap();
        prop_assert_eq!(&ordered.map(items.clone(), work).unwrap(), &want);
        let unordered = ordered.order(Order::Completion);
        let got = unordered.map(items, work).unwrap();
        prop_assert_eq!(sorted(got), sorted(want));
    }

    #[test]
    fn tokio_fan_out_in(
        window in 1usize..12,
        items in prop::collection::vec(0u32..1000, 0..200),
    ) {
        let want: Vec<u64> = items.iter().map(|&x| u64::from(x) * 3).collect();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let (ordered, unordered) = rt.block_on(async {
            let fan = tasks::FanOut::new(window).unwrap();
            let f = |x: u32| async move {
                for _ in 0..x % 3 {
                    tokio::task::yield_now().await;
                }
                work(x)
            };
            let ordered = fan.map(items.clone(), f).await.unwrap();
            let unordered = fan.order(Order::Completion).map(items, f).await.unwrap();
            (ordered, unordered)
        });
        prop_assert_eq!(&ordered, &want);
        prop_assert_eq!(sorted(unordered), sorted(want));
    }
}

#[test]
fn a_panicking_item_stops_the_run_and_is_named() {
    quiet_planned_panics();
    for order in [Order::Input, Order::Completion] {
        let fan = threads::FanOut::new(3).unwrap().order(order);
        let err = fan
            .map(0..1000u32, |x| {
                if x == 17 {
                    panic!("planned: bad item");
                }
                x
            })
            .unwrap_err();
        match err {
            RunError::Panicked(p) => {
                assert_eq!(p.what, "item 17");
                assert_eq!(p.message, "planned: bad item");
            }
            other => panic!("expected a panic report, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_stops_the_tokio_run_and_is_named() {
    quiet_planned_panics();
    let err = tasks::FanOut::new(4)
        .unwrap()
        .map(0..100u32, |x| async move {
            if x == 5 {
                panic!("planned: bad task");
            }
            x
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "item 5 panicked: planned: bad task",
        "{err:?}"
    );
}
