"""Image I/O for the whole app: load and save files, and the Image / ImageMeta values passed between layers.

Pixels are float32 in [0, 1]: ``rgb`` (H, W, 3) and a separate ``alpha`` (H, W) or None; greyscale files are
loaded with three equal channels and ``meta.greyscale`` set. What the rest of the app can rely on:

- load_image applies EXIF orientation (``meta.exif`` keeps the tag, reset to 1), reads frame 0 of animated
  files (``meta.frame_count`` says how many there are), converts CMYK to RGB (``meta.icc_profile`` is then
  None), keeps 16-bit samples exactly (``meta.bit_depth`` 16), and refuses, before decoding, an image over
  ``max_pixels`` or over Pillow's decompression-bomb limit (ImageTooLargeError).
- save_image picks the format from the suffix, writes EXIF/ICC/dpi where the format holds them, keeps 16 bits
  in PNG and TIFF, writes ``meta.greyscale`` images as grey (Rec. 601 luminance) where the format allows it,
  composites alpha over white for JPEG and BMP, writes atomically and refuses to overwrite the input.
  An operation that adds colour to a grey image should clear ``meta.greyscale``; one that changes the scale
  may want to update ``meta.dpi``.

The implementation lives in :mod:`imagestudio.core.imageio`; this module is the one to import.
"""

from __future__ import annotations

from imagestudio.core.imageio.formats import DEFAULT_MAX_PIXELS, SUPPORTED_SUFFIXES
from imagestudio.core.imageio.image_types import Image, ImageMeta, image_from_array, to_uint8, to_uint16
from imagestudio.core.imageio.load import load_image
from imagestudio.core.imageio.save import save_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_SUFFIXES",
    "Image",
    "ImageMeta",
    "image_from_array",
    "load_image",
    "save_image",
    "to_uint8",
    "to_uint16",
]
