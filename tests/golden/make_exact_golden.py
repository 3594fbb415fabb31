"""Write tests/golden/AREA_golden.json: PyTorch's answers to the bit-exact cases of
tests/parity/cases_AREA.py (its EXACT names, or all its cases when it lists none): dtype, shape
and a SHA-256 of the bytes of each returned tensor. AREA is mm2 (tests/test_mm2.py replays it)
or prodnorm (tests/test_prodnorm.py); both replay through golden_util.replay_exact.

Needs PyTorch (CPU, AVX2 kernels, one thread); run once per area, commit the JSON.

    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_exact_golden.py mm2
    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_exact_golden.py prodnorm
"""

import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from golden_util import parity_cases  # noqa: E402


def encode(r):
    if isinstance(r, (list, tuple)):
        return [encode(x) for x in r]
    a = np.ascontiguousarray(r.detach().numpy())
    return {
        "dtype": str(r.dtype).replace("torch.", ""),
        "shape": list(a.shape),
        "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
    }


def main(area):
    torch.set_num_threads(1)
    module = parity_cases(area)
    exact = getattr(module, "EXACT", None)
    cases = {
        name: encode(fn(torch)) for name, fn in module.cases() if exact is None or name in exact
    }
    with open(os.path.join(HERE, f"{area}_golden.json"), "w") as f:
        json.dump(
            {"torch": torch.__version__, "rng": module.rng_fingerprint(), "cases": cases},
            f,
            indent=0,
            sort_keys=True,
        )
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
