----------------------------- MODULE ClockSkew -----------------------------
(***************************************************************************)
(* T4: timestamps order a send before its receive if and only if the      *)
(* message delay exceeds twice the clock skew.                            *)
(*                                                                         *)
(* Time is discrete (one tick is the clocks' resolution). Process P sends *)
(* one message and stamps it with its clock; process Q stamps its receipt *)
(* with its own clock. Each clock reads true time plus an offset within   *)
(* [-Eps, Eps] that may change at every tick (NTP slews and steps it), so *)
(* |C(t) - t| <= Eps always holds. The network delivers after at least    *)
(* MinDelay and at most MaxDelay ticks. TLC explores every choice of      *)
(* offsets, send time and delay up to Horizon and checks CausalOrder: the *)
(* receive stamp is strictly greater than the send stamp.                 *)
(***************************************************************************)
\* ANCHOR: state
EXTENDS Integers

CONSTANTS Eps, MinDelay, MaxDelay, Horizon

ASSUME Eps \in Nat /\ MinDelay \in Nat /\ MaxDelay >= MinDelay /\ Horizon \in Nat

VARIABLES now,        \* true time
          offP, offQ, \* each clock's current offset from true time
          pc,         \* "idle", "sent" or "received"
          sentAt,     \* true time of the send
          sendStamp,  \* P's clock at the send
          recvStamp   \* Q's clock at the receipt

vars == <<now, offP, offQ, pc, sentAt, sendStamp, recvStamp>>

Offsets == -Eps..Eps
\* ANCHOR_END: state

\* ANCHOR: time
Init == /\ now = 0
        /\ offP \in Offsets
        /\ offQ \in Offsets
        /\ pc = "idle"
        /\ sentAt = 0
        /\ sendStamp = 0
        /\ recvStamp = 0

\* True time advances; both clocks may be adjusted within the bound. A sent
\* message may not be kept beyond MaxDelay.
Tick == /\ now < Horizon
        /\ pc = "sent" => now + 1 - sentAt <= MaxDelay
        /\ now' = now + 1
        /\ offP' \in Offsets
        /\ offQ' \in Offsets
        /\ UNCHANGED <<pc, sentAt, sendStamp, recvStamp>>
\* ANCHOR_END: time

\* ANCHOR: message
Send == /\ pc = "idle"
        /\ pc' = "sent"
        /\ sentAt' = now
        /\ sendStamp' = now + offP
        /\ UNCHANGED <<now, offP, offQ, recvStamp>>

Receive == /\ pc = "sent"
           /\ now - sentAt >= MinDelay
           /\ pc' = "received"
           /\ recvStamp' = now + offQ
           /\ UNCHANGED <<now, offP, offQ, sentAt, sendStamp>>

Next == Tick \/ Send \/ Receive

Spec == Init /\ [][Next]_vars
\* ANCHOR_END: message

\* ANCHOR: property
TypeOK == /\ now \in 0..Horizon
          /\ offP \in Offsets /\ offQ \in Offsets
          /\ pc \in {"idle", "sent", "received"}

\* The property under test.
CausalOrder == pc = "received" => sendStamp < recvStamp

\* The delay the message actually had (for reading a counterexample).
Delay == now - sentAt
\* ANCHOR_END: property
=============================================================================
