// Internal: the FFmpeg work behind `serve`: thumbnails (one frame as JPEG),
// window previews (H.264/MP4 transcodes) and whether a browser can play a file.
#pragma once

#include <string>

namespace videoprism::serve {

// Writes a JPEG of the frame shown at `time_s` (upright), `width` pixels wide
// (never upscaled), to `out_path` (via a temporary file and a rename).
void write_thumbnail(const std::string& video, double time_s, int width, const std::string& out_path);

// Transcodes the frames of [start_s, end_s) (at most max_s seconds) to
// H.264 in MP4, `height` pixels high (never upscaled), keeping the source's
// timeline (the first frame's presentation time is its time in the source),
// to `out_path` (via a temporary file and a rename).
void write_preview(const std::string& video, double start_s, double end_s, int height, double max_s,
                   const std::string& out_path);

// Whether common browsers play the file as is: H.264/VP9/AV1 in MP4/MOV, or
// VP8/VP9/AV1 in WebM. Anything else (FFV1, most .mkv, AVI) needs a preview.
bool browser_playable(const std::string& video);

}  // namespace videoprism::serve
