#!/usr/bin/python3
"""Side by side: our `videoprism bench` and the PyTorch port (torch_videoprism),
eager, float32, same shapes, threads and environment, in one run.

Run it through bench/port/run_side_by_side.sh, which prepares the environment
(ISA cap, OpenBLAS core type, threads) and checks the port is present. This
file has two roles:

  side_by_side.py --port DIR --bin PATH [options]   orchestrate: run ours and
      the port (each in its own process, so peak RSS is per side) for --rounds
      rounds, print a table and JSON lines.
  side_by_side.py --port-child --port DIR [options]   time the port's forward
      in this process and print one JSON line.

The port is not part of this project: it lives in an ignored folder and is
imported from there at run time (its model module only; nothing downloads).
Its FactorizedEncoder gets random weights at the preset's size.
"""
import argparse
import ctypes
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types

# Our preset names; the port's config of the same model is looked up by name.
PRESETS = {"B": "videoprism_public_v1_base", "L": "videoprism_public_v1_large"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", required=True, help="checkout of torch_videoprism")
    p.add_argument("--bin", help="our videoprism binary (orchestrator only)")
    p.add_argument("--model", choices=sorted(PRESETS), default="B")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=288)
    p.add_argument("--runs", type=int, default=3, help="timed forwards per side (median); one warm-up before")
    p.add_argument("--rounds", type=int, default=1, help="ours then the port, this many times")
    p.add_argument("--isa", default="native", help="label only: the shell script applies the cap")
    p.add_argument("--f32-gemm", choices=["onednn", "openblas"], default="onednn",
                   help="our float32 GEMMs (videoprism bench --f32-gemm)")
    p.add_argument("--parity", metavar="CASE", help="only check the port against a golden FactorizedEncoder case")
    p.add_argument("--port-child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    for name in ("threads", "frames", "size", "runs", "rounds"):
        if getattr(a, name) < 1:
            p.error(f"--{name}: expected >= 1, got {getattr(a, name)}")
    if a.size % 18 != 0:
        p.error(f"--size: expected a multiple of the patch size 18, got {a.size}")
    return a


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def openblas_core():
    """OpenBLAS's core name in this process ('' when torch did not load OpenBLAS)."""
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "libopenblas" in l}
    for lib in sorted(libs):
        fn = getattr(ctypes.CDLL(lib), "openblas_get_corename", None)
        if fn is not None:
            fn.restype = ctypes.c_char_p
            return fn().decode()
    return ""


def install_flex_attention_stand_in():
    """The port imports flex_attention at module level; torch 1.13 lacks it and
    the port calls it on CUDA only: an empty stand-in satisfies the import."""
    try:
        importlib.import_module("torch.nn.attention.flex_attention")
    except ImportError:
        def cuda_only(*_args, **_kwargs):
            raise RuntimeError("flex_attention stand-in: the port's CUDA path is not benchmarked here")
        for name in ("torch.nn.attention", "torch.nn.attention.flex_attention"):
            sys.modules.setdefault(name, types.ModuleType(name))
        sys.modules["torch.nn.attention.flex_attention"].flex_attention = cuda_only


def load_port_model_module(port_dir):
    """The port's torch_videoprism/model.py as a standalone module (not through
    its package __init__, which also imports the weight loader)."""
    install_flex_attention_stand_in()
    path = os.path.join(port_dir, "torch_videoprism", "model.py")
    spec = importlib.util.spec_from_file_location("torch_videoprism_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def port_parity(a):
    """The port, loaded with a golden encoder case's weights through its own
    Flax converter, against the official outputs (our test suite holds ours to
    the same fixtures within 1e-4)."""
    import numpy as np
    import torch
    install_flex_attention_stand_in()
    sys.path.insert(0, a.port)
    from torch_videoprism import model as port_model, weights as port_weights
    with open(os.path.join(a.parity, "case.json")) as f:
        case = json.load(f)
    cfg = case["config"]
    if cfg["kind"] != "FactorizedEncoder" or case["call"] != "encoder":
        raise RuntimeError(f"--parity: '{a.parity}' is a {cfg['kind']} case; expected a FactorizedEncoder one")
    keys = ("patch_size", "model_dim", "num_spatial_layers", "num_temporal_layers", "num_heads", "mlp_dim",
            "atten_logit_cap")
    model = port_model.FactorizedEncoder(pos_emb_shape=tuple(cfg["pos_emb_shape"]), **{k: cfg[k] for k in keys})
    flax = port_weights._load_npz_flat(os.path.join(a.parity, "params.npz"))
    model.load_state_dict(port_weights.flax_params_to_state_dict(
        flax, cfg["num_spatial_layers"], cfg["num_temporal_layers"]), strict=True)
    io = np.load(os.path.join(a.parity, "io.npz"))
    with torch.inference_mode():
        out = model.eval()(torch.from_numpy(io["inputs"]))  # [B, T*N, D]
    line = {"bench": "side_by_side_parity", "case": os.path.basename(os.path.normpath(a.parity)),
            "port_max_abs_diff_vs_official": float(np.abs(out.numpy() - io["embeddings"]).max())}
    if a.bin:  # ours on the same case: `videoprism forward`
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ours.npz")
            proc = subprocess.run([a.bin, "forward", "--config", os.path.join(a.parity, "case.json"),
                                   "--checkpoint", os.path.join(a.parity, "params.npz"),
                                   "--inputs", os.path.join(a.parity, "io.npz"), "--out", path],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"videoprism forward on {a.parity} failed: {proc.stdout.strip()[-300:]}")
            ours = np.load(path)["embeddings"]
        line["ours_max_abs_diff_vs_official"] = float(np.abs(ours - io["embeddings"]).max())
        line["ours_max_abs_diff_vs_port"] = float(np.abs(ours - out.numpy()).max())
    diffs = [v for k, v in line.items() if k.endswith("vs_official")]
    line.update(tolerance=1e-4, ok=max(diffs) <= 1e-4)
    print(json.dumps(line), flush=True)
    return 0 if line["ok"] else 1


def port_child(a):
    import torch
    torch.set_num_threads(a.threads)
    model_module = load_port_model_module(a.port)
    config = model_module.CONFIGS[PRESETS[a.model]]
    torch.manual_seed(0)
    model = model_module.FactorizedEncoder(**config).eval()
    with torch.no_grad():  # the position embeddings start at zero: make them random too
        model.spatial_pos_emb.normal_(std=0.02)
        model.temporal_pos_emb.normal_(std=0.02)
    video = torch.rand(1, a.frames, a.size, a.size, 3)  # [B, T, H, W, C] in [0, 1]
    times = []
    with torch.inference_mode():
        start = time.perf_counter()
        out = model(video)  # [B, T*N, D]; warm-up, and the check below
        first = time.perf_counter() - start
        tokens = a.frames * (a.size // config["patch_size"]) ** 2
        if tuple(out.shape) != (1, tokens, config["model_dim"]) or not bool(torch.isfinite(out).all()):
            print(f"side_by_side: the port's output is {tuple(out.shape)} or not finite; expected "
                  f"(1, {tokens}, {config['model_dim']})", file=sys.stderr)
            return 1
        for _ in range(a.runs):
            start = time.perf_counter()
            model(video)
            times.append(time.perf_counter() - start)
    print(json.dumps({"side": "port", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "seconds_per_clip": statistics.median(times), "seconds_min": min(times),
                      "first_run_seconds": first, "openblas_core": openblas_core(),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
    return 0


def run_json(cmd, what):
    """Runs cmd; returns its last stdout line that is a JSON object."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {tail}")
    return json.loads(lines[-1])


def orchestrate(a):
    if not a.bin or not os.access(a.bin, os.X_OK):
        print(f"side_by_side: --bin '{a.bin}' is not an executable videoprism binary", file=sys.stderr)
        return 2
    preset = PRESETS[a.model]
    doctor = run_json([a.bin, "doctor", "--json", "--gemm", "64", "--threads", str(a.threads)], "videoprism doctor")
    ours_cmd = [a.bin, "bench", "--model", preset, "--dtype", "f32", "--threads", str(a.threads),
                "--frames", str(a.frames), "--size", str(a.size), "--batch", "1",
                "--warmup", "1", "--iterations", str(a.runs), "--f32-gemm", a.f32_gemm]
    port_cmd = [sys.executable, os.path.abspath(__file__), "--port-child", "--port", a.port, "--model", a.model,
                "--threads", str(a.threads), "--frames", str(a.frames), "--size", str(a.size),
                "--runs", str(a.runs)]
    env_core = os.environ.get("OPENBLAS_CORETYPE", "")
    head = {"bench": "side_by_side", "cpu": cpu_model(), "isa": a.isa, "isa_ours": doctor.get("isa"),
            "openblas_coretype_env": env_core, "openblas_core_ours": doctor.get("openblas_core"),
            "model": preset, "dtype": "f32", "threads": a.threads, "batch": 1, "frames": a.frames,
            "size": a.size, "runs": a.runs, "rounds": a.rounds, "f32_gemm_ours": a.f32_gemm}
    print(json.dumps(head), flush=True)
    rows = []
    for r in range(1, a.rounds + 1):
        ours = run_json(ours_cmd, "videoprism bench")
        port = run_json(port_cmd, "the port")
        row = {"bench": "side_by_side_round", "round": r,
               "ours_seconds_per_clip": ours["seconds_per_clip"], "port_seconds_per_clip": port["seconds_per_clip"],
               "ours_seconds_min": ours["seconds_min"], "port_seconds_min": port["seconds_min"],
               "ratio_port_over_ours": port["seconds_per_clip"] / ours["seconds_per_clip"],
               "ours_peak_rss_mb": ours["peak_rss_mb"], "port_peak_rss_mb": port["peak_rss_mb"],
               "tflop_per_clip": ours["tflop_per_clip"], "gemm_ceiling_tflops": ours["gemm_ceiling_tflops"],
               "ours_fraction_of_ceiling": ours["fraction_of_ceiling"],
               "port_fraction_of_ceiling": ours["tflop_per_clip"] / port["seconds_per_clip"] / ours["gemm_ceiling_tflops"],
               "ours_threads": ours["threads"], "port_threads": port["threads"],
               "openblas_core_port": port["openblas_core"], "torch_port": port["torch"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    ours_s = statistics.median(r["ours_seconds_per_clip"] for r in rows)
    port_s = statistics.median(r["port_seconds_per_clip"] for r in rows)
    ours_min = min(r["ours_seconds_min"] for r in rows)
    port_min = min(r["port_seconds_min"] for r in rows)
    summary = dict(head, bench="side_by_side_summary", ours_seconds_per_clip=ours_s, port_seconds_per_clip=port_s,
                   ratio_port_over_ours=port_s / ours_s, ours_seconds_min=ours_min, port_seconds_min=port_min,
                   ratio_of_minimums=port_min / ours_min,
                   ours_peak_rss_mb=max(r["ours_peak_rss_mb"] for r in rows),
                   port_peak_rss_mb=max(r["port_peak_rss_mb"] for r in rows),
                   openblas_core_port=rows[-1]["openblas_core_port"])
    print(json.dumps(summary), flush=True)
    print(f"\n{head['cpu']}; ISA {a.isa} (ours: {head['isa_ours']}); OPENBLAS_CORETYPE={env_core or '(unset)'}, "
          f"OpenBLAS core ours {head['openblas_core_ours']}, port {summary['openblas_core_port']}\n"
          f"{preset}, float32, batch 1, {a.frames}x{a.size}x{a.size}, {a.threads} threads, "
          f"s/clip: median of {a.runs} after 1 warm-up; min: the least disturbed run; {a.rounds} round(s)\n"
          f"{rows[-1]['tflop_per_clip']:.3f} TFLOP per clip; float32 GEMM ceiling (ours, last round) "
          f"{rows[-1]['gemm_ceiling_tflops']:.3f} TFLOP/s: ours at {rows[-1]['ours_fraction_of_ceiling']:.2f} of it, "
          f"the port at {rows[-1]['port_fraction_of_ceiling']:.2f}\n")
    print("| round | ours s/clip | port s/clip | port / ours | ours min | port min | port / ours (min) "
          "| ours peak RSS MB | port peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows + [dict(summary, round="all")]:
        print(f"| {r['round']} | {r['ours_seconds_per_clip']:.2f} | {r['port_seconds_per_clip']:.2f} | "
              f"{r['ratio_port_over_ours']:.2f}x | {r['ours_seconds_min']:.2f} | {r['port_seconds_min']:.2f} | "
              f"{r['port_seconds_min'] / r['ours_seconds_min']:.2f}x | "
              f"{r['ours_peak_rss_mb']:.0f} | {r['port_peak_rss_mb']:.0f} |")
    return 0


def main(argv):
    a = parse_args(argv)
    try:
        if a.parity:
            return port_parity(a)
        return port_child(a) if a.port_child else orchestrate(a)
    except RuntimeError as e:
        print(f"side_by_side: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
