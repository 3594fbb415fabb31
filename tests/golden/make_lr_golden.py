"""Write tests/golden/torch_lr_schedules.json: PyTorch's learning rates, step by step, for each
scheduler tapegrad has (tests/test_lr_scheduler.py replays them without PyTorch).

    python tests/golden/make_lr_golden.py        (needs PyTorch 2.13, CPU)

Each schedule is run on an SGD optimizer with two param groups (lr 0.1 and 0.05) for STEPS
steps; the recorded floats are `repr`s, compared exactly. A ReduceLROnPlateau schedule is fed
the metric sequence given in the case.
"""

import json
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lr_cases import CASES, STEPS, run  # noqa: E402


def main():
    warnings.simplefilter("ignore")
    out = {"torch": torch.__version__, "steps": STEPS, "cases": {}}
    for name in CASES:
        out["cases"][name] = [repr(v) for v in run(torch, name)]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_lr_schedules.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {len(out['cases'])} schedules to {path}")


if __name__ == "__main__":
    main()
