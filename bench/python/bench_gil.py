#!/usr/bin/env python3
"""GIL release: two Python threads each running forwards of the tiny golden
video-text model, against the same forwards one after the other.

    PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_gil.py [--n 200] [--threads 1]

If the extension held the GIL while the model runs, two threads could not be
faster than one after the other. Prints wall times and the CPU model.
"""
import argparse
import json
import os
import pathlib
import platform
import threading
import time

import numpy as np

import videoprism as vp

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("VP_SHARED_DIR", REPO.parent / "shared"))


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="forwards per thread")
    ap.add_argument("--threads", type=int, default=1, help="libtorch intra-op threads per forward")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    d = SHARED / "golden" / "clip_tiny"
    model = vp.load(d / "params.npz", config=d / "case.json", threads=args.threads)
    video = vp.load_npz(d / "io.npz")["inputs"]  # [2, 4, 24, 24, 3]
    ref = model.forward(video)["video_embeddings"]
    for _ in range(10):
        model.forward(video)

    def work(results, slot):
        out = None
        for _ in range(args.n):
            out = model.forward(video)
        results[slot] = out["video_embeddings"]

    print(f"cpu: {cpu_model()} ({os.cpu_count()} logical CPUs); intra-op threads {args.threads}; "
          f"{args.n} forwards of clip_tiny [2,4,24,24,3] per worker")
    rows = []
    for r in range(args.rounds):
        results = [None, None]
        start = time.perf_counter()
        work(results, 0)
        work(results, 1)
        sequential = time.perf_counter() - start
        results = [None, None]
        start = time.perf_counter()
        workers = [threading.Thread(target=work, args=(results, i)) for i in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        threaded = time.perf_counter() - start
        for res in results:  # concurrent forwards give the same answer
            assert np.max(np.abs(res - ref)) == 0.0
        rows.append((sequential, threaded))
        print(f"round {r}: sequential 2x{args.n}: {sequential:.3f} s   two threads x{args.n}: {threaded:.3f} s   "
              f"ratio {threaded / sequential:.2f}")
    best_seq, best_thr = min(s for s, _ in rows), min(t for _, t in rows)
    print(json.dumps({"bench": "python_gil", "cpu": cpu_model(), "forwards_per_worker": args.n,
                      "intra_op_threads": args.threads, "sequential_s": best_seq, "two_threads_s": best_thr,
                      "ratio": best_thr / best_seq}))


if __name__ == "__main__":
    main()
