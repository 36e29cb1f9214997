#!/usr/bin/env python3
"""The include-direction check: every #include in src/, include/, cli/ and
python/src/ must point at the same layer or one below it (docs/architecture.md).

    python3 scripts/check_layers.py [--root DIR]   # 0: clean; 1: lists each wrong-way include
    python3 scripts/check_layers.py --self-test    # plants a wrong include in a copy; must be caught

The table below is the same cut as the CMake targets (CMakeLists.txt); a
public header (include/videoprism/) may include only public headers. Within
the core, src/ folders are ranked too (util, io < ops, cuda < layers <
encoders < models).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Folder of src/ -> target.
SRC_TARGET = {
    "io": "core", "ops": "core", "layers": "core", "encoders": "core", "models": "core", "util": "core",
    "cuda": "core",
    "video": "media", "text": "media",
    "train_step": "train_step",
    "train": "train",
    "app": "apps", "eval": "apps", "index": "apps",
    "serve": "serve",
    "demo": "demo",
}
# Target -> the targets it may use (itself included).
ALLOWED = {
    "core": {"core"},
    "media": {"core", "media"},
    "train_step": {"core", "train_step"},
    "train": {"core", "media", "train_step", "train"},
    "apps": {"core", "media", "apps"},
    "serve": {"core", "media", "apps", "serve"},
    "demo": {"core", "media", "train_step", "train", "apps", "demo"},
    "frontend": {"core", "media", "train_step", "train", "apps", "serve", "demo", "frontend"},
}
# Order of the core's own folders: a folder may include folders of its rank or below.
CORE_RANK = {"util": 0, "io": 0, "ops": 1, "cuda": 1, "layers": 2, "encoders": 3, "models": 4}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE = re.compile(r"\.(cc|h|cu|cuh|c)$")


def owner(rel):
    """(target, core folder or None, is_public_header) of a file path relative to the root."""
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2:
        folder = parts[1]
        return SRC_TARGET.get(folder), folder if folder in CORE_RANK else None, False
    if parts[0] == "include" and len(parts) > 3 and parts[1] == "videoprism":
        return parts[2], None, True
    if parts[0] == "cli" or rel.startswith("python/src/"):
        return "frontend", None, False
    return None, None, False


def target_of_include(path):
    """(target, core folder, is_public) an include string names; None when it is not a library header."""
    parts = path.split("/")
    if parts[0] == "videoprism" and len(parts) > 2:
        return parts[1], None, True
    if len(parts) > 1 and parts[0] in SRC_TARGET:
        return SRC_TARGET[parts[0]], parts[0] if parts[0] in CORE_RANK else None, False
    return None, None, False


def check(root):
    errors = []
    for top in ("src", "include", "cli", "python/src"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not SOURCE.search(name):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                target, folder, public = owner(rel)
                if target is None:
                    continue
                with open(full, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        if os.path.exists(os.path.join(dirpath, inc)) and "/" not in inc:
                            continue  # a file beside it (same folder, same target)
                        to, to_folder, to_public = target_of_include(inc)
                        if to is None:
                            continue
                        where = f"{rel}:{number}: #include \"{inc}\""
                        if to not in ALLOWED:
                            errors.append(f"{where}: unknown layer '{to}'")
                        elif public and not to_public:
                            errors.append(f"{where}: a public header ({target}) includes a private header of {to}")
                        elif to not in ALLOWED.get(target, set()):
                            errors.append(f"{where}: {target} may not use {to} (allowed: "
                                          f"{', '.join(sorted(ALLOWED[target]))})")
                        elif folder and to_folder and CORE_RANK[to_folder] > CORE_RANK[folder]:
                            errors.append(f"{where}: core folder {folder} may not use {to_folder}, which is above it")
    return errors


def self_test(root):
    """A copy of the tree with one planted wrong-way include must fail, naming it."""
    with tempfile.TemporaryDirectory() as tmp:
        for top in ("src", "include", "cli", "python"):
            if os.path.isdir(os.path.join(root, top)):
                shutil.copytree(os.path.join(root, top), os.path.join(tmp, top))
        clean = check(tmp)
        if clean:
            print("self-test: the copy is not clean to start with:\n  " + "\n  ".join(clean))
            return 1
        planted = os.path.join(tmp, "src", "layers", "attention.cc")
        with open(planted, "a") as f:
            f.write('\n#include "videoprism/apps/embedder.h"\n')
        errors = check(tmp)
        want = "src/layers/attention.cc"
        if len(errors) == 1 and want in errors[0] and "core may not use apps" in errors[0]:
            print("self-test: the planted include was caught:\n  " + errors[0])
            return 0
        print("self-test: expected one error naming " + want + ", got:\n  " + "\n  ".join(errors or ["(none)"]))
        return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    if args.self_test:
        return self_test(root)
    errors = check(root)
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} wrong-way include(s)")
        return 1
    print("check_layers: every include points at its own layer or one below")
    return 0


if __name__ == "__main__":
    sys.exit(main())
