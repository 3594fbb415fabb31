"""The collectives of tapegrad.distributed on every rank (CI: mpiexec -n 2 python -m pytest -q
-p no:cacheprovider tests/mpi/mpi_collectives.py).

Each rank builds data from its rank that every rank can rebuild, so the expected results come
from first principles. Every test makes the same calls in the same order on every rank; checks
come after the collectives, so a failed assert on one rank never leaves the other one waiting.
"""

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.distributed as dist

FLOATS = ("float16", "float32", "float64")
INTS = ("int8", "uint8", "int16", "int32", "int64")
DTYPES = FLOATS + INTS + ("bool",)
N = 48  # elements per rank: past any small-message path
FLOAT_OPS = ("SUM", "PRODUCT", "MIN", "MAX", "AVG")
INT_OPS = ("SUM", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR")
REDUCE_CASES = [(d, op) for d in FLOATS for op in FLOAT_OPS]
REDUCE_CASES += [(d, op) for d in INTS + ("bool",) for op in INT_OPS]


def rank():
    return dist.get_rank()


def world():
    return dist.get_world_size()


def data(dtype, r, n=N):
    """Rank r's values: floats small and exact; integers spread over their range, so sums and
    products wrap around (as PyTorch's; Open MPI's vector SUM of 8- and 16-bit integers
    saturates instead)."""
    i = np.arange(n, dtype=np.int64)
    if dtype == "bool":
        return ((i >> r) & 1).astype(bool)  # every combination of the ranks' bits
    if dtype in FLOATS:  # multiples of 1/4, none zero: exact sums, no signed zeros
        return (((i % 9) - 4) * 0.5 + (r + 1) * 0.25).astype(dtype)
    wide = (i * 37 + r * 11) % 251 - 120 + 3 * r
    if dtype != "uint8":  # to near the ends of the range, so sums and products overflow
        wide = wide * (np.iinfo(dtype).max // 127)
    return wide.astype(dtype)


def combine(a, b, op):
    if a.dtype == np.bool_:
        return {"SUM": a | b, "MAX": a | b, "BOR": a | b, "BXOR": a ^ b}.get(op, a & b)
    if a.dtype == np.float16 and op in ("SUM", "AVG", "PRODUCT"):
        # each step in float32, rounded once to half
        f32 = (a.astype(np.float32), b.astype(np.float32))
        return (f32[0] * f32[1] if op == "PRODUCT" else f32[0] + f32[1]).astype(np.float16)
    return {
        "SUM": np.add,
        "AVG": np.add,
        "PRODUCT": np.multiply,
        "MIN": np.minimum,
        "MAX": np.maximum,
        "BAND": np.bitwise_and,
        "BOR": np.bitwise_or,
        "BXOR": np.bitwise_xor,
    }[op](a, b)


def reduced(dtype, op, n=N, make=data):
    acc = make(dtype, 0, n)
    for r in range(1, world()):
        acc = combine(acc, make(dtype, r, n), op)
    if op == "AVG" and dtype == "float16":  # float32 division, one rounding (PyTorch's div)
        acc = (acc.astype(np.float32) / np.float32(world())).astype(np.float16)
    elif op == "AVG":
        acc = acc / acc.dtype.type(world())
    return acc


def check(t, want):
    """t holds exactly want: same dtype, same bits."""
    got = t.numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert got.tobytes() == np.ascontiguousarray(want).tobytes()


@pytest.mark.parametrize("async_op", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("dtype,op", REDUCE_CASES)
def test_all_reduce(backend, dtype, op, async_op):
    x = tg.tensor(data(dtype, rank()))
    seen = x.numpy()  # a view taken before: the result must land in this very memory
    version = x._version
    got = dist.all_reduce(x, op=getattr(dist.ReduceOp, op), async_op=async_op)
    if async_op:
        assert isinstance(got, dist.Work)
        assert got.wait() is True
        assert got.is_completed()
        assert got.result()[0] is x
    else:
        assert got is None
    want = reduced(dtype, op)
    check(x, want)
    np.testing.assert_array_equal(seen, want)
    assert x._version == version  # as PyTorch: a collective is not an in-place op


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_reduce_non_contiguous_and_view(backend, dtype):
    base = tg.tensor(np.ascontiguousarray(data(dtype, rank()).reshape(2, N // 2).T))
    x = base.t()
    assert not x.is_contiguous()
    dist.all_reduce(x)
    check(x, reduced(dtype, "SUM").reshape(2, N // 2))
    fill = np.full(N, 3).astype(dtype)
    rows = tg.tensor(np.stack([fill, data(dtype, rank()), fill]))
    dist.all_reduce(rows[1], op=dist.ReduceOp.MAX)
    check(rows, np.stack([fill, reduced(dtype, "MAX"), fill]))


def halves(dtype, r, n):
    """Rank 0: halves in [1, 2); others: small odd multiples of 2**-14, so a float32 sum falls
    between two halves and its rounding (to nearest even) shows."""
    i = np.arange(n)
    if r == 0:
        return (1 + (i % 1024) / 1024).astype(np.float16)
    return ((2 * (i % 7) + 1) * 2.0**-14 * r).astype(np.float16)


def test_float16_sum_rounds_once_per_step(backend):
    x = tg.tensor(halves("float16", rank(), 64))
    dist.all_reduce(x)
    want = reduced("float16", "SUM", 64, halves)
    a, b = (halves("float16", r, 64).astype(np.float32) for r in (0, 1))
    assert not np.any((a + b).astype(np.float16).astype(np.float32) == a + b)  # all round
    if world() == 2:
        assert want.tobytes() == (a + b).astype(np.float16).tobytes()
    check(x, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_and_reduce_from_each_rank(backend, dtype):
    for src in range(world()):
        x = tg.tensor(data(dtype, rank()))
        dist.broadcast(x, src=src)
        check(x, data(dtype, src))
    x = tg.tensor(data(dtype, rank()))
    dist.broadcast(x, 1, async_op=True).wait()
    check(x, data(dtype, 1))
    for dst in range(world()):
        x = tg.tensor(data(dtype, rank()))
        dist.reduce(x, dst=dst, op=dist.ReduceOp.MAX)
        check(x, reduced(dtype, "MAX") if rank() == dst else data(dtype, rank()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_gather(backend, dtype):
    x = tg.tensor(data(dtype, rank()))
    out = [tg.tensor(np.zeros(N, dtype)) for _ in range(world())]
    assert dist.all_gather(out, x) is None
    for r, t in enumerate(out):
        check(t, data(dtype, r))
    every = np.concatenate([data(dtype, r) for r in range(world())])
    flat = tg.tensor(np.zeros(world() * N, dtype))
    dist.all_gather_into_tensor(flat, x)
    check(flat, every)
    stacked = tg.tensor(np.zeros((world(), N), dtype))
    dist.all_gather_into_tensor(stacked, x, async_op=True).wait()
    check(stacked, every.reshape(world(), N))


def blocks(dtype, r, n):
    return data(dtype, r, n) if dtype == "bool" else data(dtype, r + 1, n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduce_scatter_tensor(backend, dtype):
    x = tg.tensor(blocks(dtype, rank(), world() * N))
    out = tg.tensor(np.zeros(N, dtype))
    dist.reduce_scatter_tensor(out, x)
    want = reduced(dtype, "SUM", world() * N, blocks)
    check(out, want[rank() * N : (rank() + 1) * N])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_and_scatter_at_each_rank(backend, dtype):
    for root in range(world()):
        x = tg.tensor(data(dtype, rank()))
        into = [tg.tensor(np.zeros(N, dtype)) for _ in range(world())] if rank() == root else None
        dist.gather(x, into, dst=root)
        for r, t in enumerate(into or []):
            check(t, data(dtype, r))
        parts = [tg.tensor(data(dtype, r)) for r in range(world())] if rank() == root else None
        out = tg.tensor(np.zeros(N, dtype))
        dist.scatter(out, parts, src=root)
        check(out, data(dtype, rank()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_send_recv(backend, dtype):
    got = tg.tensor(np.zeros(N, dtype))
    sender = None
    if rank() == 0:
        dist.send(tg.tensor(data(dtype, 0)), dst=1)
        dist.recv(got, src=1)
    elif rank() == 1:
        sender = dist.recv(got)  # src=None: any rank, and the call says which one
        dist.send(tg.tensor(data(dtype, 1)), 0)
    if rank() < 2:
        check(got, data(dtype, 1 - rank()))
    if rank() == 1:
        assert sender == 0
    # a ring of nonblocking transfers: every rank sends and receives at once
    got = tg.tensor(np.zeros(N, dtype))
    out = dist.isend(tg.tensor(data(dtype, rank())), dst=(rank() + 1) % world())
    into = dist.irecv(got, src=(rank() - 1) % world())
    assert into.wait() is True and out.wait() is True
    check(got, data(dtype, (rank() - 1) % world()))


def test_barrier_and_objects():
    assert dist.barrier() is None
    assert dist.barrier(async_op=True).wait() is True
    for src in range(world()):
        objs = [src, {"from": rank()}, "x" * rank()] if rank() == src else [None, None, None]
        assert dist.broadcast_object_list(objs, src=src) is None
        assert objs == [src, {"from": src}, "x" * src]
    got = [None] * world()
    assert dist.all_gather_object(got, (rank(), [rank()] * rank())) is None
    assert got == [(r, [r] * r) for r in range(world())]


# ------------------------------------------------------------ errors: the same on every rank


def test_non_tensor_arguments_raise_pytorchs_type_error():
    with pytest.raises(TypeError) as e:
        dist.all_reduce([1.0, 2.0])
    assert str(e.value) == (
        "Invalid function argument. Expected parameter `tensor` of type torch.Tensor\n"
        "             but got <class 'list'> instead."
    )
    with pytest.raises(TypeError, match="but got <class 'float'> instead"):
        dist.broadcast(1.0, 0)
    t = tg.ones(4)
    with pytest.raises(TypeError) as e:
        dist.all_gather(t, t)
    assert str(e.value).startswith(
        "Invalid function argument. Expected parameter `tensor_list` of type "
        "List[torch.Tensor]\n             but got <class '"
    )


def test_bad_lists_and_shapes(backend):
    t = tg.ones(4)
    with pytest.raises(RuntimeError):
        dist.all_gather([tg.ones(4)] * (world() - 1), t)
    with pytest.raises(RuntimeError):
        dist.all_gather([tg.ones(3) for _ in range(world())], t)
    with pytest.raises(RuntimeError):
        dist.all_gather_into_tensor(tg.ones(world() * 4 - 1), t)
    with pytest.raises(RuntimeError):
        dist.reduce_scatter_tensor(tg.ones(3), tg.ones(world() * 4))
    assert t.tolist() == [1.0] * 4


def test_gather_list_of_another_dtype(backend):
    with pytest.raises(ValueError):  # PyTorch's type; the reduce ops' errors are RuntimeErrors
        dist.all_gather([tg.ones(4, dtype=tg.float64) for _ in range(world())], tg.ones(4))


@pytest.mark.parametrize("dtype", ["int64", "int8", "bool"])
def test_avg_of_integers(backend, dtype):
    with pytest.raises(RuntimeError):
        dist.all_reduce(tg.ones(4, dtype=getattr(tg, dtype)), op=dist.ReduceOp.AVG)


@pytest.mark.parametrize("op", ["BAND", "BOR", "BXOR"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_bitwise_ops_of_floats(backend, dtype, op):
    with pytest.raises(RuntimeError):
        dist.all_reduce(tg.ones(4, dtype=getattr(tg, dtype)), op=getattr(dist.ReduceOp, op))


@pytest.mark.parametrize("bad", [-1, 2, 5])
def test_invalid_root_rank(backend, bad):
    bad = bad if bad < 2 else bad + world() - 2  # past the last rank
    t = tg.ones(4)
    with pytest.raises(RuntimeError, match=f"invalid .*rank: {bad}"):
        dist.broadcast(t, src=bad)
    with pytest.raises(RuntimeError, match=f"invalid .*rank: {bad}"):
        dist.reduce(t, dst=bad)
    assert t.tolist() == [1.0] * 4


def test_all_gather_object_list_length():
    # as PyTorch: a short list fails, a longer one keeps its tail
    with pytest.raises(IndexError):
        dist.all_gather_object([None] * (world() - 1), rank())
    got = [None] * (world() + 1)
    dist.all_gather_object(got, rank())
    assert got == list(range(world())) + [None]
