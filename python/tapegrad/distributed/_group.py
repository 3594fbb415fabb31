"""The default process group: one MPI communicator (a duplicate of COMM_WORLD, so a program's own
mpi4py traffic never mixes with ours), its rank and size.

MPI is imported only by init_process_group: `import tapegrad.distributed` costs nothing and works
without mpi4py. MPI cannot start again once finalized, so destroy_process_group frees the
communicator but leaves MPI running (mpi4py finalizes it at exit); a later init_process_group
duplicates COMM_WORLD anew.
"""

import importlib.util
import sys
import traceback

_INSTALL = (
    "tapegrad.distributed runs on MPI: install it with pip install 'tapegrad[mpi]' (mpi4py and "
    "an Open MPI runtime from PyPI), then launch the program with mpiexec -n 2 python script.py"
)
_NOT_INIT = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)


class _State:
    comm = None  # the group's communicator; None: not initialized
    MPI = None  # the mpi4py.MPI module, once imported
    hook_installed = False


_state = _State()


def is_available():
    """True: the distributed package is part of tapegrad (its MPI backend needs mpi4py)."""
    return True


def is_mpi_available():
    """True when mpi4py is installed, so init_process_group(backend="mpi") can run."""
    return importlib.util.find_spec("mpi4py") is not None


def is_gloo_available():
    """Return False: tapegrad.distributed runs over MPI only (backend="mpi"), without Gloo."""
    return False


def is_nccl_available():
    """Return False: tapegrad.distributed has no NCCL backend (CPU only, over MPI)."""
    return False


def is_initialized():
    """True between init_process_group and destroy_process_group."""
    return _state.comm is not None


def _abort_on_uncaught(prev):
    """An exception that ends one rank's program ends the whole job, with its message printed,
    instead of leaving the other ranks waiting forever in their next collective."""

    def hook(kind, value, tb):
        try:
            prev(kind, value, tb)
        except Exception:
            traceback.print_exception(kind, value, tb)
        comm = _state.comm
        if comm is not None and comm.Get_size() > 1:
            print(
                f"tapegrad.distributed: rank {comm.Get_rank()} raised {kind.__name__}; "
                "aborting the job",
                file=sys.stderr,
                flush=True,
            )
            sys.stdout.flush()
            _state.MPI.COMM_WORLD.Abort(1)

    return hook


def init_process_group(
    backend=None,
    init_method=None,
    timeout=None,
    world_size=-1,
    rank=-1,
    store=None,
    group_name="",
    pg_options=None,
    device_id=None,
):
    """Join the default process group. Only backend "mpi" (or None) exists: ranks and the world
    size come from the MPI launcher (`mpiexec -n 2 python script.py`)."""
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(
            f"tapegrad.distributed has no '{backend}' backend: use init_process_group("
            f'backend="mpi") and launch with mpiexec -n 2 python script.py '
            "(the program stays the same otherwise)"
        )
    if _state.comm is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if not is_mpi_available():
        raise RuntimeError(_INSTALL)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    for name, given, actual in (
        ("world_size", world_size, comm.Get_size()),
        ("rank", rank, comm.Get_rank()),
    ):
        if given is not None and given != -1 and given != actual:
            raise ValueError(
                f"init_process_group: {name}={given} but MPI started this process with "
                f"{name}={actual}; with the mpi backend, mpiexec decides both"
            )
    _state.MPI = MPI
    _state.comm = comm.Dup()
    if not _state.hook_installed:
        sys.excepthook = _abort_on_uncaught(sys.excepthook)
        _state.hook_installed = True


def destroy_process_group(group=None):
    """Leave the default process group (MPI itself stays up until the program exits)."""
    if _state.comm is None:
        raise AssertionError("Process group cannot be None")
    comm, _state.comm = _state.comm, None
    comm.Free()


def _comm(group=None):
    if group is not None and group is not GroupMember.WORLD:
        raise ValueError(
            "tapegrad.distributed supports only the default process group (group=None)"
        )
    if _state.comm is None:
        raise ValueError(_NOT_INIT)
    return _state.comm


def get_rank(group=None):
    """This process's rank in the default group."""
    return _comm(group).Get_rank()


def get_world_size(group=None):
    """The number of processes in the default group."""
    return _comm(group).Get_size()


def get_backend(group=None):
    """The backend's name: "mpi"."""
    _comm(group)
    return "mpi"


class GroupMember:
    """PyTorch's name for the default group, as `group=dist.group.WORLD`."""

    WORLD = object()
    NON_GROUP_MEMBER = object()


group = GroupMember


def new_group(*args, **kwargs):
    """Not supported: raise NotImplementedError. tapegrad.distributed has only the default process
    group; every collective runs over all ranks."""
    raise NotImplementedError(
        "tapegrad.distributed supports only the default process group; new_group is not "
        "available (every collective runs over all ranks)"
    )
