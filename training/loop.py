"""The one training loop (`run`): what differs between tasks (networks, batches, the step itself, validation, EMA)
is the task's hooks (`training/tasks/base.py`); checkpoints are `training/checkpoints.py`, pacing
`training/schedule.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from training.checkpoints import checkpoint_extra, resume_step, run_dir_for, save_checkpoint
from training.schedule import ProgressLog, Schedule, ema_update
from training.registry import TASKS

if TYPE_CHECKING:
    from training.tasks.base import TrainTask


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
