"""Discovery, name templates and the plan: what a batch would do, before it does anything."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from batch_helpers import make_tree, write_photo

from imagestudio.core.batch import (
    PROCESS,
    RESUME,
    SKIP,
    BatchError,
    BatchSpec,
    Manifest,
    OutputRule,
    discover,
    load_pipeline,
    plan_batch,
    split_patterns,
)


@pytest.fixture
def spec(tmp_path: Path):
    def make(**kwargs) -> BatchSpec:
        kwargs.setdefault("pipeline", load_pipeline("upscale-x2"))
        return BatchSpec(tmp_path / "in", tmp_path / "out", **kwargs)

    make_tree(tmp_path / "in")
    return make


def names(sources) -> list[str]:
    return [s.relative.as_posix() for s in sources]


def test_discovery_skips_hidden_files_and_reports_non_images(tmp_path: Path) -> None:
    make_tree(tmp_path / "in")
    flat, ignored = discover(tmp_path / "in")
    assert names(flat) == ["a.png", "b.jpg", "broken.png", "fake.jpg"]
    assert [(i.relative, i.reason) for i in ignored] == [("notes.txt", "not an image type ImageStudio reads")]
    deep, _ = discover(tmp_path / "in", recursive=True)
    assert names(deep) == ["a.png", "b.jpg", "broken.png", "fake.jpg", "sub/c.png", "sub/deeper/d.webp"]


def test_include_and_exclude_patterns(tmp_path: Path) -> None:
    make_tree(tmp_path / "in")
    found, _ = discover(tmp_path / "in", recursive=True, include=split_patterns("*.PNG; *.webp"),
                        exclude=split_patterns("broken*, sub/deeper"))
    assert names(found) == ["a.png", "sub/c.png"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_links_never_lead_out_of_the_input_folder(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write_photo(root / "a.png")
    outside = write_photo(tmp_path / "secret" / "s.png")
    os.symlink(outside, root / "out-link.png")
    os.symlink(tmp_path / "secret", root / "out-dir")
    os.symlink(root / "a.png", root / "in-link.png")
    found, ignored = discover(root, recursive=True)
    assert names(found) == ["a.png", "in-link.png"]
    reasons = {i.relative: i.reason for i in ignored}
    assert "outside the input folder" in reasons["out-link.png"] and "outside" in reasons["out-dir"]


@pytest.mark.parametrize("template", ["../{stem}.{ext}", "/tmp/{stem}.{ext}", "a/../../{stem}.{ext}",
                                      "{stem}\\..\\x.{ext}", "{path}.{ext}", "", "{stem!r}.{ext}", "{stem"])
def test_unsafe_or_malformed_templates_are_refused(template: str) -> None:
    with pytest.raises(BatchError):
        OutputRule(template=template)


def test_template_extension_must_match_the_format() -> None:
    with pytest.raises(BatchError, match="ends in .png"):
        OutputRule(template="{stem}.png", format="JPEG")
    rule = OutputRule(template="x4/{stem}_x4_{index:03d}.{ext}", format="jpg")
    assert rule.render(PurePosixPath("sub/photo.png"), 7) == PurePosixPath("sub/x4/photo_x4_007.jpg")
    assert OutputRule().render(PurePosixPath("a/b.JPEG"), 1) == PurePosixPath("a/b.jpeg")


def test_plan_mirrors_the_tree_and_names_outputs(spec) -> None:
    plan = plan_batch(spec(recursive=True, rule=OutputRule(template="{stem}_x2.{ext}", format="PNG")))
    rows = {f.input_rel: (f.action, f.output_rel(plan.spec.output_dir)) for f in plan.files}
    assert rows["a.png"] == (PROCESS, "a_x2.png")
    assert rows["sub/deeper/d.webp"] == (PROCESS, "sub/deeper/d_x2.png")
    assert not plan.spec.output_dir.exists(), "planning writes nothing"


def test_conflict_rules(spec, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"old")
    skip = {f.input_rel: f for f in plan_batch(spec()).files}
    assert skip["a.png"].action == SKIP and "the output exists" in skip["a.png"].reason
    over = {f.input_rel: f for f in plan_batch(spec(rule=OutputRule(conflict="overwrite"))).files}
    assert over["a.png"].action == PROCESS and over["a.png"].overwrite
    ren = {f.input_rel: f for f in plan_batch(spec(rule=OutputRule(conflict="rename"))).files}
    assert ren["a.png"].output == out / "a_1.png"


def test_two_inputs_with_one_output_name(spec) -> None:
    rule = OutputRule(template="{stem}.png", format="PNG", conflict="rename")
    write_photo(spec().input_dir / "a.jpg")
    files = {f.input_rel: f for f in plan_batch(spec(rule=rule)).files}
    assert (files["a.jpg"].output.name, files["a.png"].output.name) == ("a.png", "a_1.png")
    files = {f.input_rel: f for f in plan_batch(spec(rule=OutputRule(template="{stem}.png", format="PNG",
                                                                      conflict="overwrite"))).files}
    assert files["a.png"].action == SKIP and "another input of this batch" in files["a.png"].reason


def test_output_folder_inside_the_input_is_not_read(spec, tmp_path: Path) -> None:
    plan = plan_batch(BatchSpec(tmp_path / "in", tmp_path / "in" / "sub" / "out", load_pipeline("denoise"),
                                recursive=True))
    write_photo(tmp_path / "in" / "sub" / "out" / "x.png")
    plan = plan_batch(plan.spec)
    assert not any("out/" in f.input_rel for f in plan.files)


def test_bad_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BatchError, match="does not exist"):
        plan_batch(BatchSpec(tmp_path / "missing", tmp_path / "out", load_pipeline("denoise")))
    (tmp_path / "in").mkdir()
    with pytest.raises(BatchError, match="must differ"):
        plan_batch(BatchSpec(tmp_path / "in", tmp_path / "in", load_pipeline("denoise")))


def test_resume_plans_files_an_earlier_run_finished(spec, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_1.png").write_bytes(b"made earlier")
    Manifest(out).record("a.png", "0" * 64, "1" * 64, "a_1.png")
    files = {f.input_rel: f for f in plan_batch(spec(rule=OutputRule(conflict="rename"))).files}
    assert files["a.png"].action == RESUME and files["a.png"].output == out / "a_1.png"
    files = {f.input_rel: f for f in plan_batch(spec(resume=False, rule=OutputRule(conflict="rename"))).files}
    assert files["a.png"].action == PROCESS and files["a.png"].output == out / "a.png"


def test_named_pipelines_and_presets(tmp_path: Path) -> None:
    assert load_pipeline("upscale-x4").steps[0].params["scale"] == 4
    preset = tmp_path / "p.json"
    preset.write_text(load_pipeline("denoise").to_json())
    assert load_pipeline(preset).steps[0].op == "denoise"
    with pytest.raises(Exception, match="unknown pipeline"):
        load_pipeline("sharpen")
