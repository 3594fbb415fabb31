"""`DataLoader`: batches of a dataset (map-style or iterable), in PyTorch's order and with
PyTorch's random draws. Each iteration first draws the base seed PyTorch's iterator draws (from
`generator`, or the default generator), then the sampler's numbers, so a seeded run matches
PyTorch batch for batch and leaves the generators where PyTorch leaves them.

`num_workers > 0` loads in this process, one batch after another (tapegrad starts no worker
processes): the batches are the same; a dataset that draws random numbers in `__getitem__`
draws them from the main generator, not from per-worker seeded ones, and `worker_init_fn` is
not called."""

import warnings

from ._seed import draw_seed
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    """Iterate over a dataset in batches, with PyTorch's arguments, order and random draws.

    `DataLoader(dataset, batch_size=1, shuffle=None, ...)`: a map-style dataset is sampled
    (shuffled with `generator`, or the default generator, as PyTorch's) and each batch is made by
    `collate_fn` (`default_collate`); an `IterableDataset` is read as a stream. `drop_last` drops
    a short last batch; `batch_size=None` turns batching off.

    Differs from PyTorch: `num_workers > 0` loads in this process (same batches, no worker
    processes, `worker_init_fn` not called), and `pin_memory` only warns."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):  # fmt: skip
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            _check_iterable(shuffle, sampler, batch_sampler)
            sampler = _Endless()
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))  # fmt: skip
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self):
        if self._iterable:  # what the dataset reports, in batches
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def __iter__(self):
        if self.pin_memory:
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used.",
                stacklevel=2,
            )
        indices = iter(self._index_sampler)  # lazy: the sampler draws at the first batch
        draw_seed(self.generator)  # PyTorch's iterator draws its base seed here
        if self._iterable:
            indices = (indices, iter(self.dataset))  # the stream starts now, as in PyTorch
        return self._batches(indices)

    def _stream(self, indices):
        """PyTorch's iterable fetcher: fill each batch from the stream; a short last batch is
        kept unless drop_last; without batching, one collate_fn call per item."""
        sampler_it, items = indices
        for index in sampler_it:
            if self.batch_sampler is None:
                try:
                    item = next(items)
                except StopIteration:
                    return
                yield self.collate_fn(item)
                continue
            data = []
            for _ in index:
                try:
                    data.append(next(items))
                except StopIteration:
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                return
            yield self.collate_fn(data)
            if len(data) < len(index):
                return

    def _batches(self, indices):
        if self._iterable:
            yield from self._stream(indices)
            return
        fetch = getattr(self.dataset, "__getitems__", None)
        for index in indices:
            if self.batch_sampler is None:
                yield self.collate_fn(self.dataset[index])
            elif callable(fetch):
                yield self.collate_fn(fetch(index))
            else:
                yield self.collate_fn([self.dataset[i] for i in index])


class _Endless:
    """The index stream of an IterableDataset (PyTorch's _InfiniteConstantSampler)."""

    def __iter__(self):
        while True:
            yield None


def _check_iterable(shuffle, sampler, batch_sampler):
    if shuffle not in (False, None):
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
            f"shuffle={shuffle}"
        )
    if sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified sampler option, but got "
            f"sampler={sampler}"
        )
    if batch_sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
            f"batch_sampler={batch_sampler}"
        )


def get_worker_info():
    """None: tapegrad loads in the main process (PyTorch's answer there)."""
    return None
