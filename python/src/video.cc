// vp.read_clips / vp.probe_video: decoding and clip sampling as the model sees it.
#include <vector>

#include <pybind11/stl.h>
#include <torch/torch.h>

#include "bindings.h"
#include "videoprism/core/error.h"
#include "videoprism/media/video_reader.h"

namespace videoprism::python {

void bind_video(py::module_& m) {
  m.def(
      "read_clips",
      [](const py::object& path, int frames, int size, int windows, const std::string& resize,
         const std::string& crop, int threads, bool with_paddings) {
        const std::string file = path_string(path, "read_clips: path");
        check_arg(frames > 0, "read_clips: frames expected > 0, got ", frames);
        check_arg(size > 0, "read_clips: size expected > 0, got ", size);
        check_arg(windows > 0, "read_clips: windows expected > 0, got ", windows);
        ClipOptions options;
        options.num_frames = frames;
        options.size = size;
        options.windows = windows;
        options.filter = parse_resize_filter(resize);
        options.crop = parse_crop_mode(crop);
        options.threads = threads;
        torch::Tensor clips, paddings, times;
        {
          py::gil_scoped_release release;
          std::vector<Clip> read = read_clips(file, options);
          std::vector<torch::Tensor> f, p;
          times = torch::empty({static_cast<int64_t>(read.size()), 2}, torch::kFloat64);  // [K, 2]
          auto t = times.accessor<double, 2>();
          for (size_t k = 0; k < read.size(); ++k) {
            f.push_back(read[k].frames);
            p.push_back(read[k].frame_paddings);
            t[k][0] = read[k].start_s;
            t[k][1] = read[k].end_s;
          }
          clips = torch::stack(f);     // [K, T, S, S, 3]
          paddings = torch::stack(p);  // [K, T]
        }
        if (with_paddings) return py::make_tuple(to_numpy(clips), to_numpy(times), to_numpy(paddings));
        return py::make_tuple(to_numpy(clips), to_numpy(times));
      },
      py::arg("path"), py::arg("frames") = 16, py::arg("size") = 288, py::arg("windows") = 1,
      py::arg("resize") = "lanczos", py::arg("crop") = "center", py::arg("threads") = 0,
      py::arg("with_paddings") = false,
      R"doc(Decodes a video into K clips as the model sees them.

Returns (clips, window_times): clips float32 [K, T, S, S, 3], RGB in [0, 1];
window_times float64 [K, 2], each window's (start, end) in seconds. With
with_paddings=True a third array, frame_paddings float32 [K, T] (1 = padded
slot, when a window has fewer than T frames), follows.

frames: T frames per clip, at floor(i * n / T) over each window's n frames.
size: S, output height and width.  windows: K equal consecutive segments.
resize: lanczos | bilinear | area.  crop: center (short side to S, center
crop), none / stretch (whole frame to S x S), pad (letterbox).
The same pixels as `videoprism frames` with the same options.)doc");

  m.def(
      "probe_video",
      [](const py::object& path) {
        const std::string file = path_string(path, "probe_video: path");
        VideoInfo info;
        {
          py::gil_scoped_release release;
          info = probe_video(file);
        }
        py::dict d;
        d["path"] = info.path;
        d["num_frames"] = info.num_frames;
        d["duration_s"] = info.duration_s;
        d["fps"] = info.fps;
        d["width"] = info.width;
        d["height"] = info.height;
        d["rotation"] = info.rotation;
        d["codec"] = info.codec;
        return d;
      },
      py::arg("path"),
      "A video's metadata: path, num_frames (counted), duration_s, fps, width, height (upright), rotation, codec.");
}

}  // namespace videoprism::python
