"""What is saved and read back: model directories, checkpoints, calibration, and what a model describes of itself."""
