"""Where this process stands in a torchrun launch: its rank and the number of processes.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK (and the rendezvous); a plain `slotfill` process is
rank 0 of 1. The World is passed explicitly to training and tagging (never a global). Training
joins torch.distributed (gloo on the CPU, NCCL on CUDA); sharded tagging needs nothing but the
ranks, so it also runs an exported model without torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from slotfill.errors import ConfigError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> World:
        """The world torchrun describes in the environment; rank 0 of 1 outside torchrun."""
        environ = dict(os.environ if environ is None else environ)
        try:
            rank = int(environ.get("RANK", "0"))
            size = int(environ.get("WORLD_SIZE", "1"))
            local_rank = int(environ.get("LOCAL_RANK", str(rank)))
        except ValueError:
            raise ConfigError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (torchrun sets them)") from None
        if size < 1 or not 0 <= rank < size:
            raise ConfigError(f"RANK {rank} is not within WORLD_SIZE {size}")
        return cls(rank, size, local_rank)

    def shard(self, count: int) -> range:
        """This rank's contiguous share of `count` items (the first ranks take one more when uneven)."""
        base, extra = divmod(count, self.size)
        start = self.rank * base + min(self.rank, extra)
        return range(start, start + base + (1 if self.rank < extra else 0))


class ProcessGroup:
    """torch.distributed for a training World: joined on entry, left on exit. With one process it
    does nothing, so plain training never touches torch.distributed."""

    def __init__(self, world: World, device_type: str) -> None:
        self.world, self.backend = world, "nccl" if device_type == "cuda" else "gloo"

    def __enter__(self) -> ProcessGroup:
        if self.world.distributed:
            import torch.distributed as dist

            if not dist.is_initialized():
                if self.backend == "nccl":
                    import torch

                    torch.cuda.set_device(self.world.local_rank)
                dist.init_process_group(self.backend, rank=self.world.rank, world_size=self.world.size)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self.world.distributed:
            import torch.distributed as dist

            if dist.is_initialized():
                if exc_type is None:
                    # every rank done before any leaves: a rank that tore gloo down while another
                    # still sent aborted at exit ("terminate called without an active exception",
                    # 1 of 20 looped runs on a busy machine); after an error the others may be gone
                    dist.barrier()
                dist.destroy_process_group()


def broadcast_from_main(world: World, value: Any) -> Any:
    """Rank 0's `value` on every rank (a picklable object; torch.distributed pickles it between
    the ranks of one run, never from a file)."""
    if not world.distributed:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def any_rank(world: World, flag: bool, device: Any = None) -> bool:
    """True on every rank when `flag` is true on any rank (one all-reduce; on `device`, which
    must be the rank's GPU under NCCL)."""
    if not world.distributed:
        return flag
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())
