"""Formulas for the reductions."""

from . import attr, diff, dims_axes, mask_axes

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
