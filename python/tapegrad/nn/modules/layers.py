"""The layers: Linear, Sequential, the activations and the losses."""

import math
from collections import OrderedDict

import numpy as np

from ... import _backend
from ..._device import check as _check_device
from ..._dtype import dtype_arg, float32
from ..._grad_mode import no_grad
from ..._random import uniform_array
from ...tensor import _check_nbytes
from .. import functional as F
from .module import Module
from .state_dict import _to_backend_tensor


def _init_linear(in_features, out_features, bias=True, dtype=float32):
    """PyTorch's Linear init as arrays of `dtype`: weight (out, in) and bias (out,) (or None).

    As Linear.reset_parameters does in PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight, then
    uniform(-1/sqrt(in), 1/sqrt(in)) for the bias, drawn from the default generator in that
    order and with PyTorch's own float64 arithmetic for the bounds, so that manual_seed(s)
    followed by Linear(i, o) gives PyTorch's parameters bit for bit (docs/random.md).
    """
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))  # calculate_gain("leaky_relu", sqrt(5))
    w_bound = math.sqrt(3.0) * (gain / math.sqrt(in_features))
    w = uniform_array((out_features, in_features), -w_bound, w_bound, dtype)
    b_bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
    b = uniform_array((out_features,), -b_bound, b_bound, dtype) if bias else None
    return w, b


def _new_param(arr, dt):
    be = _backend.current()
    p = be.from_numpy(np.ascontiguousarray(arr, dtype=dt.np), True)
    p._is_param = True
    return p


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for n, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(
                    f"Linear: {n} must be a positive integer, got {v!r} "
                    "(tapegrad has no zero-size tensors)"
                )
        _check_device(device)  # PyTorch's CPU-build error for any other device
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self._dtype = float32 if dtype is None else dtype_arg(dtype, "empty")
        _check_nbytes((self.out_features, self.in_features), self._dtype)
        w, b = _init_linear(self.in_features, self.out_features, bias, self._dtype)
        self.weight = _new_param(w, self._dtype)
        if b is not None:
            self.bias = _new_param(b, self._dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Re-draw the weight and bias as PyTorch initialises them: weight
        `kaiming_uniform_(a=sqrt(5))`, bias uniform in
        `[-1/sqrt(in_features), 1/sqrt(in_features)]`, drawn in that order from the global
        generator (so a seeded Linear equals PyTorch's)."""
        w, b = _init_linear(
            self.in_features, self.out_features, self.bias is not None, self.weight.dtype
        )
        with no_grad():
            self.weight.copy_(_to_backend_tensor(w, self.weight))
            if b is not None:
                self.bias.copy_(_to_backend_tensor(b, self.bias))

    def forward(self, input):
        """Return `input @ weight.T + bias` for `input` of shape `(*, in_features)`; the result is
        `(*, out_features)`."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        """Return `in_features=..., out_features=..., bias=...`."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... (or by an OrderedDict)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _get_item_by_idx(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return list(self._modules.values())[idx % n]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._get_item_by_idx(int(idx))

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[int(idx) % len(self._modules)]
        setattr(self, key, module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for key in keys[idx] if isinstance(idx, slice) else [keys[int(idx) % len(keys)]]:
            self._drop(key)
        items = list(self._modules.items())
        for key, _ in items:
            self._drop(key)
        for i, (_, m) in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Append `module` at the end (named by its index); return this Sequential."""
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input):
        """Pass `input` through each module in order and return the last output."""
        for module in self._modules.values():
            input = module(input)
        return input


class ReLU(Module):
    """Apply the rectified linear unit elementwise: `max(x, 0)`.

    Args: `inplace` to overwrite the input."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Apply `F.relu`, `max(input, 0)` (in place if `inplace`)."""
        return F.relu(input, self.inplace)

    def extra_repr(self):
        """Return `inplace=True` when in place, else an empty string."""
        return "inplace=True" if self.inplace else ""


class Dropout(Module):
    """During training, zero each element with probability `p` and scale the rest by
    `1 / (1 - p)`; in eval mode pass the input through unchanged.

    Args: `p` (default 0.5, in `[0, 1]`, else ValueError); `inplace` to overwrite the input.
    The mask is drawn from the global generator."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_p(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        """In training mode zero each element with probability `p` and scale the rest by
        `1 / (1 - p)`; in eval mode return `input` unchanged."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        """Return `p=..., inplace=...`."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zeroes whole channels (feature maps) with probability p, as PyTorch's Dropout2d."""

    def forward(self, input):
        """In training mode zero whole channels with probability `p` and scale the rest by
        `1 / (1 - p)`; in eval mode return `input` unchanged.

        `input` is `(N, C, H, W)`; a 3-d input is read as `(N, C, L)`, with PyTorch's warning."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Tanh(Module):
    """Apply the hyperbolic tangent elementwise."""

    def forward(self, input):
        """Apply the hyperbolic tangent elementwise."""
        return F.tanh(input)


class Sigmoid(Module):
    """Apply the logistic sigmoid, `1 / (1 + exp(-x))`, elementwise."""

    def forward(self, input):
        """Apply the logistic sigmoid, `1 / (1 + exp(-x))`, elementwise."""
        return F.sigmoid(input)


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error. Input and target must have the same shape (tapegrad refuses what
    PyTorch would broadcast with a warning)."""

    def forward(self, input, target):
        """Return the squared error `(input - target) ** 2`, reduced by `reduction` ("mean", "sum"
        or "none")."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error. Input and target must have the same shape."""

    def forward(self, input, target):
        """Return the absolute error `abs(input - target)`, reduced by `reduction` ("mean", "sum" or
        "none")."""
        return F.l1_loss(input, target, reduction=self.reduction)
