# Embeddings and zero-shot classification through Python, checked against the
# golden outputs and against each other (arrays vs files).
import numpy as np
import pytest

from conftest import ASSET_CLIP, GOLDEN


def test_embed_videos_and_texts_match_forward(vp, clip_model, tokenizer):
    import json

    io = vp.load_npz(GOLDEN / "clip_tiny" / "io.npz")
    v = clip_model.embed_videos(io["inputs"], batch=1)
    assert v.shape == (2, 48)
    assert np.max(np.abs(v - io["video_embeddings"])) <= 1e-4
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    one = clip_model.embed_videos(io["inputs"][1])
    np.testing.assert_allclose(one, v[1], atol=1e-6)
    texts = json.loads((GOLDEN / "clip_tiny" / "texts.json").read_text())
    t = clip_model.embed_texts(texts, tokenizer, max_length=io["text_token_ids"].shape[1])
    assert np.max(np.abs(t - io["text_embeddings"])) <= 1e-4


def test_embed_files_equals_embed_decoded_clips(vp, clip_model):
    clips, _ = vp.read_clips(ASSET_CLIP, frames=4, size=24, crop="none")
    from_array = clip_model.embed_videos(clips[0])
    from_file = clip_model.embed_videos(str(ASSET_CLIP), frames=4, size=24)
    np.testing.assert_allclose(from_file, from_array, atol=1e-5)
    two = clip_model.embed_videos([ASSET_CLIP, str(ASSET_CLIP)], frames=4, size=24)
    assert two.shape == (2, 48)


def test_encoder_and_classifier_embeddings_are_unit(vp):
    for case in ("encoder_tiny", "classifier_tiny"):
        model = vp.load(GOLDEN / case / "params.npz")
        io = vp.load_npz(GOLDEN / case / "io.npz")
        e = model.embed_videos(io["inputs"])
        np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


def test_classify_files_and_arrays(vp, clip_model, tokenizer):
    labels = ["drumming", "cooking", "riding a bike"]
    by_file = vp.classify(clip_model, tokenizer, ASSET_CLIP, labels, templates="simple", k=2, frames=4, size=24)
    clips, _ = vp.read_clips(ASSET_CLIP, frames=4, size=24, crop="none")
    by_array = vp.classify(clip_model, tokenizer, clips[0], ",".join(labels), templates=["a video of {}."], k=3)
    assert by_file["path"].endswith("water_bottle_drumming.mp4")
    assert len(by_file["top"]) == 2 and len(by_array["top"]) == 3
    np.testing.assert_allclose(by_file["probabilities"], by_array["probabilities"], atol=1e-5)
    assert abs(float(by_array["probabilities"].sum()) - 1.0) < 1e-5
    top = by_array["top"]
    assert top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"]
    # The probabilities are softmax(cosine / 0.01) of the embeddings.
    v = clip_model.embed_videos(clips[0])
    t = clip_model.embed_texts([f"a video of {l}." for l in labels], tokenizer)
    logits = t @ v / 0.01
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(by_array["probabilities"], expected, atol=1e-4)
    many = vp.classify(clip_model, tokenizer, [ASSET_CLIP, ASSET_CLIP], labels, frames=4, size=24)
    assert isinstance(many, list) and len(many) == 2


def test_classify_needs_a_video_text_model(vp, tokenizer):
    model = vp.load(GOLDEN / "encoder_tiny" / "params.npz")
    with pytest.raises(ValueError, match="video-text"):
        vp.classify(model, tokenizer, np.zeros((4, 24, 24, 3), np.float32), ["a", "b"])


def test_kinetics_templates(vp):
    assert len(vp.prompt_templates("kinetics")) == 28
    assert vp.prompt_templates("simple") == ["a video of {}."]
