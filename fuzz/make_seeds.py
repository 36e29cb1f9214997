#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets from the shared fixtures.

Usage: make_seeds.py SHARED_DIR OUT_DIR
Writes OUT_DIR/<target>/ for fuzz_npz, fuzz_model_config, fuzz_canonicalize
and fuzz_text (Python standard library only). The committed hand-written
seeds (fuzz/seeds/) and the video and index seeds are added by make_seeds.sh.
"""
import io
import json
import os
import struct
import sys
import zipfile


def npy_bytes(descr, shape, data, fortran=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False",
        "".join("%d, " % d for d in shape) if len(shape) != 1 else "%d," % shape[0])
    prefix_len = 10 if version == 1 else 12
    pad = 64 - (prefix_len + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header))
    else:
        head = b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header))
    return head + header.encode("latin1") + data


def small_members(path, limit=4096, count=4):
    """The smallest .npy members of a fixture archive, as (name, bytes)."""
    with zipfile.ZipFile(path) as z:
        infos = sorted(z.infolist(), key=lambda i: i.file_size)
        return [(i.filename, z.read(i.filename)) for i in infos[:count] if i.file_size <= limit]


def write_zip(path, members, compression, zip64):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members:
            with z.open(name, "w", force_zip64=zip64) as f:
                f.write(data)


def main():
    shared, out = sys.argv[1], sys.argv[2]
    golden = os.path.join(shared, "golden")
    dirs = {name: os.path.join(out, name) for name in ("fuzz_npz", "fuzz_model_config", "fuzz_canonicalize", "fuzz_text")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)

    # .npz: small members of every golden archive, stored (as numpy writes:
    # zip64 local headers) and deflated (np.savez_compressed), plus .npy files.
    n = 0
    for case in sorted(os.listdir(golden)):
        for archive in ("params.npz", "io.npz"):
            path = os.path.join(golden, case, archive)
            if not os.path.exists(path):
                continue
            members = small_members(path)
            if not members:
                continue
            for compression, zip64, tag in ((zipfile.ZIP_STORED, True, "stored-zip64"),
                                            (zipfile.ZIP_DEFLATED, False, "deflated"),
                                            (zipfile.ZIP_DEFLATED, True, "deflated-zip64")):
                write_zip(os.path.join(dirs["fuzz_npz"], "%s-%s-%s.npz" % (case, archive[:-4], tag)), members,
                          compression, zip64)
            name, data = members[0]
            with open(os.path.join(dirs["fuzz_npz"], "%s-%s.npy" % (case, archive[:-4])), "wb") as f:
                f.write(data)
            n += 1
    # Hand-built arrays: 0-d, empty, Fortran order, header version 2, other dtypes.
    extra = [
        ("scalar.npy", npy_bytes("<f4", (), struct.pack("<f", 1.5))),
        ("empty.npy", npy_bytes("<f4", (0, 3), b"")),
        ("fortran.npy", npy_bytes("<f4", (2, 3), struct.pack("<6f", *range(6)), fortran=True)),
        ("v2.npy", npy_bytes("<i4", (2, 2), struct.pack("<4i", 1, -2, 3, -4), version=2)),
        ("int64.npy", npy_bytes("<i8", (3,), struct.pack("<3q", 1, 2, 3))),
        ("bool.npy", npy_bytes("|b1", (2, 2), b"\x01\x00\x00\x01")),
        ("f2.npy", npy_bytes("<f2", (2,), b"\x00\x3c\x00\x40")),
        ("u1.npy", npy_bytes("|u1", (4,), b"\x00\x7f\x80\xff")),
        ("f8.npy", npy_bytes("<f8", (1,), struct.pack("<d", -2.0))),
    ]
    for name, data in extra:
        with open(os.path.join(dirs["fuzz_npz"], name), "wb") as f:
            f.write(data)
    write_zip(os.path.join(dirs["fuzz_npz"], "mixed-deflated.npz"), [(k[:-4] + ".npy", v) for k, v in extra],
              zipfile.ZIP_DEFLATED, True)

    # Model configs: the "config" of every golden case.
    for case in sorted(os.listdir(golden)):
        path = os.path.join(golden, case, "case.json")
        if os.path.exists(path):
            with open(path) as f:
                config = json.load(f).get("config")
            if config is not None:
                with open(os.path.join(dirs["fuzz_model_config"], case + ".json"), "w") as f:
                    json.dump(config, f)

    # Texts: the golden tokenizer cases and the clip case's captions.
    texts = []
    tok = os.path.join(golden, "tokenizer_test_spm", "tokenizer.json")
    if os.path.exists(tok):
        with open(tok) as f:
            cases = json.load(f)["cases"]
        texts += [(c["text"], c["max_length"]) for c in cases]
    clip_texts = os.path.join(golden, "clip_tiny", "texts.json")
    if os.path.exists(clip_texts):
        with open(clip_texts) as f:
            texts += [(t, 16) for t in json.load(f)]
    for i, (text, max_length) in enumerate(texts):
        raw = text.encode("utf-8")
        with open(os.path.join(dirs["fuzz_canonicalize"], "text%02d.txt" % i), "wb") as f:
            f.write(raw)
        # fuzz_text: byte 0 = max_length - 1 (canonicalize), then the texts.
        with open(os.path.join(dirs["fuzz_text"], "text%02d.bin" % i), "wb") as f:
            f.write(bytes([(max_length - 1) % 64]) + raw)
    print("make_seeds: %d npz fixtures, %d texts" % (n, len(texts)))


if __name__ == "__main__":
    main()
