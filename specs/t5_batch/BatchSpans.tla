----------------------------- MODULE BatchSpans ----------------------------
(***************************************************************************)
(* T5: a batch span processor. The application ends N spans (ids 1..N in  *)
(* order) and pushes each into a bounded queue of capacity Q that never   *)
(* blocks: a full or closed queue drops the span and counts it. One       *)
(* exporter takes up to B spans from the head of the queue and exports    *)
(* them; a failed export counts its spans. Shutdown closes the queue; the *)
(* exporter drains it and stops. This abstracts the book's processor,     *)
(* crates/telemetry/src/fast_batch.rs on crates/span-queue.               *)
(* The variables are those of the stateright model in                     *)
(* crates/resilience-models/src/batch.rs, one for one, so both checkers   *)
(* must find the same number of distinct states.                          *)
(***************************************************************************)
EXTENDS Naturals, Sequences

\* ANCHOR: state
CONSTANTS N, Q, B

ASSUME N \in Nat /\ Q \in Nat \ {0} /\ B \in Nat \ {0}

VARIABLES ended, queue, batch, exported, failed, droppedFull, droppedClosed,
          closed, stopped

vars == <<ended, queue, batch, exported, failed, droppedFull, droppedClosed,
          closed, stopped>>
\* ANCHOR_END: state

\* ANCHOR: min
Min(a, b) == IF a < b THEN a ELSE b
\* ANCHOR_END: min

\* ANCHOR: init
Init == /\ ended = 0
        /\ queue = <<>>
        /\ batch = <<>>
        /\ exported = <<>>
        /\ failed = 0
        /\ droppedFull = 0
        /\ droppedClosed = 0
        /\ closed = FALSE
        /\ stopped = FALSE
\* ANCHOR_END: init

\* ANCHOR: end
\* The application ends span ended + 1: queued, or dropped and counted.
End == /\ ended < N
       /\ ended' = ended + 1
       /\ CASE closed ->
                 /\ droppedClosed' = droppedClosed + 1
                 /\ UNCHANGED <<queue, droppedFull>>
            [] Len(queue) = Q ->
                 /\ droppedFull' = droppedFull + 1
                 /\ UNCHANGED <<queue, droppedClosed>>
            [] OTHER ->
                 /\ queue' = Append(queue, ended + 1)
                 /\ UNCHANGED <<droppedFull, droppedClosed>>
       /\ UNCHANGED <<batch, exported, failed, closed, stopped>>
\* ANCHOR_END: end

\* ANCHOR: take
\* The exporter takes up to B spans (on a full batch or on its timer).
Take == /\ ~stopped
        /\ batch = <<>>
        /\ queue # <<>>
        /\ batch' = SubSeq(queue, 1, Min(B, Len(queue)))
        /\ queue' = SubSeq(queue, Min(B, Len(queue)) + 1, Len(queue))
        /\ UNCHANGED <<ended, exported, failed, droppedFull, droppedClosed,
                       closed, stopped>>
\* ANCHOR_END: take

\* ANCHOR: export
Export == /\ batch # <<>>
          /\ exported' = exported \o batch
          /\ batch' = <<>>
          /\ UNCHANGED <<ended, queue, failed, droppedFull, droppedClosed,
                         closed, stopped>>

Fail == /\ batch # <<>>
        /\ failed' = failed + Len(batch)
        /\ batch' = <<>>
        /\ UNCHANGED <<ended, queue, exported, droppedFull, droppedClosed,
                       closed, stopped>>
\* ANCHOR_END: export

\* ANCHOR: shutdown
Shutdown == /\ ~closed
            /\ closed' = TRUE
            /\ UNCHANGED <<ended, queue, batch, exported, failed, droppedFull,
                           droppedClosed, stopped>>

Stop == /\ ~stopped
        /\ closed
        /\ queue = <<>>
        /\ batch = <<>>
        /\ stopped' = TRUE
        /\ UNCHANGED <<ended, queue, batch, exported, failed, droppedFull,
                       droppedClosed, closed>>

Next == End \/ Take \/ Export \/ Fail \/ Shutdown \/ Stop

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)
\* ANCHOR_END: shutdown

\* ANCHOR: properties
Finished == stopped /\ ended = N

\* Safety.
NoDuplicates == \A i, j \in 1..Len(exported) : i # j => exported[i] # exported[j]
FIFO == \A i \in 1..Len(exported) - 1 : exported[i] < exported[i + 1]
Conservation == Len(queue) + Len(batch) + Len(exported) + failed
                  + droppedFull + droppedClosed = ended
FlushOnShutdown == stopped => queue = <<>> /\ batch = <<>>
\* No state is stuck short of the end (the same check as the stateright model).
NoEarlyDeadlock == ~ENABLED Next => Finished

\* Liveness: under weak fairness every behaviour finishes.
ShutdownTerminates == <>Finished
\* ANCHOR_END: properties
=============================================================================
