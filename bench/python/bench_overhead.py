#!/usr/bin/env python3
"""Overhead of the Python binding: `model.forward` from Python against
`videoprism bench` on the same model and shapes, measured in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_overhead.py \
        [--model videoprism_public_v1_base] [--dtype bf16] [--iterations 3] [--rounds 2]

Writes a random-initialized checkpoint with `videoprism init` (bench uses
random weights too), then alternates rounds of the CLI's bench (median of
--iterations timed forwards after one warm-up) and the same loop in Python,
so drift in the machine's load hits both. Prints seconds per clip, the ratio
and the CPU model.
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import tempfile
import time

import numpy as np

import videoprism as vp

REPO = pathlib.Path(__file__).resolve().parents[2]
CLI = pathlib.Path(os.environ.get("VP_CLI", REPO / "build" / "videoprism"))


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="videoprism_public_v1_base")
    ap.add_argument("--dtype", default="bf16", choices=["f32", "bf16"])
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--size", type=int, default=288)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="0: libtorch's default")
    args = ap.parse_args()

    print(f"cpu: {cpu_model()} ({os.cpu_count()} logical CPUs); {args.model} {args.dtype} "
          f"batch {args.batch} x {args.frames}x{args.size}x{args.size}; median of {args.iterations} after 1 warm-up")
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = pathlib.Path(tmp) / "random.npz"
        subprocess.run([str(CLI), "init", "--model", args.model, "--out", str(ckpt)], check=True,
                       stdout=subprocess.DEVNULL)
        model = vp.load(ckpt, model=args.model, dtype="bfloat16" if args.dtype == "bf16" else "float32",
                        threads=args.threads or None)
        video = np.random.default_rng(0).random((args.batch, args.frames, args.size, args.size, 3), dtype=np.float32)
        cli_times, py_times = [], []
        for r in range(args.rounds):
            cmd = [str(CLI), "bench", "--model", args.model, "--dtype", args.dtype, "--frames", str(args.frames),
                   "--size", str(args.size), "--batch", str(args.batch), "--warmup", "1",
                   "--iterations", str(args.iterations), "--gemm", "256"]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            line = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            cli_times.append(line["seconds_per_clip"])
            model.forward(video)  # warm-up, as bench
            times = []
            for _ in range(args.iterations):
                start = time.perf_counter()
                model.forward(video)
                times.append(time.perf_counter() - start)
            py_times.append(statistics.median(times) / args.batch)
            print(f"round {r}: videoprism bench {cli_times[-1]:.3f} s/clip   python model.forward {py_times[-1]:.3f} s/clip   "
                  f"(python / cli = {py_times[-1] / cli_times[-1]:.3f})")
        cli, py = statistics.median(cli_times), statistics.median(py_times)
        print(f"median over rounds: cli {cli:.3f} s/clip, python {py:.3f} s/clip, overhead {100 * (py / cli - 1):+.1f}%")
        print(json.dumps({"bench": "python_overhead", "cpu": cpu_model(), "model": args.model, "dtype": args.dtype,
                          "batch": args.batch, "frames": args.frames, "size": args.size,
                          "cli_seconds_per_clip": cli_times, "python_seconds_per_clip": py_times,
                          "overhead": py / cli - 1}))


if __name__ == "__main__":
    main()
