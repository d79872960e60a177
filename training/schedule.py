"""How a training run paces itself: the cosine learning rate by iterations or wall-clock time, progress lines with
it/s and ETA, bf16 where the CPU has it, and the EMA of weights."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch
from torch import nn


def cosine_lr(step: int, total: int, lr: float, min_lr: float, warmup: int = 100) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, t)))


class ProgressLog:
    """Prints iterations/s, smoothed losses and ETA; appends the same to runs/<name>/log.jsonl."""

    def __init__(self, total: int, start: int, log_file: Path | None) -> None:
        self.total, self.start = total, start
        self.t0 = time.time()
        self.smooth: dict[str, float] = {}
        self.log_file = log_file

    def update(self, step: int, losses: dict[str, float], every: int, **extra: float) -> None:
        for k, v in losses.items():
            self.smooth[k] = v if k not in self.smooth else 0.95 * self.smooth[k] + 0.05 * v
        if every <= 0 or (step + 1) % every and step + 1 != self.total:
            return
        done = step + 1 - self.start
        rate = done / max(1e-9, time.time() - self.t0)
        eta = (self.total - step - 1) / max(rate, 1e-9)
        parts = " ".join(f"{k}={v:.4f}" for k, v in self.smooth.items())
        more = " ".join(f"{k}={v:.4g}" for k, v in extra.items())
        print(f"[{step + 1}/{self.total}] {rate:.2f} it/s {parts} {more} eta {eta / 60:.1f} min", flush=True)
        if self.log_file is not None:
            with open(self.log_file, "a") as f:
                f.write(json.dumps({"step": step + 1, "time": time.time(), **self.smooth, **extra}) + "\n")


def use_bf16(train: dict) -> bool:
    """bf16 autocast where the CPU computes it natively (AMX or AVX512-BF16): ×2–3 per step measured here; else fp32.
    Decided at run time, since the development machines change CPU between sessions."""
    choice = str(train.get("precision", "auto"))
    if choice in ("fp32", "bf16"):
        return choice == "bf16"
    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


class Schedule:
    """Where a run stands: by iterations, or by wall-clock time when `time_budget_min` is set (the cosine then
    follows elapsed time, so a run slowed by other work on the machine still finishes its decay on time).
    Elapsed time is kept in the checkpoint, so a resumed run continues the same schedule."""

    def __init__(self, train: dict, elapsed: float = 0.0) -> None:
        self.total = int(train["iters"])
        self.budget = float(train.get("time_budget_min", 0)) * 60
        self.elapsed0, self.t0 = elapsed, time.time()

    def elapsed(self) -> float:
        return self.elapsed0 + time.time() - self.t0

    def fraction(self, step: int) -> float:
        by_steps = step / max(1, self.total)
        return max(by_steps, self.elapsed() / self.budget) if self.budget else by_steps

    def done(self, step: int) -> bool:
        return step >= self.total or (self.budget > 0 and self.elapsed() >= self.budget)


def schedule_lr(fraction: float, lr: float, min_lr: float, step: int, warmup: int = 100) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, fraction)))


def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters(), strict=True):
            e.lerp_(p, 1.0 - decay)
