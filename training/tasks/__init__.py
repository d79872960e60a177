"""One module per task, each a `TrainTask` registered in `training.registry.TASKS` under its command-line name."""

from __future__ import annotations

from torch import nn

from training.registry import TASKS


def build_model(config: dict) -> nn.Module:
    """The network a config trains and exports (its task builds `[model]`): the same for training, export, tests."""
    return TASKS.get(config["task"]).build_model(config)
