"""Write tests/golden/AREA.json: PyTorch's answers to every case of tests/parity/cases_AREA.py,
under its AVX2 kernels and its portable (`default`) ones, as a SHA-256 of each result's bytes with
its dtype and shape. tests/test_AREA_golden.py replays the cases on tapegrad without PyTorch.

Needs PyTorch (CPU); run once per area, commit the JSON:

    python tests/golden/make_digest_golden.py nnloss
    python tests/golden/make_digest_golden.py losses
    python tests/golden/make_digest_golden.py ewise2
"""

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Areas whose NaNs are hashed as one NaN: their NaN's sign and payload are the kernel's accident
# (which operand it propagates), which the parity lane does not compare either.
ONE_NAN = {"ewise2"}


def digest(results, one_nan=False):
    """[(dtype name, shape, sha256)] of a case's result (a tensor or a list of them)."""
    import numpy as np

    items = results if isinstance(results, (list, tuple)) else [results]
    out = []
    for t in items:
        a = np.array(t.detach().numpy(), order="C")  # (0-dim stays 0-dim)
        if one_nan and a.dtype.kind == "f":
            a[np.isnan(a)] = np.nan
        out.append([str(a.dtype), list(a.shape), hashlib.sha256(a.tobytes()).hexdigest()])
    return out


def run_one(area):
    import importlib

    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, os.path.join(HERE, "..", "parity"))
    cases = importlib.import_module(f"cases_{area}").cases
    one = area in ONE_NAN
    json.dump({name: digest(fn(torch), one) for name, fn in cases()}, sys.stdout)


def main(area):
    golden = {}
    for cap in ("avx2", "default"):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        res = subprocess.run([sys.executable, __file__, area, "--one"], env=env, check=True,
                             capture_output=True, text=True)  # fmt: skip
        golden[cap] = json.loads(res.stdout)
    import torch

    golden["torch"] = torch.__version__
    with open(os.path.join(HERE, f"{area}.json"), "w") as f:  # one case per line
        f.write('{"torch": ' + json.dumps(golden["torch"]) + ",\n")
        for cap in ("avx2", "default"):
            rows = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(golden[cap].items())]
            end = ",\n" if cap == "avx2" else "\n"
            f.write(f'"{cap}": {{\n' + ",\n".join(rows) + "\n}" + end)
        f.write("}\n")


if __name__ == "__main__":
    run_one(sys.argv[1]) if "--one" in sys.argv else main(sys.argv[1])
