"""packaging/bundle_deps.py on small bundles made of real binaries: what it carries, requires and refuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagestudio import startup

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "bundle_deps.py"
pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF bundles are Linux's"),
              pytest.mark.skipif(shutil.which("objdump") is None, reason="bundle_deps.py needs binutils' objdump")]


def run(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(bundle), *args], capture_output=True, text=True,
                          timeout=300)


def test_a_plugin_without_its_qt_libraries_fails_the_build_naming_them(tmp_path):
    pyside = startup.pyside_dir()
    if pyside is None:
        pytest.skip("needs PySide6")
    plugin = tmp_path / "bundle" / "_internal" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    shutil.copy2(pyside / "Qt" / "plugins" / "platforms" / "libqxcb.so", plugin)
    done = run(tmp_path / "bundle")
    assert done.returncode == 1
    assert "libQt6XcbQpa.so.6  (needed by _internal/plugins/platforms/libqxcb.so)" in done.stderr
    assert "libQt6Gui.so.6" in done.stderr and "libQt6Core.so.6" in done.stderr


def test_a_carried_library_is_not_required_and_the_system_ones_are(tmp_path):
    """A bundle of `ls` and the libselinux it links to: libselinux is carried, libc comes from the system."""
    ls = Path(shutil.which("ls") or "/bin/ls")
    needed = subprocess.run(["ldd", str(ls)], capture_output=True, text=True).stdout
    if "libselinux.so.1 => /" not in needed:
        pytest.skip("this ls does not link to libselinux")
    internal = tmp_path / "bundle" / "_internal"
    internal.mkdir(parents=True)
    shutil.copy2(ls, tmp_path / "bundle" / "ls")
    selinux = next(line.split()[2] for line in needed.splitlines() if line.strip().startswith("libselinux.so.1"))
    shutil.copy2(selinux, internal / "libselinux.so.1")
    report_file = tmp_path / "deps.json"
    done = run(tmp_path / "bundle", "--json", str(report_file))
    assert done.returncode == 0, done.stderr
    report = json.loads(report_file.read_text())
    assert "libselinux.so.1" not in report["system"] and report["carried"] >= 1
    assert "libc.so.6" in report["system"]
    assert "libc.so.6()(64bit)" in report["rpm_requires"]
    assert any(r.startswith("libc.so.6(GLIBC_") for r in report["rpm_requires"])
    if shutil.which("dpkg"):
        assert any(d.startswith("libc6 (>= 2.") for d in report["debian_depends"]), report["debian_depends"]


def test_user_provided_libraries_are_neither_required_nor_a_failure(tmp_path):
    """As the cuda flavour's CUDA libraries: named by --user-provided, left to the user whether found or not."""
    ls = Path(shutil.which("ls") or "/bin/ls")
    if "libselinux.so.1 => /" not in subprocess.run(["ldd", str(ls)], capture_output=True, text=True).stdout:
        pytest.skip("this ls does not link to libselinux")
    (tmp_path / "bundle").mkdir()
    shutil.copy2(ls, tmp_path / "bundle" / "ls")
    report_file = tmp_path / "deps.json"
    done = run(tmp_path / "bundle", "--user-provided", r"^libselinux", "--json", str(report_file))
    assert done.returncode == 0, done.stderr
    report = json.loads(report_file.read_text())
    assert report["user_provided"] == ["libselinux.so.1"]
    assert "libselinux.so.1" not in report["system"] and "libc.so.6" in report["system"]
