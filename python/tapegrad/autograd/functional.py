"""`tg.autograd.functional`: PyTorch's higher-level autograd API (vjp, jvp, jacobian, hessian,
hvp, vhp), with its signatures, errors and result structure.

Everything is built on `autograd.grad`: a Jacobian row per output element (reverse mode), a
Hessian as the Jacobian of a Jacobian taken with create_graph=True, and jvp / hvp by the double
backward trick (the gradient of a vjp with respect to its vector, which the backward is linear in),
as PyTorch does. Forward-mode AD does not exist in tapegrad, so `strategy="forward-mode"` raises;
`vectorize=True` computes the same rows one at a time.
"""

from .. import _grad_mode
from ._api import grad as _grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _tensor_type():
    from ..tensor import Tensor

    return Tensor


def _as_tuple(x, arg_name, fn_name):
    """(whether x was a tuple, x as a tuple of tensors); only a tuple counts as one, as in
    PyTorch (a list is rejected)."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    Tensor = _tensor_type()
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the {where} has type {type(el)}."
            )
    return is_tuple, items


def _unpack(res, to_unpack):
    """Undo `_as_tuple` on a result: one flag for a flat tuple, (outer, inner) for nested."""
    if isinstance(to_unpack, tuple):
        outer, inner = to_unpack
        if not inner:
            res = tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if to_unpack else res[0]


def _prepare(inputs, create_graph, need_graph):
    """Fresh tensor objects for the inputs, so the function's own uses of the caller's tensors
    (captured by closure) stay apart from the ones we differentiate with respect to: a view
    keeps the caller's history when create_graph asks for it, a detached copy otherwise."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(res, create_graph):
    """Detach the results unless the caller asked for their history (nested tuples too)."""
    if isinstance(res[0], _tensor_type()):
        return res if create_graph else tuple(t.detach() for t in res)
    return tuple(_finish(r, create_graph) for r in res)


def _check_v(v, like, like_is_tuple):
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.size() != b.size():
            where = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(
                f"{where}v has invalid size: should be {b.size()} but got {a.size()}."
            )


_STRICT_REQ = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
    "must be computed in a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
    "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
    "function with respect to input {i} is independent of the input. This is not allowed in "
    "strict mode. You should ensure that your function is twice differentiable and that the "
    "jacobian depends on the inputs (this would be violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
    "independent of the input. This is not allowed in strict mode. You should ensure that your "
    "function is thrice differentiable and that the hessian depends on the inputs.",
}


def _check_requires_grad(tensors, kind, strict):
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode."
            )
        if not t.requires_grad:
            raise RuntimeError(_STRICT_REQ[kind].format(i=i))


def _grad_some(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for every input when none does),
    unused inputs giving None."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gos = zip(*pairs)
    return _grad(
        outs,
        inputs,
        gos,
        allow_unused=True,
        create_graph=create_graph,
        retain_graph=retain_graph,
    )


_NONE_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
    "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. This "
    "is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
    "in the grad_jacobian. This is not allowed in strict mode as it prevents from using the "
    "double backward trick to replace forward mode AD.",
}


def _fill_zeros(grads, refs, strict, create_graph, stage):
    """None gradients as zeros shaped like `refs` (an error in strict mode)."""
    from .._factories import zeros_like

    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_NONE_MSG[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def _prepare_v(v, like, like_is_tuple, create_graph, fn_name, none_msg):
    if v is None:
        if len(like) != 1 or like[0].nelement() != 1:
            raise RuntimeError(none_msg)
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _prepare(v, create_graph, need_graph=False)
    _check_v(v, like, like_is_tuple)
    return v


_V_NONE_INPUT = (
    "The vector v can only be None if the input to the user-provided function is a single "
    "Tensor with a single element."
)


def _call_scalar(func, inputs, strict, fn_name):
    """func(*inputs), which must be a single one-element tensor."""
    out = func(*inputs)
    is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outs, "outputs", strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outs[0].nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            "element"
        )
    return outs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T J): the vector-Jacobian product, shaped like the inputs."""
    with _grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "vjp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(
            v,
            outputs,
            out_tuple,
            create_graph,
            "vjp",
            "The vector v can only be None if the user-provided function returns a single "
            "Tensor with a single element.",
        )
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        res = _grad_some(outputs, inputs, v, create_graph=create_graph)
        res = _fill_zeros(res, inputs, strict, create_graph, "back")
    return (
        _unpack(_finish(outputs, create_graph), out_tuple),
        _unpack(_finish(res, create_graph), in_tuple),
    )


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), J v): the Jacobian-vector product, shaped like the outputs, by the double
    backward trick."""
    from .._factories import zeros_like

    with _grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, in_tuple, create_graph, "jvp", _V_NONE_INPUT)
        out_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "jvp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        # the vjp is linear in this vector: its value never reaches the result, only its graph
        dummy = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad_some(outputs, inputs, dummy, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        res = _grad_some(grad_inputs, dummy, v, create_graph=create_graph)
        res = _fill_zeros(res, outputs, strict, create_graph, "back_trick")
    return (
        _unpack(_finish(outputs, create_graph), out_tuple),
        _unpack(_finish(res, create_graph), out_tuple),
    )


def _strategy_error():
    return AssertionError(
        'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
        'function has more outputs than inputs, "forward-mode" tends to be more performant. '
        'Otherwise, prefer to use "reverse-mode".'
    )


def _forward_mode(create_graph, strict, vectorize):
    """PyTorch's own errors for forward mode, then ours: tapegrad has no forward-mode AD."""
    if create_graph:
        raise NotImplementedError(
            "torch.autograd.functional.jacobian: `create_graph=True` and "
            '`strategy="forward-mode"` are not supported together (yet). Please either set '
            '`create_graph=False` or `strategy="reverse-mode"`.'
        )
    if strict:
        raise RuntimeError(
            'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
            "are not supported together (yet). Please either set `strict=False` or "
            '`strategy="reverse-mode"`.'
        )
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`."
        )
    raise NotImplementedError(
        'tapegrad.autograd.functional.jacobian: strategy="forward-mode" needs forward-mode AD, '
        'which tapegrad does not have; use strategy="reverse-mode" (the same numbers)'
    )


def _basis(out, j):
    """The j-th one-hot gradient for `out` (flat index j)."""
    e = out.new_zeros(out.nelement())
    e[j] = 1
    return e.reshape(out.shape)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):  # fmt: skip
    """The Jacobian of func at inputs: J[i][j] of shape outputs[i].shape + inputs[j].shape (a
    single tensor, a tuple, or a tuple of tuples, as PyTorch nests them)."""
    from .._factories import zeros_like
    from .._ops_shape import stack

    if strategy not in ("forward-mode", "reverse-mode"):
        raise _strategy_error()
    if strategy == "forward-mode":
        _forward_mode(create_graph, strict, vectorize)
    with _grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or "
                "`vectorize=False`."
            )
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            for j in range(out.nelement()):
                # a one-hot grad_output gives the same row as PyTorch's out.reshape(-1)[j]
                got = _grad_some(
                    (out,), inputs, (_basis(out, j),), create_graph=create_graph,
                    retain_graph=True,
                )  # fmt: skip
                for k, (row, g, inp) in enumerate(zip(rows, got, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {k}. This is not allowed in strict mode."
                            )
                        g = zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            "The jacobian of the user-provided function is independent of "
                            f"input {i}. This is not allowed in strict mode when "
                            "create_graph=True."
                        )
                    row.append(g)
            jac.append(
                tuple(
                    stack(row, 0).view(tuple(out.shape) + tuple(inp.shape))
                    for row, inp in zip(rows, inputs)
                )
            )
        jac = _finish(tuple(jac), create_graph)
    return _unpack(jac, (out_tuple, in_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):  # fmt: skip
    """The Hessian of a scalar func: H[i][j] of shape inputs[i].shape + inputs[j].shape (a
    single tensor for a single input)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        return _call_scalar(func, inp, strict, "hessian")[0].squeeze()

    def jac_func(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(
        jac_func,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(res, (in_tuple, in_tuple))


def _jac_of_scalar(func, inputs, v, create_graph, strict, fn_name):
    """Shared start of vhp / hvp: the prepared inputs and v, the output and its gradient
    (with history)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph, need_graph=True)
    v = _prepare_v(v, inputs, in_tuple, create_graph, fn_name, _V_NONE_INPUT)
    outputs = _call_scalar(func, inputs, strict, fn_name)
    jac = _grad_some(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return in_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T H), shaped like the inputs."""
    with _grad_mode.enable_grad():
        in_tuple, inputs, v, outputs, jac = _jac_of_scalar(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        res = _grad_some(jac, inputs, v, create_graph=create_graph)
        res = _fill_zeros(res, inputs, strict, create_graph, "double_back")
    return _finish(outputs, create_graph)[0], _unpack(_finish(res, create_graph), in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), H v), shaped like the inputs, by the double backward trick (for a twice
    continuously differentiable func it equals vhp, which is cheaper)."""
    from .._factories import zeros_like

    with _grad_mode.enable_grad():
        in_tuple, inputs, v, outputs, jac = _jac_of_scalar(
            func, inputs, v, create_graph, strict, "hvp"
        )
        dummy = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grad_some(jac, inputs, dummy, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)  # PyTorch checks jac here, not double_back
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        res = _grad_some(double_back, dummy, v, create_graph=create_graph)
        res = _fill_zeros(res, inputs, strict, create_graph, "double_back_trick")
    return _finish(outputs, create_graph)[0], _unpack(_finish(res, create_graph), in_tuple)
