"""Which of tapegrad's paths runs here, for goldens recorded from PyTorch per CPU capability:
the SIMD path answers as PyTorch's AVX2 kernels, the portable one as its `default` kernels."""

import os
import platform
from pathlib import Path


def simd():
    """Whether tapegrad runs its AVX2 kernels (core/cpu.h decides the same way)."""
    if os.environ.get("TAPEGRAD_NO_SIMD") == "1" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return True
    return {"avx2", "fma", "f16c"} <= set(flags)
