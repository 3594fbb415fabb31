"""tg.save / tg.load against hostile or odd files: what load inflates is bounded before anything
is inflated, an entry may not declare more data than it holds, save refuses unsafe key names,
and every dtype tapegrad has comes back as a tensor of that dtype."""

import io
import zipfile

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import serialization


def _npy(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def test_every_dtype_round_trips_as_a_tensor(backend, tmp_path):
    sd = {
        name: tg.tensor(np.arange(4).astype(getattr(tg, name).np), backend=backend)
        for name in ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8")
    }
    sd["bool"] = tg.tensor([True, False], backend=backend)
    tg.save(sd, tmp_path / "all.npz")
    out = tg.load(tmp_path / "all.npz", backend=backend)
    for name, t in sd.items():
        assert out[name].dtype is t.dtype and out[name].tolist() == t.tolist()


def _deflated(path, arr):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.npy", _npy(arr))


def test_an_archive_inflating_beyond_its_ratio_is_refused(tmp_path, monkeypatch):
    # zeros deflate about 1000:1; with the bound at 10x the file the archive is refused
    _deflated(tmp_path / "z.npz", np.zeros(1_000_000, np.uint8))
    monkeypatch.setattr(serialization, "MAX_RATIO", 10)
    with pytest.raises(ValueError, match="would inflate too far.*at most 10x"):
        tg.load(tmp_path / "z.npz")


def test_an_archive_beyond_the_absolute_cap_is_refused(tmp_path, monkeypatch):
    tg.save({"a": tg.ones(1000)}, tmp_path / "a.npz")
    monkeypatch.setattr(serialization, "MAX_BYTES", 1000)
    with pytest.raises(ValueError, match="would inflate too far"):
        tg.load(tmp_path / "a.npz")


def test_an_honest_compressed_archive_loads(tmp_path):
    _deflated(tmp_path / "z.npz", np.zeros(1_000_000, np.float32))
    assert tg.load(tmp_path / "z.npz")["a"].shape == (1_000_000,)


def test_an_entry_declaring_more_than_it_holds_is_refused(tmp_path):
    # a header for 10**9 float32 values followed by 16 bytes: refused before allocating 4 GB
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (10**9,)}
    )
    buf.write(bytes(16))
    with zipfile.ZipFile(tmp_path / "lie.npz", "w") as zf:
        zf.writestr("a.npy", buf.getvalue())
    with pytest.raises(ValueError, match="declares 4000000000 bytes .* but holds 16"):
        tg.load(tmp_path / "lie.npz")


@pytest.mark.parametrize("key", ["", "../x", "/abs", "a/b", ".hidden", "a\x00b", "x" * 1001])
def test_save_refuses_unsafe_key_names(tmp_path, key):
    with pytest.raises(ValueError, match="invalid state dict key"):
        tg.save({key: tg.ones(1)}, tmp_path / "k.npz")


def test_pytorch_style_key_names_are_safe(tmp_path):
    sd = {"layers.0.weight": tg.ones(1), "bn.num_batches_tracked": tg.tensor(3)}
    tg.save(sd, tmp_path / "ok.npz")
    assert list(tg.load(tmp_path / "ok.npz")) == list(sd)


def test_a_nested_checkpoint_round_trips(tmp_path, backend):
    """PyTorch's checkpoint idiom: a dict of state dicts, an epoch and a loss, without pickle."""
    with tg.use_backend(backend):
        tg.manual_seed(0)
        model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.ReLU(), tg.nn.Linear(4, 1))
        opt = tg.optim.Adam(model.parameters(), lr=0.01)
        model(tg.randn(5, 3)).sum().backward()
        opt.step()
        ckpt = {"epoch": 7, "loss": 0.25, "note": "best", "model": model.state_dict(),
                "optimizer": opt.state_dict(), "history": [1.0, 0.5], "shape": (3, 4)}  # fmt: skip
        path = tmp_path / "ckpt.pt"
        tg.save(ckpt, path)
        back = tg.load(path)
    assert back["epoch"] == 7 and back["loss"] == 0.25 and back["note"] == "best"
    assert back["history"] == [1.0, 0.5] and back["shape"] == (3, 4)
    assert list(back["model"]) == list(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    other = tg.optim.Adam(model.parameters(), lr=0.01)
    other.load_state_dict(back["optimizer"])
    assert other.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
