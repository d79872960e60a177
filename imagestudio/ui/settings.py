"""Every user setting, declared once as a table (key, type, default, doc), read and written through QSettings.

The INI format is used on every platform so that a settings file looks the same everywhere and tests can point
QSettings at a temporary folder with `QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, folder)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from imagestudio.core.errors import DeviceError
from imagestudio.core.image import DEFAULT_MAX_PIXELS
from imagestudio.core.imageio.formats import FORMATS, OUTPUT_FORMATS, SAME, format_words
from imagestudio.core.runtime import DEVICES
from imagestudio.core.runtime_choice import BACKENDS, PRECISIONS, CpuRequest, check_request

ORGANISATION = "ImageStudio"
APPLICATION = "ImageStudio"

# Bump when docks are added, removed or renamed: restoreState() then ignores a layout saved by an older build.
WINDOW_STATE_VERSION = 2  # 2: the canvas-first layout (Gallery and Batch start hidden)
RECENT_FILES_LIMIT = 10
_LOSSY = format_words(name for name, info in FORMATS.items() if info.lossy)


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("processing/device", str, "auto", "Default device for models: auto (CUDA, then CPU), cuda or cpu."),
    Setting("processing/backend", str, "auto",
            "CPU inference runtime: auto (OpenVINO where it runs the chosen precision, else onnxruntime), "
            "onnxruntime or openvino. CUDA always runs onnxruntime."),
    Setting("processing/precision", str, "auto",
            "CPU precision: auto (bf16 on CPUs with AMX/AVX512-BF16 where the model's card allows it, int8 where "
            "the card ships a faster variant, else fp32), fp32, bf16 or int8."),
    Setting("processing/tile_size", int, 0, "Tile side in pixels for model runs; 0 lets the core choose."),
    Setting("output/format", str, SAME,
            f"Format for Save As and Export: {SAME} (as the input), {format_words(OUTPUT_FORMATS)}."),
    Setting("output/quality", int, 95,
            f"Quality for {_LOSSY} output, 1 to 100."),
    Setting("output/keep_metadata", bool, True, "Carry EXIF and the ICC profile over to saved files."),
    Setting("history/memory_limit_mb", int, 1024,
            "Memory for undo states; older states are written to a temporary folder and read back on undo."),
    Setting("files/max_megapixels", int, DEFAULT_MAX_PIXELS // 1_000_000,
            "Larger images are refused before decoding (protects memory from huge or hostile files)."),
    Setting("ui/theme_follows_system", bool, True, "Follow the system's light or dark theme; off forces light."),
    Setting("files/recent", list, [], "Recently opened files, newest first."),
    Setting("files/last_folder", str, "", "Folder the last open or save dialog showed."),
    Setting("window/geometry", QByteArray, QByteArray(), "Main window position and size."),
    Setting("window/state", QByteArray, QByteArray(), "Dock and toolbar layout (saveState, versioned)."),
    # The Batch panel's last job, so a restart shows it as it was left ("" keeps the panel's own default).
    Setting("batch/input", str, "", "Batch input folder."),
    Setting("batch/output", str, "", "Batch output folder."),
    Setting("batch/recursive", bool, False, "Batch: include sub-folders."),
    Setting("batch/include", str, "", "Batch: file patterns to include."),
    Setting("batch/exclude", str, "", "Batch: file patterns to exclude."),
    Setting("batch/pipeline", str, "", "Batch pipeline: a named pipeline, 'history' or 'preset'."),
    Setting("batch/preset", str, "", "Batch: the preset file when the pipeline is 'preset'."),
    Setting("batch/format", str, "", "Batch output format."),
    Setting("batch/quality", int, 95, f"Batch output quality for {_LOSSY}."),
    Setting("batch/template", str, "", "Batch output name template."),
    Setting("batch/conflict", str, "", "Batch: what to do when the output exists."),
    Setting("batch/resume", bool, True, "Batch: skip files finished by an earlier run."),
    Setting("batch/cluster", str, "", "Batch: the Ray cluster to run on (empty: this computer)."),
)
_BY_KEY = {setting.key: setting for setting in SETTINGS}


def qsettings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class AppSettings:
    """Typed access to the table above; unknown keys are a programming error and raise KeyError."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else qsettings()

    def get(self, key: str) -> Any:
        setting = _BY_KEY[key]
        raw = self._store.value(key, None)
        if raw is None:
            return _copy_default(setting.default)
        try:
            return _coerce(raw, setting.type)
        except (TypeError, ValueError):  # a hand-edited or foreign file: fall back rather than fail to start
            return _copy_default(setting.default)

    def set(self, key: str, value: Any) -> None:
        setting = _BY_KEY[key]
        self._store.setValue(key, _coerce(value, setting.type))

    def sync(self) -> None:
        self._store.sync()

    # Convenience for the values the app reads in several places.
    @property
    def device(self) -> str:
        value = self.get("processing/device")
        return value if value in DEVICES else "auto"

    @property
    def cpu_request(self) -> CpuRequest:
        """The backend and precision settings; a pair no model can satisfy (a hand-edited file) means auto."""
        backend, precision = self.get("processing/backend"), self.get("processing/precision")
        if backend not in BACKENDS or precision not in PRECISIONS:
            return CpuRequest()
        try:
            return check_request(backend, precision)
        except DeviceError:
            return CpuRequest()

    @property
    def tile(self) -> int | None:
        size = self.get("processing/tile_size")
        return size if size > 0 else None

    @property
    def max_pixels(self) -> int:
        """The open/batch pixel limit; at least 1 MP so a bad value in the file cannot refuse every photo."""
        return max(1, self.get("files/max_megapixels")) * 1_000_000

    @property
    def history_limit_bytes(self) -> int:
        return max(64, self.get("history/memory_limit_mb")) * 1024 * 1024

    def recent_files(self) -> list[str]:
        return [str(item) for item in self.get("files/recent") if item]

    def add_recent_file(self, path: str) -> list[str]:
        files = [path] + [item for item in self.recent_files() if item != path]
        files = files[:RECENT_FILES_LIMIT]
        self.set("files/recent", files)
        return files


def _copy_default(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _coerce(value: Any, kind: type) -> Any:
    """QSettings hands INI values back as strings (and a one-item list as a plain string)."""
    if kind is bool:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes", "on")
        return bool(value)
    if kind is int:
        return int(value)
    if kind is str:
        return str(value)
    if kind is list:
        if isinstance(value, str):
            return [value] if value else []
        return [str(item) for item in value]
    if kind is QByteArray:
        return value if isinstance(value, QByteArray) else QByteArray(value)
    raise TypeError(f"unsupported setting type {kind!r}")
