from __future__ import annotations

import json

import numpy as np
import onnx_models
import pytest

from imagestudio.core.batch import load_pipeline
from imagestudio.core.errors import Cancelled, PipelineError
from imagestudio.core.image import load_image
from imagestudio.core.ops import DenoiseParams, EnhanceParams, UpscaleParams
from imagestudio.core.pipeline import OPERATIONS, Pipeline, Step
from imagestudio.core.progress import Task


def _pipeline() -> Pipeline:
    return Pipeline([
        Step.of("denoise", DenoiseParams(strength=0.5, model="denoise")),
        Step.of("upscale", UpscaleParams(scale=2, tile=128)),
        Step.of("enhance", EnhanceParams(scale=4, device="cpu")),
    ])


def test_registry_names_every_operation():
    assert set(OPERATIONS) == {"upscale", "denoise", "lowlight", "enhance"}
    for name, operation in OPERATIONS.items():
        assert operation.name == name
        assert operation.params_type.from_dict(operation.params_type().to_dict()) == operation.params_type()


def test_json_round_trip():
    pipeline = _pipeline()
    text = pipeline.to_json()
    assert json.loads(text)["version"] == 1
    assert Pipeline.from_json(text) == pipeline
    assert Pipeline.from_json(text).to_json() == text


def test_describe_gives_a_line_per_step():
    assert _pipeline().describe() == [
        "Denoise, strength 0.50, model denoise",
        "Upscale ×2",
        "Enhance: low-light if under-exposed, denoise as needed, upscale ×4",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"steps": [{"op": "sharpen", "params": {}}]}', "unknown operation 'sharpen' — known operations: upscale"),
        ('{"steps": [{"op": "upscale", "params": {"scale": 3}}]}', "upscale: upscale scale must be 2 or 4"),
        ('{"steps": [{"op": "denoise", "params": {"sigma": 3}}]}', "denoise: unknown parameter: sigma"),
        ('{"steps": [{"op": "denoise", "params": {"strength": "high"}}]}', "strength must be a number"),
        ('{"steps": [{"params": {}}]}', 'step 1 must be an object with an "op" name'),
        ('{"steps": {}}', 'a pipeline is a JSON object with a "steps" list'),
        ('{"version": 7, "steps": []}', "pipeline format version 7 is not supported"),
        ("{steps: [", "the pipeline is not valid JSON"),
    ],
)
def test_bad_pipelines_are_refused_on_load(text, message):
    with pytest.raises(PipelineError, match=message):
        Pipeline.from_json(text)


def test_unknown_op_in_a_hand_built_step():
    with pytest.raises(PipelineError, match="unknown operation 'blur'"):
        Pipeline([Step("blur")]).run(None)  # type: ignore[arg-type]


def test_run_applies_steps_in_order(models, model_dirs, bundled_upscalers, photo):
    models("blur", "denoise.onnx", model_dirs["bundled"], metadata=onnx_models.card("denoise", "denoise", 1))
    image = load_image(photo)
    reports: list[tuple[float, str]] = []
    run = Pipeline([Step.of("denoise"), Step.of("upscale", UpscaleParams(scale=2))]).run(
        image, Task(lambda f, m: reports.append((f, m)))
    )
    expected = np.repeat(np.repeat(onnx_models.blur_reference(image.rgb), 2, 0), 2, 1)
    np.testing.assert_allclose(run.image.rgb, expected, atol=1e-5)
    assert [r.card.name for r in run.models] == ["denoise", "upscale-x2"]  # what ran, in order, from the core
    assert all(r.provider == "CPUExecutionProvider" for r in run.models)
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("Denoise (1/2): ") for _, m in reports)
    assert any(m.startswith("Upscale (2/2): ") for _, m in reports)


def test_run_checks_cancel_between_steps(bundled_upscalers, photo):
    task = Task()
    task.cancel()
    with pytest.raises(Cancelled):
        Pipeline([Step.of("upscale", UpscaleParams(scale=2))]).run(load_image(photo), task)


def test_enhance_pipeline_is_one_enhance_step():
    pipeline = load_pipeline("enhance")
    assert [step.op for step in pipeline.steps] == ["enhance"]
    assert pipeline.steps[0].parsed_params() == EnhanceParams(scale=2)
    assert load_pipeline("enhance-x4").steps[0].params["scale"] == 4


def test_operations_declare_their_models():
    upscale = OPERATIONS["upscale"].models(UpscaleParams(scale=2, model="mine"))
    assert [(s.field, s.chosen, s.task, s.scale, s.needed) for s in upscale] == [("model", "mine", "upscale", 2, True)]
    assert [s.needed for s in Step.of("denoise", DenoiseParams(strength=0.0)).models()] == [False]
    # Enhance: upscaling always runs; denoise and low light only when the photo needs them.
    enhance = Step.of("enhance", EnhanceParams(scale=4)).models()
    assert [(s.field, s.task, s.scale, s.needed) for s in enhance] == [
        ("upscale_model", "upscale", 4, True), ("denoise_model", "denoise", 1, None),
        ("lowlight_model", "lowlight", 1, None)]
    assert [s.field for s in Step.of("enhance", EnhanceParams(scale=1)).models()] == ["denoise_model", "lowlight_model"]


def test_pinned_run_names_the_models_that_ran(bundled_upscalers, photo):
    run = Pipeline([Step.of("upscale", UpscaleParams(scale=2))]).run(load_image(photo), pin=True)
    assert run.steps[0].params["model"] == "upscale-x2"
    assert run.steps[0].params["tile"] is None  # every parameter spelled out: a replay cannot drift
    assert [r.card.name for r in run.models] == ["upscale-x2"]
    unpinned = Pipeline([Step.of("upscale", UpscaleParams(scale=2))]).run(load_image(photo))
    assert unpinned.steps[0].params["model"] is None


def test_a_device_outside_the_cores_list_is_refused_alike_everywhere() -> None:
    from imagestudio.core.batch import with_device
    from imagestudio.core.errors import PipelineError
    from imagestudio.core.ops.generate import generate
    from imagestudio.core.runtime import DEVICES

    words = f"device must be one of {', '.join(DEVICES)}, not 'gpu'"
    for refuse in (lambda: UpscaleParams(device="gpu"), lambda: Step("denoise", {"device": "gpu"}).parsed_params(),
                   lambda: with_device(load_pipeline("enhance"), "gpu"), lambda: generate(1, device="gpu")):
        with pytest.raises(PipelineError, match=words):
            refuse()
