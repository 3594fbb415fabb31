"""A product's bits do not depend on the thread count: the threads split C into tiles, share A
packed once when they split along N (B along M), and every element's sum keeps the K blocking of one
thread. Shapes with several row, column and K blocks, transposed and strided A, float16 operands."""

import numpy as np
import pytest
import tapegrad as tg

SHAPES = [(256, 1024, 1024), (300, 700, 600), (64, 256, 784), (145, 2000, 257), (7, 900, 1000),
          (1000, 300, 50), (150, 4100, 300), (1000, 300, 600), (2000, 70, 300)]  # fmt: skip


def _at(threads, fn):
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        return fn().numpy().tobytes()
    finally:
        tg.set_num_threads(old)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_product_bits_do_not_depend_on_threads(m, n, k, dtype):
    rng = np.random.default_rng(m + 7 * n + 13 * k)
    a = tg.tensor(rng.standard_normal((m, k)).astype(dtype))
    at = tg.tensor(rng.standard_normal((k, m)).astype(dtype)).t()
    b = tg.tensor(rng.standard_normal((k, n)).astype(dtype))
    for fn in (lambda: a @ b, lambda: at @ b, lambda: a[:, ::2] @ b[::2]):
        assert _at(1, fn) == _at(2, fn)
