"""The endless stream of augmented training batches, drawn in the training process or in worker processes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from .augment import AugmentConfig, augment_batch
from .dataset import Batch, CropSampler
from .rooms import RoomBank

ROOM_RENEWAL_BATCHES = 4  # a new room response every this many batches


class AugmentedBatches(IterableDataset):
    """Random crops of the sampler's segments, augmented; each worker draws with its own seed.

    The stream depends only on (seed, worker count), so a run is reproducible, and a resumed run passes
    `seed + step` to draw fresh crops rather than replaying the ones it has already trained on.
    """

    def __init__(self, sampler: CropSampler, batch_size: int, augment: AugmentConfig, seed: int, augment_here: bool = True):
        super().__init__()
        self.sampler, self.batch_size, self.augment, self.seed = sampler, batch_size, augment, seed
        self.augment_here = augment_here  # False: the batches stay clean, to be augmented on the training device

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        worker = info.id if info else 0
        self.sampler.rng = np.random.default_rng([self.seed, worker])
        gen = torch.Generator().manual_seed(self.seed * 1009 + worker)
        rate = self.sampler.features.sample_rate
        rooms = None
        if self.augment.reverb and self.augment.rooms:
            rooms = RoomBank(np.random.default_rng([self.seed, worker, 1]), rate, self.augment.room_rt60_seconds)
        for count in itertools.count(1):
            batch = self.sampler.batch(self.batch_size, self.augment.pitch_shift_semitones)
            if not self.augment_here:
                yield batch
                continue
            yield replace(batch, audio=augment_batch(batch.audio, self.augment, rate, gen, rooms))
            if rooms is not None and count % ROOM_RENEWAL_BATCHES == 0:
                rooms.renew_one()


def batch_stream(batches: AugmentedBatches, workers: int) -> Iterator[Batch]:
    """Batches from the calling process (workers 0) or from `workers` processes that prepare them ahead.

    Workers are forked and share the segments' audio with the training process; on a GPU they keep
    the cropping, labelling and augmentation (CPU work) from starving the accelerator.
    """
    if workers <= 0:
        return iter(batches)
    loader = DataLoader(batches, batch_size=None, num_workers=workers, prefetch_factor=4, persistent_workers=True)
    return iter(loader)
