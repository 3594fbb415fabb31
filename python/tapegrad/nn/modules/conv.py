"""Conv1d and Conv2d: PyTorch's constructor checks, attributes, init stream and reprs."""

import math

import numpy as np

from ..._device import check as _check_device
from ..._dtype import dtype_arg, float32
from ..._grad_mode import no_grad
from ..._random import uniform_array
from .. import functional as F
from .layers import _new_param
from .module import Module
from .state_dict import _to_backend_tensor

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _tuple(v, n):
    if isinstance(v, (tuple, list)):
        return tuple(int(e) for e in v)
    return (int(v),) * n


def _init_conv(weight_shape, bias, dt):
    """kaiming_uniform_(a=sqrt(5)) then the bias's uniform(-1/sqrt(fan_in), ..), drawn in that
    order with PyTorch's float64 bounds, so that a seeded Conv2d equals PyTorch's bit for bit."""
    fan_in = int(np.prod(weight_shape[1:]))
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
    w_bound = math.sqrt(3.0) * (gain / math.sqrt(fan_in)) if fan_in else 0.0
    w = uniform_array(tuple(weight_shape), -w_bound, w_bound, dt)
    b_bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    b = uniform_array((weight_shape[0],), -b_bound, b_bound, dt) if bias else None
    return w, b


class _ConvNd(Module):
    _nd = 2

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        stride = _tuple(stride, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {_PADDING_MODES}, but got "
                f"padding_mode='{padding_mode}'"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"tapegrad: Conv{nd}d supports padding_mode='zeros' only, got '{padding_mode}'"
            )
        _check_device(device)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _tuple(kernel_size, nd)
        self.stride = stride
        self.padding = padding if isinstance(padding, str) else _tuple(padding, nd)
        self.dilation = _tuple(dilation, nd)
        self.transposed = False
        self.output_padding = (0,) * nd
        self.groups = groups
        self.padding_mode = padding_mode
        self._dtype = float32 if dtype is None else dtype_arg(dtype, "empty")
        w, b = _init_conv(self._weight_shape(), bias, self._dtype)
        self.weight = _new_param(w, self._dtype)
        if b is not None:
            self.bias = _new_param(b, self._dtype)
        else:
            self.register_parameter("bias", None)

    def _weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size

    def reset_parameters(self):
        """Re-draw the weight and bias as PyTorch initialises them: weight
        `kaiming_uniform_(a=sqrt(5))`, bias uniform in `[-1/sqrt(fan_in), 1/sqrt(fan_in)]`, drawn
        in that order from the global generator (so a seeded module equals PyTorch's)."""
        w, b = _init_conv(self._weight_shape(), self.bias is not None, self.weight.dtype)
        with no_grad():
            self.weight.copy_(_to_backend_tensor(w, self.weight))
            if b is not None:
                self.bias.copy_(_to_backend_tensor(b, self.bias))

    def extra_repr(self):
        """Return PyTorch's text: channels, `kernel_size` and `stride`, then `padding`, `dilation`,
        `groups` and `bias=False` where they differ from the defaults."""
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """Apply a 1-d convolution (cross-correlation, as PyTorch) over `(N, C_in, L)` input.

    Args: `in_channels`, `out_channels`, `kernel_size`, `stride=1`, `padding=0` (an int, a
    tuple, "valid" or "same"), `dilation=1`, `groups=1`, `bias=True`, `dtype`. The weight is
    `(out_channels, in_channels // groups, k)`, initialised as PyTorch's (a seeded module equals
    PyTorch's). Only `padding_mode="zeros"` is supported; the others raise NotImplementedError."""

    _nd = 1

    def forward(self, input):
        """Apply `F.conv1d` with this module's weight, bias, stride, padding, dilation and groups.

        `input` is `(N, C_in, L)` or unbatched `(C_in, L)`; the result is `(N, C_out, L_out)`."""
        return F.conv1d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv2d(_ConvNd):
    """Apply a 2-d convolution (cross-correlation, as PyTorch) over `(N, C_in, H, W)` input.

    Args: `in_channels`, `out_channels`, `kernel_size`, `stride=1`, `padding=0` (an int, a
    pair, "valid" or "same"), `dilation=1`, `groups=1`, `bias=True`, `dtype`. The weight is
    `(out_channels, in_channels // groups, kH, kW)`, initialised as PyTorch's (a seeded module
    equals PyTorch's). Only `padding_mode="zeros"` is supported; the others raise
    NotImplementedError."""

    _nd = 2

    def forward(self, input):
        """Apply `F.conv2d` with this module's weight, bias, stride, padding, dilation and groups.

        `input` is `(N, C_in, H, W)` or unbatched `(C_in, H, W)`; the result is
        `(N, C_out, H_out, W_out)`."""
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )
