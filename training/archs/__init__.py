"""Network architectures. All fully convolutional with dynamic height and width, exportable to ONNX."""
