---- MODULE pipeline ----
EXTENDS Naturals, Sequences

CONSTANTS Max

VARIABLES Queue, Exported, Config

Init == /\ Queue = << >>
        /\ Exported = {}
        /\ Config \in [hash: Nat, sign: Nat, valid: BOOLEAN]

Enqueue == \E x \in 1..Max: Queue' = Append(Queue, x) /\ UNCHANGED <<Exported, Config>>

Batch == Queue # << >> /\ \E k \in 1..Len(Queue):
  LET batch == SubSeq(Queue, 1, k)
  IN Queue' = SubSeq(Queue, k+1, Len(Queue)) /\ Exported' = Exported \cup {batch}
  /\ UNCHANGED Config

ApplyConfig == Config' = [Config EXCEPT !.valid = TRUE]
  /\ UNCHANGED <<Queue, Exported>>

Next == Enqueue \/ Batch \/ ApplyConfig

InvValidConfig == Config.valid = TRUE

EventualDelivery == <>[](Queue = << >>)

Spec == Init /\ [][Next]_<<Queue,Exported,Config>>

THEOREM Spec => <>InvValidConfig
====
