"""Several processes: the torchrun world and sharded tagging."""
