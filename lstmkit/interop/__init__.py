"""Networks in and out: ONNX, PyTorch weights, MATLAB learnables."""
