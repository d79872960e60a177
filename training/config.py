"""Experiment configs: one TOML file per model, with `--set section.key=value` overrides from the command line."""

from __future__ import annotations

import ast
import copy
import tomllib
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


def load_config(path: Path | str, overrides: list[str] | None = None) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file() and (CONFIG_DIR / path).is_file():
        path = CONFIG_DIR / path
    with open(path, "rb") as f:
        config = tomllib.load(f)
    for item in overrides or []:
        apply_override(config, item)
    return config


def apply_override(config: dict[str, Any], item: str) -> None:
    """`train.iters=100` sets config["train"]["iters"] = 100 (value parsed as a Python literal when it is one)."""
    key, sep, raw = item.partition("=")
    if not sep:
        raise ValueError(f"override {item!r} must look like section.key=value")
    try:
        value: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    *parents, leaf = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def dry_run_config(config: dict[str, Any]) -> dict[str, Any]:
    """A few iterations on tiny generated data: what CI runs to prove every entry point works."""
    config = copy.deepcopy(config)
    train = config.setdefault("train", {})
    train.update(iters=3, batch=2, log_every=1, ckpt_every=2, val_every=0, dry_run=True)
    train["patch"] = min(int(train.get("patch", 64)), 64)
    if "val_patch" in train:
        train["val_patch"] = min(int(train["val_patch"]), 64)
    train.pop("time_budget_min", None)
    if "gan_start" in train:  # staged GAN training: reach the adversarial stage within the few steps
        train.update(gan_start=1, gan_ramp=1)
    config["run_dir"] = None
    return config
