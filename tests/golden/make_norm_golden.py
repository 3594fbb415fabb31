"""Write tests/golden/norm_golden.json: PyTorch's answers to a subset of the norm cases of
tests/parity/cases_norm.py (dtype, shape and a SHA-256 of the bytes of each returned tensor),
for its AVX2 kernels (tapegrad's SIMD path) and, where they differ, its default ones (the
portable path).

Needs PyTorch (CPU, one thread); run once, commit the JSON. tests/test_norm.py replays the cases
on tapegrad without PyTorch.

    python tests/golden/make_norm_golden.py
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
import cases_norm  # noqa: E402

OUT = os.path.join(HERE, "norm_golden.json")


def selected(name):
    """The golden's subset: the 1-D sizes, one 2-D shape, the API forms, dtype= and normalize;
    not the gradients of p = 1.5 and 2.5 (PyTorch takes their x ** 0.5 from MKL's sqrt)."""
    if ("p=1.5" in name or "p=2.5" in name) and "/grad/" in name or "error" in name:
        return False
    keep = ("/n=", "/33x7/d=", "norm/api/", "norm/dtype/", "normalize/", "norm/grad/zeros")
    return any(k in name for k in keep)


def rng_fingerprint():
    """The draws the cases make, so that a NumPy with another generator skips the replay."""
    x = np.random.default_rng(12345).standard_normal(64)
    return hashlib.sha256(x.tobytes()).hexdigest()


def encode(r):
    if isinstance(r, (list, tuple)):
        return [encode(x) for x in r]
    if r is None:
        return None
    a = np.ascontiguousarray(r.detach().numpy())
    return {
        "dtype": str(r.dtype).replace("torch.", ""),
        "shape": list(a.shape),
        "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
    }


def record():
    import torch

    torch.set_num_threads(1)
    cases = {n: encode(fn(torch)) for n, fn in cases_norm.cases() if selected(n)}
    print(json.dumps({"torch": torch.__version__, "cases": cases}))


def main():
    if len(sys.argv) > 1:
        return record()
    out = {"rng": rng_fingerprint()}
    for cap, key in (("avx2", "simd"), ("default", "portable")):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        res = subprocess.run(
            [sys.executable, __file__, "record"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(res.stdout)
        out["torch"] = data["torch"]
        out[key] = data["cases"]
    out["portable"] = {n: r for n, r in out["portable"].items() if r != out["simd"][n]}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
