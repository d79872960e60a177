"""Paths the user gives never replace an input or an output of the same run (issue 15, class 2), and an empty
path is refused, not read as "the current folder" or "the default" (class 6, `-o ''`).

`--report` used to be written wherever it pointed, after the whole batch: onto an input photo, an output, the
manifest, through a link or a hard link. It is now checked before any work (and again when written, against the
files the run really wrote). `generate --overwrite` no longer replaces the image it blends or varies, and `upscale -o`
refuses a hard link of its input.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import generative_models
import pytest
from hostile_helpers import assert_one_line_error, cli, photo, state, temporaries

from imagestudio.core.batch import MANIFEST_NAME, BatchSpec, load_pipeline, run_batch
from imagestudio.core.errors import BatchError


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    photo(tmp_path / "in" / "a.png", seed=1)
    photo(tmp_path / "in" / "b.png", seed=2)
    return {"root": tmp_path, "in": tmp_path / "in", "out": tmp_path / "out"}


def batch(site: dict[str, Path], *extra: str) -> tuple:
    return ("batch", str(site["in"]), str(site["out"]), "--pipeline", "upscale-x2", "-q", *extra)


# ---------------------------------------------------------------- --report


@pytest.mark.parametrize("where, what", [
    ("in/a.png", "an input"),
    ("out/a.png", "an output"),
    (f"out/{MANIFEST_NAME}", "the batch manifest"),
    ("link-to-input.csv", "an input"),  # a link to in/b.png
    ("hardlink.csv", "an input"),  # a hard link of in/b.png
])
def test_the_report_never_replaces_a_file_of_the_run(site, bundled_upscalers, where: str, what: str) -> None:
    root = site["root"]
    (root / "link-to-input.csv").symlink_to(site["in"] / "b.png")
    os.link(site["in"] / "b.png", root / "hardlink.csv")
    site["out"].mkdir()
    before = state(site["in"])
    done = cli(*batch(site, "--report", str(root / where)))
    assert_one_line_error(done, "will not write the report over", what)
    assert state(site["in"]) == before
    assert list(site["out"].iterdir()) == [], "refused before any work"


def test_the_report_is_refused_before_any_work_when_it_cannot_be_written(site, bundled_upscalers) -> None:
    site["out"].mkdir()
    for report, message in ((site["out"], "is a folder"), (site["root"] / "missing" / "r.csv", "does not exist")):
        done = cli(*batch(site, "--report", str(report)))
        assert_one_line_error(done, message)
        assert list(site["out"].iterdir()) == []


def test_a_report_inside_the_output_folder_that_the_run_creates_is_fine(site, bundled_upscalers) -> None:
    report = site["out"] / "report.csv"
    done = cli(*batch(site, "--report", str(report)))
    assert done.returncode == 0, done.stderr
    assert {row["input"] for row in csv.DictReader(report.open())} == {"a.png", "b.png"}


def test_the_report_writer_itself_refuses_the_files_its_run_wrote(site, bundled_upscalers) -> None:
    """What the pre-run check cannot see (an output renamed at run time) the writer refuses from the results."""
    report = run_batch(BatchSpec(site["in"], site["out"], load_pipeline("upscale-x2")))
    before = state(site["out"])
    for target in (site["out"] / "a.png", site["in"] / "b.png", site["out"] / MANIFEST_NAME):
        with pytest.raises(BatchError, match="will not write the report over"):
            report.to_csv(target)
    assert state(site["out"]) == before and temporaries(site["root"]) == []
    assert report.to_csv(site["root"] / "r.csv").read_text().startswith("input,status")


# ---------------------------------------------------------------- empty paths


@pytest.mark.parametrize("args", [
    ("upscale", "{in}/a.png", "-o", ""),
    ("upscale", "", "-o", "{root}/x.png"),
    ("upscale", "{in}/a.png", "--model", ""),
    ("batch", "{in}", "", "--pipeline", "upscale-x2"),
    ("batch", "", "{root}/out", "--pipeline", "upscale-x2"),
    ("batch", "{in}", "{root}/out", "--pipeline", ""),
    ("batch", "{in}", "{root}/out", "--pipeline", "upscale-x2", "--report", ""),
    ("generate", "-o", ""),
    ("models", "add", ""),
])
def test_an_empty_path_is_refused_not_taken_for_a_default(site, bundled_upscalers, args: tuple) -> None:
    """`-o ''` used to mean "the default name beside the input"; `batch IN ''` meant the current folder."""
    args = tuple(a.replace("{in}", str(site["in"])).replace("{root}", str(site["root"])) for a in args)
    work = site["root"] / "cwd"
    work.mkdir()
    before = state(site["root"])
    done = cli(*args, cwd=work)
    assert_one_line_error(done, "an empty name is not a file or folder")
    assert state(site["root"]) == before and list(work.iterdir()) == []


# ---------------------------------------------------------------- -o and generate's targets


def test_upscale_refuses_a_hard_link_of_its_input(site, bundled_upscalers) -> None:
    os.link(site["in"] / "a.png", site["root"] / "same.png")
    before = state(site["in"])
    done = cli("upscale", str(site["in"] / "a.png"), "-o", str(site["root"] / "same.png"), "--scale", "2")
    assert_one_line_error(done, "refusing to write over the input")
    assert state(site["in"]) == before


def test_generate_overwrite_never_replaces_the_image_it_blends(tmp_path: Path, model_dirs) -> None:
    generative_models.install_all(model_dirs["bundled"])
    folder = tmp_path / "gen"
    source = photo(folder / "blend-00.png", (16, 16), seed=3)
    other = photo(tmp_path / "b.png", (16, 16), seed=4)
    before = source.read_bytes()
    done = cli("generate", "--blend", str(source), str(other), "--steps", "2", "-o", str(folder), "--overwrite",
               "-q")
    assert_one_line_error(done, "is an input of this run")
    assert source.read_bytes() == before and not (folder / "blend-01.png").exists()
    assert temporaries(folder) == []
