"""VideoPrism (Google, ICML 2024) in Python, on the videoprism.cpp engine.

The native extension ``videoprism._videoprism`` binds libvideoprism directly:
arrays go in and out as numpy (outputs share the engine's memory), the GIL is
released while models run, videos decode and indexes build.

    import videoprism as vp
    model = vp.load("flax_lvt_base_f16r288_repeated.npz")
    tok = vp.Tokenizer("c4_en.model")
    clips, times = vp.read_clips("clip.mp4")
    print(vp.classify(model, tok, clips[0], ["drumming", "cooking"]))

Errors raise FileNotFoundError (missing files), ValueError (bad shapes and
arguments) or RuntimeError, with the library's one-line message.
See docs/python.md.
"""

from ._videoprism import (
    __version__,
    Model,
    SearchHit,
    Tokenizer,
    VideoIndex,
    build_index,
    classify,
    have_faiss,
    list_videos,
    load,
    load_npz,
    probe_video,
    prompt_templates,
    read_clips,
    save_npz,
)

__all__ = [
    "__version__",
    "Model",
    "SearchHit",
    "Tokenizer",
    "VideoIndex",
    "build_index",
    "classify",
    "have_faiss",
    "list_videos",
    "load",
    "load_npz",
    "probe_video",
    "prompt_templates",
    "read_clips",
    "save_npz",
]
