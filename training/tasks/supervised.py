"""The supervised recipe of the image tasks (upscale, denoise, low light): (degraded input, clean target) pairs, one
network, Adam + the cosine schedule (by iterations or `train.time_budget_min`), bf16 autocast where the CPU computes
it natively (`loop.use_bf16`), channels_last, validation PSNR on held-out photos."""

from __future__ import annotations

import sys
from abc import abstractmethod
from collections.abc import Callable

import torch
from torch import nn

from training.schedule import Schedule, schedule_lr, use_bf16
from training.losses import charbonnier
from training.tasks.base import TrainTask

Pair = tuple[torch.Tensor, torch.Tensor]
MakeBatch = Callable[[int], Pair]
Validate = Callable[[nn.Module], dict[str, float]]


class SupervisedTask(TrainTask):
    log_every = 100
    ckpt_every = 500

    @abstractmethod
    def data(self) -> tuple[MakeBatch, Validate]:
        """(make_batch(n) -> (inputs, targets), validate(trained module) -> {"val_psnr": ...})."""

    def wrap(self, net: nn.Module) -> nn.Module:
        """The module trained around the shipped network (low light trains the curve's full-resolution result)."""
        return net

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return charbonnier(output, target)

    def setup(self) -> None:
        self.net = self.build_model(self.config)
        self.model = self.wrap(self.net)
        torch.manual_seed(self.seed)  # after building: the network's initial weights are as they always were
        self.optimizers = {"net": torch.optim.Adam(self.model.parameters(), lr=float(self.train_cfg["lr"]),
                                                   betas=(0.9, 0.99))}
        self.modules = {"net": self.net}

    def prepare(self, start: int) -> None:
        self._make_batch, self._validate = self.data()
        self.bf16 = use_bf16(self.train_cfg)
        print(f"precision: {'bf16 autocast' if self.bf16 else 'fp32'}, channels_last, {torch.get_num_threads()} "
              "threads", file=sys.stderr)
        self.model.to(memory_format=torch.channels_last)
        self.model.train()

    def learning_rates(self, step: int, schedule: Schedule) -> dict[str, float]:
        lr, min_lr = float(self.train_cfg["lr"]), float(self.train_cfg.get("min_lr", 1e-6))
        return {"net": schedule_lr(schedule.fraction(step), lr, min_lr, step)}

    def make_batch(self, size: int) -> Pair:
        return self._make_batch(size)

    def step(self, step: int, batch: Pair) -> dict[str, float]:
        inputs, targets = batch
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            outputs = self.model(inputs.contiguous(memory_format=torch.channels_last))
        loss = self.loss(outputs.float(), targets)
        optimizer = self.optimizers["net"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach())}

    def log_extra(self, step: int, rates: dict[str, float]) -> dict[str, float]:
        return {"lr": rates["net"]}

    def validate(self) -> dict[str, float]:
        self.model.eval()
        result = self._validate(self.model)
        self.model.train()
        return result

    def finish(self) -> nn.Module:
        self.model.to(memory_format=torch.contiguous_format)
        self.model.eval()
        return self.net
