"""Write tests/golden/torch_math.json: PyTorch's answers (forward and gradient) for the math cases
of tests/parity/cases_math.py that tapegrad reproduces bit for bit, under PyTorch's AVX2 kernels
and under its portable (`default`) ones. tests/test_math_golden.py replays them without PyTorch.

Needs PyTorch (CPU); run once per capability, commit the JSON:

    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_math_golden.py
    ATEN_CPU_CAPABILITY=default python tests/golden/make_math_golden.py

Each run replaces its capability's section; run avx2 first: the default section keeps only the
cases whose answers differ from the AVX2 ones. A case's answer is a list of arrays, each stored
as dtype, shape and raw bytes, or past FULL elements as a SHA-256 of the bytes plus the first and
last four elements (every NaN made NumPy's first).
"""

import importlib.util
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_dtype_golden import encode_array  # noqa: E402  (its FULL and its layout)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_math.json")

# PyTorch computes float32/float64 exp, log, tanh, sin, cos and sqrt (x ** 0.5) with MKL's VML,
# whose bits no published algorithm gives; float16 sin/cos of huge arguments differ in rare
# double-rounding ties. Those cases stay in the parity lane only.
SKIP = re.compile(
    r"math/(exp|log|tanh|sin|cos|pow=0\.5)/(float32|float64)/|math/(sin|cos)/float16/special"
)


def load_cases():
    path = os.path.join(HERE, "..", "parity", "cases_math.py")
    spec = importlib.util.spec_from_file_location("cases_math", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def canonical(arr):
    """NaN payloads are not part of what PyTorch promises: every NaN as NumPy's."""
    return np.where(np.isnan(arr), np.array(np.nan, dtype=arr.dtype), arr)


def encode(t):
    return encode_array(canonical(np.array(t.detach().numpy(), order="C")))


def main():
    cap = os.environ.get("ATEN_CPU_CAPABILITY")
    if cap not in ("avx2", "default"):
        raise SystemExit("set ATEN_CPU_CAPABILITY to avx2 or default")
    torch.set_num_threads(1)
    out = {"cases": {}}
    for name, fn in load_cases().cases():
        if not SKIP.search(name):
            out["cases"][name] = [encode(t) for t in fn(torch)]
    data = {}
    if os.path.exists(OUT):
        with open(OUT) as f:
            data = json.load(f)
    data["torch"] = torch.__version__
    if cap == "default":
        avx2 = data["avx2"]["cases"]
        out["cases"] = {k: v for k, v in out["cases"].items() if avx2.get(k) != v}
    data[cap] = out
    with open(OUT, "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"{cap}: {len(out['cases'])} cases -> {OUT}")


if __name__ == "__main__":
    main()
