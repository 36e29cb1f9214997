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


def _check_blas_core() -> None:
    # OpenBLAS picks its kernels once, when it loads: a CPU newer than
    # Debian's OpenBLAS knows runs float32 GEMMs on SSE3 (~10x slow). The CLI
    # restarts itself with OPENBLAS_CORETYPE set; a Python process cannot, so
    # it says what to set (docs/performance.md).
    from ._videoprism import _blas_core, _blas_core_override

    core = _blas_core_override()
    if core is not None:
        import warnings

        warnings.warn(
            f"OpenBLAS runs its {_blas_core()!r} kernels on this CPU, so its float32 GEMMs (training, "
            f"f32_gemm='openblas') run up to 10x slower than they can; start Python with "
            f"OPENBLAS_CORETYPE={core} in the environment",
            RuntimeWarning,
            stacklevel=3,
        )


_check_blas_core()


def _default_threads() -> None:
    # libtorch's own default is one thread on some 2-vCPU machines: start with
    # every CPU this process may use, unless OMP_NUM_THREADS says otherwise
    # (as the CLI does). `threads=` on `load` still overrides.
    import os

    if "OMP_NUM_THREADS" not in os.environ:
        from ._videoprism import _use_available_cores

        _use_available_cores()


_default_threads()

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
