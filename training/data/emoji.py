"""Emoji images for the generative models: Noto Color Emoji rendered with Pillow, one image per emoji sequence.

Sources (Debian packages, fetched with `fetch_package`, never committed): `fonts-noto-color-emoji` gives
NotoColorEmoji.ttf (a bitmap colour font: Pillow draws it only at its strike size, 109), `unicode-data` gives
emoji-test.txt, the list of every fully-qualified sequence with its group and subgroup. Each glyph is composited over
a plain white background (the app's gallery shows them like that), trimmed to a square and resized to 64×64.

The held-out split is made by *base* emoji (skin-tone modifiers removed), so the five skin-tone variants of one hand
land on the same side: otherwise held-out images would be near-copies of training images and the real-vs-real
"floor" would be flattered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from training.data.sources import DEFAULT_DATA_DIR, fetch_package

FONT_PACKAGE = "fonts-noto-color-emoji"
FONT_PATH = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
LIST_PACKAGE = "unicode-data"
LIST_PATH = "usr/share/unicode/emoji/emoji-test.txt"
FONT_SIZE = 109  # the only strike size of the CBDT bitmap font
_SKIN_TONES = {chr(c) for c in range(0x1F3FB, 0x1F400)}
_VARIATION_SELECTOR = "\ufe0f"

# Chosen by looking at a contact sheet of all 3655: heads are the most coherent domain (a round face, centred,
# eyes and mouth in the same places): the smiley faces plus the head-and-shoulders people (with their skin
# tones and roles). Full-body people, hands, flags, keycaps, symbols and objects are thin, flat or text-like and
# pull a small generator, trained for minutes on a CPU, in too many directions.
FACE_SUBGROUPS = ("face-smiling", "face-affection", "face-tongue", "face-hand", "face-neutral-skeptical",
                  "face-sleepy", "face-unwell", "face-hat", "face-glasses", "face-concerned", "face-negative",
                  "face-costume", "cat-face", "monkey-face", "person", "person-gesture", "person-role",
                  "person-fantasy")

LICENCE = ("Noto Color Emoji font: SIL Open Font License 1.1 (OFL-1.1), artwork Apache-2.0, (c) Google Inc. "
           "(Debian fonts-noto-color-emoji copyright file); emoji-test.txt: Unicode License (Debian unicode-data)")


@dataclass(frozen=True)
class EmojiEntry:
    sequence: str
    group: str
    subgroup: str
    name: str

    @property
    def base(self) -> str:
        """The sequence without skin tones or variation selectors: variants of one emoji share it."""
        return "".join(ch for ch in self.sequence if ch not in _SKIN_TONES and ch != _VARIATION_SELECTOR)


@dataclass
class EmojiSet:
    images: np.ndarray  # uint8 (N, size, size, 3)
    labels: np.ndarray  # int64 (N,): subgroup index into subgroup_names (targets of the feature classifier)
    subgroup_names: list[str]
    bases: list[str]  # EmojiEntry.base per image
    names: list[str]

    def __len__(self) -> int:
        return len(self.images)

    def take(self, index: np.ndarray) -> "EmojiSet":
        return EmojiSet(self.images[index], self.labels[index], self.subgroup_names,
                        [self.bases[i] for i in index], [self.names[i] for i in index])


def parse_emoji_test(path: Path) -> list[EmojiEntry]:
    """Every fully-qualified sequence in emoji-test.txt, with its group and subgroup."""
    entries: list[EmojiEntry] = []
    group = subgroup = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            codes, _, rest = line.partition(";")
            status, _, comment = rest.partition("#")
            if status.strip() != "fully-qualified":
                continue
            sequence = "".join(chr(int(c, 16)) for c in codes.split())
            name = comment.strip().split(" ", 2)[-1] if comment.strip() else ""
            entries.append(EmojiEntry(sequence, group, subgroup, name))
    return entries


def render_emoji(font: ImageFont.FreeTypeFont, sequence: str, size: int,
                 background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray | None:
    """One emoji as uint8 (size, size, 3) over `background`; None when the font lacks it (renders as several glyphs)."""
    left, top, right, bottom = font.getbbox(sequence)
    if right - left > 1.5 * (bottom - top):  # an unsupported ZWJ sequence falls apart into side-by-side glyphs
        return None
    canvas = Image.new("RGBA", (right + 8, bottom + 8), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((4, 4), sequence, font=font, embedded_color=True)
    box = canvas.getchannel("A").getbbox()
    if box is None:
        return None
    glyph = canvas.crop(box)
    side = max(glyph.size)
    square = Image.new("RGBA", (side, side), (*background, 255))
    square.alpha_composite(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    square = square.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return np.asarray(square.convert("RGB"))


def _paths(data_dir: Path) -> tuple[Path, Path]:
    return fetch_package(FONT_PACKAGE, data_dir) / FONT_PATH, fetch_package(LIST_PACKAGE, data_dir) / LIST_PATH


def load_emoji(data_dir: Path = DEFAULT_DATA_DIR, subgroups: tuple[str, ...] | None = FACE_SUBGROUPS,
               size: int = 64) -> EmojiSet:
    """Every fully-qualified emoji of `subgroups` (None: all), rendered once and cached as data/cache/*.npz."""
    key = hashlib.sha1(repr((subgroups, size, FONT_SIZE)).encode()).hexdigest()[:10]
    cache = data_dir / "cache" / f"emoji-{size}-{key}.npz"
    if cache.is_file():
        with np.load(cache) as archive:
            return EmojiSet(archive["images"], archive["labels"], list(archive["subgroup_names"]),
                            list(archive["bases"]), list(archive["names"]))
    font_path, list_path = _paths(data_dir)
    font = ImageFont.truetype(str(font_path), FONT_SIZE)
    entries = [e for e in parse_emoji_test(list_path) if subgroups is None or e.subgroup in subgroups]
    subgroup_names = sorted({e.subgroup for e in entries})
    images, kept = [], []
    for entry in entries:
        image = render_emoji(font, entry.sequence, size)
        if image is not None:
            images.append(image)
            kept.append(entry)
    result = EmojiSet(np.stack(images), np.array([subgroup_names.index(e.subgroup) for e in kept], dtype=np.int64),
                      subgroup_names, [e.base for e in kept], [e.name for e in kept])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, images=result.images, labels=result.labels, subgroup_names=np.array(subgroup_names),
             bases=np.array(result.bases), names=np.array(result.names))
    return result


def split_holdout(emoji: EmojiSet, fraction: float = 0.1, seed: int = 0) -> tuple[EmojiSet, EmojiSet]:
    """(train, held-out), split by base emoji so skin-tone variants never straddle the two."""
    bases = sorted(set(emoji.bases))
    rng = np.random.default_rng(seed)
    held_bases = set(rng.choice(bases, size=max(1, round(fraction * len(bases))), replace=False).tolist())
    held = np.array([b in held_bases for b in emoji.bases])
    return emoji.take(np.flatnonzero(~held)), emoji.take(np.flatnonzero(held))


def synthetic_emoji(count: int = 16, size: int = 64, seed: int = 0) -> EmojiSet:
    """Round coloured faces drawn with Pillow: the tiny fake data set of `--dry-run` and the smoke tests."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        im = Image.new("RGB", (size, size), (255, 255, 255))
        draw = ImageDraw.Draw(im)
        colour = tuple(int(c) for c in rng.integers(60, 255, 3))
        r = size * rng.uniform(0.3, 0.45)
        c = size / 2
        draw.ellipse((c - r, c - r, c + r, c + r), fill=colour)
        for dx in (-0.35, 0.35):
            draw.ellipse((c + dx * r - 3, c - 0.3 * r - 3, c + dx * r + 3, c - 0.3 * r + 3), fill=(40, 30, 20))
        images.append(np.asarray(im))
    labels = np.arange(count, dtype=np.int64) % 2
    return EmojiSet(np.stack(images), labels, ["a", "b"], [str(i) for i in range(count)],
                    [f"synthetic {i}" for i in range(count)])


def emoji_pool(config: dict) -> tuple[EmojiSet, EmojiSet]:
    """(train, held-out) for a generative config: the real emoji, or for --dry-run a few synthetic faces."""
    data = config.get("data", {})
    size = int(config["model"].get("resolution", 64))
    if config.get("train", {}).get("dry_run"):
        return split_holdout(synthetic_emoji(16, size), fraction=0.25)
    subgroups = data.get("subgroups", list(FACE_SUBGROUPS))
    emoji = load_emoji(Path(config.get("data_dir", DEFAULT_DATA_DIR)), tuple(subgroups) if subgroups else None, size)
    return split_holdout(emoji, float(data.get("holdout", 0.1)), int(data.get("split_seed", 0)))


def describe_emoji_source(subgroups: tuple[str, ...] | list[str] | None = FACE_SUBGROUPS) -> str:
    which = "every subgroup" if not subgroups else "subgroups " + ", ".join(subgroups)
    return (f"Noto Color Emoji (Debian {FONT_PACKAGE}) rendered at {FONT_SIZE} px over white, every fully-qualified "
            f"sequence of emoji-test.txt (Debian {LIST_PACKAGE}) in {which}, resized to 64×64")

