"""`tg.autograd.backward` and `tg.autograd.grad`, with PyTorch's arguments and errors.

Both run one sweep of the backend's tape (`run_backward`) from the outputs; `grad` hands the
gradients of `inputs` back instead of adding them to `.grad`, and runs only the part of the graph
that leads to them.
"""

from .._tensor_args import _MIX
from ._double import sweep


def _as_tuple(x, what="tensors"):
    from ..tensor import Tensor

    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    try:
        items = tuple(x)
    except TypeError:
        raise TypeError(
            f"{what} must be a Tensor or a sequence of Tensors, not {type(x).__name__}"
        ) from None
    return items


def _same_backend(*groups):
    from ..tensor import Tensor

    names = []
    for group in groups:
        for t in group:
            if t is None:
                continue
            if not isinstance(t, Tensor):
                raise TypeError(f"expected a Tensor, got {type(t).__name__}")
            if t._be.name not in names:
                names.append(t._be.name)
    if len(names) > 1:
        raise RuntimeError(_MIX.format(*names[:2]))


def _make_grads(outputs, grads):
    """One gradient per output: ones for a 1-element output with None, checked otherwise."""
    from .._factories import ones_like
    from ..tensor import _fit_gradient

    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        g = _fit_gradient(i, o, g)
        out.append(ones_like(o) if g is None else g)
    return out


def _check_outputs(outputs):
    for o in outputs:
        if not o.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):  # fmt: skip
    """Sum the gradients of `tensors` (weighted by `grad_tensors`) into the leaves' `.grad`, or
    into just `inputs`' `.grad` when given."""
    tensors = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    if len(grads) < len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    else:
        inputs = ()
    _same_backend(tensors, inputs)
    inputs, _ = _unique(inputs)
    grads = _make_grads(tensors, grads)
    _check_outputs(tensors)
    if not tensors:
        return
    if create_graph:
        sweep(list(tensors), grads, list(inputs), True)
        return
    be = tensors[0]._be
    be.run_backward(list(tensors), grads, list(inputs), bool(retain_graph), True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):  # fmt: skip
    """The gradients of `outputs` (weighted by `grad_outputs`) with respect to `inputs`, as a
    tuple; nothing is added to any `.grad`."""
    from .._factories import zeros_like

    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs, "outputs")
    inputs_t = _as_tuple(inputs, "inputs")
    _same_backend(outputs, inputs_t)
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    if is_grads_batched:
        _check_batched(outputs, grads)
    else:
        grads = _make_grads(outputs, grads)
    _check_outputs(outputs)
    for t in inputs_t:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    once, where = _unique(inputs_t)  # a tensor named twice gets its gradient twice
    if is_grads_batched:
        got = _batched(outputs, grads, once, retain_graph, create_graph)
    elif create_graph:
        got = sweep(list(outputs), grads, list(once), False)
    else:
        be = outputs[0]._be
        got = be.run_backward(list(outputs), grads, list(once), bool(retain_graph), False)
    got = [got[k] for k in where]
    result = []
    for i, (t, g) in enumerate(zip(inputs_t, got)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                g = zeros_like(t)
        result.append(g)
    return tuple(result)


def _unique(tensors):
    """(the tensors without repeats, the position of each original in that list)."""
    once, where = [], []
    for t in tensors:
        k = next((j for j, u in enumerate(once) if u is t), None)
        if k is None:
            k = len(once)
            once.append(t)
        where.append(k)
    return tuple(once), where


def _check_batched(outputs, grads):
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            (g,) = _make_grads([o], [None])  # PyTorch's error for a larger output
        if g.dim() == 0 or tuple(g.shape[1:]) != tuple(o.shape):
            shape = f"torch.Size({list(g.shape[1:])})"
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output "
                "as the batch dimension. The sizes of the remaining dimensions are expected to "
                "match the shape of corresponding output, but a mismatch was detected: "
                f"grad_output[{i}] has a shape of {shape} and output[{i}] has a shape of "
                f"torch.Size({list(o.shape)}). If you only want some tensors in `grad_output` to "
                "be considered batched, consider using vmap."
            )


def _batched(outputs, grads, inputs, retain_graph, create_graph):
    """One vjp per row of the batched grad_outputs, stacked (PyTorch vmaps this; the rows give
    the same values one at a time). An input no row reaches stays None."""
    from .._ops_shape import stack

    n = grads[0].shape[0]
    rows = []
    for b in range(n):
        row = [g[b] for g in grads]
        keep = True if b < n - 1 else retain_graph
        if create_graph:
            rows.append(sweep(list(outputs), row, list(inputs), False))
        else:
            be = outputs[0]._be
            rows.append(be.run_backward(list(outputs), row, list(inputs), bool(keep), False))
    out = []
    for k in range(len(inputs)):
        col = [r[k] for r in rows]
        out.append(None if not n or col[0] is None else stack(col))
    return out
