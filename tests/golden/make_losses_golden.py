"""Write tests/golden/losses.json: PyTorch's answers to every case of tests/parity/cases_losses.py,
under its AVX2 kernels and its portable (`default`) ones, as a SHA-256 of each result's bytes with
its dtype and shape. tests/test_losses_golden.py replays the cases on tapegrad without PyTorch.

Needs PyTorch (CPU); run once, commit the JSON:

    python tests/golden/make_losses_golden.py
"""

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "losses.json")


def digest(results):
    """[(dtype name, shape, sha256)] of a case's result (a tensor or a list of them)."""
    import numpy as np

    items = results if isinstance(results, (list, tuple)) else [results]
    out = []
    for t in items:
        a = np.array(t.detach().numpy(), order="C")  # (0-dim stays 0-dim)
        out.append([str(a.dtype), list(a.shape), hashlib.sha256(a.tobytes()).hexdigest()])
    return out


def run_one():
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, os.path.join(HERE, "..", "parity"))
    import cases_losses

    json.dump({name: digest(fn(torch)) for name, fn in cases_losses.cases()}, sys.stdout)


def main():
    golden = {}
    for cap in ("avx2", "default"):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        res = subprocess.run([sys.executable, __file__, "--one"], env=env, check=True,
                             capture_output=True, text=True)  # fmt: skip
        golden[cap] = json.loads(res.stdout)
    import torch

    golden["torch"] = torch.__version__
    with open(OUT, "w") as f:  # one case per line
        f.write('{"torch": ' + json.dumps(golden["torch"]) + ",\n")
        for cap in ("avx2", "default"):
            rows = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(golden[cap].items())]
            end = ",\n" if cap == "avx2" else "\n"
            f.write(f'"{cap}": {{\n' + ",\n".join(rows) + "\n}" + end)
        f.write("}\n")


if __name__ == "__main__":
    run_one() if "--one" in sys.argv else main()
