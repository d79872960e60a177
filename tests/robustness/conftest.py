"""Robustness fixtures: the generated corpus of bad inputs (see make_corpus.py) and the GUI with its modals recorded;
file-system helpers are in fs_helpers.py."""

from __future__ import annotations

import os

# Before anything imports Qt (the GUI tests in this folder): no display is needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from gui_helpers import Dialogs, isolate_settings  # noqa: E402
from make_corpus import Case, write_corpus  # noqa: E402


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Case, Path]]:
    """The whole corpus, written once per session into a folder whose own name has a space and non-ASCII letters."""
    return write_corpus(tmp_path_factory.mktemp("corpus") / "bad inputs — ünïcode")


# ---------------------------------------------------------------- the GUI: settings in tmp, modals recorded


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Dialogs:
    isolate_settings(tmp_path_factory.mktemp("settings"))
    return Dialogs().install(monkeypatch)


@pytest.fixture
def window(qtbot, recorded: Dialogs):  # noqa: ANN001, ANN201 - pytest-qt's QtBot, our MainWindow
    from imagestudio.ui.main_window import MainWindow
    from imagestudio.ui.settings import AppSettings

    main = MainWindow(AppSettings())
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    return main


@pytest.fixture
def wait_idle(qtbot):  # noqa: ANN001, ANN201
    """`wait_idle(window)`: until every job has finished and its result reached the GUI thread."""
    return lambda main, timeout_ms=30_000: qtbot.waitUntil(lambda: not main.runner.busy, timeout=timeout_ms)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Pillow's UserWarnings about the damage in these files are expected here (the loader filters them in the
    app; pytest re-enables warnings per test)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings(r"ignore::UserWarning:PIL\."))
