"""The settings table: typed values, defaults, and a per-test settings file."""

from __future__ import annotations

from PySide6.QtCore import QByteArray

from imagestudio.ui.settings import RECENT_FILES_LIMIT, SETTINGS, AppSettings, qsettings


def test_every_setting_has_a_default_of_its_type_and_a_doc():
    for setting in SETTINGS:
        assert isinstance(setting.default, setting.type), setting.key
        assert setting.doc


def test_defaults_then_typed_round_trip_through_the_ini_file(isolated_settings):
    settings = AppSettings()
    assert settings.device == "auto" and settings.tile is None
    assert settings.get("ui/theme_follows_system") is True
    settings.set("processing/tile_size", 256)
    settings.set("ui/theme_follows_system", False)
    settings.set("files/recent", ["/a.png"])
    settings.set("window/state", QByteArray(b"\x00\x01"))
    settings.sync()
    assert list(isolated_settings.rglob("*.ini")), "settings must land in the test's folder"
    again = AppSettings(qsettings())
    assert again.tile == 256
    assert again.get("ui/theme_follows_system") is False
    assert again.recent_files() == ["/a.png"]  # a one-item list stays a list
    assert bytes(again.get("window/state")) == b"\x00\x01"


def test_recent_files_are_newest_first_without_duplicates_and_bounded():
    settings = AppSettings()
    for index in range(RECENT_FILES_LIMIT + 3):
        settings.add_recent_file(f"/photos/{index}.png")
    settings.add_recent_file("/photos/5.png")
    files = settings.recent_files()
    assert files[0] == "/photos/5.png" and len(files) == RECENT_FILES_LIMIT and len(set(files)) == len(files)


def test_a_garbled_value_falls_back_to_the_default():
    store = qsettings()
    store.setValue("processing/tile_size", "lots")
    assert AppSettings(store).get("processing/tile_size") == 0
