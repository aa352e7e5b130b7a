//! Bad models are errors with a reason, never a hang or a panic.

use csp_models::ModelError;
use csp_models::clocks::{Action, Execution, Step};
use csp_models::csp::Event;
use csp_models::csp::{Definitions, alphabet, call, prefix, stop};
use csp_models::lts::Lts;
use csp_models::order::{Independence, Pomset, network_run};

#[test]
fn unguarded_recursion_is_refused() {
    let defs = Definitions::new().define("X", call("X").ext(prefix("a", call("X"))));
    let err = Lts::explore(&call("X"), &defs).unwrap_err();
    assert_eq!(err, ModelError::Unguarded("X".into()));
    assert!(err.to_string().contains("unguarded"));
}

#[test]
fn an_undefined_name_is_refused() {
    let err = Lts::explore(&call("NOPE"), &Definitions::new()).unwrap_err();
    assert_eq!(err.to_string(), "process `NOPE` is not defined");
}

#[test]
fn an_infinite_state_process_hits_the_limit() {
    // COUNT = up → (COUNT ||| COUNT): one more copy per step.
    let defs = Definitions::new().define(
        "COUNT",
        prefix("up", call("COUNT").interleave(call("COUNT"))),
    );
    let err = Lts::explore_with_limit(&call("COUNT"), &defs, 500).unwrap_err();
    assert_eq!(err, ModelError::TooManyStates(500));
}

#[test]
fn orders_and_executions_are_checked() {
    let a = || Event::new("a");
    assert!(Independence::from_pairs([(a(), a())]).is_err());
    assert!(matches!(
        Pomset::new(vec![a(), a()], &[(0, 1), (1, 0)]),
        Err(ModelError::Cyclic(_))
    ));
    assert!(matches!(
        Pomset::new(vec![a()], &[(0, 3)]),
        Err(ModelError::NoSuchElement(3, 1))
    ));
    let outside = network_run(&[(vec![a()], alphabet(["b"]))]);
    assert_eq!(
        outside.unwrap_err(),
        ModelError::OutsideAlphabet("a".into())
    );
    let early = Execution::new(vec![Step {
        process: 0,
        action: Action::Receive(7),
    }]);
    assert!(matches!(early, Err(ModelError::BadExecution(_))));
    let _ = stop();
}
