"""Softmax, LogSoftmax, Flatten, Unflatten, Identity, Embedding and the class losses
(CrossEntropyLoss, NLLLoss): thin modules over nn.functional, with PyTorch's reprs."""

import numpy as np

from ... import _backend
from ..._dtype import dtype_arg, float32
from ..._grad_mode import no_grad
from ..._random import normal_array
from ...tensor import _check_nbytes
from .. import functional as F
from .module import Module


class Softmax(Module):
    """Apply softmax along `dim`: `exp(x) / exp(x).sum(dim)`, each slice summing to 1.

    Args: `dim`; when None, PyTorch's implicit choice (dim 0 for 0-, 1- and 3-d input, else
    dim 1) is made, with its deprecation warning."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Apply `F.softmax` along this module's `dim` (PyTorch's implicit dim, with its warning,
        when `dim` is None)."""
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        """Return `dim=...`."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Apply `log(softmax(x))` along `dim`, computed stably as `x - logsumexp(x, dim)`.

    Args: `dim`; when None, PyTorch's implicit choice is made, with its deprecation warning."""

    def forward(self, input):
        """Apply `F.log_softmax` along this module's `dim` (PyTorch's implicit dim, with its
        warning, when `dim` is None)."""
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Flatten(Module):
    """Merge the dims `start_dim` to `end_dim` (default 1 to -1) into one, keeping the batch
    dim: `(N, C, H, W)` becomes `(N, C * H * W)`."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        """Return `input.flatten(start_dim, end_dim)`: the dims from `start_dim` to `end_dim` merged
        into one (a view where possible)."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        """Return `start_dim=..., end_dim=...`."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into the sizes `unflattened_size` (a tuple or list of ints, one may be
    -1); the inverse of `Flatten`. Another type for `unflattened_size` raises TypeError."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            kind = type(unflattened_size).__name__
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type {kind}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        """Return `input.unflatten(dim, unflattened_size)`: dim `dim` split into the sizes
        `unflattened_size` (one may be -1)."""
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        """Return `dim=..., unflattened_size=...`."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Identity(Module):
    """Returns its input; takes (and ignores) any arguments, as PyTorch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        """Return `input` itself, unchanged."""
        return input


class Embedding(Module):
    """A (num_embeddings, embedding_dim) weight looked up by integer indices. Initialised as
    PyTorch's: normal_(0, 1) from the default generator, then the padding row zeroed."""

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"tapegrad runs on the CPU only; got device={device!r}")
        if padding_idx is not None:
            if padding_idx > 0:
                assert padding_idx < num_embeddings, "Padding_idx must be within num_embeddings"
            elif padding_idx < 0:
                assert padding_idx >= -num_embeddings, "Padding_idx must be within num_embeddings"
                padding_idx = num_embeddings + padding_idx
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dt = float32 if dtype is None else dtype_arg(dtype, "empty")
            shape = (int(num_embeddings), int(embedding_dim))
            _check_nbytes(shape, dt)
            w = normal_array(shape, 0.0, 1.0, dt)
            if padding_idx is not None:
                w[padding_idx] = 0
            p = _backend.current().from_numpy(np.ascontiguousarray(w), not _freeze)
            p._is_param = True
            self.weight = p
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim"
                )
            from .parameter import Parameter

            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Re-draw the weight from the standard normal (the global generator, as PyTorch's) and zero
        the `padding_idx` row."""
        self.weight.normal_()
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        """Return the rows of the weight picked by the integer tensor `input` (int64 or int32):
        shape `input.shape + (embedding_dim,)`; the `padding_idx` row gets no gradient.

        Differs from PyTorch: `max_norm`, `scale_grad_by_freq` and `sparse=True` raise
        NotImplementedError."""
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self):
        """Return `num_embeddings, embedding_dim`, then `padding_idx`, `max_norm`, `norm_type`,
        `scale_grad_by_freq` and `sparse` where they differ from the defaults."""
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
    ):
        """Create an Embedding whose weight is the 2-d tensor `embeddings` (rows = num_embeddings,
        columns = embedding_dim).

        With `freeze=True` (the default) the weight does not require grad. The other arguments
        are the constructor's."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )


class _WeightedLoss(Module):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce)
        self.reduction = reduction
        self.register_buffer("weight", weight)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood loss over log-probabilities: `-input[n, target[n]]`, weighted by
    `weight[target[n]]`, reduced by `reduction` ("mean", "sum" or "none").

    Args: `weight` (one per class), `ignore_index=-100` (targets skipped), `reduction="mean"`
    (the weighted mean divides by the kept weights); `size_average` and `reduce` are PyTorch's
    deprecated spellings of `reduction`."""

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """Return the negative log likelihood: `-input[n, target[n]]` (times `weight[target[n]]`),
        reduced by `reduction`.

        `input` holds log-probabilities `(N, C)`, `(C)` or `(N, C, d1, ...)`; `target` holds
        int64 class indices; entries equal to `ignore_index` are skipped (and the weighted mean
        divides by the kept weights)."""
        return F.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction,
        )  # fmt: skip


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits and targets: `log_softmax` over the class dim (dim 1, or dim 0
    for unbatched input) then `NLLLoss`, reduced by `reduction`.

    Targets are int64 class indices, or class probabilities shaped like the input. Args:
    `weight` (one per class), `ignore_index=-100`, `reduction="mean"`, `label_smoothing=0.0`;
    `size_average` and `reduce` are PyTorch's deprecated spellings of `reduction`."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index=-100,
        reduce=None,
        reduction="mean",
        label_smoothing=0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        """Return the cross entropy of the logits `input` and `target`: `log_softmax` over the class
        dim followed by `nll_loss`, reduced by `reduction`.

        `input` is `(N, C)`, `(C)` or `(N, C, d1, ...)`; `target` is int64 class indices, or
        class probabilities of `input`'s shape. `ignore_index`, `weight` and `label_smoothing`
        are PyTorch's."""
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
