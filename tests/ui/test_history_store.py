"""Bounded history memory: older states go to a temporary folder and come back intact."""

from __future__ import annotations

import numpy as np

from imagestudio.core.image import image_from_array
from imagestudio.ui.history_store import StateStore


def _image(seed: int, alpha: bool = False, side: int = 32):
    rng = np.random.default_rng(seed)
    return image_from_array(rng.random((side, side, 4 if alpha else 3), dtype=np.float32))


def test_states_beyond_the_limit_are_spilled_and_read_back_exactly(tmp_path):
    one_image = 32 * 32 * 3 * 4
    store = StateStore(limit_bytes=2 * one_image, folder=tmp_path)
    images = [_image(seed) for seed in range(5)]
    ids = [store.add(image) for image in images]
    store.flush()
    assert store.memory_bytes <= 2 * one_image
    assert not store.in_memory(ids[0]) and store.in_memory(ids[-1])
    assert len(list(tmp_path.glob("imagestudio-history-*/*.npy"))) >= 3
    for state_id, image in zip(ids, images):
        np.testing.assert_array_equal(store.get(state_id).rgb, image.rgb)
    store.close()
    assert not list(tmp_path.glob("imagestudio-history-*"))


def test_alpha_and_metadata_survive_a_spill(tmp_path):
    store = StateStore(limit_bytes=1, folder=tmp_path)  # keeps only the newest state in memory
    first = _image(1, alpha=True)
    first_id = store.add(first)
    store.add(_image(2))
    store.flush()
    assert not store.in_memory(first_id)
    back = store.get(first_id)
    np.testing.assert_array_equal(back.alpha, first.alpha)
    assert back.meta == first.meta
    store.close()


def test_the_newest_state_stays_in_memory_even_over_the_limit(tmp_path):
    store = StateStore(limit_bytes=1, folder=tmp_path)
    only = store.add(_image(3))
    store.flush()
    assert store.in_memory(only)
    store.close()


def test_retain_forgets_unreachable_states_and_their_files(tmp_path):
    store = StateStore(limit_bytes=1, folder=tmp_path)
    ids = [store.add(_image(seed)) for seed in range(3)]
    store.flush()
    store.retain({ids[2]})
    assert ids[0] not in store and ids[1] not in store
    assert len(list(tmp_path.glob("imagestudio-history-*/*.npy"))) == 0
    store.close()
