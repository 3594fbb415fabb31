"""The MPI tests run as `mpiexec -n 2 python -m pytest -q -p no:cacheprovider tests/mpi/X.py`.

Their file names do not match test_*.py, so the single-process suite never collects them; this
conftest still gets imported by that suite's collection, hence MPI is only touched inside the
fixture. Every rank runs the same tests in the same order: a test must make the same collective
calls on every rank, or the job hangs.
"""

import faulthandler
import importlib.util
import sys

import pytest

# A collective mismatch (a bug) blocks forever; after this long, each rank prints where it is
# stuck and exits, so mpiexec ends the job instead of CI timing out without a clue.
WATCHDOG_S = 240


@pytest.fixture(scope="session", autouse=True)
def process_group():
    """The default process group, joined once for the whole run."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'tapegrad[mpi]')")
    from mpi4py import MPI

    if MPI.COMM_WORLD.Get_size() < 2:
        pytest.skip(
            "needs at least 2 MPI ranks: run as mpiexec -n 2 python -m pytest -q "
            "-p no:cacheprovider tests/mpi/<file>.py"
        )
    import tapegrad.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("mpi")
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True, file=sys.stderr)
    yield dist
    faulthandler.cancel_dump_traceback_later()
    dist.barrier()


@pytest.fixture(params=["cpp", "numpy"])
def backend(request):
    """Each test on both backends."""
    import tapegrad as tg

    with tg.use_backend(request.param):
        yield request.param
