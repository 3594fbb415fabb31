"""BatchNorm1d, BatchNorm2d and LayerNorm: PyTorch's parameters, buffers (running_mean,
running_var, num_batches_tracked), train/eval behaviour and reprs."""

from ..._device import check as _check_device
from ..._dtype import dtype_arg, float32, int64
from ..._factories import ones, tensor, zeros
from ..._grad_mode import no_grad
from .. import functional as F
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        _check_device(device)
        dt = float32 if dtype is None else dtype_arg(dtype, "empty")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(zeros(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dt))
            self.register_buffer("running_var", ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Reset the running statistics: `running_mean` to 0, `running_var` to 1 and
        `num_batches_tracked` to 0 (nothing without `track_running_stats`)."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Reset the running statistics, and the affine weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.zero_()

    def forward(self, input):
        """Normalise each channel (dim 1) of `input` by its batch mean and biased variance, then
        scale by `weight` and shift by `bias`.

        In training mode the running statistics are updated with `momentum` (the unbiased
        variance; `momentum=None` gives a cumulative average) and `num_batches_tracked` grows by
        1; in eval mode the running statistics are used instead, when tracked."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if use_stats else None,
            self.running_var if use_stats else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )

    def extra_repr(self):
        """Return
        `num_features, eps=..., momentum=..., affine=..., bias=..., track_running_stats=...`."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over `(N, C)` or `(N, C, L)` input: each of the `num_features`
    channels normalised by its batch statistics (running statistics in eval mode).

    Args: `num_features`, `eps=1e-5`, `momentum=0.1` (None for a cumulative average),
    `affine=True`, `track_running_stats=True`, `dtype`, keyword `bias=True`. Other input ranks
    raise ValueError."""

    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over `(N, C, H, W)` input, per channel; arguments as
    `BatchNorm1d`. Other input ranks raise ValueError."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over `(N, C, D, H, W)` input, per channel; arguments as
    `BatchNorm1d`. Other input ranks raise ValueError."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class LayerNorm(Module):
    """Layer normalisation: normalise over the last `len(normalized_shape)` dims of each sample
    (mean and biased variance), then apply an elementwise weight and bias.

    Args: `normalized_shape` (an int or a shape), `eps=1e-5`, `elementwise_affine=True`,
    `bias=True`, `dtype`. Unlike batch norm, the statistics are the same in train and eval
    mode."""

    def __init__(
        self,
        normalized_shape,
        eps=1e-5,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_device(device)
        dt = float32 if dtype is None else dtype_arg(dtype, "empty")
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Reset the affine weight to 1 and bias to 0 (nothing without `elementwise_affine`)."""
        if self.elementwise_affine:
            with no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.zero_()

    def forward(self, input):
        """Normalise `input` over its last `len(normalized_shape)` dims (mean and biased variance),
        then apply the elementwise `weight` and `bias`."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        """Return `normalized_shape, eps=..., elementwise_affine=..., bias=...`."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
