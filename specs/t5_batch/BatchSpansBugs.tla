--------------------------- MODULE BatchSpansBugs ---------------------------
(***************************************************************************)
(* Three bugs planted in BatchSpans, each a plausible slip in the code it  *)
(* models. TLC must reject each one (see the .cfg files and README.md);   *)
(* the stateright model plants the same three (batch::Bug).               *)
(***************************************************************************)
EXTENDS BatchSpans

\* ANCHOR: stop_early
\* Bug 1: the exporter stops as soon as a pop finds nothing, instead of
\* waiting until every claimed slot has been popped (is_drained).
StopOnEmptyPop == /\ ~stopped
                  /\ closed
                  /\ batch = <<>>
                  /\ ReadyLen = 0
                  /\ stopped' = TRUE
                  /\ UNCHANGED <<ended, pc, queue, batch, exported, failed,
                                 droppedFull, droppedClosed, closed>>

NextStopEarly == (\E p \in Producers : Producer(p)) \/ Exporter
                   \/ StopOnEmptyPop
SpecStopEarly == Init /\ [][NextStopEarly]_vars
\* ANCHOR_END: stop_early

\* ANCHOR: check_then_claim
\* Bug 2: a push reads the close flag, then claims a slot in a second step
\* (a flag beside the tail instead of a mark bit in it).
Check(p) == /\ pc[p] = "idle" /\ ended[p] < K
            /\ IF closed THEN Refuse(p)
                         ELSE /\ pc' = [pc EXCEPT ![p] = "checked"]
                              /\ UNCHANGED <<ended, queue, droppedFull,
                                             droppedClosed>>
            /\ UNCHANGED <<batch, exported, failed, closed, stopped>>

ClaimLate(p) == /\ pc[p] = "checked"
                /\ Claim(p)
                /\ UNCHANGED <<batch, exported, failed, closed, stopped>>

NextLateClaim == \/ \E p \in Producers : Check(p) \/ ClaimLate(p) \/ Write(p)
                 \/ Exporter \/ Stop
SpecLateClaim == Init /\ [][NextLateClaim]_vars
\* ANCHOR_END: check_then_claim

\* ANCHOR: requeue
\* Bug 3: a failed batch is put back at the tail of the queue for a retry
\* (when there is room), behind spans that ended after it.
Requeue == /\ batch # <<>>
           /\ Len(queue) + Len(batch) <= Q
           /\ queue' = queue \o batch
           /\ batch' = <<>>
           /\ UNCHANGED <<ended, pc, exported, failed, droppedFull,
                          droppedClosed, closed, stopped>>

NextRequeue == Next \/ Requeue
SpecRequeue == Init /\ [][NextRequeue]_vars
\* ANCHOR_END: requeue
=============================================================================
