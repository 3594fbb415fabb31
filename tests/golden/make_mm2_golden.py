"""Write tests/golden/mm2_golden.json: PyTorch's answers to the bit-exact cases of
tests/parity/cases_mm2.py (those named mm2/...: float16 and the integers; dtype, shape and a
SHA-256 of the bytes of each returned tensor).

Needs PyTorch (CPU, AVX2 kernels, one thread); run once, commit the JSON. tests/test_mm2.py
replays every case on tapegrad without PyTorch.

    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_mm2_golden.py
"""

import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
import cases_mm2  # noqa: E402

OUT = os.path.join(HERE, "mm2_golden.json")


def rng_fingerprint():
    """The draws the cases make, so that a NumPy with another generator skips the replay."""
    g = np.random.default_rng(12345)
    x = np.concatenate([g.standard_normal(64), g.uniform(-2, 2, 64), g.integers(-9, 9, 64)])
    return hashlib.sha256(x.tobytes()).hexdigest()


def encode(r):
    if isinstance(r, (list, tuple)):
        return [encode(x) for x in r]
    a = np.ascontiguousarray(r.detach().numpy())
    return {
        "dtype": str(r.dtype).replace("torch.", ""),
        "shape": list(a.shape),
        "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
    }


def main():
    torch.set_num_threads(1)
    cases = {name: encode(fn(torch)) for name, fn in cases_mm2.cases() if name in cases_mm2.EXACT}
    with open(OUT, "w") as f:
        json.dump(
            {"torch": torch.__version__, "rng": rng_fingerprint(), "cases": cases},
            f,
            indent=0,
            sort_keys=True,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
