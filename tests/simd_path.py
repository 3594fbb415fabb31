"""Which of tapegrad's paths runs here, for goldens recorded from PyTorch per CPU capability:
the SIMD path answers as PyTorch's AVX2 kernels, the portable one as its `default` kernels."""

import tapegrad._core as _core


def simd():
    """Whether tapegrad runs its AVX2 kernels (the core's own answer)."""
    return _core.simd_enabled()
