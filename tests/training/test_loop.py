"""The one training loop (`training.loop.run`) with the tasks' hooks: resume, schedule, EMA, two optimizers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from training.config import dry_run_config, load_config  # noqa: E402
from training.schedule import Schedule
from training.loop import run  # noqa: E402
from training.registry import TASKS  # noqa: E402
from training.tasks.base import TrainTask  # noqa: E402


class _TwoNets(TrainTask):
    """Two networks with an optimizer each and an EMA of the first: the shape of a GAN, on numbers."""

    card_tasks = ("denoise",)
    default_arch = "residual-cnn"
    checkpoint_name = "pair.pt"

    def setup(self) -> None:
        torch.manual_seed(self.seed)
        self.a, self.b = nn.Linear(2, 1), nn.Linear(2, 1)
        self.ema, self.ema_source = nn.Linear(2, 1), self.a
        self.modules = {"net": self.ema, "a": self.a, "b": self.b}
        self.optimizers = {"a": torch.optim.Adam(self.a.parameters(), lr=0.1),
                           "b": torch.optim.SGD(self.b.parameters(), lr=0.1)}
        self.steps_seen: list[int] = []

    def learning_rates(self, step: int, schedule: Schedule) -> dict[str, float]:
        return {"b": 0.1 * (1 - schedule.fraction(step))}

    def make_batch(self, size: int) -> torch.Tensor:
        return torch.randn(size, 2)

    def step(self, step: int, batch: torch.Tensor) -> dict[str, float]:
        self.steps_seen.append(step)
        losses = {}
        for name, net in (("a", self.a), ("b", self.b)):
            loss = (net(batch) - batch.sum(1, keepdim=True)).pow(2).mean()
            self.optimizers[name].zero_grad()
            loss.backward()
            self.optimizers[name].step()
            losses[name] = float(loss.detach())
        return losses


def _config(run_dir: Path, iters: int) -> dict:
    return {"task": "two-nets", "name": "two-nets", "run_dir": str(run_dir),
            "train": {"iters": iters, "batch": 4, "log_every": 1, "ckpt_every": 2, "ema": 0.5}}


def test_a_resumed_run_continues_the_step_count_and_the_optimizers(tmp_path: Path) -> None:
    first = _TwoNets(_config(tmp_path, 3))
    run(first, resume=False)
    saved = torch.load(tmp_path / "pair.pt", weights_only=True)
    assert saved["step"] == 3 and {"model.net", "model.a", "model.b", "optim.a", "optim.b"} <= set(saved)
    assert saved["extra"]["elapsed"] > 0  # the time budget's clock goes on across resumes
    assert torch.load(tmp_path / "last.pt", weights_only=True).keys() == {"step", "extra", "model.net"}
    assert not torch.equal(first.ema.weight, first.a.weight)  # an average, not a copy

    second = _TwoNets(_config(tmp_path, 6))
    run(second, resume=True)
    assert second.steps_seen == [3, 4, 5]
    assert second.optimizers["a"].state_dict()["state"][0]["step"] == 6  # Adam's own count carried on
    assert second.optimizers["b"].param_groups[0]["lr"] == pytest.approx(0.1 * (1 - 5 / 6))
    log = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3, 4, 5, 6]

    fresh = _TwoNets(_config(tmp_path, 2))
    run(fresh, resume=False)  # --fresh: starts over even with a checkpoint there
    assert fresh.steps_seen == [0, 1]


def test_snapshots_keep_the_shipped_network(tmp_path: Path) -> None:
    config = _config(tmp_path, 4)
    config["train"]["snapshot_every"] = 2
    task = _TwoNets(config)
    run(task, resume=False)
    assert sorted(p.name for p in tmp_path.glob("snapshot-*.pt")) == ["snapshot-000002.pt", "snapshot-000004.pt"]
    state = torch.load(tmp_path / "snapshot-000004.pt", weights_only=True)["model.net"]
    assert torch.equal(state["weight"], task.ema.weight.detach())


@pytest.mark.parametrize("task_name, config_name", [("gan", "generate-gan.toml"),
                                                    ("upscale-gan", "upscale-x4-gan.toml"),
                                                    ("upscale-real", "upscale-x4-real.toml")])
def test_a_gan_dry_run_trains_both_networks(tmp_path: Path, task_name: str, config_name: str) -> None:
    config = dry_run_config(load_config(config_name))
    config["run_dir"] = str(tmp_path)
    trained = TASKS.get(task_name)(config)
    run(trained, resume=False)
    untrained = TASKS.get(task_name)(config)
    untrained.setup()  # the same seed: the weights the run started from
    for name in ("train_g", "d"):
        before, after = untrained.modules[name].state_dict(), trained.modules[name].state_dict()
        assert any(not torch.equal(before[k], after[k]) for k in before), f"{name} did not train"
    assert all(optimizer.state for optimizer in trained.optimizers.values())
    ema, generator = trained.modules["net"].state_dict(), trained.modules["train_g"].state_dict()
    assert any(not torch.equal(ema[k], generator[k]) for k in ema if ema[k].is_floating_point())
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [1, 2, 3] and "d" in log[-1]
    if task_name == "upscale-gan":
        assert "g_adv" in log[-1]  # the adversarial stage was reached
