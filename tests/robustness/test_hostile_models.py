"""The model folder and the model cards are untrusted (issue 15, classes 3 and 4).

Class 3: one bad file in the user model folder never breaks other commands. A symlink loop named `.onnx`, a dangling
link, a folder or a FIFO with that name, random bytes, a card with megabyte strings, a thousand entries, metrics
nested thousands deep, control characters in a title: each is skipped with exactly one warning line, and `models`,
`upscale` and `batch` go on with the rest.

Class 4: every card value is checked before use (scale, tile multiple, receptive radius, latent size, resolution,
input/output range, channel order, name, title): `models add` and `--model` refuse it in one line, instead of a
MemoryError or a black or white picture with exit 0.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import generative_models
import onnx
import onnx_models
import pytest
from hostile_helpers import assert_one_line_error, cli, photo, state, temporaries

from imagestudio.core.errors import ModelError, UnsupportedModelError
from imagestudio.core.models import install_model, list_models, read_model_card
from imagestudio.core.ops.generate import vae_pair


def upscaler(path: Path, model_scale: int = 2, **values: str) -> Path:
    """A real ×model_scale upscaler whose card says `values` over the usual keys (its scale too, if given)."""
    metadata = onnx_models.card(path.stem, "upscale", model_scale)
    metadata.update(values)
    return onnx_models.nearest_upscaler(path, model_scale, metadata=metadata)


def _loop(folder: Path) -> None:
    (folder / "loop.onnx").symlink_to(folder / "loop.onnx")


def _dangling(folder: Path) -> None:
    (folder / "dangling.onnx").symlink_to(folder / "nowhere" / "x.onnx")


def _folder(folder: Path) -> None:
    (folder / "folder.onnx").mkdir()


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.onnx")


def _garbage(folder: Path) -> None:
    (folder / "garbage.onnx").write_bytes(os.urandom(5000))


def _deep_metrics(folder: Path) -> None:
    upscaler(folder / "deep.onnx", metrics="[" * 20_000 + "]" * 20_000)


def _megabyte_title(folder: Path) -> None:
    upscaler(folder / "mega.onnx", description="x" * (2 << 20))


def _many_entries(folder: Path) -> None:
    upscaler(folder / "many.onnx", **{f"key{i}": "v" for i in range(1100)})


def _control_title(folder: Path) -> None:
    upscaler(folder / "evil.onnx", title="\x1b[2J\x1b[31mred\nsecond line")


def _nan_range(folder: Path) -> None:
    upscaler(folder / "nan.onnx", output_range="nan,1")


def _huge_scale(folder: Path) -> None:
    upscaler(folder / "huge.onnx", scale="100000")


BAD_FILES: dict[str, Callable[[Path], None]] = {
    "loop.onnx": _loop, "dangling.onnx": _dangling, "folder.onnx": _folder, "pipe.onnx": _fifo,
    "garbage.onnx": _garbage, "deep.onnx": _deep_metrics, "mega.onnx": _megabyte_title, "many.onnx": _many_entries,
    "evil.onnx": _control_title, "nan.onnx": _nan_range, "huge.onnx": _huge_scale,
}


@pytest.fixture
def junk_folder(model_dirs: dict[str, Path], bundled_upscalers) -> Path:
    """The user folder: every bad file above plus one good model, `good-x2`; the bundled folder: upscale-x2/x4."""
    folder = model_dirs["user"]
    for make in BAD_FILES.values():
        make(folder)
    if os.geteuid() != 0:  # root reads any file: an unreadable one only exists for other users
        unreadable = upscaler(folder / "unreadable.onnx")
        unreadable.chmod(0)
    upscaler(folder / "good-x2.onnx")
    return folder


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("imagestudio: skipping model ")]


def test_core_listing_skips_each_bad_file_once(junk_folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="imagestudio"):
        names = {card.name for card in list_models()}
        list_models()  # a second listing says nothing new
    assert names == {"good-x2", "upscale-x2", "upscale-x4"}
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping model")]
    expected = set(BAD_FILES) | ({"unreadable.onnx"} if os.geteuid() != 0 else set())
    assert len(skipped) == len(expected)
    assert {re.match(r"skipping model '(.+?)': ", m)[1] for m in skipped} == expected
    assert all("\n" not in m and "\x1b" not in m for m in skipped)


def test_models_upscale_and_batch_keep_working(junk_folder: Path, tmp_path: Path) -> None:
    expected = len(BAD_FILES) + (os.geteuid() != 0)
    listing = cli("models")
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert len(warnings_in(listing.stderr)) == expected == len(listing.stderr.splitlines()), listing.stderr
    assert "\x1b" not in listing.stderr and "good-x2" in listing.stdout and "upscale-x4" in listing.stdout
    source = photo(tmp_path / "in" / "p.png")
    done = cli("upscale", str(source), "-o", str(tmp_path / "p_x2.png"), "--scale", "2", "-q")
    assert done.returncode == 0 and (tmp_path / "p_x2.png").is_file(), done.stderr
    done = cli("upscale", str(source), "-o", str(tmp_path / "p_good.png"), "--model", "good-x2", "-q")
    assert done.returncode == 0 and (tmp_path / "p_good.png").is_file(), done.stderr
    done = cli("batch", str(tmp_path / "in"), str(tmp_path / "out"), "--pipeline", "upscale-x4", "-q")
    assert done.returncode == 0 and "1 done" in done.stdout, done.stderr
    assert len(warnings_in(done.stderr)) == expected


# ---------------------------------------------------------------- class 4: each card value, checked


CARD_VALUES = [
    ({"scale": "0"}, "scale=0; it must be from 2 to 16"),
    ({"scale": "100000"}, "scale=100000; it must be from 2 to 16"),
    ({"scale": "-4"}, "scale=-4"),
    ({"scale": "4.5"}, "expected a whole number"),
    ({"tile_multiple": "0"}, "tile_multiple=0; it must be from 1 to 256"),
    ({"tile_multiple": "1000000"}, "tile_multiple=1000000"),
    ({"receptive_radius": "-1"}, "receptive_radius=-1"),
    ({"receptive_radius": "99999999"}, "receptive_radius=99999999"),
    ({"latent_size": "1000000000"}, "latent_size=1000000000; it must be from 1 to 16384"),
    ({"resolution": "0"}, "resolution=0; it must be from 4 to 2048"),
    ({"resolution": "65536"}, "resolution=65536"),
    ({"output_range": "nan,1"}, "NaN is no bound"),
    ({"input_range": "0,nan"}, "NaN is no bound"),
    ({"output_range": "0,inf"}, "need finite bounds"),
    ({"output_range": "-1e300,1e300"}, "need finite bounds"),
    ({"output_range": "1,0"}, "low must be below high"),
    ({"output_range": "0.5,0.5"}, "low must be below high"),
    ({"output_range": "0,1e-12"}, "too narrow"),
    ({"input_range": "0;1"}, "expected 'low,high'"),
    ({"channel_order": "GBR"}, "channel_order='GBR'"),
    ({"channel_order": "RGBA"}, "expected RGB or BGR"),
    ({"name": "../../evil"}, "may not contain /"),
    ({"name": "n" * 500}, "name of 500 characters"),
    ({"name": "two\nlines"}, "control characters in the name"),
    ({"title": "t" * 5000}, "title of 5000 characters"),
    ({"task": "upscale\x1b[2J"}, "declares task 'upscale\\x1b[2j'"),
    ({"metrics": "[" * 5000 + "]" * 5000}, "metrics in its card that nests deeper"),
]


@pytest.mark.parametrize("values, message", CARD_VALUES, ids=[f"{k}={v[:12]}" for (d, _m) in CARD_VALUES
                                                              for k, v in d.items()])
def test_card_values_out_of_bounds_are_refused(tmp_path: Path, model_dirs, values: dict[str, str],
                                               message: str) -> None:
    path = upscaler(tmp_path / "m.onnx", **values)
    with pytest.raises(UnsupportedModelError) as raised:
        install_model(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert list(model_dirs["user"].iterdir()) == []


def test_a_probed_scale_out_of_bounds_is_refused(tmp_path: Path, model_dirs) -> None:
    path = onnx_models.nearest_upscaler(tmp_path / "x32.onnx", 32)  # no card: the probe measures ×32
    with pytest.raises(UnsupportedModelError, match="probing found scale=32; it must be from 2 to 16"):
        read_model_card(path)


REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_models_pass_the_checks() -> None:
    """The bundled cards (the generative ones say '-inf,inf' for their latent side) are all within bounds."""
    shipped = sorted((REPO / "resources" / "models").glob("*.onnx"))
    if not shipped:
        pytest.skip("no bundled models in this checkout")
    for path in shipped:
        card = read_model_card(path)
        assert card.channel_order in ("RGB", "BGR") and 1 <= card.scale <= 16


def test_a_latent_side_may_be_unbounded_an_image_side_may_not(tmp_path: Path, model_dirs) -> None:
    upscaler(tmp_path / "bgr.onnx", channel_order="bgr", input_range="-1,1", output_range="0,255")
    assert read_model_card(tmp_path / "bgr.onnx").channel_order == "BGR"
    generator = _with_card(generative_models.generator(tmp_path / "gen"), input_range="-inf,inf")
    assert read_model_card(generator).input_range == (float("-inf"), float("inf"))  # its latent side
    _with_card(generator, output_range="-inf,inf")  # its image side
    with pytest.raises(UnsupportedModelError, match="need finite bounds"):
        read_model_card(generator)
    with pytest.raises(UnsupportedModelError, match="need finite bounds"):
        read_model_card(upscaler(tmp_path / "inf.onnx", input_range="-inf,inf"))


def _with_card(path: Path, **values: str) -> Path:
    model = onnx.load(str(path))
    props = {entry.key: entry.value for entry in model.metadata_props} | values
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("values, message", [
    ({"scale": "100000"}, "scale=100000"),
    ({"output_range": "nan,1"}, "NaN is no bound"),
    ({"title": "a\x1b[31mred"}, "control characters in the title"),
])
def test_models_add_and_model_option_refuse_in_one_line(tmp_path: Path, model_dirs, bundled_upscalers,
                                                         values: dict[str, str], message: str) -> None:
    path = upscaler(tmp_path / "bad.onnx", **values)
    assert_one_line_error(cli("models", "add", str(path)), message)
    assert list(model_dirs["user"].iterdir()) == []
    source = photo(tmp_path / "in.png")
    before = state(tmp_path)
    done = cli("upscale", str(source), "-o", str(tmp_path / "out.png"), "--model", str(path), "-q")
    assert_one_line_error(done, message)
    assert state(tmp_path) == before and temporaries(tmp_path) == []


def test_a_card_naming_its_pair_by_path_is_refused(tmp_path: Path, model_dirs) -> None:
    folder = model_dirs["bundled"]
    generative_models.decoder(folder)
    generative_models.encoder(folder, pair="../../../etc/passwd")
    with pytest.raises(ModelError, match="a model name, not a path"):
        vae_pair()
