# Shared fixtures of the Python tests. ctest runs them with PYTHONPATH=build/python,
# VP_SHARED_DIR (the golden fixtures and assets) and VP_CLI (build/videoprism).
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("VP_SHARED_DIR", REPO.parent / "shared"))
CLI = pathlib.Path(os.environ.get("VP_CLI", REPO / "build" / "videoprism"))
GOLDEN = SHARED / "golden"
ASSET_CLIP = SHARED / "assets" / "water_bottle_drumming.mp4"
TEST_SPM = SHARED / "assets" / "test_spm.model"
FIXTURES = ["encoder_tiny", "clip_tiny", "classifier_tiny"]
INPUT_NAMES = ("inputs", "frame_paddings", "text_token_ids", "text_paddings")


@pytest.fixture(scope="session")
def vp():
    import videoprism

    return videoprism


@pytest.fixture(scope="session")
def clip_model(vp):
    """The tiny golden video-text model (FactorizedVideoCLIP, 4 x 24 x 24 clips)."""
    return vp.load(GOLDEN / "clip_tiny" / "params.npz", config=GOLDEN / "clip_tiny" / "case.json")


@pytest.fixture(scope="session")
def tokenizer(vp):
    return vp.Tokenizer(TEST_SPM)
