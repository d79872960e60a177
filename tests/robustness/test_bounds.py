"""Bounded everything (issue 15, class 6).

- Preset JSON: nesting (10^5 `[` was a RecursionError traceback), size, and a FIFO named `.json` (a read that never
  returned) are refused in one line.
- Name templates: `{index:999999999}` built a gigabyte name; widths are bounded. A template with no extension, or one
  that is not an image's, is refused before any work (it used to skip every file and exit 0).
- IMAGESTUDIO_THREADS: garbage is refused in one line (it was silently ignored); more than the cores is capped.
- Memory: an address-space limit (`ulimit -v`) turns into "not enough memory for this image", exit 2, no file.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import assert_one_line_error, cli, env_with, photo, state, temporaries
from PIL import Image as PILImage

from imagestudio.core import bounded_json
from imagestudio.core.batch import OutputRule, load_pipeline
from imagestudio.core.errors import BatchError, DeviceError, PipelineError
from imagestudio.core.pipeline import Pipeline
from imagestudio.core.runtime import THREADS_ENV, cpu_count, thread_count


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    photo(tmp_path / "in" / "a.png")
    return {"in": tmp_path / "in", "out": tmp_path / "out", "root": tmp_path}


# ---------------------------------------------------------------- JSON


def test_bounded_json_refuses_depth_and_size_without_recursing() -> None:
    assert bounded_json.loads('{"a": [1, {"b": 2}]}', max_depth=3) == {"a": [1, {"b": 2}]}
    for text in ("[" * 100_000 + "]" * 100_000, "[" * 50 + "]" * 50):
        with pytest.raises(bounded_json.JSONTooLargeError, match="nests deeper than 8 levels"):
            bounded_json.loads(text, max_depth=8)
    with pytest.raises(bounded_json.JSONTooLargeError, match="characters long"):
        bounded_json.loads("[" + "1," * 1000 + "1]", max_chars=100)
    with pytest.raises(bounded_json.JSONLimitError, match="not valid JSON"):
        bounded_json.loads("{steps: [")


@pytest.mark.parametrize("content, message", [
    ("[" * 100_000 + "]" * 100_000, "nests deeper than 8 levels"),
    ('{"steps": [{"op": "upscale", "params": {"model": ' + "[" * 20 + "]" * 20 + "}}]}", "nests deeper"),
    ('{"steps": [' + ",".join(['{"op": "denoise"}'] * 100) + "]}", "100 steps; at most 64"),
    (" " * (2 << 20) + "{}", "bytes (at most 1,048,576)"),
    (b"\xff\xfe{}", "is not UTF-8 text"),
])
def test_a_hostile_preset_is_refused_in_one_line(folders, bundled_upscalers, content, message: str) -> None:
    preset = folders["root"] / "preset.json"
    if isinstance(content, bytes):
        preset.write_bytes(content)
    else:
        preset.write_text(content)
    done = cli("batch", str(folders["in"]), str(folders["out"]), "--pipeline", str(preset))
    assert_one_line_error(done, message)
    assert not folders["out"].exists()


def test_a_preset_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "preset.json"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    thread = threading.Thread(target=lambda: _catch(outcome, load_pipeline, fifo), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "reading a FIFO preset blocked"
    assert isinstance(outcome[0], PipelineError) and "is not a regular file" in str(outcome[0])


def _catch(outcome: list[BaseException], function, *args) -> None:  # noqa: ANN001
    try:
        function(*args)
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        outcome.append(exc)


def test_pipeline_json_in_the_core_is_bounded_too() -> None:
    with pytest.raises(PipelineError, match="nests deeper"):
        Pipeline.from_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(PipelineError, match="tile must be a whole number of pixels from 1 to 16384"):
        Pipeline.from_json(json.dumps({"steps": [{"op": "denoise", "params": {"tile": 10**12}}]}))


# ---------------------------------------------------------------- name templates


@pytest.mark.parametrize("template, message", [
    ("{stem}_{index:999999999}.{ext}", "use a width of at most 12 digits"),
    ("{stem}_{index:0100}.{ext}", "use a width of at most 12 digits"),
    ("{stem}_{index:>{stem}}.{ext}", "formats {index}"),
    ("{stem}_{index:,}.{ext}", "formats {index}"),
    ("{stem}" * 400 + ".{ext}", "at most 1024"),
    ("{stem}", "has no file extension"),
    ("{stem}.txt", "ends in '.txt', which is not an image type"),
    ("{stem}.{ext}x", "which is not an image type"),
    (".{ext}", "makes hidden file names"),
    (".{stem}.{ext}", "makes hidden file names"),
    ("{stem}\t.{ext}", "control characters"),
])
def test_templates_are_bounded_and_need_an_image_extension(template: str, message: str) -> None:
    with pytest.raises(BatchError, match=message.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.")):
        OutputRule(template=template)


def test_good_templates_still_work() -> None:
    for template in ("{stem}_{index:04d}.{ext}", "{stem}_{index:012}.{ext}", "x4/{name}", "{stem}.webp"):
        OutputRule(template=template)


def test_a_template_without_an_extension_is_refused_before_any_work(folders, bundled_upscalers) -> None:
    done = cli("batch", str(folders["in"]), str(folders["out"]), "--pipeline", "upscale-x2", "--name", "{stem}")
    assert_one_line_error(done, "has no file extension")
    assert not folders["out"].exists()
    done = cli("batch", str(folders["in"]), str(folders["out"]), "--pipeline", "upscale-x2", "--name",
               "{index:99999999999}_{stem}.{ext}")
    assert_one_line_error(done, "width of at most 12")


# ---------------------------------------------------------------- IMAGESTUDIO_THREADS


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "٣", "4 threads", "9" * 30])
def test_garbage_thread_counts_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(THREADS_ENV, value)
    with pytest.raises(DeviceError, match=f"{THREADS_ENV} must be a whole number of threads from 1 to"):
        thread_count()


def test_thread_counts_are_capped_to_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, str(cpu_count() + 7))
    assert thread_count() == cpu_count()
    monkeypatch.setenv(THREADS_ENV, "1")
    assert thread_count() == 1
    monkeypatch.delenv(THREADS_ENV)
    assert thread_count() == cpu_count()


@pytest.mark.parametrize("command", [("models",), ("upscale", "{photo}", "--scale", "2")])
def test_the_cli_refuses_garbage_threads_in_one_line(folders, bundled_upscalers, command: tuple) -> None:
    args = [a.replace("{photo}", str(folders["in"] / "a.png")) for a in command]
    before = state(folders["root"])
    done = cli(*args, env=env_with(**{THREADS_ENV: "lots"}))
    assert_one_line_error(done, f"{THREADS_ENV} must be a whole number of threads from 1 to", "not 'lots'")
    assert state(folders["root"]) == before


def test_too_many_threads_run_on_the_cores_with_a_notice(folders, bundled_upscalers) -> None:
    target = folders["root"] / "a_x2.png"
    done = cli("upscale", str(folders["in"] / "a.png"), "-o", str(target), "--scale", "2", "-q",
               env=env_with(**{THREADS_ENV: "100000"}))
    assert done.returncode == 0 and target.is_file(), done.stderr
    assert f"{THREADS_ENV}=100000 is more than the" in done.stderr


# ---------------------------------------------------------------- memory


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is how Linux bounds a process's address space")
def test_an_address_space_limit_is_a_one_line_not_enough_memory(tmp_path: Path, bundled_upscalers) -> None:
    """`ulimit -v 3 GB`: decoding a 25-megapixel (black, small) PNG fits; its ×4 result needs 4.5 GB and cannot."""
    source = tmp_path / "big.png"
    PILImage.fromarray(np.zeros((5000, 5000, 3), np.uint8)).save(source)
    limit = 3 << 30

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    target = tmp_path / "big_x4.png"
    done = subprocess.run([sys.executable, "-m", "imagestudio", "upscale", str(source), "-o", str(target), "-q",
                           "--device", "cpu"], capture_output=True, text=True, timeout=900, preexec_fn=cap,
                          env=env_with(**{THREADS_ENV: "1"}), check=False)
    assert_one_line_error(done, "not enough memory for this image")
    assert not target.exists() and temporaries(tmp_path) == []
