"""Write the small torch.save files tests/test_pt_format.py loads without PyTorch, and
expected.npz: every tensor in them as a NumPy array, named "<file>:<path>".

Needs PyTorch (CPU); run once, commit the files.

    python tests/golden/pt/make_pt_golden.py    # in an environment with PyTorch 2.13
"""

import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def state_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    return model.state_dict()  # an OrderedDict with _metadata; num_batches_tracked is int64


def dtypes():
    out = {}
    for name in ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8"):
        out[name] = (torch.arange(6) - 2).to(getattr(torch, name)).reshape(2, 3)
    out["bool"] = torch.tensor([True, False, True])
    out["scalar"] = torch.tensor(2.5, dtype=torch.float64)
    out["empty"] = torch.zeros(0, 3)
    out["nan_inf"] = torch.tensor([float("nan"), float("inf"), -0.0], dtype=torch.float16)
    return out


def views():
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    return {"x": x, "row": x[1], "t": x.t(), "col": x[:, 2], "step": x[::2, 1::2], "same": x}


def checkpoint():
    torch.manual_seed(1)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(1, 2)).pow(2).sum().backward()
    opt.step()
    return {
        "epoch": 4,
        "loss": 0.125,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "history": [1.0, 0.5, None, True, "text"],
        "shape": torch.Size([2, 3]),
        "dtype": torch.float16,
        "param": torch.nn.Parameter(torch.tensor([1.0, -1.0])),
        "int_keys": {0: "a", -7: (1, 2)},
    }


FILES = {
    "state_dict": state_dict,
    "dtypes": dtypes,
    "views": views,
    "checkpoint": checkpoint,
    "bfloat16": lambda: {"w": torch.ones(2, dtype=torch.bfloat16)},
    "complex": lambda: {"w": torch.ones(2, dtype=torch.complex64)},
    "uint16": lambda: {"w": torch.ones(2, dtype=torch.uint16)},
}


def tensors(obj, path, out):
    if isinstance(obj, torch.Tensor):
        out[path] = obj.detach().numpy().copy()
    elif isinstance(obj, dict):
        for k, v in obj.items():
            tensors(v, f"{path}/{k}", out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            tensors(v, f"{path}/{i}", out)


def main():
    expected = {}
    for name, make in FILES.items():
        obj = make()
        torch.save(obj, os.path.join(HERE, f"{name}.pt"))
        if name not in ("bfloat16", "complex", "uint16"):
            tensors(obj, name, expected)
    np.savez(os.path.join(HERE, "expected.npz"), **expected)


if __name__ == "__main__":
    main()
