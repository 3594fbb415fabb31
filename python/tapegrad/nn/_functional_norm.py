"""F.normalize, as PyTorch's: a composite, so its grad_fn chain is PyTorch's too (DivBackward0
over ExpandBackward0, ClampMinBackward0, LinalgVectorNormBackward0) and so are its bits."""

from ..tensor import Tensor

__all__ = ["normalize"]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """Divide `input` by its `p`-norm along `dim`: `input / max(norm(input, p, dim), eps)`.

    The norm is kept as a dimension and broadcast, so the result has `input`'s shape; with the
    defaults each row of a 2-d input becomes a unit vector. Differs from PyTorch: `out=` is not
    supported (NotImplementedError)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize(): argument 'input' must be Tensor, not {type(input).__name__}")
    if out is not None:
        raise NotImplementedError("tapegrad: normalize(out=) is not supported")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom
