#!/usr/bin/python3
"""Load client for `videoprism serve` (bench/serve/serve_load.sh runs it).

N concurrent keep-alive clients on loopback run one scenario at a time, each
bounded by a request count and a time limit; prints requests/s and p50/p99
latency per scenario as JSON lines, then the server's peak RSS (VmHWM).

  serve_load.py --port P --pid SERVER_PID [--clients 8] [--seconds 10] [--requests 2000]
"""
import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse


def get(conn, path):
    conn.request("GET", path)
    res = conn.getresponse()
    body = res.read()
    return res.status, body


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def run(name, port, clients, seconds, max_requests, next_path):
    """Runs `clients` threads until `max_requests` are done or `seconds` pass."""
    lock = threading.Lock()
    latencies, errors = [], []
    issued = [0]
    deadline = time.monotonic() + seconds

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < deadline:
            with lock:
                if issued[0] >= max_requests:
                    break
                issued[0] += 1
                n = issued[0]
            path = next_path(rng, n)
            t0 = time.perf_counter()
            try:
                status, _ = get(conn, path)
            except (OSError, http.client.HTTPException) as e:
                status = str(e)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            dt = time.perf_counter() - t0
            with lock:
                if status == 200:
                    latencies.append(dt)
                else:
                    errors.append(f"{path}: {status}")
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    row = {
        "scenario": name,
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": round(wall, 2),
        "req_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
    }
    if errors:
        row["first_error"] = errors[0]
    print(json.dumps(row), flush=True)
    return row


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--k", type=int, default=24)
    args = ap.parse_args()
    if args.clients < 1 or args.clients > 64:
        raise SystemExit("serve_load.py: --clients expected 1..64")

    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
    status, body = get(conn, "/api/health")
    health = json.loads(body)
    print(json.dumps({"index": {"files": health["files"], "windows": health["windows"], "dim": health["dim"],
                                "faiss": health["faiss"]}}), flush=True)
    # Window ids, for more-like-this and thumbnails.
    ids = []
    offset = 0
    while True:
        status, body = get(conn, f"/api/videos?offset={offset}&limit=500")
        page = json.loads(body)
        for v in page["videos"]:
            ids.extend(w["window_id"] for w in v["windows"])
        offset += 500
        if offset >= page["total"]:
            break
    rng = random.Random(7)
    words = ["person", "dog", "drumming", "bottle", "water", "cat", "car", "street", "kitchen", "dance",
             "guitar", "ball", "beach", "snow", "bike", "child", "running", "cooking", "tree", "bird"]
    cached_queries = [" ".join(rng.sample(words, 3)) for _ in range(16)]
    for q in cached_queries:  # warm the LRU
        get(conn, "/api/search?" + urllib.parse.urlencode({"q": q, "k": args.k}))
    thumb_ids = rng.sample(ids, 64)
    t0 = time.perf_counter()
    for i in thumb_ids:  # warm the thumbnail cache (made with FFmpeg on first use)
        get(conn, f"/api/thumb/{i}")
    cold_thumb_s = (time.perf_counter() - t0) / len(thumb_ids)
    print(json.dumps({"scenario": "thumbnail (cold, made by FFmpeg, sequential)",
                      "mean_ms": round(1000 * cold_thumb_s, 2), "count": len(thumb_ids)}), flush=True)
    conn.close()

    c, s, n, k = args.clients, args.seconds, args.requests, args.k
    run("text query (cached embedding)", args.port, c, s, n,
        lambda r, i: "/api/search?" + urllib.parse.urlencode({"q": r.choice(cached_queries), "k": k}))
    run("text query (uncached: text tower on the CPU)", args.port, c, s, n,
        lambda r, i: "/api/search?" + urllib.parse.urlencode(
            {"q": " ".join(r.sample(words, 4)) + f" {i} {r.random():.6f}", "k": k}))
    run("more like this", args.port, c, s, n,
        lambda r, i: f"/api/similar?window={r.choice(ids)}&k={k}")
    run("thumbnail (cached)", args.port, c, s, n, lambda r, i: f"/api/thumb/{r.choice(thumb_ids)}")
    print(json.dumps({"server_peak_rss_mib": round(peak_rss_mib(args.pid), 1)}), flush=True)


if __name__ == "__main__":
    main()
