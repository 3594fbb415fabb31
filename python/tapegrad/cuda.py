"""`tapegrad.cuda`: what PyTorch's CPU build answers. No GPU is ever available, so scripts that
choose `"cuda" if torch.cuda.is_available() else "cpu"` run on the CPU."""

from ._device import NO_CUDA


def is_available():
    """False: tapegrad has no GPU support."""
    return False


def device_count():
    """0: tapegrad sees no GPUs."""
    return 0


def manual_seed(seed):
    """Ignored, as in PyTorch without a GPU (tapegrad.manual_seed seeds the CPU generator)."""


def manual_seed_all(seed):
    """Ignored, as in PyTorch without a GPU."""


def current_device():
    """Raise AssertionError, as PyTorch's CPU-only build does: there is no GPU."""
    raise AssertionError(NO_CUDA)


def synchronize(device=None):
    """Raise AssertionError, as PyTorch's CPU-only build does: there is no GPU to wait for."""
    raise AssertionError(NO_CUDA)


def empty_cache():
    """Nothing to free without a GPU."""
