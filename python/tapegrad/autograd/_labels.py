"""One labelling of a graph's leaves, shared by `tape`, `backward_steps` and `viz.draw`.

A leaf is labelled, in order of preference, by the `names=` the caller gave, by the caller's own
variable bound to it (`w1`, `model.0.weight` for a module's parameter, `params[2]` for an item of
a list or tuple), or else `leaf0`, `leaf1`, ... numbered in recording order (the order `tape`
lists the leaves). All labels are fixed before any tool walks the graph, so the tools that walk
it in different orders (the tape forward, backward_steps backward) still agree.
"""

import sys

from . import _graph as G

_FRAMES = 3  # caller frames searched for variables, nearest first
_SEQ_LIMIT = 64  # items of a list/tuple variable looked at: a learner's params, not a dataset


def _caller_frames():
    """The innermost frames outside tapegrad, nearest first: the code that called the tool and
    its callers (a helper of the learner's may be the one that calls `tape`)."""
    out, f = [], sys._getframe(1)
    while f is not None and len(out) < _FRAMES:
        mod = f.f_globals.get("__name__", "")
        if mod != "tapegrad" and not mod.startswith("tapegrad."):
            out.append(f)
        f = f.f_back
    return out


def _candidates(frame):
    """(label, tensor) for the tensors the caller's variables hold, most preferred first."""
    from ..tensor import Tensor

    try:
        from ..nn.modules.module import Module
    except ImportError:  # pragma: no cover - nn always ships with tapegrad
        Module = ()
    seen_vars = set()
    scopes = [frame.f_locals]
    if frame.f_globals is not frame.f_locals:
        scopes.append(frame.f_globals)
    plain, nested = [], []
    for scope in scopes:
        for var, val in list(scope.items()):
            if var.startswith("_") or var in seen_vars:
                continue
            seen_vars.add(var)
            if isinstance(val, Tensor):
                plain.append((var, val))
            elif isinstance(val, Module):
                nested.extend((f"{var}.{n}", p) for n, p in val.named_parameters())
            elif isinstance(val, (list, tuple)) and 0 < len(val) <= _SEQ_LIMIT:
                nested.extend(
                    (f"{var}[{i}]", v) for i, v in enumerate(val) if isinstance(v, Tensor)
                )
    return plain + nested


def graph_names(t, names=None, frames=None):
    """A `G.Names` with every leaf of `t`'s graph labelled (module docstring).

    frames: where to look for the caller's variables, nearest first (default: the innermost
    frames outside tapegrad); `()` turns that lookup off."""
    root = t.grad_fn
    leaves = G.leaves(root) if root is not None else ([t] if t.requires_grad else [])
    labels = G.Names(names)
    wanted = {}  # leaf key -> leaf, for the leaves the caller did not name
    shapes = set()
    for leaf in leaves:
        k = G.leaf_key(leaf)
        if k not in labels._by_key:
            wanted[k] = leaf
            shapes.add(tuple(leaf.shape))
    if frames is None:
        frames = _caller_frames()
    for frame in frames:
        if len(wanted) == 0:
            break
        for label, cand in _candidates(frame):
            if tuple(cand.shape) not in shapes or cand.grad_fn is not None:
                continue  # cheap filter before the storage lookup
            k = G.leaf_key(cand)
            if k in wanted:
                labels._by_key[k] = label
                del wanted[k]
    for leaf in leaves:  # the rest: leaf0, leaf1, ... in recording order
        labels.leaf(leaf)
    return labels
