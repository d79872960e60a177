"""Reads an ONNX file's `metadata_props` without the `onnx` package and without building a session.

Only onnxruntime ships with the app, and a session costs a graph load and optimisation per model just to list the
model folder. The metadata are top-level fields of the ModelProto message, so a protobuf wire-format walk that skips
the graph's bytes without decoding them is enough.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from imagestudio.core.errors import ModelError, UnsupportedModelError

# Field numbers in onnx.proto's ModelProto and StringStringEntryProto.
_IR_VERSION = 1
_GRAPH = 7
_METADATA_PROPS = 14
_ENTRY_KEY = 1
_ENTRY_VALUE = 2

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5

# A model card is a few dozen short fields (ours: under 2 KB in all). Megabyte values are no card but an attack on
# whatever lists the model folder; such a file is refused, which skips it with one warning.
MAX_ENTRY_BYTES = 64 * 1024
MAX_ENTRIES = 1024
MAX_METADATA_BYTES = 1 << 20


class _Malformed(ValueError):
    pass


class _Absurd(ValueError):
    """Well-formed, but more than any model card holds."""


def _read_byte(stream: BinaryIO) -> int:
    byte = stream.read(1)
    if not byte:
        raise _Malformed("truncated message")
    return byte[0]


def _varint(stream: BinaryIO) -> int:
    result = shift = 0
    while shift <= 63:
        byte = _read_byte(stream)
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result
        shift += 7
    raise _Malformed("varint too long")


def _entry(data: bytes) -> tuple[str, str]:
    """Decodes one StringStringEntryProto: two length-delimited strings, key and value."""
    stream = io.BytesIO(data)
    fields: dict[int, str] = {}
    while stream.tell() < len(data):
        tag = _varint(stream)
        if tag & 7 != _LENGTH_DELIMITED:
            raise _Malformed("unexpected field in a metadata entry")
        length = _varint(stream)
        text = stream.read(length)
        if len(text) != length:
            raise _Malformed("truncated metadata entry")
        fields[tag >> 3] = text.decode("utf-8")
    return fields.get(_ENTRY_KEY, ""), fields.get(_ENTRY_VALUE, "")


def read_metadata_props(path: Path) -> dict[str, str]:
    """The model's metadata_props as a dict. Raises UnsupportedModelError when the file is not an ONNX model."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            return _metadata_from(file, size, path)
    except OSError as exc:
        raise ModelError(f"model file '{path}' cannot be read: {exc.strerror or exc}") from exc


def _metadata_from(file: BinaryIO, size: int, path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    seen_graph = seen_ir_version = False
    metadata_bytes = 0
    try:
        while file.tell() < size:
            tag = _varint(file)
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise _Malformed("field number 0")
            if wire == _VARINT:
                _varint(file)
                seen_ir_version |= number == _IR_VERSION
            elif wire in (_FIXED64, _FIXED32):
                file.seek(8 if wire == _FIXED64 else 4, os.SEEK_CUR)
            elif wire == _LENGTH_DELIMITED:
                length = _varint(file)
                if file.tell() + length > size:
                    raise _Malformed("field runs past the end of the file")
                if number == _METADATA_PROPS:
                    if length > MAX_ENTRY_BYTES:
                        raise _Absurd(f"a metadata entry of {length:,} bytes (at most {MAX_ENTRY_BYTES:,})")
                    metadata_bytes += length
                    if metadata_bytes > MAX_METADATA_BYTES or len(props) >= MAX_ENTRIES:
                        raise _Absurd(f"more metadata than a model card holds (over {MAX_ENTRIES} entries or "
                                      f"{MAX_METADATA_BYTES >> 20} MB)")
                    key, value = _entry(file.read(length))
                    if key:
                        props[key] = value
                else:  # the graph and its weights: skipped, never read
                    seen_graph |= number == _GRAPH
                    file.seek(length, os.SEEK_CUR)
            else:
                raise _Malformed(f"unsupported wire type {wire}")
    except _Absurd as exc:
        raise UnsupportedModelError(f"'{path.name}' has {exc} in its model card") from None
    except (_Malformed, UnicodeDecodeError) as exc:
        raise UnsupportedModelError(f"'{path.name}' is not an ONNX model ({exc})") from exc
    if not (seen_graph and seen_ir_version):
        raise UnsupportedModelError(f"'{path.name}' is not an ONNX model")
    return props
