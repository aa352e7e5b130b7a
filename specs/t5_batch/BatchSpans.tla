----------------------------- MODULE BatchSpans ----------------------------
(***************************************************************************)
(* T5: the book's batch span processor, crates/telemetry/src/fast_batch.rs *)
(* on the queue of crates/span-queue. P producer threads each end K spans  *)
(* (span <<p, k>> is producer p's k-th) and push each into a bounded queue *)
(* of capacity Q that never blocks. A push is two steps, as in the queue's *)
(* code: claiming a slot (or being refused, counted, when the queue is     *)
(* full or closed), then writing the span into it. One exporter takes up   *)
(* to B written spans from the head and exports them; a failed export is   *)
(* counted. Shutdown closes the queue at any moment between two exports,   *)
(* while producers keep running; the exporter drains and stops. The        *)
(* variables are those of the stateright model in                          *)
(* crates/resilience-models/src/batch.rs, one for one, so both checkers    *)
(* must find the same number of distinct states. BatchSpansBugs.tla plants *)
(* three bugs in this spec.                                                *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

\* ANCHOR: state
CONSTANTS P, K, Q, B

ASSUME P \in Nat \ {0} /\ K \in Nat /\ Q \in Nat \ {0} /\ B \in Nat \ {0}

Producers == 1..P

VARIABLES ended,        \* ended[p]: spans producer p has offered
          pc,           \* pc[p]: "idle", or "writing" its claimed slot
          queue,        \* claimed slots, oldest first (written or not)
          batch,        \* what the exporter took and is exporting
          exported,     \* what it delivered, in order
          failed, droppedFull, droppedClosed, \* sets of spans, counted
          closed,       \* shutdown has begun: pushes are refused
          stopped       \* the exporter has finished

vars == <<ended, pc, queue, batch, exported, failed, droppedFull,
          droppedClosed, closed, stopped>>
\* ANCHOR_END: state

\* ANCHOR: init
Init == /\ ended = [p \in Producers |-> 0]
        /\ pc = [p \in Producers |-> "idle"]
        /\ queue = <<>> /\ batch = <<>> /\ exported = <<>>
        /\ failed = {} /\ droppedFull = {} /\ droppedClosed = {}
        /\ closed = FALSE /\ stopped = FALSE
\* ANCHOR_END: init

\* ANCHOR: end
\* Producer p offers its next span, <<p, ended[p] + 1>>. Refused when closed:
Refuse(p) == /\ ended' = [ended EXCEPT ![p] = @ + 1]
             /\ droppedClosed' = droppedClosed \cup {<<p, ended[p] + 1>>}
             /\ UNCHANGED <<pc, queue, droppedFull>>

\* Otherwise it claims a slot (one CAS on the tail), or is refused when full.
Claim(p) == LET s == <<p, ended[p] + 1>> IN
            /\ ended' = [ended EXCEPT ![p] = @ + 1]
            /\ IF Len(queue) = Q
                 THEN /\ droppedFull' = droppedFull \cup {s}
                      /\ pc' = [pc EXCEPT ![p] = "idle"]
                      /\ UNCHANGED queue
                 ELSE /\ queue' = Append(queue, s)
                      /\ pc' = [pc EXCEPT ![p] = "writing"]
                      /\ UNCHANGED droppedFull
            /\ UNCHANGED droppedClosed

\* The close is a mark bit in the tail: the CAS sees it, so both tests and
\* the claim are one atomic step.
End(p) == /\ pc[p] = "idle" /\ ended[p] < K
          /\ IF closed THEN Refuse(p) ELSE Claim(p)
          /\ UNCHANGED <<batch, exported, failed, closed, stopped>>

\* Writing the span into the claimed slot publishes it to the exporter.
Write(p) == /\ pc[p] = "writing"
            /\ pc' = [pc EXCEPT ![p] = "idle"]
            /\ UNCHANGED <<ended, queue, batch, exported, failed, droppedFull,
                           droppedClosed, closed, stopped>>
\* ANCHOR_END: end

\* ANCHOR: take
Min(a, b) == IF a < b THEN a ELSE b

\* A slot is written unless its producer is still writing it (its last span).
Written(s) == ~(pc[s[1]] = "writing" /\ s[2] = ended[s[1]])

\* How many slots from the head are written: pop stops at the first that
\* is not (it cannot skip it, the head moves one slot at a time).
ReadyLen == LET pending == {i \in 1..Len(queue) : ~Written(queue[i])}
            IN IF pending = {} THEN Len(queue)
               ELSE (CHOOSE i \in pending : \A j \in pending : i <= j) - 1

\* The exporter takes up to B written spans (on a full batch or its timer).
Take == /\ ~stopped
        /\ batch = <<>>
        /\ ReadyLen > 0
        /\ LET n == Min(B, ReadyLen)
           IN /\ batch' = SubSeq(queue, 1, n)
              /\ queue' = SubSeq(queue, n + 1, Len(queue))
        /\ UNCHANGED <<ended, pc, exported, failed, droppedFull, droppedClosed,
                       closed, stopped>>
\* ANCHOR_END: take

\* ANCHOR: export
Range(s) == {s[i] : i \in DOMAIN s}

Export == /\ batch # <<>>
          /\ exported' = exported \o batch
          /\ batch' = <<>>
          /\ UNCHANGED <<ended, pc, queue, failed, droppedFull, droppedClosed,
                         closed, stopped>>

Fail == /\ batch # <<>>
        /\ failed' = failed \cup Range(batch)
        /\ batch' = <<>>
        /\ UNCHANGED <<ended, pc, queue, exported, droppedFull, droppedClosed,
                       closed, stopped>>
\* ANCHOR_END: export

\* ANCHOR: shutdown
\* The exporter closes the queue when it reads the shutdown request, between
\* two exports; producers go on ending spans.
Close == /\ ~closed
         /\ batch = <<>>
         /\ closed' = TRUE
         /\ UNCHANGED <<ended, pc, queue, batch, exported, failed, droppedFull,
                        droppedClosed, stopped>>

\* It stops once every claimed slot has been popped (is_drained).
Stop == /\ ~stopped
        /\ closed
        /\ batch = <<>>
        /\ queue = <<>>
        /\ stopped' = TRUE
        /\ UNCHANGED <<ended, pc, queue, batch, exported, failed, droppedFull,
                       droppedClosed, closed>>

Producer(p) == End(p) \/ Write(p)
Exporter == Take \/ Export \/ Fail \/ Close
Next == (\E p \in Producers : Producer(p)) \/ Exporter \/ Stop

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)
\* ANCHOR_END: shutdown

\* ANCHOR: properties
Ended == UNION {{<<p, k>> : k \in 1..ended[p]} : p \in Producers}
Outcome == Range(exported) \cup failed \cup droppedFull \cup droppedClosed

\* Every span offered is in exactly one place, once: the places cover the
\* offered spans and their sizes add up to as many.
Accounting ==
    /\ Range(queue) \cup Range(batch) \cup Outcome = Ended
    /\ Len(queue) + Len(batch) + Len(exported) + Cardinality(failed)
         + Cardinality(droppedFull) + Cardinality(droppedClosed)
         = Cardinality(Ended)

\* Each producer's spans are exported in the order it ended them.
FIFO == \A i, j \in 1..Len(exported) :
          i < j /\ exported[i][1] = exported[j][1]
            => exported[i][2] < exported[j][2]

\* Once the exporter has stopped, every span offered so far has an outcome:
\* exported, or counted as failed or dropped.
Drained == stopped => Ended \subseteq Outcome
\* ANCHOR_END: properties

\* ANCHOR: termination
Finished == stopped /\ \A p \in Producers : ended[p] = K /\ pc[p] = "idle"

\* No state is stuck short of the end (the same check as the stateright model).
NoEarlyDeadlock == ~ENABLED Next => Finished

\* Liveness: under weak fairness every behaviour finishes.
ShutdownTerminates == <>Finished
\* ANCHOR_END: termination
=============================================================================
