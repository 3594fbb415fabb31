"""Collectives over the default group's MPI communicator, on tensors' own memory.

A contiguous tensor is handed to MPI as a NumPy view of its storage (no copy) and results land
in place; a non-contiguous one goes through a contiguous copy, written back after. As in
PyTorch, a collective does not count as an in-place change (the tensor's version stays).

MPI has no float16 type, so float16 travels as 2-byte words reduced by our own MPI operations:
each step adds (or multiplies) two halves in float32 and rounds to float16, as PyTorch's gloo
backend does. bool reduces with the logical operations (SUM and MAX: or; PRODUCT and MIN: and).
AVG is a SUM divided by the world size in the tensor's dtype (floating dtypes only).
"""

import enum

import numpy as np

from ._group import _comm, _state


class ReduceOp(enum.Enum):
    """How all_reduce, reduce and reduce_scatter_tensor combine the ranks' tensors."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"


_own_ops = {}  # (op, dtype) -> our MPI operation


def _own_op(op, dtype):
    """An MPI operation computed with NumPy: float16 (sent as 2-byte words), and the sums and
    products of 8- and 16-bit integers, which must wrap around as PyTorch's do (Open MPI's AVX
    reductions saturate them)."""
    got = _own_ops.get((op, dtype))
    if got is not None:
        return got
    f32 = np.float32

    def combine(src, dst, datatype):
        a = np.frombuffer(src, dtype=dtype)
        b = np.frombuffer(dst, dtype=dtype)
        if dtype == np.float16 and op in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT):
            ufunc = np.multiply if op is ReduceOp.PRODUCT else np.add
            b[...] = ufunc(a.astype(f32), b.astype(f32)).astype(np.float16)
        elif op in (ReduceOp.SUM, ReduceOp.AVG):
            np.add(a, b, out=b)
        elif op is ReduceOp.PRODUCT:
            np.multiply(a, b, out=b)
        elif op is ReduceOp.MAX:
            np.maximum(a, b, out=b)
        else:
            np.minimum(a, b, out=b)

    got = _own_ops[(op, dtype)] = _state.MPI.Op.Create(combine, commute=True)
    return got


def _mpi_op(op, dtype):
    MPI = _state.MPI
    if not isinstance(op, ReduceOp):
        raise ValueError(f"Invalid reduce op: {op!r} (use dist.ReduceOp.SUM, AVG, ...)")
    kind = dtype.kind
    if op is ReduceOp.AVG and kind != "f":
        raise RuntimeError(f"Cannot use ReduceOp.AVG with non-floating dtype {dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if dtype == np.float16:
        return _own_op(op, np.dtype(np.float16))
    if dtype.itemsize <= 2 and kind in "iu" and op in (ReduceOp.SUM, ReduceOp.PRODUCT):
        return _own_op(op, dtype)
    if kind == "b":
        logical = {
            ReduceOp.SUM: MPI.LOR,
            ReduceOp.MAX: MPI.LOR,
            ReduceOp.BOR: MPI.LOR,
            ReduceOp.PRODUCT: MPI.LAND,
            ReduceOp.MIN: MPI.LAND,
            ReduceOp.BAND: MPI.LAND,
            ReduceOp.BXOR: MPI.LXOR,
        }
        return logical[op]
    return {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
        ReduceOp.BAND: MPI.BAND,
        ReduceOp.BOR: MPI.BOR,
        ReduceOp.BXOR: MPI.BXOR,
    }[op]


def _check_tensor(t, name):
    from ..tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
            f"             but got {type(t)} instead."
        )


def _view(t):
    """t's memory as a NumPy array: no copy when t is contiguous. Otherwise a contiguous copy
    that _changed writes back."""
    arr = t.detach().numpy()
    if arr.flags.c_contiguous:
        return arr
    copy = np.ascontiguousarray(arr)
    _copies[id(copy)] = (arr, copy)
    return copy


def _msg(arr):
    """arr as an MPI message; float16 as 2-byte words (see _own_op)."""
    MPI = _state.MPI
    if arr.dtype == np.float16:
        return [arr.view(np.uint16), MPI.UINT16_T]
    if arr.dtype == np.bool_:
        return [arr, MPI.C_BOOL]
    return arr


def _src(t):
    """t's values as a contiguous NumPy array (t's own memory when it is contiguous)."""
    return np.ascontiguousarray(t.detach().numpy())


_copies = {}  # id(contiguous copy) -> (the tensor's strided view, the copy)


def _changed(*arrays):
    """Results in these arrays (from _view) are final: copies go back to their tensors."""
    for a in arrays:
        got = _copies.pop(id(a), None)
        if got is not None:
            got[0][...] = got[1]


def _average(arr, n):
    if arr.dtype == np.float16:  # float32 division, one rounding to half (PyTorch's div)
        arr[...] = (arr.astype(np.float32) / np.float32(n)).astype(np.float16)
    else:
        arr /= arr.dtype.type(n)


class Work:
    """What a collective called with async_op=True returns: `wait()` blocks until it is done
    (and the result is in the tensors)."""

    def __init__(self, requests=(), finish=None, result=()):
        self._requests = list(requests)
        self._finish = finish
        self._result = list(result)
        self._done = not self._requests and finish is None

    def wait(self, timeout=None):
        """Block until the collective has finished (its result is then in the tensors) and return
        True. Differs from PyTorch: `timeout` is ignored."""
        if not self._done:
            _state.MPI.Request.Waitall(self._requests)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self):
        """Return whether the collective has finished, without blocking (it is completed on the spot
        if its messages have all arrived)."""
        if not self._done and _state.MPI.Request.Testall(self._requests):
            self.wait()
        return self._done

    def is_success(self):
        """Return whether the collective finished successfully; tapegrad's MPI collectives either
        succeed or raise, so this is `is_completed()`."""
        return self.is_completed()

    def exception(self):
        """Return the exception the collective raised, always None here: a failing MPI collective
        raises at once instead."""
        return None

    def result(self):
        """Wait for the collective and return its output tensors as a list (empty for collectives
        that only change their arguments in place)."""
        self.wait()
        return self._result


def _run(async_op, start, finish=None, result=()):
    """start() returns the MPI request (nonblocking) or None (already done)."""
    if async_op:
        req = start(True)
        return Work([] if req is None else [req], finish, result)
    start(False)
    if finish is not None:
        finish()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's `tensor` becomes the reduction (op) of all ranks' tensors, in place."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    MPI = _state.MPI
    arr = _view(tensor)
    mop = _mpi_op(op, arr.dtype)

    def start(nonblocking):
        call = comm.Iallreduce if nonblocking else comm.Allreduce
        return call(MPI.IN_PLACE, _msg(arr), mop)

    def finish():
        if op is ReduceOp.AVG:
            _average(arr, comm.Get_size())
        _changed(arr)

    return _run(async_op, start, finish, [tensor])


def broadcast(tensor, src=0, group=None, async_op=False, group_src=None):
    """Every rank's `tensor` becomes rank src's, in place."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    src = _peer(comm, src if group_src is None else group_src, "src")
    arr = _view(tensor)

    def start(nonblocking):
        return (comm.Ibcast if nonblocking else comm.Bcast)(_msg(arr), root=src)

    return _run(async_op, start, lambda: _changed(arr), [tensor])


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Rank dst's `tensor` becomes the reduction of all ranks' tensors; the others keep theirs."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    MPI = _state.MPI
    dst = _peer(comm, dst if group_dst is None else group_dst, "dst")
    arr = _view(tensor)
    mop = _mpi_op(op, arr.dtype)
    me = comm.Get_rank() == dst

    def start(nonblocking):
        call = comm.Ireduce if nonblocking else comm.Reduce
        send = MPI.IN_PLACE if me else _msg(arr)
        return call(send, _msg(arr) if me else None, op=mop, root=dst)

    def finish():
        if me and op is ReduceOp.AVG:
            _average(arr, comm.Get_size())
        _changed(arr)

    return _run(async_op, start, finish, [tensor])


def _peer(comm, rank, name):
    n = comm.Get_size()
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < n:
        raise RuntimeError(f"invalid {name} rank: {rank} (the world has ranks 0 to {n - 1})")
    return int(rank)


def _check_list(tensors, like, name, n):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{name}` of type "
            f"List[torch.Tensor]\n             but got {type(tensors)} instead."
        )
    if len(tensors) != n:
        raise RuntimeError(
            f"invalid tensor list {name} (expected length {n}, the world size, got {len(tensors)})"
        )
    for t in tensors:
        _check_tensor(t, name)
        if t.dtype != like.dtype:
            raise ValueError(
                f"Invalid usage of tensors with different dtypesFound {like.dtype} and  {t.dtype}"
            )
        if tuple(t.shape) != tuple(like.shape):
            raise RuntimeError(
                f"every tensor of {name} must have the shape {tuple(like.shape)} and dtype "
                f"{like.dtype} of the input, got {tuple(t.shape)} and {t.dtype}"
            )


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] becomes rank r's `tensor`, on every rank."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    n = comm.Get_size()
    _check_list(tensor_list, tensor, "tensor_list", n)
    arr = _src(tensor)
    out = np.empty((n,) + arr.shape, arr.dtype)

    def start(nonblocking):
        return (comm.Iallgather if nonblocking else comm.Allgather)(_msg(arr), _msg(out))

    def finish():
        for r, t in enumerate(tensor_list):
            t.detach().numpy()[...] = out[r]

    return _run(async_op, start, finish, tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor (world_size times input's numel: concatenated or stacked) becomes every
    rank's input, in rank order; no copy."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    comm = _comm(group)
    _check_sizes(output_tensor, input_tensor, comm.Get_size(), "output tensor", "input tensor")
    src, dst = _src(input_tensor), _view(output_tensor)

    def start(nonblocking):
        return (comm.Iallgather if nonblocking else comm.Allgather)(_msg(src), _msg(dst))

    return _run(async_op, start, lambda: _changed(dst), [output_tensor])


def _check_sizes(big, small, n, big_name, small_name):
    if big.dtype != small.dtype:
        raise RuntimeError(
            f"{big_name} and {small_name} must have the same dtype, got {big.dtype} and "
            f"{small.dtype}"
        )
    if big.numel() != n * small.numel():
        raise RuntimeError(
            f"{big_name} must be world_size ({n}) times the size of the {small_name}: got "
            f"{big.numel()} and {small.numel()} elements"
        )


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Rank r's output becomes the reduction, over ranks, of block r of their inputs."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    comm = _comm(group)
    _check_sizes(input, output, comm.Get_size(), "input tensor", "output tensor")
    src, dst = _src(input), _view(output)
    mop = _mpi_op(op, dst.dtype)

    def start(nonblocking):
        call = comm.Ireduce_scatter_block if nonblocking else comm.Reduce_scatter_block
        return call(_msg(src), _msg(dst), op=mop)

    def finish():
        if op is ReduceOp.AVG:
            _average(dst, comm.Get_size())
        _changed(dst)

    return _run(async_op, start, finish, [output])


def _rooted(comm, root, tensors, like, kind):
    """(root, world size, whether this rank is the root) of a gather or scatter; its list is
    checked on the root, and must be absent elsewhere."""
    name, side = (
        ("gather_list", ("dst", "destination"))
        if kind == "gather"
        else ("scatter_list", ("src", "source"))
    )
    root = _peer(comm, root, side[0])
    n, me = comm.Get_size(), comm.Get_rank() == root
    if me:
        _check_list(tensors, like, name, n)
    elif tensors:
        raise ValueError(f"Argument ``{name}`` must NOT be specified on non-{side[1]} ranks.")
    return root, n, me


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    """Rank dst's gather_list[r] becomes rank r's `tensor`; other ranks pass no list."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    dst, n, me = _rooted(
        comm, dst if group_dst is None else group_dst, gather_list, tensor, "gather"
    )
    arr = _src(tensor)
    out = np.empty((n,) + arr.shape, arr.dtype) if me else None

    def start(nonblocking):
        call = comm.Igather if nonblocking else comm.Gather
        return call(_msg(arr), _msg(out) if me else None, root=dst)

    def finish():
        if me:
            for r, t in enumerate(gather_list):
                t.detach().numpy()[...] = out[r]

    return _run(async_op, start, finish, gather_list if me else [])


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    """Rank r's `tensor` becomes rank src's scatter_list[r]; other ranks pass no list."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    src, n, me = _rooted(
        comm, src if group_src is None else group_src, scatter_list, tensor, "scatter"
    )
    arr = _view(tensor)
    packed = np.stack([_src(t) for t in scatter_list]) if me else None

    def start(nonblocking):
        call = comm.Iscatter if nonblocking else comm.Scatter
        return call(_msg(packed) if me else None, _msg(arr), root=src)

    return _run(async_op, start, lambda: _changed(arr), [tensor])


def isend(tensor, dst, group=None, tag=0):
    """Start sending `tensor` to rank dst; returns a Work to wait on."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    dst = _peer(comm, dst, "dst")
    return Work([comm.Isend(_msg(_src(tensor)), dest=dst, tag=tag)], None, [tensor])


def irecv(tensor, src=None, group=None, tag=0):
    """Start receiving into `tensor` from rank src (None: any rank); returns a Work."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    MPI = _state.MPI
    peer = MPI.ANY_SOURCE if src is None else _peer(comm, src, "src")
    arr = _view(tensor)
    req = comm.Irecv(_msg(arr), source=peer, tag=tag)
    return Work([req], lambda: _changed(arr), [tensor])


def send(tensor, dst, group=None, tag=0):
    """Send `tensor` to rank dst (blocks until the buffer may be reused)."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into `tensor` from rank src (None: any); returns the sender's rank."""
    _check_tensor(tensor, "tensor")
    comm = _comm(group)
    MPI = _state.MPI
    peer = MPI.ANY_SOURCE if src is None else _peer(comm, src, "src")
    status = MPI.Status()
    arr = _view(tensor)
    comm.Recv(_msg(arr), source=peer, tag=tag, status=status)
    _changed(arr)
    return status.Get_source()


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this call."""
    comm = _comm(group)
    return _run(async_op, lambda nb: comm.Ibarrier() if nb else comm.Barrier())


def broadcast_object_list(object_list, src=0, group=None, device=None, group_src=None):
    """Rank src's picklable objects replace object_list's items on every rank."""
    comm = _comm(group)
    src = _peer(comm, src if group_src is None else group_src, "src")
    got = comm.bcast(list(object_list) if comm.Get_rank() == src else None, root=src)
    object_list[:] = got


def all_gather_object(object_list, obj, group=None):
    """object_list[r] becomes rank r's picklable `obj`, on every rank."""
    comm = _comm(group)
    got = comm.allgather(obj)
    if len(object_list) < len(got):  # PyTorch fills item by item, and a short list fails so
        raise IndexError("list assignment index out of range")
    object_list[: len(got)] = got
