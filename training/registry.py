"""Name → class tables that configs and the command line look things up in (BasicSR's `utils/registry.py`).

`TASKS`: `python -m training <task>` and a config's `task = "..."` name a `TrainTask` class (`training/tasks/`).
`ARCHS`: a config's `[model] arch = "..."` names a network class (`training/archs/`).
Each class registers itself where it is defined (`@ARCHS.register("compact-sr")`). A registry imports every module
of its package on the first look-up, so no module has to be listed anywhere else to be found.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from torch import nn

T = TypeVar("T")


class UnknownNameError(LookupError):
    """A config or command line named something no module registered."""


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str | None = None) -> None:
        self.kind = kind  # what the names stand for, in messages: "task", "architecture"
        self.package = package
        self._items: dict[str, T] = {}
        self._loaded = package is None

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: `@TASKS.register("denoise")` on a class adds it under that name; a name is taken once."""
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice: {_label(self._items[name])} and "
                                 f"{_label(item)}")
            self._items[name] = item
            return item
        return add

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names()) or 'none'}") \
                from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # first, so a module that looks something up while it is imported does not recurse
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{self.package}.{module.name}")


def _label(item: Any) -> str:
    return f"{getattr(item, '__module__', '?')}.{getattr(item, '__qualname__', repr(item))}"


# Typed loosely on purpose: naming TrainTask here would tie this bottom module to the tasks above it.
TASKS: Registry[type] = Registry("task", "training.tasks")
ARCHS: Registry[type[nn.Module]] = Registry("architecture", "training.archs")
