"""Copies out of transposed and permuted views (contiguous(), dtype conversions, copy_ into a
view) against NumPy: large ones go through 16 x 16 tiles, whose edges and outer dims these shapes
reach."""

import numpy as np
import pytest
import tapegrad as tg

PERMS = [((40, 33), (1, 0)), ((3, 17, 50), (0, 2, 1)), ((9, 8, 31), (2, 1, 0)),
         ((4, 20, 3, 18), (0, 3, 2, 1)), ((2, 3, 16, 16), (1, 0, 3, 2)),
         ((300, 129), (1, 0)), ((7, 5), (1, 0))]  # fmt: skip


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,perm", PERMS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "int64", "bool"])
def test_contiguous_of_a_permuted_view(shape, perm, dtype, threads):
    rng = np.random.default_rng(len(shape) * 31 + shape[-1])
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        got = tg.tensor(a).permute(*perm).contiguous()
        assert got.is_contiguous()
        want = np.ascontiguousarray(a.transpose(perm))
        assert got.numpy().tobytes() == want.tobytes()
    finally:
        tg.set_num_threads(old)


@pytest.mark.parametrize("src,dst", [("float32", "float16"), ("float16", "float32")])
def test_converting_a_transposed_view(src, dst):
    a = np.random.default_rng(1).standard_normal((70, 45)).astype(src)
    got = tg.tensor(a).t().to(getattr(tg, dst))
    assert got.numpy().tobytes() == np.ascontiguousarray(a.T.astype(dst)).tobytes()


def test_copy_into_a_transposed_view():
    a = np.random.default_rng(2).standard_normal((64, 48)).astype(np.float32)
    dst = tg.zeros(48, 64)
    dst.t().copy_(tg.tensor(a))
    assert dst.numpy().tobytes() == np.ascontiguousarray(a.T).tobytes()
    b = tg.tensor(a).t()  # a strided source into a strided destination
    out = tg.zeros(64, 48).t()
    out.copy_(b)
    assert out.numpy().tobytes() == np.ascontiguousarray(a.T).tobytes()


def test_copy_between_views_of_one_storage():
    """A source that shares the destination's storage is copied element by element."""
    x = tg.arange(64 * 64, dtype=tg.float32).reshape(64, 64)
    ref = x.numpy().copy()
    x[:32, :32].copy_(x[32:, :32].t())
    ref[:32, :32] = ref[32:, :32].T.copy()
    assert x.numpy().tobytes() == ref.tobytes()
