"""How good a model is: span F1 and accuracies, calibration, evaluation runs and their reports."""
