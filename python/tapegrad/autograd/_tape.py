"""The tape as text (`tape`) and backward one node at a time (`backward_steps`)."""

from .._grad_mode import no_grad
from ..tensor import Tensor
from . import _graph as G
from ._double import origin
from ._labels import graph_names
from ._record import value_of


def _root_fn(t, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} expects a tapegrad tensor, got {type(t).__name__}")
    return t.grad_fn


# ---------------------------------------------------------------- tape


class TapeEntry:
    """One recorded op.

    seq, op, name (the grad_fn name), node (the grad_fn itself), inputs (one
    `(label, dtype, shape)` per input; label is a leaf's name, `%seq` for the output of an
    earlier op, or `const` for an input that needs no gradient), output_dtype, output_shape,
    scalar (the op's scalar attribute or None), saved (the node's `saved()` list) and value
    (the output's values as an ndarray when known: the tape's root, or recorded by
    `record_values()`; else None).
    """

    __slots__ = ("seq", "op", "name", "node", "inputs", "output_dtype", "output_shape",
                 "scalar", "saved", "value")  # fmt: skip

    def __repr__(self):
        return f"<TapeEntry #{self.seq} {self.op}>"

    def __str__(self):
        args = ", ".join(f"{label}: {G.type_str(dt, sh)}" for label, dt, sh in self.inputs)
        if self.scalar is not None:
            args += f", s={G.fmt_array(self.scalar)}"
        out = G.type_str(self.output_dtype, self.output_shape)
        if self.value is not None:
            out += f" = {G.fmt_array(self.value)}"
        head = f"%{self.seq} = {self.op}({args}) -> {out}   [{self.name}]"
        made_by = origin(self.node)
        if made_by is not None:  # recorded by a create_graph backward
            head += f"   ({made_by})"
        if not self.saved:
            return head + "\n      saved: nothing"
        if all(s.get("freed") for s in self.saved):
            return head + "\n      saved: (freed by backward; retain_graph=True keeps it)"
        parts = []
        for s in self.saved:
            if s.get("freed"):
                parts.append(f"[{s['index']}] (freed)")
                continue
            stale = (
                f" (modified: version {s['current_version']} != {s['version']})"
                if s["current_version"] != s["version"]
                else ""
            )
            parts.append(
                f"[{s['index']}] {G.type_str(s['dtype'], s['shape'])} = "
                f"{G.fmt_tensor(s['value'])}{stale}"
            )
        return head + "\n      saved: " + "; ".join(parts)


class Tape:
    """The recorded ops behind a tensor, in the order they ran (increasing sequence number).

    Iterate it for `TapeEntry` objects; `str()` / `print()` gives the readable listing;
    `leaves` holds `(label, tensor)` for the leaves that receive gradients."""

    def __init__(self, t, names=None):
        root = _root_fn(t, "tape")
        self.tensor = t
        self.backend = t._be.name
        self._names = graph_names(t, names)
        self.entries = []
        self.leaves = []
        if root is None:
            return
        order = list(reversed(G.nodes(root)))
        for leaf in G.leaves(root):
            self.leaves.append((self._names.leaf(leaf), leaf))
        for node in order:
            e = TapeEntry()
            e.seq, e.op, e.name, e.node = node.seq, node.op, node.name(), node
            e.inputs = []
            for (kind, obj), dt, sh in zip(
                G.edges(node), node.input_dtypes, node.input_shapes, strict=False
            ):
                if sh is None and kind == "const":
                    continue  # an absent optional input (linear without bias)
                e.inputs.append((self._names.edge(kind, obj, node, len(e.inputs)), dt, sh))
            e.output_dtype, e.output_shape = node.output_dtype, node.output_shape
            e.scalar = G.scalar_of(node)
            e.saved = node.saved()
            e.value = G.array_of(t) if node == root else value_of(node)
            self.entries.append(e)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, i):
        return self.entries[i]

    def __str__(self):
        t = self.tensor
        lines = [
            f"tape of {G.type_str(t.dtype.name, t.shape)} = {G.fmt_tensor(t)} "
            f"({len(self.entries)} ops, {self.backend} backend, in recording order)"
        ]
        if not self.entries:
            lines.append("  (no recorded ops: the tensor is a leaf or does not require grad)")
        for label, leaf in self.leaves:
            g = "" if leaf.grad is None else f"   .grad = {G.fmt_tensor(leaf.grad)}"
            lines.append(
                f"  {label}: leaf {G.type_str(leaf.dtype.name, leaf.shape)} = "
                f"{G.fmt_tensor(leaf)}{g}"
            )
        for e in self.entries:
            lines.append("  " + str(e))
        return "\n".join(lines)

    __repr__ = __str__


def tape(t, names=None):
    """The recorded ops behind `t` as a `Tape`: print it, or iterate its entries.

    names: optional {label: leaf tensor}. Leaves it does not name take the name of the caller's
    variable holding them (`w1`, `model.0.weight`), else `leaf0`, `leaf1`, ... in recording
    order; `backward_steps` and `tg.viz.draw` label the same leaf the same way.
    """
    return Tape(t, names)


# ---------------------------------------------------------------- backward, one node at a time


class Step:
    """One node's backward.

    index (0, 1, ...), node, seq, op, name, grad_in (the gradient arriving at the node's output,
    summed over its consumers), grads_out (one `(label, tensor or None)` per input: the
    gradient sent to that input; None where the input needs none). The final step has
    `op == "accumulate"` and `leaf_grads`: `(label, leaf, gradient added, new .grad)`.
    """

    __slots__ = ("index", "node", "seq", "op", "name", "grad_in", "grads_out", "leaf_grads")

    def __repr__(self):
        return f"<Step {self.index}: {self.name}>"

    def __str__(self):
        if self.op == "accumulate":
            lines = [f"step {self.index}: accumulate into the leaves' .grad"]
            for label, _, g, new in self.leaf_grads:
                lines.append(f"    {label}.grad += {G.fmt_tensor(g)}  ->  {G.fmt_tensor(new)}")
            return "\n".join(lines)
        lines = [
            f"step {self.index}: {self.name} (%{self.seq} = {self.op})  "
            f"grad in: {G.fmt_tensor(self.grad_in)}"
        ]
        made_by = origin(self.node)
        if made_by is not None:
            lines[0] += f"   ({made_by})"
        for label, g in self.grads_out:
            lines.append(
                f"    -> {label:<8} " + ("(no gradient)" if g is None else G.fmt_tensor(g))
            )
        return "\n".join(lines)


# How a backend's backward() adds the gradients a leaf receives from several uses into .grad:
# "summed": sums them over the sweep first and adds the sum once (PyTorch's AccumulateGrad, and
# the numpy reference); "each": adds each contribution into .grad as it arrives (the cpp core
# today). The two differ only in rounding; backward_steps mirrors each backend exactly.
_LEAF_ACCUMULATION = {"numpy": "summed", "cpp": "summed"}


def _add(a, b):
    return a + b  # same dtype and backend; computed in float32, rounded once


def backward_steps(t, gradient=None, names=None):
    """Run `t.backward(gradient)` one node at a time, yielding a `Step` per node.

    Our own sweep over the graph: nodes in decreasing sequence number, each node's `apply` on the
    gradient summed from its consumers; leaf gradients are collected over the sweep and added to
    `.grad` at the end (the last step), in the same order and with the same roundings as the
    backend's `backward()`, so the final `.grad` values are bit for bit the same. Unlike
    `backward()`, the graph is kept (as with `retain_graph=True`). Stop iterating early and no
    `.grad` changes. Leaves are labelled as in `tape` (`names=`, else the caller's variables).
    """
    root = _root_fn(t, "backward_steps")
    if not t.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if t.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        from ..tensor import ones_like

        gradient = ones_like(t)
    elif not isinstance(gradient, Tensor):
        from ..tensor import tensor

        gradient = tensor(gradient, dtype=t.dtype, backend=t._be)
    if tuple(gradient.shape) != tuple(t.shape) or gradient.dtype is not t.dtype:
        raise RuntimeError(
            f"backward_steps: gradient must have shape {tuple(t.shape)} and dtype {t.dtype}"
        )
    return _steps(t, root, gradient, graph_names(t, names))


def _steps(t, root, gradient, names):
    index = 0
    leaf_sum = {}  # leaf key -> [label, leaf, summed gradient]
    if root is None:  # backward on a leaf
        leaf_sum[G.leaf_key(t)] = [names.leaf(t), t, [gradient]]
    else:
        pending = {root: gradient}
        for node in G.nodes(root):
            g = pending.pop(node, None)
            if g is None:  # nothing reached it (its consumers sent no gradient)
                continue
            with no_grad():
                grads = node.apply(g)
            step = Step()
            step.index, step.node, step.seq, step.op = index, node, node.seq, node.op
            step.name, step.grad_in, step.leaf_grads = node.name(), g, None
            step.grads_out = []
            for pos, ((kind, obj), gi) in enumerate(zip(G.edges(node), grads, strict=False)):
                label = names.edge(kind, obj, node, pos)
                step.grads_out.append((label, gi if kind != "const" else None))
                if gi is None or kind == "const":
                    continue
                with no_grad():
                    if kind == "node":
                        prev = pending.get(obj)
                        pending[obj] = gi if prev is None else _add(prev, gi)
                    else:
                        k = G.leaf_key(obj)
                        slot = leaf_sum.get(k)
                        if slot is None:
                            leaf_sum[k] = [names.leaf(obj), obj, [gi]]
                        else:
                            slot[2].append(gi)
            yield step
            index += 1
    step = Step()
    step.index, step.node, step.seq, step.op, step.name = index, None, None, "accumulate", ""
    step.grad_in, step.grads_out, step.leaf_grads = None, [], []
    each = _LEAF_ACCUMULATION.get(t._be.name) == "each"
    with no_grad():
        for label, leaf, gs in leaf_sum.values():
            if not leaf.requires_grad or not leaf.is_leaf:
                continue
            total = gs[0]
            for g in gs[1:]:
                total = _add(total, g)
            for g in gs if each else [total]:
                if leaf.grad is None:
                    leaf.grad = g.clone()  # a fresh copy, never an alias
                else:
                    leaf.grad.add_(g)
            step.leaf_grads.append((label, leaf, total, leaf.grad))
    yield step
