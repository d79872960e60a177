"""Training package: datasets, architectures, losses, loops and ONNX export for ImageStudio's models.

Never imported by the app. Needs the `train` extra (torch==2.13.0, onnx, onnxscript).
"""
