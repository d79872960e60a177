"""The task and architecture registries: what `python -m training <task>` and `[model] arch` look up."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.config import CONFIG_DIR, load_config  # noqa: E402
from training.registry import ARCHS, TASKS, Registry, UnknownNameError  # noqa: E402

CONFIGS = sorted(p.name for p in CONFIG_DIR.glob("*.toml"))


def test_an_unknown_name_is_refused_with_the_known_ones_listed() -> None:
    registry: Registry[type] = Registry("colour")
    registry.register("red")(int)
    registry.register("blue")(float)
    with pytest.raises(UnknownNameError) as caught:
        registry.get("green")
    assert str(caught.value) == "unknown colour 'green'; known: blue, red"
    assert registry.get("red") is int and "blue" in registry and "green" not in registry


def test_a_name_is_registered_once() -> None:
    registry: Registry[type] = Registry("colour")
    registry.register("red")(int)
    with pytest.raises(ValueError, match="colour 'red' is registered twice"):
        registry.register("red")(float)
    assert registry.get("red") is int


def test_the_command_line_tasks_are_the_registered_ones() -> None:
    assert TASKS.names() == ["denoise", "gan", "lowlight", "upscale", "upscale-gan", "upscale-real", "vae"]
    with pytest.raises(UnknownNameError, match=r"unknown task 'sharpen'; known: denoise, gan, "):
        TASKS.get("sharpen")


def test_every_task_declares_card_tasks_the_app_knows() -> None:
    from imagestudio.core.models import TASKS as APP_TASKS

    for name in TASKS.names():
        task = TASKS.get(name)
        assert task.card_tasks and set(task.card_tasks) <= set(APP_TASKS), name
        assert task.default_arch in ARCHS, name
        assert task.export_kind in ("image", "gan", "vae"), name


@pytest.mark.parametrize("config_name", CONFIGS)
def test_every_config_names_a_registered_task_and_arch(config_name: str) -> None:
    config = load_config(config_name)
    task = TASKS.get(config["task"])
    arch = config["model"]["arch"]  # every shipped config says which network it trains
    model = task.build_model(config)
    assert type(model) is ARCHS.get(arch)


def test_a_config_without_arch_builds_what_it_always_meant() -> None:
    from training.archs.compact import ResidualCNN
    from training.archs.unet import ResidualUNet

    denoise = TASKS.get("denoise").build_model({"model": {"feat": 8}})
    lowlight = TASKS.get("lowlight").build_model({"model": {"feat": 8, "convs": 2}})
    assert type(denoise) is ResidualUNet and type(lowlight) is ResidualCNN


def test_a_model_setting_the_arch_does_not_take_is_refused() -> None:
    config = load_config("upscale-x4.toml", ["model.fet=32"])
    with pytest.raises(ValueError, match=r"model.fet is not a setting of arch 'compact-sr' \(CompactSR takes scale"):
        TASKS.get("upscale").build_model(config)
    with pytest.raises(UnknownNameError, match="unknown architecture 'resnet'; known: compact-sr"):
        TASKS.get("upscale").build_model(load_config("upscale-x4.toml", ["model.arch=resnet"]))


def test_export_refuses_a_task_of_the_other_exporter(tmp_path) -> None:
    from training.export import export_from_config

    with pytest.raises(ValueError, match="export_generative"):
        export_from_config(load_config("vae.toml"), str(tmp_path / "none.pt"), str(tmp_path / "x.onnx"))
