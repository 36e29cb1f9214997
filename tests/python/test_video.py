# vp.read_clips gives byte-identical pixels to `videoprism frames` on the asset clip.
import json
import subprocess

import numpy as np
import pytest

from conftest import ASSET_CLIP, CLI


@pytest.mark.parametrize(
    "frames,size,windows,crop,resize",
    [(16, 288, 1, "center", "lanczos"), (8, 64, 3, "none", "bilinear"), (4, 24, 2, "pad", "area")],
)
def test_read_clips_matches_cli_frames(vp, tmp_path, frames, size, windows, crop, resize):
    out = tmp_path / "clips.npy"
    result = subprocess.run(
        [str(CLI), "frames", str(ASSET_CLIP), "--frames", str(frames), "--size", str(size), "--windows", str(windows),
         "--crop", crop, "--resize", resize, "--out", str(out)],
        capture_output=True, text=True, check=True)
    summary = json.loads(result.stdout)
    expected = np.load(out)
    if windows == 1:
        expected = expected[None]
    clips, times, paddings = vp.read_clips(
        ASSET_CLIP, frames=frames, size=size, windows=windows, crop=crop, resize=resize, with_paddings=True)
    assert clips.dtype == np.float32 and clips.shape == (windows, frames, size, size, 3)
    assert clips.tobytes() == expected.tobytes(), "pixels differ from `videoprism frames`"
    for k, clip in enumerate(summary["clips"]):
        assert times[k].tolist() == [clip["start_s"], clip["end_s"]]
        assert paddings[k].tolist() == clip["frame_paddings"]
    print(f"[frames python] {windows}x{frames}x{size}x{size} {crop}/{resize}: byte-identical to `videoprism frames`")


def test_probe_video(vp):
    info = vp.probe_video(ASSET_CLIP)
    assert info["num_frames"] > 0 and info["duration_s"] > 0 and info["width"] > 0
