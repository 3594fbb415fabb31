"""tapegrad.distributed and DistributedDataParallel in one process (world size 1), and two-rank
launches through mpiexec: a failing rank ends the job, the DDP example trains. The collectives
and DDP at two ranks have their own lane (tests/mpi, run by CI under mpiexec -n 2)."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP

pytest.importorskip("mpi4py", reason="tapegrad[mpi] (mpi4py) is not installed")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOT_INIT = "^Default process group has not been initialized, please make sure to call"
DTYPES = [tg.float16, tg.float32, tg.float64, tg.int8, tg.uint8, tg.int16, tg.int32, tg.int64]


def test_before_init_every_call_says_what_to_do():
    assert dist.is_available() and not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(tg.ones(2))):
        with pytest.raises(ValueError, match=NOT_INIT):
            call()
    with pytest.raises(ValueError, match=NOT_INIT):
        DDP(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no 'gloo' backend: use init_process_group"):
        dist.init_process_group("gloo")
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()


@pytest.fixture
def group():
    dist.init_process_group(backend="mpi")
    yield
    dist.destroy_process_group()


def test_init_twice_and_again_after_destroy(group):
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    with pytest.raises(ValueError, match="^trying to initialize the default process group twice"):
        dist.init_process_group("mpi")
    with pytest.raises(ValueError, match="MPI started this process with world_size=1"):
        dist.destroy_process_group()
        dist.init_process_group("mpi", world_size=2)
    dist.init_process_group("mpi")  # a group can start again after destroy


@pytest.mark.parametrize("dtype", DTYPES + [tg.bool], ids=str)
def test_one_rank_collectives_keep_the_values(group, backend, dtype):
    with tg.use_backend(backend):
        _one_rank_collectives(dtype)


def _one_rank_collectives(dtype):
    x = (tg.arange(40) % 7).to(dtype)
    want = x.numpy().copy()
    ops = [dist.ReduceOp.SUM, dist.ReduceOp.PRODUCT, dist.ReduceOp.MIN, dist.ReduceOp.MAX]
    if dtype.is_floating_point:
        ops.append(dist.ReduceOp.AVG)
    view = x.numpy()
    for op in ops:
        dist.all_reduce(x, op=op)
        assert np.array_equal(x.numpy(), want) and x._version == 0
    assert np.shares_memory(view, x.numpy())
    work = dist.all_reduce(x, async_op=True)
    assert work.wait() is True and work.is_completed() and work.result() == [x]
    out = tg.empty(2, 40, dtype=dtype)
    dist.all_gather_into_tensor(out[:1], x)  # a contiguous view: lands in out
    assert np.array_equal(out.numpy()[0], want)
    dist.broadcast(x, 0)
    dist.barrier()
    assert np.array_equal(x.numpy(), want)


def test_argument_errors(group):
    with pytest.raises(TypeError, match="Expected parameter `tensor` of type torch.Tensor"):
        dist.all_reduce([tg.ones(2)])
    with pytest.raises(RuntimeError, match="Cannot use ReduceOp.AVG with non-floating dtype"):
        dist.all_reduce(tg.ones(2, dtype=tg.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(RuntimeError, match="invalid src rank: 3"):
        dist.broadcast(tg.ones(2), 3)
    with pytest.raises(RuntimeError, match="expected length 1"):
        dist.all_gather([tg.ones(2), tg.ones(2)], tg.ones(2))
    with pytest.raises(RuntimeError, match="must be world_size"):
        dist.all_gather_into_tensor(tg.ones(3), tg.ones(2))


def _train(model, dtype, steps=3):
    tg.manual_seed(5)
    x, y = tg.randn(16, 6).to(dtype), tg.randint(0, 3, (16,))
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def _mlp(dtype=tg.float32):
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).to(dtype)


def test_ddp_on_one_rank_is_plain_training_bit_for_bit(group, backend):
    with tg.use_backend(backend):
        for dtype in (tg.float32, tg.float16):
            plain = _train(_mlp(dtype), dtype)
            model = DDP(_mlp(dtype), bucket_cap_mb=0.0001)
            assert all(np.array_equal(a, b) for a, b in zip(plain, _train(model, dtype)))
            assert list(model.state_dict()) == [
                "module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"
            ]  # fmt: skip


def test_ddp_argument_errors(group):
    with pytest.raises(ValueError, match="device_ids and output_device arguments only work"):
        DDP(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(RuntimeError, match="is not needed when a module doesn't have any"):
        DDP(nn.Linear(2, 2).requires_grad_(False))


def _mpiexec():
    exe = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec is not on PATH")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    # the tapegrad this test imported (installed, editable or the sanitizer's copy)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    return [exe, "-n", "2", "--oversubscribe"], env


def test_an_exception_on_one_rank_ends_the_job_with_its_message():
    cmd, env = _mpiexec()
    prog = (
        "import tapegrad as tg, tapegrad.distributed as dist\n"
        "dist.init_process_group('mpi')\n"
        "if dist.get_rank() == 1:\n"
        "    raise ValueError('rank one gives up')\n"
        "dist.all_reduce(tg.ones(3))  # rank 0 would wait here forever\n"
    )
    res = subprocess.run(
        cmd + [sys.executable, "-c", prog], capture_output=True, text=True, env=env, timeout=120
    )
    assert res.returncode != 0
    assert "ValueError: rank one gives up" in res.stderr
    assert "rank 1 raised ValueError; aborting the job" in res.stderr


def test_the_ddp_example_trains_on_two_ranks():
    cmd, env = _mpiexec()
    script = os.path.join(ROOT, "examples", "ddp_mlp.py")
    res = subprocess.run(
        cmd + [sys.executable, script, "--epochs", "2", "--synthetic"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "2 rank(s)" in res.stdout
    assert "largest parameter difference between ranks 0" in res.stdout
