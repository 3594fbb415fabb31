"""Checkpoints cross between tapegrad and PyTorch: tg.save -> torch.load(weights_only=True) and
torch.save -> tg.load, for a model and its optimizer. The state crosses bit for bit and a run
resumed from the other library's file continues on exactly its own bits; the two libraries'
outputs from the same weights agree to an ulp (their matmuls sum in different orders). Needs
PyTorch (skipped without it)."""

import numpy as np
import pytest
import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(6, 4)
Y = np.array([0, 2, 1, 1, 0, 2])


def _models(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))


OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01))]


def _step(lib, model, opt):
    opt.zero_grad()
    loss = lib.nn.functional.cross_entropy(model(lib.tensor(X)), lib.tensor(Y))
    loss.backward()
    opt.step()


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def _assert_bits(a, b):
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


def _state_bits(sd):
    """A state dict's tensors as raw bytes (optimizer state dicts: the per-parameter state)."""
    if "state" in sd:
        sd = {f"{i}.{k}": v for i, st in sd["state"].items() for k, v in st.items()}
    return {k: (str(v.dtype), tuple(v.shape), v.detach().numpy().tobytes()) for k, v in sd.items()}


def _close(a, b):
    # the two libraries' matmul kernels sum in different orders: up to an ulp apart
    for x, y in zip(a, b) if isinstance(a, list) else [(a, b)]:
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, kw", OPTIMIZERS)
def test_tapegrad_to_torch(tmp_path, name, kw):
    model = _models(tg)
    opt = getattr(tg.optim, name)(model.parameters(), **kw)
    for _ in range(3):
        _step(tg, model, opt)
    ck = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}
    tg.save(ck, tmp_path / "c.pt")

    theirs_ck = torch.load(tmp_path / "c.pt", weights_only=True)
    assert theirs_ck["epoch"] == 3
    assert _state_bits(theirs_ck["model"]) == _state_bits(ck["model"])
    assert _state_bits(theirs_ck["optimizer"]) == _state_bits(ck["optimizer"])
    theirs = _models(torch)
    theirs.load_state_dict(theirs_ck["model"])
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    topt.load_state_dict(theirs_ck["optimizer"])
    with torch.no_grad():
        _close(theirs(torch.tensor(X)).numpy(), model(tg.tensor(X)).detach().numpy())
    # back through torch.save: tapegrad resumes on exactly the bits it would have had
    torch.save({"model": theirs.state_dict(), "optimizer": topt.state_dict()}, tmp_path / "d.pt")
    back = tg.load(tmp_path / "d.pt")
    resumed = _models(tg)
    resumed.load_state_dict(back["model"])
    ropt = getattr(tg.optim, name)(resumed.parameters(), **kw)
    ropt.load_state_dict(back["optimizer"])
    _step(tg, model, opt)
    _step(tg, resumed, ropt)
    _assert_bits(_params(resumed), _params(model))
    _step(torch, theirs, topt)
    _close(_params(theirs), _params(model))


@pytest.mark.parametrize("name, kw", OPTIMIZERS)
def test_torch_to_tapegrad(tmp_path, name, kw):
    theirs = _models(torch)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    for _ in range(3):
        _step(torch, theirs, topt)
    ck = {"epoch": 3, "model": theirs.state_dict(), "optimizer": topt.state_dict()}
    torch.save(ck, tmp_path / "c.pt")

    back = tg.load(tmp_path / "c.pt")
    assert back["epoch"] == 3
    assert _state_bits(back["model"]) == _state_bits(ck["model"])
    assert _state_bits(back["optimizer"]) == _state_bits(ck["optimizer"])
    model = _models(tg)
    model.load_state_dict(back["model"])
    opt = getattr(tg.optim, name)(model.parameters(), **kw)
    opt.load_state_dict(back["optimizer"])
    with torch.no_grad():
        _close(model(tg.tensor(X)).detach().numpy(), theirs(torch.tensor(X)).numpy())
    # back through tg.save: torch resumes on exactly the bits it would have had
    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "d.pt")
    again = torch.load(tmp_path / "d.pt", weights_only=True)
    resumed = _models(torch)
    resumed.load_state_dict(again["model"])
    ropt = getattr(torch.optim, name)(resumed.parameters(), **kw)
    ropt.load_state_dict(again["optimizer"])
    _step(torch, theirs, topt)
    _step(torch, resumed, ropt)
    _assert_bits(_params(resumed), _params(theirs))
    _step(tg, model, opt)
    _close(_params(model), _params(theirs))


def test_every_dtype_and_shared_views_both_ways(tmp_path):
    names = ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
    sd = {n: tg.tensor(np.arange(-2, 4).astype(getattr(tg, n).np)).reshape(2, 3) for n in names}
    sd["scalar"] = tg.tensor(1.5)
    tg.save(sd, tmp_path / "a.pt")
    got = torch.load(tmp_path / "a.pt", weights_only=True)
    for k, v in sd.items():
        assert str(got[k].dtype) == str(v.dtype) and got[k].numpy().tobytes() == v.numpy().tobytes()

    x = torch.arange(12.0).reshape(3, 4)
    torch.save({"x": x, "t": x.t(), "row": x[1]}, tmp_path / "v.pt")
    back = tg.load(tmp_path / "v.pt")
    assert back["t"].stride() == (1, 4) and back["t"].tolist() == x.t().tolist()
    with tg.no_grad():
        back["x"][1, 0] = -1.0
    assert back["row"][0].item() == -1.0 and back["t"][0, 1].item() == -1.0
