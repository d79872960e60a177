"""Checkpoints of a training run: atomic saves, resume, runs/<name>/, and starting from another run or from a
shipped .onnx (so a session without the last one's runs/ continues where it stopped)."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

RUNS_DIR = Path(__file__).resolve().parents[1] / "runs"


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
