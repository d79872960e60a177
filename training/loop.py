"""A short, readable training loop: progress with it/s, loss and ETA; checkpoints; resume after interruption."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

RUNS_DIR = Path(__file__).resolve().parents[1] / "runs"


def cosine_lr(step: int, total: int, lr: float, min_lr: float, warmup: int = 100) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, t)))


def save_checkpoint(path: Path, step: int, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                    extra: dict | None = None) -> None:
    state = {"step": step, "extra": extra or {}}
    state.update({f"model.{k}": m.state_dict() for k, m in modules.items()})
    state.update({f"optim.{k}": o.state_dict() for k, o in optimizers.items()})
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: an interrupted save never corrupts the last good checkpoint


def init_from_run(model: nn.Module, run_name: str) -> int:
    """Copy every parameter whose name and shape match from another run's checkpoint (transfer learning: an ×2
    model starts from the ×4 body). Returns how many tensors were copied."""
    state = torch.load(RUNS_DIR / run_name / "last.pt", map_location="cpu", weights_only=True)["model.net"]
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    own.update(matching)
    model.load_state_dict(own)
    return len(matching)


def load_checkpoint(path: Path, modules: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer] | None = None) -> int:
    # weights_only: a checkpoint is data, never code (no pickle execution).
    state = torch.load(path, map_location="cpu", weights_only=True)
    for k, m in modules.items():
        m.load_state_dict(state[f"model.{k}"])
    for k, o in (optimizers or {}).items():
        if f"optim.{k}" in state:
            o.load_state_dict(state[f"optim.{k}"])
    return int(state["step"])


def resume_step(checkpoint: Path | None, modules: dict[str, nn.Module],
                optimizers: dict[str, torch.optim.Optimizer], resume: bool = True) -> int:
    """The iteration to start at: the checkpoint's, with weights and optimizer state restored, when resuming from one
    that exists; else 0."""
    if not (resume and checkpoint is not None and checkpoint.is_file()):
        return 0
    start = load_checkpoint(checkpoint, modules, optimizers)
    print(f"resumed from {checkpoint} at iteration {start}", file=sys.stderr)
    return start


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


def run_dir_for(config: dict) -> Path | None:
    if config.get("run_dir", "") is None:
        return None
    path = Path(config.get("run_dir") or RUNS_DIR / config["name"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def train_supervised(config: dict, model: nn.Module, make_batch: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
                     loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                     validate: Callable[[nn.Module], dict[str, float]] | None = None,
                     resume: bool = True) -> nn.Module:
    """Adam + cosine schedule; checkpoint every `ckpt_every` iterations to runs/<name>/last.pt."""
    train = config["train"]
    torch.manual_seed(int(train.get("seed", 0)))
    total = int(train["iters"])
    optimizer = torch.optim.Adam(model.parameters(), lr=float(train["lr"]), betas=(0.9, 0.99))
    run_dir = run_dir_for(config)
    checkpoint = run_dir / "last.pt" if run_dir else None
    start = resume_step(checkpoint, {"net": model}, {"net": optimizer}, resume)
    if not start and config.get("init_from") and not train.get("dry_run"):
        copied = init_from_run(model, config["init_from"])
        print(f"initialised {copied} tensors from run {config['init_from']}", file=sys.stderr)
    log = ProgressLog(total, start, run_dir / "log.jsonl" if run_dir else None)
    model.train()
    for step in range(start, total):
        lr = cosine_lr(step, total, float(train["lr"]), float(train.get("min_lr", 1e-6)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = make_batch(int(train["batch"]))
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        extra: dict[str, float] = {"lr": lr}
        val_every = int(train.get("val_every", 0))
        if validate is not None and val_every and ((step + 1) % val_every == 0 or step + 1 == total):
            model.eval()
            with torch.no_grad():
                extra.update(validate(model))
            model.train()
        log.update(step, {"loss": float(loss.detach())}, int(train.get("log_every", 100)), **extra)
        if checkpoint is not None and ((step + 1) % int(train.get("ckpt_every", 500)) == 0 or step + 1 == total):
            save_checkpoint(checkpoint, step + 1, {"net": model}, {"net": optimizer})
    model.eval()
    return model
