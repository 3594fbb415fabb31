"""PyTorch programs that use only tapegrad's subset run unchanged with `import tapegrad as torch`.

No test here needs PyTorch. If it happens to be installed, the last tests compare tapegrad's
optimizers with PyTorch's own (skipped otherwise)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tapegrad as tg

# Subprocesses import the same tapegrad as this process (installed or in-tree).
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Written for PyTorch; only the first line differs from a PyTorch script.
PROGRAM = textwrap.dedent(
    """
    import tapegrad as torch

    nn = torch.nn
    optim = torch.optim
    F = torch.nn.functional


    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.layer1 = nn.Linear(10, 8)
            self.layer2 = nn.Linear(8, 1)

        def forward(self, x):
            x = torch.relu(self.layer1(x))
            return torch.tanh(self.layer2(x))


    torch.manual_seed(0)
    net = Net()
    input_batch = torch.randn(64, 10)
    target_batch = torch.randn(64, 1)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for epoch in range(20):
        output_batch = net(input_batch)
        loss = criterion(output_batch, target_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if epoch % 5 == 0:
            print(f"Epoch: {epoch} Loss: {loss:.4f}")
    assert losses[-1] < losses[0]

    adam = optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999))
    l1 = F.l1_loss(net(input_batch), target_batch)
    adam.zero_grad()
    l1.backward()
    adam.step()

    # The quadratic tutorial: linspace with steps=, [:, None], randn(x.shape), requires_grad_,
    # torch.abs, in-place update under no_grad, f-string formatting of a loss.
    x = torch.linspace(-2, 2, steps=20)[:, None]
    y = 3 * x**2 + 2 * x + 1 + torch.randn(x.shape) * 0.1
    abc = torch.tensor([1.1, 1.1, 1.1])
    abc.requires_grad_()
    for i in range(5):
        a, b, c = abc
        loss = torch.abs(a * x**2 + b * x + c - y).mean()
        loss.backward()
        with torch.no_grad():
            abc -= abc.grad * 0.01
        print(f"step={i}; loss={loss:.2f}")

    # float16, .data read and write, param.copy_, str(dtype).
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)
            self.half()

        def forward(self, x):
            return self.linear(x.half())

    model = Model()
    print(f"{model=}")
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[0.5]], dtype=torch.float16))
    model.linear.bias.data = torch.tensor([0.25], dtype=torch.float16)
    out = model(torch.tensor([1.0]))
    assert out.item() == 0.75, out
    assert str(out.dtype).endswith("float16"), str(out.dtype)
    assert model.linear.weight.data.item() == 0.5
    for name, param in model.named_parameters():
        print(name, param.data, param.tolist())
    sd = model.state_dict()
    model.load_state_dict(sd)

    import numpy as np

    arr = np.asarray(x)  # what plt.scatter(x, y) does with tensors
    assert arr.shape == (20, 1)
    result = {"losses": losses}
    """
)

# The same kind of program with PyTorch's usual imports, run through a `torch` alias.
IMPORTS_PROGRAM = textwrap.dedent(
    """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch import nn as nn2

    assert nn is nn2
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = torch.randn(16, 2)
    y = (x[:, :1] * 2 - x[:, 1:]).detach()
    first = None
    for _ in range(50):
        loss = F.mse_loss(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"loss {first:.3f} -> {loss:.3f}")
    assert loss.item() < first
    """
)


def test_pytorch_program_runs_with_import_tapegrad_as_torch(backend, capsys):
    ns = {}
    with tg.use_backend(backend):
        exec(compile(PROGRAM, "<pytorch program>", "exec"), ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "Epoch: 0 Loss:" in out and "step=4; loss=" in out
    assert "model=Model(\n  (linear): Linear(in_features=1, out_features=1, bias=True)\n)" in out
    assert ns["result"]["losses"][-1] < ns["result"]["losses"][0]


@pytest.mark.parametrize("backend_name", ["cpp", "numpy"])
def test_pytorch_imports_through_a_torch_alias(backend_name, tmp_path):
    # `import torch.nn as nn` needs a module named torch: alias tapegrad's modules, then run the
    # program text unchanged (in a subprocess, so the alias never leaks into other tests).
    runner = textwrap.dedent(
        f"""
        import sys
        import tapegrad, tapegrad.nn, tapegrad.nn.functional, tapegrad.optim
        for name in ("", ".nn", ".nn.functional", ".optim"):
            sys.modules["torch" + name] = sys.modules["tapegrad" + name]
        tapegrad.set_backend({backend_name!r})
        exec(open(sys.argv[1]).read())
        """
    )
    prog = tmp_path / "program.py"
    prog.write_text(IMPORTS_PROGRAM)
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT)
    res = subprocess.run([sys.executable, "-c", runner, str(prog)], capture_output=True,
                         text=True, env=env, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "loss" in res.stdout


def test_compat_names():
    for name in ("nn", "optim", "no_grad", "relu", "tanh", "abs", "linspace", "randn", "save",
                 "load", "float16", "float32", "manual_seed", "tensor"):  # fmt: skip
        assert hasattr(tg, name), name
    for name in ("Module", "Parameter", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid",
                 "MSELoss", "L1Loss", "functional"):  # fmt: skip
        assert hasattr(tg.nn, name), name
    assert hasattr(tg.optim, "SGD") and hasattr(tg.optim, "Adam")
    assert str(tg.float16) == "torch.float16"  # as programs print it


# ---------------------------------------------------------------- optional: against PyTorch


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sgd_matches_installed_pytorch(backend, dtype):
    torch = _torch()
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=5).astype(dtype)
    grads = [rng.normal(size=5).astype(dtype) for _ in range(5)]
    kw = dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = torch.optim.SGD([tp], foreach=False, **kw)
    gp = tg.nn.Parameter(tg.tensor(p0, backend=backend))
    gopt = tg.optim.SGD([gp], **kw)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
        gp.grad = tg.tensor(g, backend=backend)
        gopt.step()
        np.testing.assert_array_equal(gp.numpy(force=True), tp.detach().numpy())


def test_adam_matches_installed_pytorch(backend):
    torch = _torch()
    rng = np.random.default_rng(1)
    p0 = rng.normal(size=7).astype(np.float32)
    grads = [rng.normal(size=7).astype(np.float32) for _ in range(5)]
    kw = dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = torch.optim.Adam([tp], foreach=False, **kw)
    gp = tg.nn.Parameter(tg.tensor(p0, backend=backend))
    gopt = tg.optim.Adam([gp], **kw)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
        gp.grad = tg.tensor(g, backend=backend)
        gopt.step()
    np.testing.assert_allclose(gp.numpy(force=True), tp.detach().numpy(), rtol=1e-6, atol=1e-7)
