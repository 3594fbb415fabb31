"""PyTorch's checkpoint format without PyTorch: files torch.save wrote (tests/golden/pt) load with
their dtypes, values, nesting and shared storages; tg.save's files round-trip; hostile archives
are refused with a ValueError before anything in them runs."""

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import tapegrad as tg

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "pt")
EXPECTED = np.load(os.path.join(GOLDEN, "expected.npz"), allow_pickle=False)


def _golden(name, backend):
    with tg.use_backend(backend):
        return tg.load(os.path.join(GOLDEN, f"{name}.pt"))


def _same(t, key):
    want = EXPECTED[key]
    assert isinstance(t, tg.Tensor) and t.dtype.np == want.dtype, key
    assert tuple(t.shape) == want.shape, key
    np.testing.assert_array_equal(t.detach().numpy(), want, strict=True)


def test_a_state_dict(backend):
    sd = _golden("state_dict", backend)
    assert type(sd) is OrderedDict
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked"]  # fmt: skip
    for k, v in sd.items():
        _same(v, f"state_dict/{k}")
        assert v.backend == backend and not v.requires_grad
    assert sd["1.num_batches_tracked"].dtype is tg.int64 and sd["1.num_batches_tracked"].shape == ()
    assert sd._metadata["1"] == {"version": 2}  # BatchNorm's, as PyTorch keeps it
    model = tg.nn.Sequential(tg.nn.Linear(3, 2), tg.nn.BatchNorm1d(2))
    model.load_state_dict(sd)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), EXPECTED["state_dict/0.weight"])


def test_every_dtype(backend):
    out = _golden("dtypes", backend)
    for k, v in out.items():
        _same(v, f"dtypes/{k}")
    assert out["uint8"].tolist() == [[254, 255, 0], [1, 2, 3]]
    assert out["scalar"].shape == () and out["empty"].shape == (0, 3)
    assert np.signbit(out["nan_inf"].numpy()[2])


def test_views_share_their_storage(backend):
    out = _golden("views", backend)
    for k, v in out.items():
        _same(v, f"views/{k}")
    assert out["same"] is out["x"]  # one tensor saved twice is one tensor
    assert out["t"].stride() == (1, 4) and out["step"].stride() == (8, 2)
    with tg.no_grad():
        out["x"][1, 2] = 100.0
    assert out["row"][2].item() == 100.0 and out["t"][2, 1].item() == 100.0
    assert out["col"][1].item() == 100.0


def test_a_nested_checkpoint(backend):
    ck = _golden("checkpoint", backend)
    assert ck["epoch"] == 4 and ck["loss"] == 0.125
    assert ck["history"] == [1.0, 0.5, None, True, "text"]
    assert ck["shape"] == (2, 3) and ck["dtype"] is tg.float16
    assert ck["int_keys"] == {0: "a", -7: (1, 2)}
    assert isinstance(ck["param"], tg.nn.Parameter) and ck["param"].requires_grad
    _same(ck["param"], "checkpoint/param")
    for k, v in ck["model"].items():
        _same(v, f"checkpoint/model/{k}")
    opt = ck["optimizer"]
    group = opt["param_groups"][0]
    assert group["params"] == [0, 1] and group["betas"] == (0.9, 0.999) and group["lr"] == 0.01
    assert list(opt["state"]) == [0, 1] and list(opt["state"][0]) == [
        "step",
        "exp_avg",
        "exp_avg_sq",
    ]
    for i in (0, 1):
        for k, v in opt["state"][i].items():
            _same(v, f"checkpoint/optimizer/state/{i}/{k}")
    model = tg.nn.Linear(2, 2)
    model.load_state_dict(ck["model"])
    adam = tg.optim.Adam(model.parameters(), lr=0.5)
    adam.load_state_dict(opt)
    assert adam.param_groups[0]["lr"] == 0.01


@pytest.mark.parametrize("name, dtype", [("bfloat16", "BFloat16"), ("complex", "ComplexFloat"),
                                         ("uint16", "uint16")])  # fmt: skip
def test_dtypes_tapegrad_lacks_are_refused(name, dtype):
    with pytest.raises(ValueError, match=f"{dtype}.*tapegrad has no such dtype"):
        tg.load(os.path.join(GOLDEN, f"{name}.pt"))


def test_round_trip(backend, tmp_path):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.ReLU(), tg.nn.Linear(4, 1))
        opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(tg.randn(5, 3)).sum().backward()
        opt.step()
        x = tg.arange(6.0).reshape(2, 3)
        ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2,
              "misc": (None, -(2**70), 1e-300, "é", b"\x00\xff", {3, 4}), "x": x, "again": x,
              "f16": tg.tensor([1.5, -0.0], dtype=tg.float16), "np": np.arange(3, dtype=np.int8),
              "p": tg.nn.Parameter(tg.ones(2))}  # fmt: skip
        tg.save(ck, tmp_path / "ck.pt")
        back = tg.load(tmp_path / "ck.pt")
    assert zipfile.ZipFile(tmp_path / "ck.pt").read("archive/version") == b"3\n"
    assert back["epoch"] == 2 and back["misc"] == ck["misc"] and back["again"] is back["x"]
    assert back["np"].dtype is tg.int8 and back["np"].tolist() == [0, 1, 2]
    assert back["f16"].dtype is tg.float16 and np.signbit(back["f16"].numpy()[1])
    assert isinstance(back["p"], tg.nn.Parameter)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy(), strict=True)
    assert back["optimizer"]["param_groups"] == opt.state_dict()["param_groups"]
    momentum = back["optimizer"]["state"][0]["momentum_buffer"]
    np.testing.assert_array_equal(momentum.numpy(), opt.state_dict()["state"][0]["momentum_buffer"])


def test_the_npz_format_stays_available(tmp_path):
    tg.save({"w": tg.ones(2)}, tmp_path / "a.npz")
    tg.save({"w": tg.ones(2)}, tmp_path / "b.bin", format="npz")
    for name in ("a.npz", "b.bin"):
        assert zipfile.ZipFile(tmp_path / name).namelist() == ["w.npy"]
        assert tg.load(tmp_path / name)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="format must be"):
        tg.save({}, tmp_path / "c", format="pickle")


def test_save_refuses_what_a_weights_only_loader_would():
    for obj in (
        {"f": print},
        {"o": object()},
        [np.ones(2, np.complex64)],
        {"m": tg.nn.Linear(1, 1)},
    ):
        with pytest.raises(TypeError, match="without pickle|dtype complex64"):
            tg.save(obj, io.BytesIO())
    x = tg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="non-leaf tensor which requires_grad"):
        tg.save({"x": x}, io.BytesIO())


# ---------------------------------------------------------------- hostile archives


def _archive(pkl, records=None, prefix="archive/"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(prefix + "data.pkl", pkl)
        for name, data in (records or {}).items():
            zf.writestr(prefix + name, data)
        zf.writestr(prefix + "version", b"3\n")
    return buf.getvalue()


def _load(data):
    return tg.load(io.BytesIO(data))


class _Call:
    """Pickles as a call of `fn(*args)`: what a hostile checkpoint would hold."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _tensor_pkl(numel, offset, size, stride, storage="FloatStorage"):
    """A protocol 2 pickle of one _rebuild_tensor_v2 call over storage '0', as torch.save writes."""
    return (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage"
        + f"ctorch\n{storage}\n".encode()
        + b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
        + b"J" + numel.to_bytes(4, "little", signed=True)
        + b"tQJ" + offset.to_bytes(4, "little", signed=True)
        + b"(" + b"".join(b"J" + n.to_bytes(4, "little", signed=True) for n in size) + b"t"
        + b"(" + b"".join(b"J" + n.to_bytes(4, "little", signed=True) for n in stride) + b"t"
        + b"\x89ccollections\nOrderedDict\n)RtR."
    )  # fmt: skip


def test_a_hand_written_tensor_pickle_is_what_torch_writes():
    data = _archive(_tensor_pkl(4, 1, (3,), (1,)), {"data/0": np.arange(4, dtype="<f4").tobytes()})
    assert _load(data).tolist() == [1.0, 2.0, 3.0]


HOSTILE = {
    "os.system": (pickle.dumps(_Call(os.system, "echo pwned >&2")), r"\.system is not admitted"),
    "builtins.eval": (pickle.dumps(_Call(eval, "1")), "builtins.eval is not admitted"),
    "getattr": (pickle.dumps(_Call(getattr, 1, "real")), "builtins.getattr is not admitted"),
    "REDUCE of a storage class": (
        b"\x80\x02ctorch\nFloatStorage\n)R.",
        "REDUCE of .* not an admitted callable",
    ),
    "BUILD on a list": (b"\x80\x02]}X\x01\x00\x00\x00aK\x01sb.", "BUILD on a list"),
    "BUILD setting a dunder": (
        b"\x80\x02ccollections\nOrderedDict\n)R}X\x09\x00\x00\x00__class__K\x01sb.",
        "attribute '__class__'",
    ),
    "NEWOBJ": (b"\x80\x02ccollections\nOrderedDict\n)\x81.", "not a checkpoint pickle"),
    "SETITEM on a tensor": (
        _tensor_pkl(4, 0, (4,), (1,))[:-1] + b"K\x00K\x01s.",
        "items added to a",
    ),
    "not a pickle": (b"this is not a pickle at all", "not a checkpoint pickle"),
    "empty pickle": (b"", "not a checkpoint pickle"),
    "storage larger than its record": (
        _tensor_pkl(1000, 0, (1000,), (1,)),
        "declares 4000 bytes but the archive holds 16",
    ),
    "view past its storage": (_tensor_pkl(4, 2, (3,), (1,)), "reaches past its storage"),
    "negative offset": (_tensor_pkl(4, -1, (2,), (1,)), "reaches past|negative"),
    "huge offset": (_tensor_pkl(4, 2**31 - 1, (1,), (1,)), "reaches past its storage"),
    "negative size": (_tensor_pkl(4, 0, (-2,), (1,)), "negative entry"),
    "negative stride": (_tensor_pkl(4, 3, (2,), (-1,)), "negative entry"),
    "huge stride-0 tensor": (_tensor_pkl(4, 0, (2**30, 2**30), (0, 0)), "more than"),
    "a missing record": (_tensor_pkl(4, 0, (4,), (1,)).replace(b"\x000X", b"\x009X"), "no record"),
    "a foreign storage": (_tensor_pkl(4, 0, (2,), (1,), "ComplexDoubleStorage"), "no such dtype"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_archives_are_refused(name, capfd):
    pkl, match = HOSTILE[name]
    with pytest.raises(ValueError, match=f"PyTorch checkpoint tapegrad refuses to load: .*{match}"):
        _load(_archive(pkl, {"data/0": np.arange(4, dtype="<f4").tobytes()}))
    assert "pwned" not in capfd.readouterr().err  # nothing ran


def test_truncated_and_flipped_archives_raise_value_errors_only(tmp_path):
    buf = io.BytesIO()
    tg.save({"w": tg.arange(40.0), "n": [1, (2, "x")], "o": OrderedDict(a=tg.ones(2))}, buf)
    data = buf.getvalue()
    for cut in range(0, len(data), 7):
        with pytest.raises(ValueError):
            _load(data[:cut])
    rng = np.random.default_rng(0)
    for _ in range(300):  # a flipped byte: a CRC or header error, or a refused pickle
        bad = bytearray(data)
        bad[rng.integers(len(bad))] ^= 1 << int(rng.integers(8))
        try:
            _load(bytes(bad))
        except ValueError:
            pass


def test_a_bare_pickle_is_still_refused():
    with pytest.raises(ValueError, match="is a Python pickle"):
        _load(pickle.dumps({"w": 1}, protocol=2))
    with pytest.raises(ValueError, match="weights_only=False"):
        tg.load(io.BytesIO(_archive(pickle.dumps({}))), weights_only=False)
    assert tg.load(io.BytesIO(_archive(pickle.dumps({"a": [1]}))), weights_only=True) == {"a": [1]}
