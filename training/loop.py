"""The one training loop (`run`) and its parts: progress with it/s, loss and ETA; checkpoints; resume after
interruption; the cosine schedule by iterations or wall-clock time; bf16 where the CPU has it.

What differs between tasks (networks, batches, the step itself, validation, EMA) is the task's hooks
(`training/tasks/base.py`)."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from training.registry import TASKS

if TYPE_CHECKING:
    from training.tasks.base import TrainTask

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


def init_from_onnx(model: nn.Module, name: str) -> int:
    """Start from a shipped model in resources/models (its ONNX weights, verified by output parity): a new session
    continues where the last one stopped even without its runs/ checkpoints."""
    from training.onnx_weights import load_onnx_weights

    path = Path(name) if Path(name).is_absolute() else RUNS_DIR.parent / "resources" / "models" / name
    multiple = int(getattr(model, "tile_multiple", 1))
    example = torch.rand(1, 3, 3 * multiple + 8 // multiple * multiple, 4 * multiple + 8 // multiple * multiple,
                         generator=torch.Generator().manual_seed(0))
    return load_onnx_weights(model, path, example)


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


def checkpoint_extra(path: Path | None) -> dict:
    if path is None or not path.is_file():
        return {}
    return dict(torch.load(path, map_location="cpu", weights_only=True).get("extra", {}))


def run_dir_for(config: dict) -> Path | None:
    if config.get("run_dir", "") is None:
        return None
    path = Path(config.get("run_dir") or RUNS_DIR / config["name"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters(), strict=True):
            e.lerp_(p, 1.0 - decay)


def run(task: TrainTask, resume: bool = True) -> nn.Module:
    """Trains `task` until its schedule is done; checkpoints every `train.ckpt_every` steps to
    runs/<name>/<task.checkpoint_name> (and `last.pt`) and resumes from there; `train.snapshot_every` keeps the
    shipped network of every so many steps. Returns the network export reads."""
    config, train = task.config, task.train_cfg
    task.setup()
    run_dir = run_dir_for(config)
    checkpoint = run_dir / task.checkpoint_name if run_dir else None
    start = resume_step(checkpoint, task.modules, task.optimizers, resume)
    if not start and not train.get("dry_run"):
        task.initialise()
        if task.ema is not None and task.ema_source is not None:
            task.ema.load_state_dict(task.ema_source.state_dict())
    task.prepare(start)
    schedule = Schedule(train, float(checkpoint_extra(checkpoint).get("elapsed", 0.0)) if start else 0.0)
    log = ProgressLog(schedule.total, start, run_dir / "log.jsonl" if run_dir else None)
    log_every, ckpt_every = int(train.get("log_every", task.log_every)), int(train.get("ckpt_every", task.ckpt_every))
    val_every, snapshot_every = int(train.get("val_every", 0)), int(train.get("snapshot_every", 0))
    step = start
    while not schedule.done(step):
        rates = task.learning_rates(step, schedule)
        for name, lr in rates.items():
            for group in task.optimizers[name].param_groups:
                group["lr"] = lr
        losses = task.step(step, task.make_batch(int(train["batch"])))
        if task.ema is not None and task.ema_source is not None:
            ema_update(task.ema, task.ema_source, task.ema_decay(step))
        done, last = step + 1, schedule.done(step + 1)
        extra = task.log_extra(step, rates)
        if val_every and (done % val_every == 0 or last):
            with torch.no_grad():
                extra.update(task.validate())
        log.update(step, losses, log_every, **extra)
        if checkpoint is not None and (done % ckpt_every == 0 or last):
            task.before_checkpoint(done)
            save_checkpoint(checkpoint, done, task.modules, task.optimizers, {"elapsed": schedule.elapsed()})
            task.after_checkpoint(checkpoint.parent, done)
        if run_dir is not None and snapshot_every and done % snapshot_every == 0:
            # Kept so a run (a GAN) can be inspected along the way and its best-looking step shipped.
            save_checkpoint(run_dir / f"snapshot-{done:06d}.pt", done, {"net": task.exported()}, {})
        step += 1
    return task.finish()


def train(config: dict, resume: bool = True) -> nn.Module:
    """`python -m training <task>`: the config's task, trained by the loop."""
    return run(TASKS.get(config["task"])(config), resume)
