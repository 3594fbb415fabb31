"""`tapegrad.cuda`: what PyTorch's CPU build answers. No GPU is ever available, so scripts that
choose `"cuda" if torch.cuda.is_available() else "cpu"` run on the CPU."""

from ._device import NO_CUDA


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Ignored, as in PyTorch without a GPU (tapegrad.manual_seed seeds the CPU generator)."""


def manual_seed_all(seed):
    """Ignored, as in PyTorch without a GPU."""


def current_device():
    raise AssertionError(NO_CUDA)


def synchronize(device=None):
    raise AssertionError(NO_CUDA)


def empty_cache():
    """Nothing to free without a GPU."""
