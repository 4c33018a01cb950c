"""Training runs: the loop, its resumable state, splits, run directories, events, augmentation, cross-validation."""
