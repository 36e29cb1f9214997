# The tokenizer's golden cases (official tokenize_texts on ../shared/assets/test_spm.model), exactly.
import json

import numpy as np

from conftest import GOLDEN


def test_golden_cases_exact(tokenizer):
    golden = json.loads((GOLDEN / "tokenizer_test_spm" / "tokenizer.json").read_text())
    assert tokenizer.vocab_size == golden["vocab_size"]
    assert tokenizer.bos_id == golden["bos"]
    checked = 0
    for case in golden["cases"]:
        text, max_length = case["text"], case["max_length"]
        assert tokenizer.canonicalize(text) == case["canonical"], text
        ids, paddings = tokenizer([text], max_length=max_length)
        assert ids.dtype == np.int32 and paddings.dtype == np.float32
        assert ids.shape == paddings.shape == (1, max_length)
        assert ids[0].tolist() == case["ids"], text
        assert paddings[0].tolist() == case["paddings"], text
        checked += 1
    assert checked == len(golden["cases"]) > 0
    print(f"[tokenizer python] {checked} golden cases exact")


def test_batch_matches_single_texts(tokenizer):
    texts = ["Hello, World!", "a red square moving left", "  Two   dogs   PLAYING fetch... "]
    ids, paddings = tokenizer(texts, max_length=16)
    for i, t in enumerate(texts):
        one_ids, one_pad = tokenizer(t, max_length=16)
        np.testing.assert_array_equal(ids[i], one_ids[0])
        np.testing.assert_array_equal(paddings[i], one_pad[0])


def test_clip_fixture_token_ids(vp, tokenizer):
    # The texts behind clip_tiny's text_token_ids tokenize to exactly those ids.
    texts = json.loads((GOLDEN / "clip_tiny" / "texts.json").read_text())
    io = vp.load_npz(GOLDEN / "clip_tiny" / "io.npz")
    ids, paddings = tokenizer(texts, max_length=io["text_token_ids"].shape[1])
    np.testing.assert_array_equal(ids, io["text_token_ids"])
    np.testing.assert_array_equal(paddings, io["text_paddings"])
