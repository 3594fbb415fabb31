"""DistributedDataParallel on 2 ranks (CI: mpiexec -n 2 python -m pytest tests/mpi/mpi_ddp.py).
Every test runs the same collectives in the same order on every rank."""

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP

B = 32  # the global batch


def rank():
    return dist.get_rank()


def world():
    return dist.get_world_size()


def mlp(seed, dtype=tg.float32):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 5)).to(dtype)


def data(dtype=tg.float32):
    tg.manual_seed(123)
    return tg.randn(B, 12).to(dtype), tg.randint(0, 5, (B,))


def my_share(x):
    n = B // world()
    return x[rank() * n : (rank() + 1) * n]


def train(model, steps, x, y, lr=0.1):
    opt = tg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def same_on_every_rank(tensors):
    for t in tensors:
        got = [tg.empty_like(t) for _ in range(world())]
        dist.all_gather(got, t.contiguous())
        for g in got[1:]:
            assert np.array_equal(g.numpy(), got[0].numpy())


def test_two_ranks_with_half_batches_take_the_whole_batch_step(backend):
    x, y = data()
    ddp = DDP(mlp(seed=10 + rank()))  # different on purpose: rank 0's model is broadcast
    got = train(ddp, 6, my_share(x), my_share(y))
    want = train(mlp(seed=10), 6, x, y)
    same_on_every_rank(got)
    for g, w in zip(got, want):  # the order of the sums differs: a few float32 ulps
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-5, atol=2e-6)


def test_buckets_do_not_change_the_bits(backend):
    x, y = data()
    one = train(DDP(mlp(seed=3)), 4, my_share(x), my_share(y))
    small = DDP(mlp(seed=3), bucket_cap_mb=0.00005)  # 52 bytes: 3 buckets
    many = train(small, 4, my_share(x), my_share(y))
    assert len(small._reducer.buckets) >= 3  # rebuilt after the first iteration, by size
    for a, b in zip(one, many):
        assert np.array_equal(a.numpy(), b.numpy())


def test_gradient_is_the_average_rounded_as_pytorch(backend):
    for dtype in (tg.float32, tg.float16):
        x, y = data(dtype)
        x = x + rank()  # the ranks' gradients differ
        plain = mlp(5, dtype)
        nn.functional.cross_entropy(plain(my_share(x)), my_share(y)).backward()
        ddp = DDP(mlp(5, dtype))
        nn.functional.cross_entropy(ddp(my_share(x)), my_share(y)).backward()
        for p, q in zip(plain.parameters(), ddp.parameters()):
            g = p.grad.numpy()
            parts = [tg.empty_like(p.grad) for _ in range(world())]
            dist.all_gather(parts, p.grad)
            f32 = [(v.numpy().astype(np.float32) * np.float32(1 / world())) for v in parts]
            if dtype is tg.float16:  # each product rounds to half, each sum too
                f32 = [v.astype(np.float16) for v in f32]
                want = f32[0]
                for v in f32[1:]:
                    want = (want.astype(np.float32) + v.astype(np.float32)).astype(np.float16)
            else:
                want = f32[0]
                for v in f32[1:]:
                    want = want + v
            assert q.grad.dtype is dtype and g.shape == want.shape
            assert np.array_equal(q.grad.numpy(), want)


def test_no_sync_accumulates_then_averages_the_sum(backend):
    x, y = data()
    ddp = DDP(mlp(seed=7))
    xs, ys = my_share(x), my_share(y)
    h = len(xs) // 2
    with ddp.no_sync():
        nn.functional.cross_entropy(ddp(xs[:h]), ys[:h]).backward()
    local = [p.grad.clone() for p in ddp.parameters()]
    nn.functional.cross_entropy(ddp(xs[h:]), ys[h:]).backward()
    ref = mlp(seed=7)
    n = B // world() // 2
    for k in range(2 * world()):
        nn.functional.cross_entropy(ref(x[k * n : (k + 1) * n]), y[k * n : (k + 1) * n]).backward()
    for p, q in zip(ddp.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() / world(), rtol=1e-5, atol=1e-6)
    same_on_every_rank([p.grad for p in ddp.parameters()])
    pairs = zip(local, ddp.parameters())
    assert not all(np.array_equal(a.numpy(), p.grad.numpy()) for a, p in pairs)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        tg.manual_seed(0)
        self.body = nn.Linear(4, 4)
        self.a = nn.Linear(4, 2)
        self.b = nn.Linear(4, 2)

    def forward(self, x, use_b):
        h = self.body(x)
        return self.b(h) if use_b else self.a(h)


def test_unused_parameters(backend):
    x = tg.ones(3, 4)
    ddp = DDP(TwoHeads())
    ddp(x, False).sum().backward()  # b got no gradient: the reduction never finished
    with pytest.raises(RuntimeError, match="^Expected to have finished reduction in the prior"):
        ddp(x, False)
    ddp = DDP(TwoHeads(), find_unused_parameters=True)
    for _ in range(2):
        ddp.zero_grad(set_to_none=True)
        ddp(x * (rank() + 1), use_b=rank() == 1).sum().backward()
        m = ddp.module
        # a is used on rank 0 only, b on rank 1 only: both average with the other rank's zeros
        for p in list(m.a.parameters()) + list(m.b.parameters()) + list(m.body.parameters()):
            assert p.grad is not None
        same_on_every_rank([p.grad for p in ddp.parameters()])
    ddp = DDP(TwoHeads(), find_unused_parameters=True)
    ddp(x, False).sum().backward()  # b unused on every rank: its .grad stays None
    assert ddp.module.b.weight.grad is None and ddp.module.a.weight.grad is not None


def test_buffers_and_parameters_come_from_rank_0(backend):
    tg.manual_seed(rank())
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with tg.no_grad():
        model[1].running_mean.fill_(float(rank()))
    ddp = DDP(model)
    same_on_every_rank(list(model.parameters()) + list(model.buffers()))
    assert model[1].running_mean.tolist() == [0.0] * 4
    ddp(tg.randn(6, 3) + rank())  # running stats now differ; the next forward syncs them
    ddp(tg.randn(6, 3))
    same_on_every_rank([model[1].num_batches_tracked])
    assert list(ddp.state_dict())[:2] == ["module.0.weight", "module.0.bias"]
    plain = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    plain.load_state_dict({k[len("module.") :]: v for k, v in ddp.state_dict().items()})


def test_compile_is_refused_with_a_clear_error():
    with tg.use_backend("cpp"):
        ddp = DDP(mlp(seed=1))
        x, y = data()

        @tg.compile
        def step(x, y):
            nn.functional.cross_entropy(ddp(x), y).backward()

        with pytest.raises(RuntimeError, match="cannot be captured by tapegrad.compile"):
            step(x, y)


def test_distributed_sampler_asks_the_group():
    from tapegrad.utils.data import DistributedSampler

    s = DistributedSampler(list(range(10)), shuffle=False)
    assert (s.num_replicas, s.rank) == (world(), rank())
    assert list(s) == list(range(10))[rank() :: world()]


def test_gradient_as_bucket_view_gives_the_same_bits(backend):
    x, y = data()
    want = train(DDP(mlp(seed=4)), 4, my_share(x), my_share(y))
    ddp = DDP(mlp(seed=4), gradient_as_bucket_view=True, bucket_cap_mb=0.00005)
    opt = tg.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    for step in range(4):
        opt.zero_grad(set_to_none=step % 2 == 0)  # both ways back into the bucket
        nn.functional.cross_entropy(ddp(my_share(x)), my_share(y)).backward()
        opt.step()
    red = ddp._reducer
    for b in red.buckets:  # .grad is the bucket's memory
        for j, p in enumerate(b.params):
            assert p.grad is b.views[j]
            assert np.shares_memory(p.grad.numpy(), b.flat)
    for p, w in zip(ddp.parameters(), want):
        assert np.array_equal(p.detach().numpy(), w.numpy())


def test_many_buckets_start_in_the_same_order_on_every_rank(backend):
    # a bucket per parameter: the gradients of a layer's weight and bias arrive together, and
    # the allreduces must still start in one order on both ranks (else MPI mixes them up)
    tg.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(8, 8) for _ in range(6)])
    ddp = DDP(model, bucket_cap_mb=1e-6)
    x = tg.randn(4, 8) + rank()
    for _ in range(5):
        ddp.zero_grad()
        ddp(x).sum().backward()
    assert len(ddp._reducer.buckets) == 12
    same_on_every_rank([p.grad for p in model.parameters()])
