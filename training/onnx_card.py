"""A model card is the .onnx file's metadata_props: read it, and replace it in place (atomically), without touching
the weights. Used by export, by the precision measurement and by the generative export."""

from __future__ import annotations

from pathlib import Path

import onnx


def read_metadata(path: Path) -> dict[str, str]:
    """The file's metadata_props (the model card), in file order."""
    return {entry.key: entry.value for entry in onnx.load(str(path), load_external_data=False).metadata_props}


def write_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Replace the file's metadata_props (the model card) in place, atomically."""
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    proto.producer_name = "imagestudio-training"
    onnx.checker.check_model(proto)
    tmp = path.with_name(path.name + ".meta.tmp")
    onnx.save(proto, str(tmp))
    tmp.replace(path)
