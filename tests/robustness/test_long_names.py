"""File names are measured in bytes (issue 15, class 5).

Linux allows 255 bytes per name. A legal 255-byte ASCII name or a 244-byte name of 4-byte emoji must work (the
temporary file used to take the first 100 *characters* of the name: 400 bytes of emoji, ENAMETOOLONG on a name that
was itself legal). A name that would exceed the limit fails that one file with a clear message, never the whole batch
(`Path.exists()` raised ENAMETOOLONG out of the planner: a traceback), and the CLI refuses it before the work.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import assert_one_line_error, cli, photo, state, temporaries

from imagestudio.core.batch import DONE, FAILED, BatchRunner, BatchSpec, OutputRule, load_pipeline, plan_batch
from imagestudio.core.errors import ImageSaveError
from imagestudio.core.file_names import encoded_length, name_problem, truncate_to_bytes
from imagestudio.core.image import image_from_array, load_image, save_image
from imagestudio.core.imageio.atomic import temporary_name

EMOJI = "🌅"  # 4 bytes in UTF-8


def name_of(total_bytes: int, char: str = "a", suffix: str = ".png") -> str:
    body = (total_bytes - encoded_length(suffix)) // encoded_length(char)
    name = char * body + suffix
    assert encoded_length(name) == total_bytes, encoded_length(name)
    return name


ASCII_255 = name_of(255)
EMOJI_244 = name_of(244, EMOJI)  # 60 emoji and ".png": 64 characters, 244 bytes


def test_the_measure_is_bytes() -> None:
    assert encoded_length(EMOJI_244) == 244 and len(EMOJI_244) == 64
    assert name_problem(Path("/tmp") / EMOJI_244) is None
    assert "256 bytes long" in name_problem(Path("/tmp") / name_of(256, EMOJI))
    assert truncate_to_bytes(EMOJI * 30, 10) == EMOJI * 2  # never half a character
    for name in (ASCII_255, EMOJI_244):
        assert encoded_length(temporary_name(Path(name))) <= 125


@pytest.mark.parametrize("name", [ASCII_255, EMOJI_244], ids=["ascii-255", "emoji-244"])
def test_a_legal_long_name_saves(tmp_path: Path, name: str) -> None:
    image = image_from_array(np.random.default_rng(0).random((6, 5, 3), dtype=np.float32))
    written = save_image(image, tmp_path / name)
    assert written.name == name and load_image(written).width == 5
    assert temporaries(tmp_path) == []


def test_a_name_past_the_limit_is_refused_before_encoding(tmp_path: Path) -> None:
    image = image_from_array(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImageSaveError, match="is 256 bytes long; this file system allows at most 255"):
        save_image(image, tmp_path / name_of(256, "é"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", [ASCII_255, EMOJI_244], ids=["ascii-255", "emoji-244"])
def test_the_cli_upscales_into_a_legal_long_name(tmp_path: Path, bundled_upscalers, name: str) -> None:
    source = photo(tmp_path / "in" / name)
    out = tmp_path / "out"
    out.mkdir()
    done = cli("upscale", str(source), "-o", str(out / name), "--scale", "2", "-q")
    assert done.returncode == 0, done.stderr
    assert load_image(out / name).width == 2 * load_image(source).width and temporaries(out) == []


def test_the_cli_refuses_a_default_name_past_the_limit_before_the_work(tmp_path: Path, bundled_upscalers) -> None:
    source = photo(tmp_path / name_of(250))  # legal; <stem>_upscale.png would be 258 bytes
    before = state(tmp_path)
    done = cli("upscale", str(source), "--scale", "2")
    assert_one_line_error(done, "258 bytes long", "at most 255", "choose a shorter -o")
    assert state(tmp_path) == before


def test_a_batch_fails_only_the_file_whose_output_name_is_too_long(tmp_path: Path, bundled_upscalers) -> None:
    photo(tmp_path / "in" / "short.png", seed=1)
    photo(tmp_path / "in" / EMOJI_244, seed=2)  # its output, <stem>_x2.png, is 247 bytes: legal
    photo(tmp_path / "in" / name_of(254), seed=3)  # its output would be 257 bytes
    out = tmp_path / "out"
    done = cli("batch", str(tmp_path / "in"), str(out), "--pipeline", "upscale-x2", "--name", "{stem}_x2.{ext}",
               "-q")
    assert done.returncode == 1, done.stderr  # one failed, the others are done
    assert "Traceback" not in done.stderr and "2 done, 0 skipped, 1 failed" in done.stdout
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == sorted(["short_x2.png", EMOJI_244.replace(".png", "_x2.png")])
    [failure] = [line for line in done.stdout.splitlines() if line.startswith("failed")]
    assert "is 257 bytes long; this file system allows at most 255" in failure
    assert temporaries(out) == []


def test_the_dry_run_says_which_files_will_fail(tmp_path: Path, bundled_upscalers) -> None:
    photo(tmp_path / "in" / name_of(252), seed=3)
    done = cli("batch", str(tmp_path / "in"), str(tmp_path / "out"), "--pipeline", "upscale-x2", "--name",
               "{stem}-upscaled.{ext}", "--dry-run")
    assert done.returncode == 0 and done.stdout.startswith("fail     "), done.stdout
    assert not (tmp_path / "out").exists()


def test_renaming_past_the_limit_fails_that_file(tmp_path: Path, bundled_upscalers) -> None:
    long = name_of(254)
    photo(tmp_path / "in" / long, seed=1)
    photo(tmp_path / "in" / "b.png", seed=2)
    (tmp_path / "out").mkdir()
    photo(tmp_path / "out" / long, seed=9)  # taken: "rename" would need <stem>_1.png, 256 bytes
    plan = plan_batch(BatchSpec(tmp_path / "in", tmp_path / "out", load_pipeline("upscale-x2"),
                                rule=OutputRule(conflict="rename")))
    report = BatchRunner(plan).run()
    results = {r.input: r for r in report.results}
    assert results["b.png"].status == DONE
    assert results[long].status == FAILED and "no free name" in results[long].reason


def test_generate_refuses_names_past_the_limit_before_the_work(tmp_path: Path, bundled_upscalers) -> None:
    source = photo(tmp_path / name_of(250))  # <stem>-var-0.png is 256 bytes
    done = cli("generate", "--vary", str(source), "-n", "1", "-o", str(tmp_path / "gen"))
    assert_one_line_error(done, "bytes long")
    assert not (tmp_path / "gen").exists()


def test_the_limit_is_the_file_systems(tmp_path: Path) -> None:
    """pathconf(PC_NAME_MAX) decides, not a constant: on this file system it is what os.pathconf says."""
    if not hasattr(os, "pathconf"):
        pytest.skip("no pathconf here")
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    assert name_problem(tmp_path / ("x" * limit)) is None
    assert name_problem(tmp_path / ("x" * (limit + 1))) is not None
