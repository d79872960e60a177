"""What a task tells the one training loop (`training.loop.run`): its networks, optimizers, batches and one step.

The loop calls, in order: `setup()`; then it resumes the checkpoint (`modules`, `optimizers`) or, on a fresh start,
`initialise()`; `prepare(start)`; then per step `learning_rates`, `make_batch`, `step`, the EMA update,
`log_extra`, `validate` (every `train.val_every`), and around each checkpoint `before_checkpoint` and
`after_checkpoint`; at the end `finish()`, which returns the network export reads.
Schedule (iterations or `train.time_budget_min`), resume, progress lines, checkpoints and snapshots are the loop's.
"""

from __future__ import annotations

import copy
import sys
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from training.archs import build_arch
from training.checkpoints import init_from_onnx, init_from_run, save_checkpoint
from training.schedule import Schedule


class TrainTask(ABC):
    # The tasks the exported model cards declare (the app sees a GAN upscaler as just another "upscale" model).
    card_tasks: ClassVar[tuple[str, ...]]
    default_arch: ClassVar[str]  # the network a config without `[model] arch` meant
    reserved_model_keys: ClassVar[tuple[str, ...]] = ()  # `[model]` keys of the task's other networks
    export_kind: ClassVar[str] = "image"  # "image": training/export.py; "gan" / "vae": training/export_generative.py
    checkpoint_name: ClassVar[str] = "last.pt"  # what a run resumes from; `last.pt` is always what export reads
    log_every: ClassVar[int] = 50  # defaults of train.log_every / train.ckpt_every
    ckpt_every: ClassVar[int] = 250

    def __init__(self, config: dict) -> None:
        self.config = config
        self.train_cfg: dict = config["train"]
        self.seed = int(self.train_cfg.get("seed", 0))
        self.modules: dict[str, nn.Module] = {}  # checkpointed; "net" is the network that ships
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.ema: nn.Module | None = None  # an average of `ema_source`, updated by the loop after every step
        self.ema_source: nn.Module | None = None

    @classmethod
    def build_model(cls, config: dict) -> nn.Module:
        """The network that ships, from `[model]`: what training trains and export loads the checkpoint into."""
        return build_arch(config["model"], cls.default_arch, cls.reserved_model_keys)

    @abstractmethod
    def setup(self) -> None:
        """Networks and optimizers into `modules` / `optimizers` (seeding torch where the recipe does)."""

    def initialise(self) -> None:
        """A fresh run's starting weights: `init_from` (another run's checkpoint), `init_from_onnx` (a shipped
        model); the loop then copies them into the EMA."""
        target = self.ema_source if self.ema_source is not None else self.exported()
        if self.config.get("init_from"):
            copied = init_from_run(target, self.config["init_from"])
            print(f"initialised {copied} tensors from run {self.config['init_from']}", file=sys.stderr)
        if self.config.get("init_from_onnx"):
            copied = init_from_onnx(target, self.config["init_from_onnx"])
            print(f"initialised {copied} tensors from the shipped {self.config['init_from_onnx']}", file=sys.stderr)

    def prepare(self, start: int) -> None:
        """Data and anything else that depends on the step the run starts at."""

    def learning_rates(self, step: int, schedule: Schedule) -> dict[str, float]:
        """{optimizer name: learning rate} for this step; an optimizer left out keeps its rate."""
        return {}

    @abstractmethod
    def make_batch(self, size: int) -> Any:
        """What `step` trains on next (`train.batch` samples)."""

    @abstractmethod
    def step(self, step: int, batch: Any) -> dict[str, float]:
        """One update of every network; returns the losses for the progress line."""

    def log_extra(self, step: int, rates: dict[str, float]) -> dict[str, float]:
        return {}

    def validate(self) -> dict[str, float]:
        """Held-out measures for the progress line (run under torch.no_grad every `train.val_every` steps)."""
        return {}

    def ema_decay(self, step: int) -> float:
        return float(self.train_cfg.get("ema", 0.999))

    def exported(self) -> nn.Module:
        return self.modules["net"]

    def before_checkpoint(self, step: int) -> None:
        """Anything the networks need before they are saved (a GAN re-measures its batch-norm statistics)."""

    def after_checkpoint(self, run_dir: Path, step: int) -> None:
        """A run that resumes from a file of its own also keeps `last.pt` = the shipped network alone."""
        if self.checkpoint_name == "last.pt":
            return
        net = self.exported()
        if any(p.device.type != "cpu" for p in net.parameters()):
            net = copy.deepcopy(net).to("cpu")
        save_checkpoint(run_dir / "last.pt", step, {"net": net}, {})

    def finish(self) -> nn.Module:
        return self.exported().eval()
