"""Image reading and writing for the core, split by job.

Import the public names from :mod:`imagestudio.core.image`; the modules here are its implementation:
``image_types`` (the value objects and array helpers), ``formats`` (what we read and write), ``metadata``
(EXIF, ICC, dpi), ``decode`` (Pillow image -> arrays), ``load`` / ``save`` (the two entry points) and the
writers Pillow cannot do for us (``png16``: 16-bit PNG, ``tiff_writer``: TIFF with EXIF and 16-bit colour).
"""
