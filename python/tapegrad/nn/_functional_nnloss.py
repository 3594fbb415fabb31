"""nn.functional's softmax family, nll_loss, cross_entropy, one_hot and embedding: PyTorch's
argument checks and errors here, the numbers in the backends (softmax, log_softmax, nll_loss,
nll_loss2d, embedding are ops). cross_entropy is a composite, as in PyTorch (log_softmax then
nll_loss; class probabilities and label smoothing from elementwise ops and sums), so it has the
same grad_fn names and bits."""

import warnings

import numpy as np

from .. import _ops_nnloss
from .._dtype import TORCH_NAMES as _TORCH_NAMES
from ..tensor import Tensor

__all__ = [
    "softmax",
    "log_softmax",
    "nll_loss",
    "cross_entropy",
    "one_hot",
    "embedding",
]

_REDUCTIONS = ("mean", "sum", "none")
_LEGACY = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def _need_tensor(fn, argname, pos, x):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{argname}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


def _implicit_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Apply softmax along `dim`: `exp(x) / exp(x).sum(dim, keepdim=True)`, each slice summing to 1.

    With `dtype` the input is cast to it first (the result has that dtype). Without `dim`
    PyTorch's implicit choice is made (0 for 0-, 1- and 3-d inputs, else 1) with its deprecation
    warning."""
    _need_tensor("softmax", "input", 1, input)
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    return _ops_nnloss.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Apply `log(softmax(x))` along `dim`, computed stably (`x - logsumexp(x, dim)`).

    With `dtype` the input is cast to it first (the result has that dtype). Without `dim`
    PyTorch's implicit choice is made (0 for 0-, 1- and 3-d inputs, else 1) with its deprecation
    warning."""
    _need_tensor("log_softmax", "input", 1, input)
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    return _ops_nnloss.log_softmax(input, dim, dtype)


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _class_targets(input, target, weight):
    """PyTorch's checks of nll_loss's arguments; the target as int64."""
    tname = _TORCH_NAMES[target.dtype.name]
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {tname}")
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd >= 2 and target.dim() >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({target.shape[0]})."
        )
    if nd <= 2 and target.dim() != nd - 1:
        raise RuntimeError(
            "0D or 1D target tensor expected, multi-target not supported"
            if target.dim() > 1
            else f"Expected target of {nd - 1} dims for input of {nd} dims, got {target.dim()}"
        )
    if nd > 2 and tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        want = [input.shape[0]] + list(input.shape[2:])
        raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")
    c = input.shape[1] if nd >= 2 else input.shape[0]
    if weight is not None:
        _need_tensor("nll_loss", "weight", 3, weight)
        if weight.dim() != 1 or weight.shape[0] != c:
            raise RuntimeError(
                f"weight tensor should be defined either for all {c} classes or no classes but "
                f"got weight tensor of shape: {list(weight.shape)}"
            )
        if weight.dtype is not input.dtype:
            raise RuntimeError(
                f"expected scalar type {_TORCH_NAMES[input.dtype.name]} but found "
                f"{_TORCH_NAMES[weight.dtype.name]}"
            )
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"\"nll_loss_out_frame\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'"
        )
    return target.long() if target.dtype.name != "int64" else target


def _nll_nd(input, target, weight, reduction, ignore_index):
    """PyTorch's nll_loss_nd: 1-D/2-D inputs as nll_loss, 4-D as nll_loss2d, the others viewed
    as (N, C, 1, -1) for nll_loss2d (and a 'none' result viewed back)."""
    be = input._be
    nd = input.dim()
    if nd <= 2:
        return be.nll_loss(input, target, weight, reduction, ignore_index)
    if nd == 4:
        return be.nll_loss2d(input, target, weight, reduction, ignore_index)
    n, c = input.shape[0], input.shape[1]
    x = input.contiguous().view(n, c, 1, -1)
    t = target.contiguous().view(n, 1, -1)
    out = be.nll_loss2d(x, t, weight, reduction, ignore_index)
    if reduction == "none":
        return out.view((n,) + tuple(input.shape[2:]))
    return out


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    """-input[n, target[n]] (times weight[target[n]]), reduced; targets equal to ignore_index
    add nothing (and, for 'mean', no weight)."""
    _need_tensor("nll_loss", "input", 1, input)
    _need_tensor("nll_loss", "target", 2, target)
    reduction = _reduction(size_average, reduce, reduction)
    target = _class_targets(input, target, weight)
    return _nll_nd(input, target, weight, reduction, int(ignore_index))


def _broadcast_weight(weight, nd, class_dim):
    shape = [1] * nd
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _prob_targets(input, target, weight, reduction, label_smoothing):
    """PyTorch's cross_entropy with class probabilities (target of the input's shape)."""
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            "Expected floating point type for target with class probabilities, got "
            f"{_TORCH_NAMES[target.dtype.name]}"
            if not target.dtype.is_floating_point
            else f"Expected target size {list(input.shape)}, got {list(target.shape)}"
        )
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    lsm = _ops_nnloss.log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + (label_smoothing / n_classes)
    prod = lsm * target
    if weight is not None:
        prod = prod * _broadcast_weight(weight, input.dim(), class_dim)
    if reduction == "none":
        return -prod.sum(class_dim)
    total = -prod.sum()
    if reduction == "sum":
        return total
    out = total / (input.numel() // n_classes)
    return out._be.scalar_overload(out)  # ATen's div(Scalar): DivBackward1


def _smoothed(input, target, weight, reduction, ignore_index, label_smoothing):
    """PyTorch's cross_entropy with class indices and label smoothing."""
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    lsm = _ops_nnloss.log_softmax(input, class_dim)
    nll = _nll_nd(lsm, target, weight, reduction, ignore_index)
    ignore = target == ignore_index
    if weight is not None:
        smooth = -(lsm * _broadcast_weight(weight, input.dim(), class_dim)).sum(class_dim)
    else:
        smooth = -lsm.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            ret = smooth.sum() / weight[target[~ignore].flatten()].sum()
        else:
            ret = smooth.sum() / (~ignore).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / n_classes)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """log_softmax over the class dim (1, or 0 for an unbatched input) and nll_loss, or for a
    floating target of the input's shape, class probabilities."""
    _need_tensor("cross_entropy", "input", 1, input)
    _need_tensor("cross_entropy", "target", 2, target)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        if weight is not None:
            _need_tensor("cross_entropy", "weight", 3, weight)
        return _prob_targets(input, target, weight, reduction, label_smoothing)
    target = _class_targets(input, target, weight)
    if label_smoothing > 0:
        return _smoothed(input, target, weight, reduction, int(ignore_index), label_smoothing)
    class_dim = 0 if input.dim() == 1 else 1
    lsm = _ops_nnloss.log_softmax(input, class_dim)
    return _nll_nd(lsm, target, weight, reduction, int(ignore_index))


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of tensor.shape + (num_classes,) with a 1 at each value's place."""
    _need_tensor("one_hot", "self", 1, tensor)
    if tensor.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    vals = tensor.numpy()
    if vals.size == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if vals.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(vals.max()) + 1
        elif vals.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(vals.shape + (int(num_classes),), np.int64)
    if vals.size:
        np.put_along_axis(out, vals[..., None].astype(np.intp), 1, axis=-1)
    from ..tensor import tensor as _tensor

    return _tensor(out, backend=tensor._be)


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """weight[input]: rows of weight picked by integer indices (EmbeddingBackward0); the row at
    padding_idx gets no gradient."""
    _need_tensor("embedding", "input", 1, input)
    _need_tensor("embedding", "weight", 2, weight)
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{_LEGACY[input.dtype.name]} instead (while checking "
            "arguments for embedding)"
        )
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            "tapegrad's embedding has no max_norm, scale_grad_by_freq or sparse gradients"
        )
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    else:
        padding_idx = -1
    return weight._be.embedding(weight, input, int(padding_idx))
