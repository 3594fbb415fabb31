"""DistributedDataParallel: one model replica per MPI rank, gradients averaged during backward.

    model = DistributedDataParallel(model)   # after dist.init_process_group(backend="mpi")

At construction the ranks check that their models agree and take rank 0's parameters and
buffers. Each backward averages the gradients across ranks (see _reducer.py); `no_sync()` skips
that, so gradients accumulate locally until the next synchronized backward.
"""

import contextlib

from ... import distributed as dist
from ...distributed._group import _comm
from ..modules.module import Module
from ._reducer import Reducer

_NOT_FINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss."
)


def _tensors_in(obj, out):
    from ...tensor import Tensor

    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors_in(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors_in(o, out)
    return out


def _reached_params(outputs):
    """ids of the leaves the outputs' graph reaches (grad_fn objects compare by their node)."""
    seen, found = set(), set()
    tensors = _tensors_in(outputs, [])
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    found.update(id(t) for t in tensors if t.grad_fn is None and t.requires_grad)
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        var = getattr(fn, "variable", None)
        if var is not None:
            found.add(id(var))
        stack.extend(nxt for nxt, _ in getattr(fn, "next_functions", ()))
    return found


class DistributedDataParallel(Module):
    """Wraps `module` for data-parallel training over the default process group."""

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        check_reduction=False,
        gradient_as_bucket_view=False,
        static_graph=False,
    ):
        super().__init__()
        comm = _comm(process_group)
        if device_ids or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                "{device(type='cpu')}."
            )
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any "
                "parameter that requires a gradient."
            )
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self._comm = comm
        self._verify_same_model(params)
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t, 0)
        # PyTorch's caps: a first bucket of 1 MiB, then 25 MiB; a bucket_cap_mb given sets both
        if bucket_cap_mb is None:
            caps = [1024 * 1024, 25 * 1024 * 1024]
        else:
            caps = [int(bucket_cap_mb * 1024 * 1024)]
        self._reducer = Reducer(
            params, caps, comm, self.find_unused_parameters, bool(gradient_as_bucket_view)
        )
        self._hooks = [p.register_post_accumulate_grad_hook(self._on_grad) for p in params]

    def _verify_same_model(self, params):
        mine = [(tuple(p.shape), str(p.dtype)) for p in params]
        everyone = self._comm.allgather(mine)
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(mine):
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {self._comm.Get_rank()} "
                    f"has {len(mine)} params, while rank {r} has inconsistent {len(theirs)} "
                    "params."
                )
            for i, (a, b) in enumerate(zip(mine, theirs)):
                if a != b:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks, but parameter {i} is "
                        f"{a[0]} {a[1]} on rank {self._comm.Get_rank()} and {b[0]} {b[1]} on "
                        f"rank {r}."
                    )

    def _on_grad(self, p):
        if self.require_backward_grad_sync:
            self._reducer.mark_ready(self._reducer.index[id(p)])

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module on the inputs and return its output, preparing the gradient
        averaging of the next backward.

        First rank 0's buffers are broadcast (with `broadcast_buffers`); with
        `find_unused_parameters` the parameters the output does not reach are marked ready at
        once. Inside `no_sync()` nothing is prepared and gradients accumulate locally."""
        _refuse_capture()
        red = self._reducer
        if red.in_progress:
            raise RuntimeError(_NOT_FINISHED)
        if red.arrivals and red.started and self.require_backward_grad_sync:
            red.rebuild()
        if self.broadcast_buffers and self._comm.Get_size() > 1:
            for b in self.module.buffers():
                dist.broadcast(b, 0)
        out = self.module(*inputs, **kwargs)
        if self.require_backward_grad_sync:
            red.reset()
            if self.find_unused_parameters:
                reached = _reached_params(out)
                red.unused = [i for i, p in enumerate(red.params) if id(p) not in reached]
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside skip the allreduce: gradients accumulate on each rank, and the
        first synchronized backward after it averages the accumulated sums."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old


def _refuse_capture():
    try:
        from ... import _core
    except ImportError:
        return
    if _core.capturing():
        raise RuntimeError(
            "DistributedDataParallel cannot be captured by tapegrad.compile: its allreduce runs "
            "in Python during backward, which a replayed step skips. Run the DDP step without "
            "tapegrad.compile."
        )


__all__ = ["DistributedDataParallel"]
