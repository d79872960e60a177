from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from imagestudio.core.errors import DeviceError, ModelError, UnsupportedModelError
from imagestudio.core.runtime import CPU_PROVIDER, cuda_status, expected_provider, get_session


def test_cpu_session_reports_the_provider_that_runs(models):
    session = get_session(models("identity"), "cpu")
    assert session.provider == CPU_PROVIDER
    assert session.device == "cpu"
    x = np.random.default_rng(0).random((1, 3, 5, 7), dtype=np.float32)
    np.testing.assert_array_equal(session.run(x), x)


def test_sessions_are_cached_per_path_mtime_and_device(models):
    path = models("identity")
    first = get_session(path, "cpu")
    assert get_session(path, "cpu") is first
    assert get_session(path, "auto") is not first
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert get_session(path, "cpu") is not first


@pytest.mark.skipif(cuda_status().usable, reason="this machine has a usable GPU")
def test_cuda_request_falls_back_to_cpu_with_one_notice_and_no_onnxruntime_noise(models):
    path = models("blur")
    script = textwrap.dedent(f"""
        from imagestudio.core.runtime import get_session
        for _ in range(3):  # three sessions, one notice
            session = get_session({str(path)!r}, "cuda")
        print(session.provider)
        print(session.device)
        print(session.notice)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    provider, device, notice = done.stdout.splitlines()
    assert (provider, device) == (CPU_PROVIDER, "cpu")
    assert "CUDA was requested but cannot be used" in notice
    stderr_lines = done.stderr.strip().splitlines()
    assert len(stderr_lines) == 1, done.stderr  # the notice, once; no C++ log lines
    assert "CUDA was requested" in stderr_lines[0]
    assert "onnxruntime" not in done.stderr.lower()


def test_expected_provider_on_this_machine():
    assert expected_provider("cpu") == CPU_PROVIDER
    if not cuda_status().usable:
        assert expected_provider("auto") == CPU_PROVIDER
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        expected_provider("tpu")


def test_not_an_onnx_file_is_refused_clearly(tmp_path: Path):
    path = tmp_path / "notes.onnx"
    path.write_text("not a model")
    with pytest.raises(UnsupportedModelError, match="notes.onnx"):
        get_session(path, "cpu")


def test_missing_model_file(tmp_path: Path):
    with pytest.raises(ModelError, match="cannot be read"):
        get_session(tmp_path / "absent.onnx")


def test_a_failing_run_is_a_model_error_naming_the_model(models):
    session = get_session(models("multiple_of", multiple=4), "cpu")
    with pytest.raises(ModelError, match=r"multiple_of.onnx failed on input \(1, 3, 5, 5\)"):
        session.run(np.zeros((1, 3, 5, 5), np.float32))


def test_capped_cpu_memory_turns_into_out_of_memory_error(models):
    """A real allocation failure from onnxruntime's arena is told apart from other failures."""
    path = models("heavy")
    script = textwrap.dedent(f"""
        import numpy as np
        from imagestudio.core.runtime import DeviceOutOfMemoryError, get_session
        session = get_session({str(path)!r}, "cpu")
        session.run(np.zeros((1, 3, 32, 32), np.float32))  # fits
        try:
            session.run(np.zeros((1, 3, 1024, 1024), np.float32))
        except DeviceOutOfMemoryError as error:
            print("oom:", error)
    """)
    env = {**os.environ, "IMAGESTUDIO_CPU_MEMORY_LIMIT_MB": "32"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("oom: out of memory running heavy.onnx on cpu"), done.stdout + done.stderr
    assert done.stderr == ""
