"""Write tests/golden/torch_random.json: PyTorch's numbers for the cases in random_cases.py.

Needs PyTorch (CPU); run once, commit the JSON. tests/test_random.py replays the same cases on
tapegrad without PyTorch and compares bit for bit.

    python tests/golden/make_golden.py
"""

import hashlib
import importlib.util
import json
import os
import platform

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_random.json")
FULL = 256  # arrays up to this many elements are stored whole; larger: hash + ends


def load_cases():
    spec = importlib.util.spec_from_file_location(
        "random_cases", os.path.join(HERE, "random_cases.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def encode(x):
    arr = x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)
    arr = np.ascontiguousarray(arr)
    rec = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
    raw = arr.tobytes()
    if arr.size <= FULL:
        rec["hex"] = raw.hex()
    else:
        flat = arr.reshape(-1)
        rec["sha256"] = hashlib.sha256(raw).hexdigest()
        rec["head_hex"] = flat[:8].tobytes().hex()
        rec["tail_hex"] = flat[-8:].tobytes().hex()
    return rec


def main():
    mod = load_cases()
    torch.set_num_threads(1)
    data = {
        "torch_version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
        "seeds": {},
    }
    for seed in mod.SEEDS:
        out = {}
        for name, fn in mod.cases(torch).items():
            torch.manual_seed(seed)
            res = fn()
            items = res if isinstance(res, list) else [res]
            out[name] = [encode(x) for x in items]
        data["seeds"][str(seed)] = out
    with open(OUT, "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes) with torch {torch.__version__} "
          f"({data['cpu_capability']})")  # fmt: skip


if __name__ == "__main__":
    main()
