"""The batch engine's own error: a folder, pattern or name template the user chose cannot work."""

from __future__ import annotations

from imagestudio.core.errors import ImageStudioError


class BatchError(ImageStudioError):
    """A batch job is set up wrongly (missing input folder, unsafe name template...); nothing was written."""
