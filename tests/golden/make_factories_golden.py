"""Write tests/golden/torch_factories.json: PyTorch's answers for every case of
tests/parity/cases_factories.py (linspace, arange, full, tensor conversions, the random streams
and dropout), so that tests/test_factories_golden.py can replay them without PyTorch.

Needs PyTorch (CPU). Run once with PyTorch's AVX2 kernels and commit the JSON:

    ATEN_CPU_CAPABILITY=avx2 python tests/golden/make_factories_golden.py
"""

import importlib.util
import json
import os
import platform

import torch
from make_golden import encode

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "parity", "cases_factories.py")
OUT = os.path.join(HERE, "torch_factories.json")


def load_cases():
    spec = importlib.util.spec_from_file_location("cases_factories", CASES)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def record(res):
    items = res if isinstance(res, (list, tuple)) else [res]
    return [encode(x) for x in items]


def main():
    torch.set_num_threads(1)
    data = {
        "torch_version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
        "cases": {},
    }
    for name, fn in load_cases().cases():
        try:
            data["cases"][name] = record(fn(torch))
        except Exception as e:  # the replay expects tapegrad to refuse as well
            data["cases"][name] = {"error": type(e).__name__}
    with open(OUT, "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes), {len(data['cases'])} cases, torch "
          f"{torch.__version__} ({data['cpu_capability']})")  # fmt: skip


if __name__ == "__main__":
    main()
