"""Write tests/golden/torch_reduce.json: PyTorch's bits for a selection of the sum/mean cases of
tests/parity/cases_reduce.py (sum, mean, broadcast gradients, mse/l1 losses).

Needs PyTorch (CPU, its AVX2 kernels, one thread); run once, commit the JSON.
tests/test_reduce_golden.py replays the same cases on tapegrad without PyTorch.

    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_reduce_golden.py

Layout: "rng" fingerprints NumPy's generator (the cases draw their inputs from it); "cases" maps
a case name to the list of its outputs, each {"dtype", "shape"} plus "hex" (the raw bytes) or,
past FULL elements, "sha256" and "head_hex".
"""

import hashlib
import json
import os
import re
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
import cases_reduce  # noqa: E402

OUT = os.path.join(HERE, "torch_reduce.json")
FULL = 32

# Which parity cases are recorded: every dtype, the awkward sizes, each loop of the kernel
# (inner, outer, scalar; 2-D slices of a 3-D tensor), the views, keepdim, gradients and losses.
SELECT = re.compile(
    r"reduce/(sum|mean)/f(32|16|64)/n=(1|7|33|4099)$"
    r"|reduce/sum/f32/33x7/dim=(all|0|1)/keepdim=0/(contig|t|step)$"
    r"|reduce/mean/f16/7x33/dim=1/keepdim=1/(contig|t)$"
    r"|reduce/sum/f16/100x100/dim=(0|1)/keepdim=0/contig$"
    r"|reduce/(sum|mean)/f(16|64)/5x40x9/dim=(0,2|all)/keepdim=0/(contig|step)$"
    r"|reduce/grad_(add|mul)/f(32|16)/33x7\+(1x7|7)$"
    r"|reduce/grad_add/f64/100x40\+40$"
    r"|reduce/grad_expanded/f(32|16|64)/"
    r"|reduce/(mse|l1)_loss/(mean|sum)/f(32|16)/n=100$"
)


def rng_fingerprint():
    g = np.random.default_rng(12345)
    x = np.concatenate([g.standard_normal(64), g.uniform(-3, 3, 64)])
    return hashlib.sha256(x.tobytes()).hexdigest()


def encode(arr):
    arr = np.array(arr, order="C")
    rec = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
    if arr.size <= FULL:
        rec["hex"] = arr.tobytes().hex()
    else:
        rec["sha256"] = hashlib.sha256(arr.tobytes()).hexdigest()
        rec["head_hex"] = arr.reshape(-1)[:4].tobytes().hex()
    return rec


def flat(r):
    if isinstance(r, (list, tuple)):
        return [v for x in r for v in flat(x)]
    return [r]


def main():
    torch.set_num_threads(1)
    cases = {}
    for name, fn in cases_reduce.cases():
        if SELECT.match(name):
            cases[name] = [encode(t.detach().numpy()) for t in flat(fn(torch))]
    gold = {"torch": torch.__version__, "rng": rng_fingerprint(), "cases": cases}
    with open(OUT, "w") as f:
        json.dump(gold, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
