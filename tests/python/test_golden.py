# Golden parity through Python: every output array of every fixture in
# ../shared/golden within the README's float32 tolerance (max abs 1e-4).
import json

import numpy as np
import pytest

from conftest import FIXTURES, GOLDEN, INPUT_NAMES

TOLERANCE = 1e-4  # ../shared/golden/README.md


@pytest.mark.parametrize("case", FIXTURES)
def test_forward_matches_reference(vp, case):
    d = GOLDEN / case
    model = vp.load(d / "params.npz", config=d / "case.json")
    io = vp.load_npz(d / "io.npz")
    inputs = {name: io[name] for name in INPUT_NAMES if name in io}
    out = model.forward(
        inputs.get("inputs"), inputs.get("frame_paddings"), inputs.get("text_token_ids"), inputs.get("text_paddings")
    )
    expected = {name: a for name, a in io.items() if name not in INPUT_NAMES}
    assert len(expected) >= 2
    assert set(out) == set(expected), f"outputs {sorted(out)} vs reference {sorted(expected)}"
    for name, ref in sorted(expected.items()):
        got = out[name]
        assert got.dtype == np.float32 and got.shape == ref.shape, name
        err = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
        print(f"[parity python f32] {case} {name} max|ours-ref| = {err:.3g}")
        assert err <= TOLERANCE, f"{case} {name}: max error {err}"


@pytest.mark.parametrize("case", FIXTURES)
def test_both_float32_gemm_paths_match_reference(vp, case):
    d = GOLDEN / case
    io = vp.load_npz(d / "io.npz")
    inputs = [io.get(name) for name in INPUT_NAMES]
    outs = {}
    for gemm in ("onednn", "openblas"):
        model = vp.load(d / "params.npz", config=d / "case.json", f32_gemm=gemm)
        assert model.f32_gemm == gemm
        outs[gemm] = model.forward(*inputs)
    for name, ref in io.items():
        if name in INPUT_NAMES:
            continue
        for gemm, out in outs.items():
            err = float(np.max(np.abs(out[name].astype(np.float64) - ref.astype(np.float64))))
            assert err <= TOLERANCE, f"{case} {name} ({gemm}): max error {err}"
    with pytest.raises(ValueError, match=r"--f32-gemm: expected onednn or openblas, got 'mkl'"):
        vp.load(d / "params.npz", config=d / "case.json", f32_gemm="mkl")


@pytest.mark.parametrize("case", FIXTURES)
def test_config_dict_and_detection_agree(vp, case):
    d = GOLDEN / case
    config = json.loads((d / "case.json").read_text())["config"]
    from_dict = vp.load(d / "params.npz", config=config)
    detected = vp.load(d / "params.npz")
    assert from_dict.config == detected.config
    assert from_dict.kind == config["kind"] == detected.kind
    assert from_dict.num_params == sum(a.size for a in vp.load_npz(d / "params.npz").values())


def test_save_round_trips_the_weights(vp, tmp_path):
    d = GOLDEN / "encoder_tiny"
    model = vp.load(d / "params.npz", config=d / "case.json")
    model.save(tmp_path / "copy.npz")
    a, b = vp.load_npz(d / "params.npz"), np.load(tmp_path / "copy.npz")
    assert sorted(a) == sorted(b.files)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_bfloat16_close_to_float32(vp):
    d = GOLDEN / "encoder_tiny"
    io = vp.load_npz(d / "io.npz")
    f32 = vp.load(d / "params.npz", dtype="float32").forward(io["inputs"])
    bf16 = vp.load(d / "params.npz", dtype="bfloat16").forward(io["inputs"])
    for name in f32:
        a, b = f32[name].ravel().astype(np.float64), bf16[name].ravel().astype(np.float64)
        cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        print(f"[parity python bf16] encoder_tiny {name} cosine = {cosine:.6f}")
        assert cosine >= 0.999
