# Library errors reach Python as FileNotFoundError / ValueError / RuntimeError
# with the one-line message, and the interpreter goes on.
import numpy as np
import pytest

from conftest import GOLDEN, TEST_SPM


def test_missing_files_raise_file_not_found(vp, tmp_path):
    missing = tmp_path / "nope.npz"
    for call in (lambda: vp.load(missing), lambda: vp.load_npz(missing), lambda: vp.Tokenizer(tmp_path / "x.model"),
                 lambda: vp.read_clips(tmp_path / "x.mp4"), lambda: vp.VideoIndex(tmp_path / "db"),
                 lambda: vp.load(GOLDEN / "clip_tiny" / "params.npz", config=tmp_path / "case.json")):
        with pytest.raises(FileNotFoundError) as e:
            call()
        assert "\n" not in str(e.value) and str(tmp_path) in str(e.value), str(e.value)


def test_wrong_shapes_raise_value_error(vp, clip_model):
    with pytest.raises(ValueError, match=r"inputs: expected .*\[B,T,H,W,3\].*got \[1,4,24,24\]"):
        clip_model.forward(np.zeros((1, 4, 24, 24), np.float32))
    with pytest.raises(ValueError, match=r"frame_paddings: expected \[1,4\], got \[1,3\]"):
        clip_model.forward(np.zeros((1, 4, 24, 24, 3), np.float32), np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"frame size 25x25"):
        clip_model.forward(np.zeros((1, 4, 25, 25, 3), np.float32))
    with pytest.raises(ValueError, match=r"text_paddings"):
        clip_model.forward(text_token_ids=np.zeros((2, 8), np.int32), text_paddings=np.zeros((2, 7), np.float32))
    with pytest.raises(ValueError, match=r"embed_videos: videos expected"):
        clip_model.embed_videos(np.zeros((4, 24, 24), np.float32))
    with pytest.raises(ValueError, match=r"expected a numeric array"):
        clip_model.forward(np.array([["a"]]))
    with pytest.raises(ValueError, match=r"--dtype"):
        vp.load(GOLDEN / "clip_tiny" / "params.npz", dtype="float16")
    with pytest.raises(ValueError, match=r"crop mode"):
        vp.read_clips(GOLDEN / "clip_tiny" / "params.npz", crop="diagonal")
    with pytest.raises(ValueError, match=r"unknown|known"):
        vp.load(GOLDEN / "clip_tiny" / "params.npz", model="no_such_preset")


def test_corrupt_npz_names_the_problem(vp, tmp_path):
    good = (GOLDEN / "encoder_tiny" / "params.npz").read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good[: len(good) // 2])
    not_zip = tmp_path / "text.npz"
    not_zip.write_text("this is not a zip archive\n")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    for path, what in ((truncated, "zip|truncated|corrupt"), (not_zip, "not a readable zip"), (empty, "empty file")):
        for call in (lambda: vp.load_npz(path), lambda: vp.load(path)):
            with pytest.raises(RuntimeError, match=what) as e:
                call()
            assert str(path) in str(e.value) and "\n" not in str(e.value)
            assert not isinstance(e.value, (ValueError, FileNotFoundError))


def test_wrong_checkpoint_for_config(vp):
    with pytest.raises(RuntimeError, match=r"params/"):
        vp.load(GOLDEN / "encoder_tiny" / "params.npz", config=GOLDEN / "clip_tiny" / "case.json")


def test_interpreter_goes_on_after_errors(vp, clip_model, tokenizer):
    for _ in range(3):
        with pytest.raises(ValueError):
            clip_model.forward(np.zeros((2, 2), np.float32))
        with pytest.raises(FileNotFoundError):
            vp.load_npz("/nonexistent/x.npz")
    io = vp.load_npz(GOLDEN / "clip_tiny" / "io.npz")
    out = clip_model.forward(io["inputs"])
    assert np.max(np.abs(out["video_embeddings"] - io["video_embeddings"])) <= 1e-4
    assert tokenizer("still working")[0].shape == (1, 64)
