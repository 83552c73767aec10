"""HAMD, the Hamiltonian cycle decision problem: graphs, exact labels, the network and search.

- :mod:`moldojo.hamd.graphs`: :class:`Graph` (neighbour bitmasks) and graph6 reading and
  writing, with a per-line message for a line that is not graph6;
- :mod:`moldojo.hamd.generate`: random graphs in the ``critical``, ``hard`` and ``planted``
  regimes, a function of the seed alone;
- :mod:`moldojo.hamd.solve`: exact labels, cheap certificates first, then a bitmask dynamic
  programme (small graphs) or a SAT solver; every positive label carries a checked cycle;
- :mod:`moldojo.hamd.rules`: cheap rules (certificates, then a threshold on one degree
  statistic) and the best of them on training graphs, the yardstick of the network;
- :mod:`moldojo.hamd.model`: the network, a graph-level decision and a score per edge, on the
  dojo's layers; :mod:`moldojo.hamd.train`: training it, loading it (the shipped model by
  default) and predicting;
- :mod:`moldojo.hamd.find`: depth-first search for a cycle, ordered by the network's edge
  scores, Warnsdorff's rule or at random.

This package's namespace holds the first three, which need no torch (``moldojo hamd generate``
and ``solve`` start quickly); import the network's modules by name.

Why a SAT solver rather than OR-Tools CP-SAT (measured with ortools 9.15 and python-sat
1.9.dev24 on one core of two busy ones; CP-SAT's ``AddCircuit`` on one worker against Glucose 4
with degree-2 cardinality constraints and lazily added subtour cuts; the same graphs, after the
certificates, imports and first calls out of the times):

- 20 critical graphs at n = 25, 50, 100, 200: CP-SAT 0.08, 0.25, 0.31, 1.31 s; SAT 0.04, 0.07,
  0.08, 0.30 s;
- 20 graphs that no certificate decides, at the same n: CP-SAT 0.14, 0.35, 0.83, 1.98 s; SAT
  0.04, 0.10, 0.24, 0.75 s;
- 10 non-Hamiltonian ``hard`` graphs at n = 50, 100, 200: CP-SAT 0.04, 0.12, 0.13 s; SAT 0.02,
  0.04, 0.10 s;
- generalised Petersen graphs, not Hamiltonian, every certificate passed: GP(53, 2) (106
  vertices) CP-SAT 3.4 s, SAT 1.1 s; GP(101, 2) (202 vertices) CP-SAT 28.5 s, SAT 9.5 s (some
  6,000 rounds of cuts, against 2 to 10 on random graphs).

CaDiCaL was faster still on GP(101, 2) (6 s), but python-sat cannot interrupt it, and a time
limit needs that. Neither solver decides, within a minute, graphs whose obstruction is global,
such as three blocks of 20 vertices hanging between the same two vertices: they end as
``time_limit``, never as a wrong label.

Sits beside :mod:`moldojo.evaluation` and :mod:`moldojo.search`: imports the foundations (the
network's modules :mod:`moldojo.nn` and the shared training loop), numpy, scipy, networkx and
python-sat; never ``cli``.
"""

from __future__ import annotations

from moldojo.hamd.generate import (
    CRITICAL_C,
    HARD_C,
    MAX_NODES,
    MIN_NODES,
    REGIMES,
    critical_c,
    critical_p,
    generate,
    gnp,
    hard_c,
    planted,
)
from moldojo.hamd.graphs import (
    Graph,
    Graph6Error,
    format_graph6,
    iter_graph6,
    parse_graph6,
    read_graph6,
    read_graph6_lines,
)
from moldojo.hamd.solve import (
    CERTIFICATES,
    DP_MAX_NODES,
    Label,
    certificate,
    certified,
    check_cycle,
    cycle_problem,
    hamiltonian_cycle_dp,
    hamiltonian_cycle_sat,
    labels_json,
    solve,
    solve_each,
)

__all__ = [
    "CERTIFICATES",
    "CRITICAL_C",
    "DP_MAX_NODES",
    "HARD_C",
    "MAX_NODES",
    "MIN_NODES",
    "REGIMES",
    "Graph",
    "Graph6Error",
    "Label",
    "certificate",
    "certified",
    "check_cycle",
    "critical_c",
    "critical_p",
    "cycle_problem",
    "format_graph6",
    "generate",
    "gnp",
    "hard_c",
    "hamiltonian_cycle_dp",
    "hamiltonian_cycle_sat",
    "labels_json",
    "iter_graph6",
    "parse_graph6",
    "planted",
    "read_graph6",
    "read_graph6_lines",
    "solve",
    "solve_each",
]
