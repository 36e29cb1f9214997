# vp.build_index / vp.VideoIndex with the tiny golden video-text model, and a
# clean stop (KeyboardInterrupt from Ctrl-C) that keeps the finished files.
import os
import shutil
import signal

import numpy as np
import pytest

from conftest import ASSET_CLIP, GOLDEN, TEST_SPM

CKPT = GOLDEN / "clip_tiny" / "params.npz"


@pytest.fixture
def video_dir(tmp_path):
    d = tmp_path / "videos"
    d.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        shutil.copy(ASSET_CLIP, d / name)
    (d / "notes.txt").write_text("not a video")
    return d


def test_build_and_search(vp, video_dir, tmp_path, clip_model, tokenizer):
    db = tmp_path / "db"
    seen = []
    report = vp.build_index(db, video_dir, model=CKPT, tokenizer=TEST_SPM, frames=4, size=24, windows=2,
                            progress=lambda done, total, path, failed: seen.append((done, total, failed)))
    assert report["embedded"] == 3 and report["failed"] == 0 and report["vectors"] == 6
    assert seen == [(1, 3, False), (2, 3, False), (3, 3, False)]
    index = vp.VideoIndex(db)
    assert len(index) == 3 and index.num_vectors == 6
    hits = index.search(text="someone drumming on bottles", k=4)
    assert len(hits) == 4 and hits[0].score >= hits[-1].score
    # The same query as an embedding (no model load) gives the same hits.
    q = clip_model.embed_texts("someone drumming on bottles", tokenizer)
    by_vec = index.search(embedding=q, k=4)
    assert [(h.path, h.window) for h in by_vec] == [(h.path, h.window) for h in hits]
    np.testing.assert_allclose([h.score for h in by_vec], [h.score for h in hits], atol=1e-5)
    # like=: the video's one-clip embedding against every window's.
    like = index.search(like=video_dir / "a.mp4", k=1)
    clips, _ = vp.read_clips(video_dir / "a.mp4", frames=4, size=24, windows=2, crop="none")
    windows = clip_model.embed_videos(clips)  # [2, D]
    query = clip_model.embed_videos(video_dir / "a.mp4", frames=4, size=24)  # [D]
    assert abs(like[0].score - float(np.max(windows @ query))) < 1e-4
    again = vp.build_index(db, video_dir, model=CKPT, frames=4, size=24, windows=2)
    assert again["embedded"] == 0 and again["skipped"] == 3


def test_bad_files_are_reported_and_the_build_goes_on(vp, video_dir, tmp_path):
    (video_dir / "broken.mp4").write_bytes(b"not really a video")
    errors = []
    report = vp.build_index(tmp_path / "db", video_dir, model=CKPT, frames=4, size=24,
                            on_error=lambda path, message: errors.append((path, message)))
    assert report["embedded"] == 3 and report["failed"] == 1
    assert errors and errors[0][0].endswith("broken.mp4") and "broken.mp4" in errors[0][1]
    assert report["errors"] == errors


def test_ctrl_c_stops_cleanly_keeping_finished_files(vp, video_dir, tmp_path):
    db = tmp_path / "db"

    def progress(done, total, path, failed):
        if done == 1:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C would

    with pytest.raises(KeyboardInterrupt):
        vp.build_index(db, video_dir, model=CKPT, frames=4, size=24, progress=progress)
    kept = len(vp.VideoIndex(db))
    assert 1 <= kept < 3  # the finished files are kept, the rest not started
    report = vp.build_index(db, video_dir, model=CKPT, frames=4, size=24)  # resumes
    assert report["skipped"] == kept and report["embedded"] == 3 - kept and report["files"] == 3


def test_callback_exception_propagates(vp, video_dir, tmp_path):
    def progress(done, total, path, failed):
        raise OSError("stop here")

    with pytest.raises(OSError, match="stop here"):
        vp.build_index(tmp_path / "db", video_dir, model=CKPT, frames=4, size=24, progress=progress)
    assert len(vp.VideoIndex(tmp_path / "db")) == 1


def test_search_arguments(vp, video_dir, tmp_path):
    vp.build_index(tmp_path / "db", [video_dir / "a.mp4"], model=CKPT, frames=4, size=24)
    index = vp.VideoIndex(tmp_path / "db")
    with pytest.raises(ValueError, match="exactly one"):
        index.search(k=3)
    with pytest.raises(RuntimeError, match="tokenizer"):
        index.search(text="drums")  # the index recorded no tokenizer
    assert len(index.search(text="drums", tokenizer=TEST_SPM)) == 1
