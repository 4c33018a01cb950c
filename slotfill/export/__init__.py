"""Models that run without torch: the ONNX export, its onnxruntime runtime, and loading either kind of model directory."""
