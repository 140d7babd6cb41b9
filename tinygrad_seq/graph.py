"""Looking at a recorded graph from outside the backward walk: for drawings and tests.

The walk in autograd.py needs no sort of its own: it takes nodes by decreasing creation number.
A tool that looks at a whole graph at once uses `toposort`, every node once with its inputs
first, found with an explicit stack so that a 10,000-step unrolled RNN needs no recursion.
`record` marks op nodes to keep the gradient the next backward computes for them, so that a
drawing can colour the graph by gradient size.
"""

from __future__ import annotations

from typing import Any

from .autograd import Context, edge


def toposort(root: Any) -> list:
    """Graph nodes reachable from root (a Context or a leaf Tensor) that need grad, inputs first."""
    order: list = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)  # all of node's parents are already in `order`
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            if type(node) is Context:
                stack += [(p, False) for p in node.parents if p.requires_grad and id(p) not in seen]
    return order


def record(root: Any) -> int:
    """Mark every op node reachable from root (a Tensor) to keep its gradient (ctx.grad)."""
    nodes = [n for n in toposort(edge(root)) if type(n) is Context]
    for n in nodes:
        n.keep_grad()
    return len(nodes)
