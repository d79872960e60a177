"""Errors a user can cause. Each carries a message a person understands; the CLI and the GUI show it as is."""

from __future__ import annotations


class ImageStudioError(Exception):
    """Base of every error the app reports to the user instead of crashing."""


class ImageLoadError(ImageStudioError):
    """A file could not be read as an image (missing, not an image, truncated, unsupported)."""


class ImageTooLargeError(ImageLoadError):
    """An image declares more pixels than the configured limit; refused before decoding."""


class ImageSaveError(ImageStudioError):
    """An image could not be written (no permission, disk full, refusing to overwrite the input)."""


class ModelError(ImageStudioError):
    """A model file is missing, is not a usable ONNX model, or failed while running."""


class UnsupportedModelError(ModelError):
    """An ONNX file that is not an image model the app can run (wrong rank, wrong channels...)."""


class ModelNotFoundError(ModelError):
    """No installed model matches a name, or no model is installed for a task."""


class NotEnoughMemoryError(ImageStudioError):
    """An image needs more memory than the process may use (RAM, or an address-space limit such as `ulimit -v`)."""


class DeviceError(ImageStudioError):
    """The requested execution device cannot be used."""


class DeviceOutOfMemoryError(DeviceError):
    """The execution provider ran out of memory; tiling reacts by halving the tile, then by moving to the CPU."""


class PipelineError(ImageStudioError):
    """A pipeline description (JSON preset, history) is malformed or names an unknown operation."""


class BatchError(ImageStudioError):
    """A batch job is set up wrongly (missing input folder, unsafe name template...); nothing was written."""


class ClusterError(BatchError):
    """Ray is missing, the cluster cannot be reached, or it has no room for a task; nothing was written."""


class Cancelled(ImageStudioError):
    """The user cancelled a long operation. Not a failure: nothing was written."""
