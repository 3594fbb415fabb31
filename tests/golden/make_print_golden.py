"""Write tests/golden/torch_print.json: PyTorch's text for every case of print_cases.py (repr,
str and format of tensors under many print options), so that tests/test_print.py can replay
them without PyTorch.

Needs PyTorch (CPU); printing runs no kernels whose bits depend on the CPU. Run once and commit
the JSON:

    python tests/golden/make_print_golden.py

Layout: "cases" maps a case name to {"out": [strings]} or {"error": {"type", "msg"}}. A string
of more than LONG characters is stored as its SHA-256, length and first and last ENDS characters.
"""

import hashlib
import json
import os
import platform

import print_cases
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_print.json")
LONG = 3000
ENDS = 400


def encode(text):
    if len(text) <= LONG:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"sha256": digest, "len": len(text), "head": text[:ENDS], "tail": text[-ENDS:]}


def run(opts, fn):
    torch.set_printoptions(**opts)
    try:
        res = fn()
    except Exception as e:  # the error is the answer
        return {"error": {"type": type(e).__name__, "msg": str(e)}}
    finally:
        torch.set_printoptions(profile="default")
    return {"out": [encode(r) for r in (res if isinstance(res, list) else [res])]}


def main():
    torch.set_num_threads(1)
    cases = {name: run(opts, fn) for name, (opts, fn) in print_cases.cases(torch).items()}
    data = {
        "torch_version": torch.__version__,
        "machine": platform.machine(),
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
