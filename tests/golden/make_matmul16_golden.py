"""Write tests/golden/torch_matmul16.json: PyTorch's float16 mm / matmul / linear results and
gradients for every case of tests/parity/cases_matmul16.py, from both of the ATen builds that
tapegrad follows (AVX2 for its SIMD path, `default` for its portable path).

Needs PyTorch 2.13 (CPU); run once, commit the JSON. tests/test_matmul16.py replays the cases on
tapegrad without PyTorch.

    python tests/golden/make_matmul16_golden.py    # in an environment with PyTorch 2.13

Layout: {"avx2": {case: [leaf, ...]}, "default": {...}}, a leaf being {"dtype", "shape",
"sha256"} of one returned tensor's raw bytes.
"""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_matmul16.json")
CASES = os.path.join(HERE, "..", "parity", "cases_matmul16.py")


def load_cases():
    spec = importlib.util.spec_from_file_location("cases_matmul16", CASES)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.cases()


def leaf(t):
    arr = t.detach().numpy() if hasattr(t, "detach") else t.numpy()
    return {
        "dtype": str(arr.dtype),
        "shape": list(arr.shape),
        "sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
    }


def record():
    """This process's capability: every case's leaves (run in a child per capability)."""
    import torch

    torch.set_num_threads(1)
    return {name: [leaf(t) for t in fn(torch)] for name, fn in load_cases()}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        json.dump(record(), sys.stdout)
        return
    out = {}
    for cap in ("avx2", "default"):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        res = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                             capture_output=True, text=True)  # fmt: skip
        out[cap] = json.loads(res.stdout)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}: {len(out['avx2'])} cases")


if __name__ == "__main__":
    main()
