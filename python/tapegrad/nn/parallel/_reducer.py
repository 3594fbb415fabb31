"""DistributedDataParallel's gradient reducer: buckets of parameters whose gradients are averaged
over the ranks by one in-place allreduce each, started as soon as a bucket's last gradient has
been accumulated (a post-accumulate-grad hook), so communication overlaps the rest of backward.

As PyTorch's reducer (Reducer says how buckets are formed), each gradient is multiplied by
1 / world_size while it is copied into its bucket, then the bucket is summed across ranks and
copied back into .grad.
"""

import sys

import numpy as np

from ...distributed import _collectives as C
from ...distributed._group import _state


def assign_buckets(params, order, limits):
    """Lists of parameter indices, one dtype each, filled in `order` (the order the gradients
    are expected in): a bucket closes once it holds limits[0] bytes (the first of its dtype),
    then limits[-1]. The buckets come in the order of their first parameter."""
    open_, done, count = {}, [], {}
    for pos, i in enumerate(order):
        p = params[i]
        b = open_.setdefault(p.dtype, [pos, [], 0])
        b[1].append(i)
        b[2] += p.numel() * p.element_size()
        k = count.get(p.dtype, 0)
        if b[2] >= limits[min(k, len(limits) - 1)]:
            done.append(b)
            count[p.dtype] = k + 1
            del open_[p.dtype]
    done.extend(open_.values())
    done.sort(key=lambda b: b[0])
    return [b[1] for b in done]


class Bucket:
    def __init__(self, params, indices):
        self.indices = indices
        self.params = [params[i] for i in indices]
        sizes = [p.numel() for p in self.params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        np_dtype = self.params[0].detach().numpy().dtype
        self.flat = np.zeros(int(self.offsets[-1]), np_dtype)
        self.work = None
        self.views = [None] * len(indices)  # gradient_as_bucket_view: the .grad tensors

    def view(self, j):
        """Parameter j's slice of the bucket as a tensor of its shape (shared memory)."""
        if self.views[j] is None:
            p = self.params[j]
            arr = self.flat[self.offsets[j] : self.offsets[j + 1]].reshape(tuple(p.shape))
            self.views[j] = p._be.from_numpy_shared(arr)
        return self.views[j]


def _scaled_into(dst, grad, n):
    """dst = grad * (1 / n), in grad's dtype as PyTorch's mul by a double scalar rounds."""
    if grad.dtype == np.float16:
        dst[...] = (grad.astype(np.float32) * np.float32(1.0 / n)).astype(np.float16)
    else:
        np.multiply(grad, grad.dtype.type(1.0 / n), out=dst)


def _divided(x, n):
    """x /= n in place, in x's dtype (PyTorch's div_ of a bucket that holds the gradient)."""
    if x.dtype == np.float16:
        x[...] = (x.astype(np.float32) / np.float32(n)).astype(np.float16)
    else:
        np.divide(x, x.dtype.type(n), out=x)


class Reducer:
    """Buckets as PyTorch's reducer makes them: all parameters in one bucket (per dtype) for the
    first iteration, then rebuilt once from the order the gradients actually arrived in, with
    the size caps; with find_unused_parameters the caps apply from the start, in reverse order."""

    def __init__(self, params, caps, comm, find_unused, grad_as_view=False):
        self.params = params
        self.grad_as_view = grad_as_view
        self.comm = comm
        self.caps = caps
        reverse = list(reversed(range(len(params))))
        self.arrivals = None if find_unused else []  # ready order, for the one rebuild
        self._set_buckets(assign_buckets(params, reverse, caps if find_unused else [sys.maxsize]))
        self.index = {id(p): i for i, p in enumerate(params)}
        self.unused = ()  # indices found unused by the last forward (find_unused_parameters)
        self.reset()

    def _set_buckets(self, lists):
        self.buckets = [Bucket(self.params, b) for b in lists]
        self.bucket_of = {}
        for k, b in enumerate(self.buckets):
            for i in b.indices:
                self.bucket_of[i] = k

    def rebuild(self):
        """After the first synchronized iteration: buckets in arrival order (rank 0's, so that
        every rank's buckets match)."""
        order, self.arrivals = self.arrivals, None
        if order is None or len(order) != len(self.params):
            return
        order = self.comm.bcast(order, root=0)
        self._set_buckets(assign_buckets(self.params, order, self.caps))
        if self.grad_as_view:  # gradients move to the new buckets
            for b in self.buckets:
                for j, p in enumerate(b.params):
                    if p.grad is not None:
                        b.flat[b.offsets[j] : b.offsets[j + 1]] = C._src(p.grad).reshape(-1)
                        p.grad = b.view(j)
        self.reset()

    def reset(self):
        self.ready = [False] * len(self.params)
        self.left = [len(b.indices) for b in self.buckets]
        self.launched = 0  # buckets started: always a prefix, in bucket order
        self.started = False  # a gradient of this iteration has arrived
        self.used = np.ones(len(self.params), np.uint8)

    @property
    def in_progress(self):
        return self.started and self.launched < len(self.buckets)

    def mark_ready(self, i):
        if self.ready[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. This error is caused by one of "
                f"the following reasons: 1) Use of a module parameter outside the `forward` "
                f"function. 2) Reused parameters in multiple reentrant backward passes. "
                f"Parameter at index {i} has been marked as ready twice."
            )
        if not self.started:
            self.started = True
            for j in self.unused:  # they will get no gradient here: ready now, as zeros
                self.used[j] = 0
                self.mark_ready(j)
        self.ready[i] = True
        if self.arrivals is not None:
            self.arrivals.append(i)
        self.left[self.bucket_of[i]] -= 1
        # Every rank must start its allreduces in the same order (MPI matches collectives by
        # order), so buckets start in bucket order: a full bucket waits for the ones before it.
        started = False
        while self.launched < len(self.buckets) and self.left[self.launched] == 0:
            self._launch(self.buckets[self.launched], last=self.launched == len(self.buckets) - 1)
            self.launched += 1
            started = True
        if self.launched == len(self.buckets):
            self._finish()
        elif not started:
            self._progress()

    def _launch(self, b, last):
        n = self.comm.Get_size()
        if n == 1 and not self.grad_as_view:
            return  # g * (1/1), summed over one rank, is g: the same bits without the copies
        for j, p in enumerate(b.params):
            dst = b.flat[b.offsets[j] : b.offsets[j + 1]]
            if p.grad is None:
                dst[...] = 0
            elif p.grad is b.views[j]:  # accumulated in the bucket itself: divide in place
                _divided(dst, n)
            else:
                _scaled_into(dst, C._src(p.grad).reshape(-1), n)
        op = C._mpi_op(C.ReduceOp.SUM, b.flat.dtype)
        if last:  # nothing is left to overlap with: a blocking allreduce costs less
            self.comm.Allreduce(_state.MPI.IN_PLACE, C._msg(b.flat), op)
        else:
            b.work = self.comm.Iallreduce(_state.MPI.IN_PLACE, C._msg(b.flat), op)

    def _progress(self):
        """MPI moves a nonblocking collective along only inside MPI calls: test the ones in
        flight, so they advance while backward computes."""
        works = [b.work for b in self.buckets if b.work is not None]
        if works:
            _state.MPI.Request.Testall(works)

    def _finish(self):
        from ... import zeros

        used = self.used
        if len(self.unused):
            used = used.copy()
            self.comm.Allreduce(_state.MPI.IN_PLACE, used, _state.MPI.MAX)
        alone = self.comm.Get_size() == 1 and not self.grad_as_view
        for b in self.buckets:
            if b.work is not None:
                b.work.Wait()
                b.work = None
            if alone:
                continue
            for j, (i, p) in enumerate(zip(b.indices, b.params)):
                if not used[i]:
                    continue  # no rank used it: its .grad stays as it was
                if self.grad_as_view:  # .grad is the bucket's slice from now on
                    if p.grad is not b.views[j]:
                        p.grad = b.view(j)
                    continue
                if p.grad is None:
                    p.grad = zeros(tuple(p.shape), dtype=p.dtype)
                g = p.grad.detach().numpy()
                g[...] = b.flat[b.offsets[j] : b.offsets[j + 1]].reshape(g.shape)
                p.grad._be.bump_version(p.grad)  # a copy_ into .grad, as PyTorch's
