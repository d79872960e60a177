"""The batch manifest is untrusted input (issue 15, class 1).

It lies in the output folder, which other people or programs may write to. The worst finding: a crafted "done" line
made `batch --resume` overwrite a file outside the output folder and exit 0. Now an entry is trusted only when its
output is the name the current template (or the rename rule) gives its input and lies inside the output folder after
resolving `..` and links; every other entry is ignored and reported, and no entry can make the runner write, delete
or skip anything else. The manifest file itself is never followed when it is a link and never blocks when it is a
FIFO. A link inside the output folder that points out of it is never written through, even when planted after the
plan was made.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hostile_helpers import (
    assert_one_line_error,
    cli,
    done_line,
    photo,
    plant_manifest,
    state,
    temporaries,
)

from imagestudio.core.batch import (
    DONE,
    FAILED,
    MANIFEST_NAME,
    PROCESS,
    RESUME,
    SKIP,
    SKIPPED,
    BatchRunner,
    BatchSpec,
    Manifest,
    OutputRule,
    load_pipeline,
    plan_batch,
)
from imagestudio.core.errors import BatchError


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    """in/a.png, in/b.png; outside/victim.png (must never change); out/ (the output folder, empty)."""
    photo(tmp_path / "in" / "a.png", seed=1)
    photo(tmp_path / "in" / "b.png", seed=2)
    photo(tmp_path / "outside" / "victim.png", seed=3)
    (tmp_path / "out").mkdir()
    return {"root": tmp_path, "in": tmp_path / "in", "out": tmp_path / "out", "outside": tmp_path / "outside"}


def spec(site: dict[str, Path], **kwargs) -> BatchSpec:
    kwargs.setdefault("pipeline", load_pipeline("upscale-x2"))
    return BatchSpec(site["in"], site["out"], **kwargs)


def victim_untouched(site: dict[str, Path], before: dict) -> None:
    assert state(site["outside"]) == before, "a file outside the output folder changed"


# ---------------------------------------------------------------- the headline case, through the real CLI


@pytest.mark.parametrize("claimed", ["../outside/victim.png", "{abs}", "sub/../../outside/victim.png",
                                     "./../outside/victim.png", "..\\outside\\victim.png"])
def test_a_crafted_entry_cannot_make_resume_write_outside(site, bundled_upscalers, claimed: str) -> None:
    victim = site["outside"] / "victim.png"
    claimed = claimed.replace("{abs}", str(victim))
    plant_manifest(site["out"], done_line("a.png", site["in"] / "a.png", claimed))
    before, inputs = state(site["outside"]), state(site["in"])
    done = cli("batch", str(site["in"]), str(site["out"]), "--pipeline", "upscale-x2", "--resume",
               "--conflict", "overwrite", "-q")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [warning] = [line for line in done.stderr.splitlines() if "manifest" in line]
    assert warning.startswith("imagestudio: ") and "not trusted and ignored" in warning
    victim_untouched(site, before)
    assert state(site["in"]) == inputs
    assert (site["out"] / "a.png").is_file() and (site["out"] / "b.png").is_file(), "both inputs were done"
    assert "2 done" in done.stdout and temporaries(site["out"]) == []


def test_rejected_entries_are_reported_with_the_reason(site, bundled_upscalers) -> None:
    out = site["out"]
    plant_manifest(out, done_line("a.png", site["in"] / "a.png", "../outside/victim.png"),
                   done_line("b.png", site["in"] / "b.png", "/etc/passwd"))
    plan = plan_batch(spec(site))
    assert {f.input_rel: f.action for f in plan.files} == {"a.png": PROCESS, "b.png": PROCESS}
    assert len(plan.manifest_rejected) == 2
    assert all("not a plain relative path" in reason for reason in plan.manifest_rejected)


# ---------------------------------------------------------------- entries that name a file that is not theirs


def test_an_entry_naming_another_output_cannot_overwrite_it(site, bundled_upscalers) -> None:
    """'a.png was done as keep.png' would make a resumed run redo a.png *into* keep.png (a file of the user's)."""
    keep = photo(site["out"] / "keep.png", seed=9)
    kept = keep.read_bytes()
    plant_manifest(site["out"], done_line("a.png", site["in"] / "b.png", "keep.png"))  # wrong sha: would be redone
    plan = plan_batch(spec(site, rule=OutputRule(conflict="overwrite")))
    files = {f.input_rel: f for f in plan.files}
    assert files["a.png"].action == PROCESS and files["a.png"].output == site["out"] / "a.png"
    assert any("not the name the template gives it (a.png)" in r for r in plan.manifest_rejected)
    report = BatchRunner(plan).run()
    assert keep.read_bytes() == kept and {r.input for r in report.done} == {"a.png", "b.png"}


def test_an_entry_cannot_make_the_runner_skip_a_file(site, bundled_upscalers) -> None:
    """'a.png was done as b.png' with a.png's true hash: before, a.png was skipped as done (b.png exists)."""
    photo(site["out"] / "b.png", seed=4)
    plant_manifest(site["out"], done_line("a.png", site["in"] / "a.png", "b.png"))
    report = BatchRunner(plan_batch(spec(site))).run()
    results = {r.input: r for r in report.results}
    assert results["a.png"].status == DONE and (site["out"] / "a.png").is_file()
    assert results["b.png"].status == SKIPPED and "the output exists" in results["b.png"].reason


def test_entries_from_another_template_are_not_trusted_but_renamed_outputs_are(site, bundled_upscalers) -> None:
    plant_manifest(site["out"], done_line("a.png", site["in"] / "a.png", "a_x4.png"),
                   done_line("b.png", site["in"] / "b.png", "b_2.png"))
    photo(site["out"] / "a_x4.png")
    photo(site["out"] / "b_2.png")
    files = {f.input_rel: f for f in plan_batch(spec(site, rule=OutputRule(conflict="rename"))).files}
    assert files["a.png"].action == PROCESS and files["a.png"].output.name == "a.png"
    assert files["b.png"].action == RESUME and files["b.png"].output.name == "b_2.png"  # what "rename" gave it


def test_an_entry_whose_output_is_an_input_is_never_redone_into_it(tmp_path: Path, bundled_upscalers) -> None:
    """The input folder inside the output folder: 'done as src/a.png' would redo a.png over itself."""
    out = tmp_path / "out"
    source = photo(out / "src" / "a.png", seed=5)
    before = source.read_bytes()
    plant_manifest(out, json.dumps({"type": "done", "input": "a.png", "input_sha256": "0" * 64,
                                    "pipeline_sha256": "1" * 64, "output": "src/a.png",
                                    "finished": "x"}) + "\n")
    rule = OutputRule(template="src/{stem}.{ext}", conflict="overwrite")
    plan = plan_batch(BatchSpec(out / "src", out, load_pipeline("upscale-x2"), rule=rule))
    [planned] = plan.files
    assert planned.action == SKIP and "is an input file" in planned.reason
    BatchRunner(plan).run()
    assert source.read_bytes() == before


# ---------------------------------------------------------------- links in the output folder


def test_an_entry_through_a_linked_folder_is_rejected(site, bundled_upscalers) -> None:
    (site["out"] / "x2").symlink_to(site["outside"], target_is_directory=True)
    rule = OutputRule(template="x2/{stem}.{ext}", conflict="overwrite")
    (site["outside"] / "a.png").write_bytes((site["outside"] / "victim.png").read_bytes())
    plant_manifest(site["out"], done_line("a.png", site["in"] / "a.png", "x2/a.png", rule=rule))
    before = state(site["outside"])
    plan = plan_batch(spec(site, rule=rule))
    assert any("leaves the output folder" in r for r in plan.manifest_rejected)
    assert all(f.action == SKIP and "outside the output folder" in f.reason for f in plan.files)
    BatchRunner(plan).run()
    victim_untouched(site, before)


def test_an_entry_naming_a_link_to_outside_is_rejected(site, bundled_upscalers) -> None:
    (site["out"] / "a.png").symlink_to(site["outside"] / "victim.png")
    plant_manifest(site["out"], done_line("a.png", site["in"] / "a.png", "a.png"))
    before = state(site["outside"])
    plan = plan_batch(spec(site, rule=OutputRule(conflict="overwrite")))
    assert plan.manifest_rejected and "leaves the output folder" in plan.manifest_rejected[0]
    report = BatchRunner(plan).run()
    victim_untouched(site, before)
    assert (site["out"] / "a.png").is_symlink(), "the planted link was neither followed nor replaced"
    assert {r.input: r.status for r in report.results}["a.png"] == SKIPPED


@pytest.mark.parametrize("template", ["x2/{stem}.{ext}", "x2/deeper/{stem}.{ext}"])
def test_a_link_planted_after_the_plan_is_not_written_through(site, bundled_upscalers, template: str) -> None:
    """Between the preview (plan) and the write, out/x2 becomes a link to another folder: refused at write time,
    before any file or sub-folder is made through it."""
    plan = plan_batch(spec(site, rule=OutputRule(template=template)))
    assert all(f.action == PROCESS for f in plan.files)
    (site["out"] / "x2").symlink_to(site["outside"], target_is_directory=True)
    before = sorted(p.name for p in site["outside"].iterdir()), state(site["outside"])
    report = BatchRunner(plan).run()
    assert (sorted(p.name for p in site["outside"].iterdir()), state(site["outside"])) == before
    assert [r.status for r in report.results] == [FAILED, FAILED]
    assert all("outside the output folder" in r.reason for r in report.results)
    assert temporaries(site["outside"]) == [] and temporaries(site["out"]) == []


# ---------------------------------------------------------------- the manifest file itself


def test_a_manifest_that_is_a_link_is_never_followed(site, bundled_upscalers) -> None:
    target = site["outside"] / "notes.txt"
    target.write_text("my notes\n")
    (site["out"] / MANIFEST_NAME).symlink_to(target)
    before = state(site["outside"])
    done = cli("batch", str(site["in"]), str(site["out"]), "--pipeline", "upscale-x2", "-q")
    assert_one_line_error(done, "is a link", "does not follow it")
    victim_untouched(site, before)
    assert sorted(p.name for p in site["out"].iterdir()) == [MANIFEST_NAME]


def test_a_manifest_that_is_a_fifo_does_not_hang(site, bundled_upscalers) -> None:
    os.mkfifo(site["out"] / MANIFEST_NAME)
    finished = threading.Event()
    outcome: list[Exception] = []

    def plan() -> None:
        try:
            plan_batch(spec(site))
        except BatchError as exc:
            outcome.append(exc)
        finished.set()

    threading.Thread(target=plan, daemon=True).start()
    assert finished.wait(20), "reading a FIFO manifest blocked"
    assert outcome and "not a regular file" in str(outcome[0])


def test_damaged_lines_are_skipped_and_the_rest_is_trusted(site, bundled_upscalers) -> None:
    """Deep nesting (a RecursionError in json before), an endless line, binary junk, wrong types, bad hashes."""
    out = site["out"]
    BatchRunner(plan_batch(spec(site))).run()  # a real run: two true "done" lines
    with open(out / MANIFEST_NAME, "ab") as file:
        file.write(b"[" * 30_000 + b"]" * 30_000 + b"\n")  # within the line limit: json.loads would recurse
        file.write(b'{"type": "done", "input": "' + b"x" * 200_000 + b'"}\n')
        file.write(os.urandom(4096).replace(b"\n", b" ") + b"\n")
        file.write(b'{"type": "done", "input": 7, "output": ["a"]}\n')
        file.write(json.dumps({"type": "done", "input": "c.png", "input_sha256": "nope", "pipeline_sha256": "x",
                               "output": "c.png", "finished": ""}).encode() + b"\n")
    manifest = Manifest(out)
    assert len(manifest) == 2 and len(manifest.rejected) == 3
    report = BatchRunner(plan_batch(spec(site))).run()
    assert [r.reason for r in report.results] == ["already done in an earlier run (same input and pipeline)"] * 2


def test_a_huge_manifest_is_refused_in_one_line(site, bundled_upscalers) -> None:
    with open(site["out"] / MANIFEST_NAME, "wb") as file:
        file.truncate(600 * 1024 * 1024)  # sparse: no disk used
    done = cli("batch", str(site["in"]), str(site["out"]), "--pipeline", "upscale-x2", "--resume", "--dry-run")
    assert_one_line_error(done, "manifest", "MB", "remove it or choose another output folder")
