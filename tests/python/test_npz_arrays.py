# vp.load_npz / vp.save_npz and the numpy <-> engine array conventions.
import numpy as np

from conftest import GOLDEN


def test_npz_round_trip_with_numpy(vp, tmp_path):
    arrays = {
        "f32": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
        "f64": np.arange(5, dtype=np.float64),
        "i32": np.array([[1, -2], [3, 4]], np.int32),
        "u8": np.arange(7, dtype=np.uint8),
        "fortran": np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),
        "scalar": np.float32(2.5),
    }
    for compress in (False, True):
        path = tmp_path / f"a{int(compress)}.npz"
        vp.save_npz(path, arrays, compress=compress)
        with np.load(path) as theirs:
            assert sorted(theirs.files) == sorted(arrays)
            for k, v in arrays.items():
                np.testing.assert_array_equal(theirs[k], v)
        ours = vp.load_npz(path)
        for k, v in arrays.items():
            assert ours[k].dtype == np.asarray(v).dtype, k
            np.testing.assert_array_equal(ours[k], v)
    # numpy's own writer, read by ours.
    np.savez(tmp_path / "np.npz", **arrays)
    for k, v in vp.load_npz(tmp_path / "np.npz").items():
        np.testing.assert_array_equal(v, arrays[k])


def test_save_npz_is_atomic_and_leaves_no_temporaries(vp, tmp_path):
    vp.save_npz(tmp_path / "x.npz", {"a": np.ones(3, np.float32)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]


def test_outputs_share_engine_memory(vp, clip_model):
    io = vp.load_npz(GOLDEN / "clip_tiny" / "io.npz")
    out = clip_model.forward(io["inputs"])
    emb = out["video_embeddings"]
    # Zero-copy: the array does not own its buffer, an engine tensor does.
    assert not emb.flags.owndata and emb.base is not None
    assert emb.flags.c_contiguous and emb.flags.writeable
    del out
    assert np.all(np.isfinite(emb))  # still valid after the dict is gone


def test_non_contiguous_and_float64_inputs(vp, clip_model):
    io = vp.load_npz(GOLDEN / "clip_tiny" / "io.npz")
    ref = clip_model.forward(io["inputs"])["video_embeddings"]
    strided = np.ascontiguousarray(io["inputs"][:, :, :, :, ::-1])[:, :, :, :, ::-1]  # negative strides
    assert not strided.flags.c_contiguous
    np.testing.assert_allclose(clip_model.forward(strided)["video_embeddings"], ref, atol=1e-6)
    np.testing.assert_allclose(clip_model.forward(io["inputs"].astype(np.float64))["video_embeddings"], ref, atol=1e-5)
    assert io["inputs"].flags.writeable  # inputs are not modified
    np.testing.assert_array_equal(io["inputs"], vp.load_npz(GOLDEN / "clip_tiny" / "io.npz")["inputs"])
