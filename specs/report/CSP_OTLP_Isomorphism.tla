---------------------------- MODULE CSP_OTLP_Isomorphism ----------------------------
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Events, Channels

VARIABLES csp_trace, otlp_spans

\* CSP Trace 定义
CSPTrace == Seq(Events)

\* OTLP Span 结构
Span == [
    span_id: Nat,
    parent_id: Nat,
    name: STRING,
    start_time: Nat
]

\* 前向映射 Φ
Phi(trace) == 
    LET root == [span_id |-> 1, parent_id |-> 0, name |-> "root", start_time |-> 0]
    IN [root: root, children: BuildSpanTree(trace, 1, 0)]

\* 反向映射 Ψ
Psi(span_tree) == 
    TreeToTrace(span_tree.root)

\* 同构性验证
IsomorphismTheorem == 
    \A t \in CSPTrace: Psi(Phi(t)) = t

=============================================================================
