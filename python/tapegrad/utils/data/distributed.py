"""`DistributedSampler`: each of `num_replicas` processes reads its own share of a dataset, in
PyTorch's order. The shuffle is one `randperm` from a generator seeded `seed + epoch`, so every
rank computes the same permutation and takes every `num_replicas`-th index from `rank` on."""

import math

from ..._random import Generator, randperm
from .sampler import Sampler


def _dist_query(getter_name):
    # Imported here, not at the top: the data package must load without the distributed one.
    from ... import distributed as dist

    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return getattr(dist, getter_name)()


class DistributedSampler(Sampler):
    """The indices one rank reads. Without `drop_last`, the list is padded by repeating its head
    until every rank gets `ceil(len / num_replicas)` indices; with it, the tail is cut so that
    every rank gets the same count. Call `set_epoch` before each epoch to reshuffle."""

    def __init__(
        self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False
    ):
        if num_replicas is None:
            num_replicas = _dist_query("get_world_size")
        if rank is None:
            rank = _dist_query("get_rank")
        if rank < 0 or rank >= num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # The largest multiple of num_replicas below n, shared out evenly.
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _all_indices(self):
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        g = Generator()
        g.manual_seed(self.seed + self.epoch)
        return randperm(n, generator=g).tolist()

    def __iter__(self):
        indices = self._all_indices()
        if self.drop_last:
            indices = indices[: self.total_size]
        else:
            missing = self.total_size - len(indices)
            # Repeat the whole list as often as needed (more than once when len < num_replicas).
            repeats = 1 if missing <= len(indices) else math.ceil(missing / len(indices))
            indices += (indices * repeats)[:missing]
        if len(indices) != self.total_size:
            # The dataset changed size since the sampler was made.
            raise AssertionError(
                f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})"
            )
        indices = indices[self.rank : self.total_size : self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(
                f"Number of subsampled indices ({len(indices)}) does not match num_samples "
                f"({self.num_samples})"
            )
        # A list iterator, not a generator, so the draw happens when iter() is called.
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The shuffle of the next iteration uses `seed + epoch`; all ranks must pass the same."""
        self.epoch = epoch
