"""DLPack with PyTorch itself: zero-copy both ways, every dtype, strided views, lifetimes, and
the same errors as PyTorch's own tensors give."""

import gc

import numpy as np
import pytest
import tapegrad as tg
from test_dlpack import DTYPES, on_backend, one  # noqa: F401 - on_backend is an autouse fixture

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dt", DTYPES)
def test_both_ways_share_memory(dt):
    t = tg.zeros(2, 3, dtype=getattr(tg, dt))
    p = torch.from_dlpack(t)
    assert p.dtype is getattr(torch, dt) and p.shape == (2, 3)
    p[0, 1] = one(dt)
    assert t[0, 1].item() == one(dt)
    t[1, 2] = one(dt)
    assert p[1, 2].item() == one(dt)

    p = torch.zeros(2, 3, dtype=getattr(torch, dt))
    u = tg.from_dlpack(p)
    assert u.dtype is getattr(tg, dt)
    p[1, 0] = one(dt)
    assert u[1, 0].item() == one(dt)
    u[0, 2] = one(dt)
    assert p[0, 2].item() == one(dt)


def test_strides_match_pytorch():
    t = tg.arange(12.0).reshape(3, 4)
    p = torch.arange(12.0).reshape(3, 4)
    pairs = [
        (t.t(), p.t()),
        (t[:, ::2], p[:, ::2]),
        (t[1], p[1]),
        (tg.tensor(5.0), torch.tensor(5.0)),
        (tg.ones(3).expand(2, 3), torch.ones(3).expand(2, 3)),
    ]
    for ours, theirs in pairs:
        exported = torch.from_dlpack(ours)
        assert exported.stride() == theirs.stride()
        assert exported.tolist() == theirs.tolist()
        imported = tg.from_dlpack(theirs)
        assert imported.stride() == theirs.stride()
        assert imported.tolist() == theirs.tolist()


def test_lifetimes():
    t = tg.arange(5.0)
    p = torch.from_dlpack(t)
    del t
    gc.collect()
    tg.zeros(10_000)
    assert p.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    p = torch.arange(5.0)
    t = tg.from_dlpack(p)
    del p
    gc.collect()
    torch.ones(10_000)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_capsules_both_ways():
    t = tg.arange(3.0)
    p = torch.utils.dlpack.from_dlpack(tg.utils.dlpack.to_dlpack(t))
    p[0] = 7.0
    assert t[0].item() == 7.0
    u = tg.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(p))
    u[1] = 8.0
    assert p.tolist() == [7.0, 8.0, 2.0]
    assert torch.from_dlpack(t.__dlpack__(max_version=(1, 0))).tolist() == [7.0, 8.0, 2.0]


def test_device_as_pytorch():
    assert tg.ones(1).__dlpack_device__() == torch.ones(1).__dlpack_device__()
    assert repr(tg.ones(1).__dlpack_device__()) == repr(torch.ones(1).__dlpack_device__())


def raised(fn):
    try:
        fn()
    except Exception as e:  # any error: its type and message are compared
        return type(e), str(e)
    return None


def test_errors_match_pytorch():
    def both(call):
        assert raised(lambda: call(tg)) == raised(lambda: call(torch))

    both(lambda m: m.ones(2, requires_grad=True).__dlpack__())
    both(lambda m: np.from_dlpack(m.ones(2, requires_grad=True)))
    both(lambda m: m.ones(2).__dlpack__(stream=1))
    both(lambda m: m.ones(2).__dlpack__(stream="s"))
    both(lambda m: m.ones(2).__dlpack__(dl_device=(1, 0)))
    both(lambda m: m.ones(2).__dlpack__(max_version=(0, 5)))
    both(lambda m: m.ones(2).__dlpack__(max_version=(2, 0)))
    for bad in ([1, 2], 3, "x", None):
        both(lambda m, bad=bad: m.from_dlpack(bad))
    both(lambda m: m.from_dlpack(np.ones(2), device="cuda"))

    def twice(m):
        c = m.utils.dlpack.to_dlpack(m.ones(2))
        m.from_dlpack(c)
        m.from_dlpack(c)

    both(twice)
    # across libraries: a tensor that requires grad is refused by the consumer either way
    with pytest.raises(BufferError, match="require gradient"):
        torch.from_dlpack(tg.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="require gradient"):
        tg.from_dlpack(torch.ones(2, requires_grad=True))
