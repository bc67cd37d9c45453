import h5py
import numpy as np
import pytest

from dislab.data.loader import DSprites
from dislab.errors import DatasetError


def _write_npz(path, data):
    np.savez_compressed(
        path, imgs=data.images(np.arange(len(data))), latents_classes=data.classes, latents_values=data.values
    )


def test_hdf5_and_npz_load_to_the_same_data(tmp_path, tiny_data):
    npz = tmp_path / "d.npz"
    _write_npz(npz, tiny_data)
    other = DSprites.load(npz)
    assert np.array_equal(other.packed, tiny_data.packed)
    assert np.array_equal(other.classes, tiny_data.classes)
    assert other.factor_sizes == tiny_data.factor_sizes


def test_ground_truth_interface(tiny_data):
    rng = np.random.default_rng(3)
    factors = tiny_data.sample_factors(500, rng)
    assert factors.shape == (500, 5)
    assert (factors.min(axis=0) >= 0).all() and (factors.max(axis=0) < np.array(tiny_data.factor_sizes)).all()
    images = tiny_data.images_from_factors(factors)
    assert images.shape == (500, 1, 64, 64) and images.dtype == np.float32
    idx = tiny_data.indices_from_factors(factors)
    assert np.array_equal(tiny_data.factors(idx), factors)
    assert np.array_equal(images[:, 0], tiny_data.images(idx))
    # same rng seed, same sample; legacy RandomState works too
    assert np.array_equal(factors, tiny_data.sample_factors(500, np.random.default_rng(3)))
    assert tiny_data.sample_factors(4, np.random.RandomState(0)).shape == (4, 5)
    assert tiny_data.packed.nbytes * 8 == len(tiny_data) * 64 * 64  # bit-packed in memory


def test_missing_file_names_the_alternatives(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*dataset.source"):
        DSprites.load(tmp_path / "nope.hdf5")


def test_truncated_hdf5_is_refused(tmp_path, tiny_hdf5):
    cut = tmp_path / "cut.hdf5"
    cut.write_bytes(tiny_hdf5.read_bytes()[: tiny_hdf5.stat().st_size // 2])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        DSprites.load(cut)


def test_corrupt_hdf5_is_refused(tmp_path, tiny_hdf5):
    raw = bytearray(tiny_hdf5.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 4096] = bytes(4096)  # zero out compressed image chunks
    bad = tmp_path / "bad.hdf5"
    bad.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="corrupt|binary|order"):
        DSprites.load(bad)


def test_truncated_npz_is_refused(tmp_path, tiny_data):
    npz = tmp_path / "d.npz"
    _write_npz(npz, tiny_data)
    npz.write_bytes(npz.read_bytes()[:-5000])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        DSprites.load(npz)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(imgs=d["imgs"][:, :32, :]), "shape"),
        (lambda d: d.update(imgs=d["imgs"].astype(np.float32)), "dtype"),
        (lambda d: d.update(imgs=d["imgs"] * 255), "binary"),
        (lambda d: d.update(classes=d["classes"][::-1].copy()), "order"),
        (lambda d: d.update(classes=d["classes"][:-1], values=d["values"][:-1], imgs=d["imgs"][:-1]), "order"),
        (lambda d: d.pop("values"), "latents/values"),
    ],
)
def test_wrong_layouts_are_refused(tmp_path, tiny_data, change, message):
    arrays = {
        "imgs": tiny_data.images(np.arange(len(tiny_data))),
        "classes": tiny_data.classes,
        "values": tiny_data.values,
    }
    change(arrays)
    path = tmp_path / "wrong.hdf5"
    with h5py.File(path, "w") as h5:
        h5["imgs"] = arrays["imgs"]
        h5["latents/classes"] = arrays["classes"]
        if "values" in arrays:
            h5["latents/values"] = arrays["values"]
    with pytest.raises(DatasetError, match=message):
        DSprites.load(path)


def test_the_dataset_check_keeps_the_unpacked_images_and_jobs_read_them(tmp_path, tiny_hdf5):
    import os
    import shutil

    import yaml
    from conftest import REPO

    from dislab.data.check import check_dataset
    from dislab.data.loader import cache_path

    data_file = tmp_path / tiny_hdf5.name
    shutil.copy(tiny_hdf5, data_file)
    check_dataset(data_file, yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())["dataset"])
    cache = cache_path(data_file)
    assert cache.is_file()
    fresh, cached = DSprites.load(tiny_hdf5), DSprites.load(data_file)
    for name in ("packed", "classes", "values"):
        assert np.array_equal(getattr(fresh, name), getattr(cached, name)), name
    assert cached.standin and cached.path == data_file

    with h5py.File(data_file, "r+") as h5:  # the file changes after the check: its cache no longer applies
        h5["imgs"][0] = 1 - h5["imgs"][0]
    os.utime(data_file, ns=(0, os.stat(data_file).st_mtime_ns + 1_000_000))
    assert not np.array_equal(DSprites.load(data_file).packed[0], fresh.packed[0])

    cache.write_bytes(b"not a zip file")  # a damaged cache is passed over, not trusted
    assert not np.array_equal(DSprites.load(data_file).packed[0], fresh.packed[0])
