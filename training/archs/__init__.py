"""Network architectures. All fully convolutional with dynamic height and width, exportable to ONNX.

Each class registers in `training.registry.ARCHS` under the name configs give as `[model] arch`; `build_arch` makes
the one a config names, the same way for training, export and tests.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from torch import nn

from training.registry import ARCHS


def build_arch(spec: dict[str, Any], default: str, reserved: Iterable[str] = ()) -> nn.Module:
    """The network `spec` (a config's `[model]`) names in `arch`, else `default` (what configs written before the
    key meant), built with the spec's other keys as its arguments. `reserved` keys belong to another network of the
    task (a discriminator's `d_feat`); any other key the class does not take is refused, so a typo is not ignored."""
    name = str(spec.get("arch", default))
    cls = ARCHS.get(name)
    skip = {"arch", *reserved}
    kwargs = {key: value for key, value in spec.items() if key not in skip}
    params = inspect.signature(cls).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ValueError(f"model.{unknown[0]} is not a setting of arch {name!r} ({cls.__name__} takes "
                         f"{', '.join(params)})")
    return cls(**kwargs)
