"""Write tests/golden/torch_optim.json: PyTorch's SGD, Adam, AdamW, RMSprop and Adagrad after 50
steps, for every case of tests/parity/cases_optim.py (options x float32/float16/float64 x sizes,
and the state_dict round trips).

Needs PyTorch (CPU); run once, commit the JSON. tests/test_optim_golden.py replays the cases on
tapegrad without PyTorch.

    python tests/golden/make_optim_golden.py   # in an environment with torch 2.13 (CPU)

PyTorch picks its kernels by CPU capability when it loads, so this script runs itself once per
capability in a child process: "avx2" (what tapegrad's SIMD path follows) and "default" (its
portable path, TAPEGRAD_NO_SIMD=1), single-threaded.

Layout of the JSON: "cases" name -> capability -> record. A record is "sha256" of the raw bytes
of every result (the parameter, then the state tensors, in the order the case returns them) and
"head", the parameter's first four elements as hex. The float32 and float64 cases of every
optimizer but SGD read PyTorch's `sqrt`, which on the CPU is MKL's and not correctly rounded, so
tapegrad cannot give its bits: for those, parameters of at most FULL elements are stored whole
("hex") for a closeness check, larger ones not at all.
"""

import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_optim.json")
CASES = os.path.join(HERE, "..", "parity", "cases_optim.py")
CAPABILITIES = ("avx2", "default")
FULL = 33


def load_cases():
    spec = importlib.util.spec_from_file_location("cases_optim", CASES)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def exact(name):
    """False for the cases that go through PyTorch's (MKL) sqrt in float32 or float64."""
    return not load_cases().mkl_sqrt(name)


def record(name, outs):
    arrays = [np.ascontiguousarray(t.detach().numpy()) for t in outs]
    p = arrays[0].reshape(-1)
    rec = {"head": p[:4].tobytes().hex()}
    if exact(name):
        h = hashlib.sha256()
        for a in arrays:
            h.update(a.tobytes())
        rec["sha256"] = h.hexdigest()
    elif p.size <= FULL:
        rec["hex"] = p.tobytes().hex()
    else:
        return None
    return rec


def child():
    import torch

    torch.set_num_threads(1)
    mod = load_cases()
    out = {}
    for name, fn in mod.cases():
        rec = record(name, fn(torch))
        if rec is not None:
            out[name] = rec
    json.dump({"torch_version": torch.__version__, "cases": out}, sys.stdout)


def main():
    cases, version = {}, None
    for cap in CAPABILITIES:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap, OMP_NUM_THREADS="1")
        res = subprocess.run(
            [sys.executable, __file__, "--child"], env=env, check=True, capture_output=True
        )
        part = json.loads(res.stdout)
        version = part["torch_version"]
        for name, rec in part["cases"].items():
            cases.setdefault(name, {})[cap] = rec
    data = {
        "torch_version": version,
        "machine": platform.machine(),
        "steps": load_cases().STEPS,
        "full": FULL,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(cases)} cases) with torch {version}")


if __name__ == "__main__":
    child() if sys.argv[1:] == ["--child"] else main()
