"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d: thin modules over nn.functional, PyTorch's reprs."""

from .. import functional as F
from .module import Module


class MaxPool2d(Module):
    """2-d max pooling over `(N, C, H, W)` or `(C, H, W)` input.

    Args: `kernel_size`, `stride` (default `kernel_size`), `padding=0` (implicit -inf),
    `dilation=1`, `return_indices=False` (also return the argmax, flat within each `H * W`
    plane), `ceil_mode=False`."""

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        """Take the maximum over each `kernel_size` window of the last two dims of `input`
        (`(N, C, H, W)` or `(C, H, W)`), with this module's stride, padding, dilation and
        ceil_mode.

        With `return_indices=True` return `(output, indices)`, the indices flat within each
        `H * W` plane."""
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self):
        """Return `kernel_size=..., stride=..., padding=..., dilation=..., ceil_mode=...`."""
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """2-d average pooling over `(N, C, H, W)` or `(C, H, W)` input.

    Args: `kernel_size`, `stride` (default `kernel_size`), `padding=0` (zeros),
    `ceil_mode=False`, `count_include_pad=True` (count the padding in the divisor),
    `divisor_override=None` (a fixed divisor)."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        """Average each `kernel_size` window of the last two dims of `input` (`(N, C, H, W)` or
        `(C, H, W)`), with this module's stride, padding and ceil_mode.

        `count_include_pad` counts the zero padding in the divisor; `divisor_override` replaces
        the divisor."""
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        """Return `kernel_size=..., stride=..., padding=...`."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """2-d average pooling to a fixed output size, whatever the input's `H, W`.

    Args: `output_size`, an int, a pair `(h, w)`, or a pair with None to keep that size. The
    windows are PyTorch's (`floor(i * H / h)` to `ceil((i + 1) * H / h)`), so they may
    overlap."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        """Average-pool the last two dims of `input` down to `output_size` (an int, a pair, or None
        for a size kept), with PyTorch's window bounds `floor(i * H / h)` to
        `ceil((i + 1) * H / h)`."""
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        """Return `output_size=...`."""
        return f"output_size={self.output_size}"
