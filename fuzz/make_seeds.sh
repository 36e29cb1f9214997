#!/usr/bin/env bash
# Writes every fuzz target's seed corpus into OUT_DIR/<target>/ from the
# shared fixtures (../shared), the committed hand-written seeds (fuzz/seeds/)
# and the saved regression inputs (fuzz/regressions/<target>/).
# Usage: fuzz/make_seeds.sh BUILD_DIR OUT_DIR   (BUILD_DIR has make_index_seed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
out=$2
shared=${VP_SHARED_DIR:-$here/../../shared}
mkdir -p "$out"

/usr/bin/python3 "$here/make_seeds.py" "$shared" "$out"

copy_seeds() {  # copy_seeds SRC_DIR TARGET
  if [ -d "$1" ]; then mkdir -p "$out/$2" && cp -f "$1"/* "$out/$2/" 2>/dev/null || true; fi
}
copy_seeds "$here/seeds/model_config" fuzz_model_config
copy_seeds "$here/seeds/train_config" fuzz_train_config
copy_seeds "$here/seeds/model_config" fuzz_train_config
copy_seeds "$here/seeds/manifest" fuzz_manifest

# Videos: short, tiny transcodes of the shared clip in several containers and
# codecs (each a few KB), plus edge cases: one frame, rotation metadata, no video.
clip=$shared/assets/water_bottle_drumming.mp4
video=$out/fuzz_video
mkdir -p "$video"
transcode() {  # transcode NAME FFMPEG_OUTPUT_ARGS...
  local name=$1; shift
  [ -s "$video/$name" ] && return 0
  ffmpeg -nostdin -v error -y -i "$clip" -t 0.4 -vf scale=32:24 -an "$@" "$video/$name" \
    || echo "make_seeds: skipped $name (this FFmpeg cannot write it)" >&2
}
transcode h264.mp4 -c:v libx264 -preset ultrafast -g 4
transcode mpeg4.mkv -c:v mpeg4 -g 3
transcode mjpeg.avi -c:v mjpeg
transcode anim.gif
transcode rotated.mov -c:v mpeg4 -metadata:s:v:0 rotate=90
transcode one_frame.mp4 -c:v libx264 -preset ultrafast -frames:v 1
transcode vp8.webm -c:v libvpx -b:v 50k
if [ ! -s "$video/silence.m4a" ]; then
  ffmpeg -nostdin -v error -y -f lavfi -i anullsrc=r=8000:cl=mono -t 0.2 -c:a aac "$video/silence.m4a" \
    || echo "make_seeds: skipped silence.m4a" >&2
fi

# Index metadata and vector cache, written through the library.
"$build/fuzz/make_index_seed" "$out"
mkdir -p "$out/fuzz_index_meta" "$out/fuzz_index_vectors"
mv -f "$out/index_meta"/* "$out/fuzz_index_meta/"
mv -f "$out/index_vectors"/* "$out/fuzz_index_vectors/"
rmdir "$out/index_meta" "$out/index_vectors"

# Saved regression inputs join their target's corpus.
for dir in "$here"/regressions/*/; do
  [ -d "$dir" ] && copy_seeds "$dir" "$(basename "$dir")"
done
echo "make_seeds: $(find "$out" -type f | wc -l) seeds in $out"
