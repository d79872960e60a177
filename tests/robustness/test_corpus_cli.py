"""Every corpus file through the real command line (`python -m imagestudio upscale IN -o OUT`, one process each).

Good and odd files: exit 0 and an output twice the size. Bad files: exit 2 and exactly one line on stderr,
`imagestudio: <message naming the file>`, no traceback, no output and no temporary file left. Nothing may hang: every
process runs under a timeout (the FIFO would block a naive reader forever). The processes run a few at a time
(each one's cost is mostly interpreter start-up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import onnx_models
import pytest
from fs_helpers import read_only_folder
from make_corpus import CASES, ERROR, OK, Case

from imagestudio.core.image import load_image

TIMEOUT_S = 60
FORKSERVER = Path(__file__).with_name("cli_forkserver.py")
# Checked with a real `python -m imagestudio` each: one per kind of outcome, the FIFO first (it must not hang).
REAL_PROCESS_SAMPLE = ("named-pipe.jpg", "bomb-100k-square.png", "truncated-half.jpg", "text-named.jpg",
                       "animated.gif", "фото — été 日本 🌅.png", "ztxt-bomb.png")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    output: Path


def cli(args: list[str], env: dict[str, str], output: Path = Path("-")) -> Run:
    try:
        done = subprocess.run([sys.executable, "-m", "imagestudio", *args], capture_output=True, text=True, env=env,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"imagestudio {' '.join(args)} did not finish within {TIMEOUT_S} s")
    return Run(done.returncode, done.stdout, done.stderr, output)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Model folders of its own with a ×2 upscaler (exact nearest neighbour), data folder in tmp, one thread."""
    root = tmp_path_factory.mktemp("cli-env")
    bundled = root / "bundled"
    onnx_models.nearest_upscaler(bundled / "upscale-x2.onnx", 2,
                                 metadata=onnx_models.card("upscale-x2", "upscale", 2, receptive_radius="0"))
    return {**os.environ, "IMAGESTUDIO_BUNDLED_MODELS_DIR": str(bundled),
            "IMAGESTUDIO_USER_MODELS_DIR": str(root / "user"), "IMAGESTUDIO_DATA_DIR": str(root / "data"),
            "IMAGESTUDIO_THREADS": "1", "PYTHONWARNINGS": "default"}


@pytest.fixture(scope="module")
def runs(corpus: list[tuple[Case, Path]], cli_env: dict[str, str],
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """`imagestudio upscale` on every corpus file: forked from one warm CLI process where the OS can fork (see
    cli_forkserver.py; the sample test below checks it against real `python -m imagestudio` processes)."""
    out = tmp_path_factory.mktemp("cli-out")
    targets = [out / f"{index:03d}.png" for index in range(len(corpus))]
    jobs = [["upscale", str(path), "-o", str(target), "--scale", "2", "-q"]
            for (_case, path), target in zip(corpus, targets, strict=True)]
    if hasattr(os, "fork"):
        results = _forked(jobs, cli_env, tmp_path_factory.mktemp("cli-jobs"))
    else:
        with ThreadPoolExecutor(max_workers=max(4, os.cpu_count() or 1)) as pool:
            results = list(pool.map(lambda job: cli(job, cli_env), jobs))
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == [], f"temporary files left behind: {leftovers}"
    return {case.name: Run(r.code, r.stdout, r.stderr, target)
            for (case, _path), r, target in zip(corpus, results, targets, strict=True)}


def _forked(jobs: list[list[str]], env: dict[str, str], scratch: Path) -> list[Run]:
    (scratch / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    command = [sys.executable, str(FORKSERVER), str(scratch / "jobs.json"), str(scratch / "results.json")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads((scratch / "results.json").read_text(encoding="utf-8"))
    for job, result in zip(jobs, results, strict=True):
        assert result["code"] is not None, f"imagestudio {' '.join(job)} did not finish within the timeout"
    return [Run(r["code"], r["stdout"], r["stderr"], Path("-")) for r in results]


def _run_for(runs: dict[str, Run], name: str) -> Run:
    if name not in runs:
        pytest.skip(f"{name} is not part of the corpus on this platform")
    return runs[name]


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == OK], ids=lambda c: c.name)
def test_good_files_are_processed(runs: dict[str, Run], case: Case) -> None:
    run = _run_for(runs, case.name)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr and "Warning" not in run.stderr, run.stderr
    result = load_image(run.output)
    assert (result.width, result.height) == (case.size[0] * 2, case.size[1] * 2)
    if case.frames > 1:
        assert f"animated ({case.frames} frames); only the first frame is processed" in run.stderr
    else:
        assert run.stderr == ""


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == ERROR], ids=lambda c: c.name)
def test_bad_files_give_one_line_and_exit_2(runs: dict[str, Run], case: Case) -> None:
    run = _run_for(runs, case.name)
    assert run.code == 2, (run.code, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("imagestudio: ") and case.name in lines[0] and case.message in lines[0].lower()
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert not run.output.exists()


@pytest.mark.parametrize("name", REAL_PROCESS_SAMPLE)
def test_a_real_process_behaves_like_the_forked_one(runs, corpus, cli_env, tmp_path, name) -> None:
    path = next((p for c, p in corpus if c.name == name), None)
    if path is None:
        pytest.skip(f"{name} is not part of the corpus on this platform")
    target = tmp_path / "out.png"
    real = cli(["upscale", str(path), "-o", str(target), "--scale", "2", "-q"], cli_env)
    forked = runs[name]
    assert (real.code, real.stderr) == (forked.code, forked.stderr)
    assert real.stdout.startswith("wrote ") == forked.stdout.startswith("wrote ") == (real.code == 0)
    assert target.exists() == (real.code == 0)


def test_the_limit_is_an_option_and_the_message_names_it(corpus, cli_env, tmp_path) -> None:
    photo = next(p for c, p in corpus if c.name == "my holiday photo.jpg")  # 40×30 = 1200 pixels
    run = cli(["upscale", str(photo), "-o", str(tmp_path / "o.png"), "--max-megapixels", "0.001"], cli_env)
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert "over the limit of 0.001 megapixels (1000 pixels)" in line and "--max-megapixels" in line
    allowed = cli(["upscale", str(photo), "-o", str(tmp_path / "o.png"), "--max-megapixels", "0.0012", "--scale", "2",
                   "-q"], cli_env)
    assert allowed.code == 0, allowed.stderr
    bad = cli(["upscale", str(photo), "--max-megapixels", "nan"], cli_env)
    assert bad.code == 2 and "positive number of megapixels" in bad.stderr and "Traceback" not in bad.stderr


def test_a_read_only_output_folder_is_one_line_and_no_file(corpus, cli_env, tmp_path) -> None:
    photo = next(p for c, p in corpus if c.name == "1x1.png")
    with read_only_folder(tmp_path / "locked") as folder:
        run = cli(["upscale", str(photo), "-o", str(folder / "out.png"), "--scale", "2", "-q"], cli_env)
        assert run.code == 2 and "Traceback" not in run.stderr
        [line] = run.stderr.splitlines()
        assert line == f"imagestudio: cannot save out.png: permission denied in {folder}"
        assert list(folder.iterdir()) == []


def test_the_default_output_name_keeps_non_ascii_letters_and_spaces(corpus, cli_env) -> None:
    photo = next(p for c, p in corpus if c.name.startswith("фото"))
    run = cli(["upscale", str(photo), "--scale", "2", "-q"], cli_env)
    assert run.code == 0, run.stderr
    written = photo.with_name(f"{photo.stem}_upscale.png")
    assert load_image(written).width == 80
    written.unlink()


def test_a_batch_over_the_whole_corpus_reports_each_bad_file_and_finishes(corpus, cli_env,
                                                                         tmp_path) -> None:
    folder = corpus[0][1].parent
    run = cli(["batch", str(folder), str(tmp_path / "out"), "--pipeline", "upscale-x2", "-q",
               "--report", str(tmp_path / "report.csv")], cli_env)
    assert run.code == 1, run.stderr  # some files failed, the others were written
    assert "Traceback" not in run.stderr + run.stdout
    failed = [line for line in run.stdout.splitlines() if line.startswith("failed")]
    bad = {c.name for c, p in corpus if c.expect == ERROR and p.is_file() and p.suffix.lower() in
           {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}}
    assert {line.split()[1].rstrip(":") for line in failed} == bad
    written = {p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")}
    good = {c.name for c, p in corpus if c.expect == OK and p.suffix and p.name[0] != "-"}
    assert {name.lower() for name in good} <= {name.lower() for name in written} | {"-starts-with-dash.png"}
