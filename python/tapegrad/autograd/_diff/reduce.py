"""Formulas for the reductions."""

import numpy as np

from . import attr, diff, dims_axes, link, mask_axes

_AXES = {"axes": mask_axes, "keepdim": lambda f, n: bool(f["i1"] & 1)}
_NP_AXES = {"axes": dims_axes}


def _unreduce(node, g):
    """g (the reduced shape) expanded back over the reduced axes."""
    shape = node.input_shapes[0]
    if not attr(node, "keepdim"):
        for d in attr(node, "axes"):
            g = g.unsqueeze(d)
    return g.expand(*shape)


@diff("sum", cpp=_AXES, numpy=_NP_AXES)
def _sum(node, g):
    return [_unreduce(node, g)]


@diff("mean", cpp=dict(_AXES, n="s"), numpy=_NP_AXES)
def _mean(node, g):
    shape = node.input_shapes[0]
    n = 1
    for d in attr(node, "axes"):
        n *= shape[d]
    return [_unreduce(node, g) / n]


# ---- selecting reductions, cumsum, logsumexp, var/std, prod, vector_norm


def _all_axes(fields, node):
    return tuple(range(len(node.input_shapes[0])))


def _keep_axes(node, g, axes):
    """g (the reduced shape) with the reduced axes back as size 1, to broadcast on the input."""
    if not attr(node, "keepdim"):
        for d in axes:
            g = g.unsqueeze(d)
    return g


def _mask(t, dtype):
    """A boolean tensor as 0/1 of `dtype`, with no history (PyTorch's masks are constants)."""
    return t.detach().to(dtype)


_SEL_CPP = {"axes": mask_axes, "keepdim": lambda f, n: bool(f["i1"] & 1)}
_SEL_ALL = {"axes": _all_axes, "keepdim": lambda f, n: False}


@diff("amax", "amin", cpp=_SEL_CPP, numpy=_NP_AXES)
def _amax(node, g):
    # scale_grad_by_count: (g / count) * (x == result) over the reduced axes
    x = node.input(0)
    axes = attr(node, "axes")
    xd = x.detach()
    if not axes:
        return [g * _mask(xd == xd, x.dtype)]
    r = xd.amax(axes, keepdim=True) if node.op == "amax" else xd.amin(axes, keepdim=True)
    mask = _mask(xd == r, x.dtype)
    return [_keep_axes(node, g, axes) / mask.sum(axes, keepdim=True) * mask]


@diff("max_all", "min_all", cpp=_SEL_ALL, numpy=_SEL_ALL)
def _max_all(node, g):
    # evenly_distribute_backward: g / count on every tie (every NaN when the result is NaN)
    x = node.input(0).detach()
    r = x.max() if node.op == "max_all" else x.min()
    mask = x.isnan() if bool(r.isnan()) else x == r
    mask = _mask(mask, x.dtype)
    return [mask * (g / mask.sum())]


@diff("max_dim", "min_dim", cpp=_SEL_CPP, numpy=_NP_AXES)
def _max_dim(node, g):
    # value_selecting_reduction_backward: g put at the selected index, zeros elsewhere
    x = node.input(0).detach()
    axes = attr(node, "axes")
    if not axes:
        return [g]
    (d,) = axes
    pick = x.max(d, keepdim=True) if node.op == "max_dim" else x.min(d, keepdim=True)
    shape = [1] * x.dim()
    shape[d] = x.shape[d]
    lane = _arange(x.shape[d], x).reshape(shape)
    return [_keep_axes(node, g, axes) * _mask(lane == pick.indices, g.dtype)]


def _arange(n, like):
    return const(np.arange(n), like)


def const(arr, like, dtype=None):
    """A NumPy array as a constant tensor on `like`'s backend (not the default one)."""
    import tapegrad

    return tapegrad.tensor(arr, dtype=dtype, backend=like._be.name)


@diff("cumsum", cpp={"dim": lambda f, n: f["i1"]})
def _cumsum(node, g):
    if g.dim() == 0:
        return [g]
    d = attr(node, "dim")
    return [g.flip(d).cumsum(d).flip(d)]


@diff("logsumexp", cpp=_SEL_CPP, numpy=_NP_AXES)
def _logsumexp(node, g):
    x = node.input(0)
    axes = attr(node, "axes")
    r = x.logsumexp(axes, keepdim=True) if axes else x
    return [_keep_axes(node, g, axes) * (x - r).exp()]


_VAR_CPP = dict(_AXES, correction="s", which=lambda f, n: f["i1"] >> 2)


def _var_kept(node, gk, x, axes):
    """var_backward for gk in keepdim shape: gk * 2 / (n - correction) * (x - mean)."""
    n = 1
    for d in axes:
        n *= node.input_shapes[0][d]
    dof = n - attr(node, "correction")
    scale = 2.0 / dof if dof > 0 else float("inf")  # no degrees of freedom: inf, as C's 2 / 0
    return gk * scale * (x - (x.mean(axes, keepdim=True) if axes else x))


def _std_kept(node, gk, x, axes):
    """std_backward: var's with g / (2 result), zero where the result is zero."""
    c = attr(node, "correction")
    r = x.std(axes, correction=c, keepdim=True) if axes else x.std(correction=c)
    zero = _mask(r == 0, r.dtype)
    return _var_kept(node, gk / ((r + zero) * 2) * (1 - zero), x, axes)


@diff("var", cpp=_VAR_CPP, numpy=_NP_AXES)
def _var(node, g):
    axes = attr(node, "axes")
    return [_var_kept(node, _keep_axes(node, g, axes), node.input(0), axes)]


@diff("std_dev", cpp=_VAR_CPP, numpy=_NP_AXES)
def _std(node, g):
    axes = attr(node, "axes")
    return [_std_kept(node, _keep_axes(node, g, axes), node.input(0), axes)]


@diff("var_mean", cpp=_VAR_CPP, numpy=_NP_AXES)
def _var_mean(node, g):
    # one node per output: 0 var, 1 std, 2 and 3 the mean of var_mean / std_mean
    which = attr(node, "which")
    x, axes = node.input(0), attr(node, "axes")
    gk = _keep_axes(node, g, axes)
    if which == 0:
        return [_var_kept(node, gk, x, axes)]
    if which == 1:
        return [_std_kept(node, gk, x, axes)]
    n = 1
    for d in axes:
        n *= node.input_shapes[0][d]
    return [gk.expand(*node.input_shapes[0]) / n]


def _others_product(x, d):
    """The product of the other elements of each lane along d (prod_safe_zeros_backward's
    value, as an (n, n) product per lane: exact with zeros in the lane)."""
    n = x.shape[d]
    xt = x.transpose(d, -1)
    eye = const(np.eye(n), x, x.dtype)
    return (xt.unsqueeze(-2) * (1 - eye) + eye).prod(-1).transpose(d, -1)


@diff("prod_all")
def _prod_all(node, g):
    x = node.input(0)
    if x.dim() == 0:
        return [g]
    if not bool((x.detach() == 0).any()):
        return [g * (x.prod() / x)]
    return [g * _others_product(x.reshape(-1), 0).reshape(x.shape)]


@diff("prod_dim", cpp={"dim": lambda f, n: f["a1"][0], "keepdim": lambda f, n: bool(f["i1"] & 1)})
def _prod_dim(node, g):
    x = node.input(0)
    if x.dim() == 0:
        return [g]
    d = attr(node, "dim") % x.dim()
    gk = _keep_axes(node, g, (d,))
    if not bool((x.detach() == 0).any()):
        return [gk * (x.prod(d, keepdim=True) / x)]
    return [gk * _others_product(x, d)]


def _norm_axes(attrs, node):
    nd = len(node.input_shapes[0])
    return (
        tuple(sorted(d % nd for d in attrs["dims"])) if attrs["dims"] and nd else tuple(range(nd))
    )


@diff(
    "vector_norm",
    cpp=dict(_SEL_CPP, ord="s"),
    numpy={"axes": _norm_axes},
)
def _vector_norm(node, g):
    # norm_backward, by order
    import tapegrad

    p = float(attr(node, "ord"))
    if p == 0:
        return [None]
    x = node.input(0)
    axes = attr(node, "axes")
    gk = _keep_axes(node, g, axes)
    sgn = x.detach().sign()
    if p == 1:
        return [link(sgn * gk, x)]  # PyTorch's self.sgn() * grad: connected to x
    norm = tapegrad.linalg.vector_norm(x, p, dim=axes or None, keepdim=True)
    if x.dim() == 0:
        norm = norm.reshape(())
    ax = x * sgn  # |x|, its derivative sgn(x)
    if p == 2:
        zero = _mask(norm == 0, norm.dtype)
        return [gk * (x / (norm + zero) * (1 - zero))]
    if p in (float("inf"), float("-inf")):
        hit = _mask((ax.detach() == norm.detach()) | ax.detach().isnan(), x.dtype)
        count = hit.sum(axes, keepdim=True) if axes else hit
        return [link(sgn * (gk / count * hit), x)]
    if p < 1:
        nonzero = _mask(x != 0, x.dtype)
        safe = ax + (1 - nonzero)
        return [sgn * (safe ** (p - 1) * nonzero) * gk * norm ** (1 - p)]
    zero = _mask(norm == 0, norm.dtype)
    scale = gk / ((norm + zero) ** (p - 1)) * (1 - zero)
    if p < 2:
        return [sgn * ax ** (p - 1) * scale]
    return [x * ax ** (p - 2) * scale]
