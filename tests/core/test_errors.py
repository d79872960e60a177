"""Every error type the core raises to a user is declared in core/errors.py, and nowhere else."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import imagestudio.core
from imagestudio.core import errors


def test_every_imagestudio_error_is_declared_in_errors_py() -> None:
    declared_elsewhere = set()
    for module_info in pkgutil.walk_packages(imagestudio.core.__path__, "imagestudio.core."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, errors.ImageStudioError):
                if value.__module__ != errors.__name__:
                    declared_elsewhere.add(f"{value.__module__}.{name}")
                else:
                    assert getattr(errors, value.__name__) is value
    assert not declared_elsewhere
