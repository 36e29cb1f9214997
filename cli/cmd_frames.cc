// `videoprism frames`: decode and preprocess clip(s) as the model sees them,
// write them as .npy, print a JSON summary.
#include <nlohmann/json.hpp>

#include <iostream>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/npz.h"
#include "videoprism/media/video_reader.h"

namespace {

struct FramesArgs {
  std::string video;
  std::string out;
  int frames = 16;
  int size = 288;
  std::string resize = "lanczos";
  std::string crop = "none";
  int windows = 1;
  int threads = 0;
};

std::function<int()> setup_frames(CLI::App& sub) {
      auto args = std::make_shared<FramesArgs>();
      sub.add_option("video", args->video, "Video file (any format FFmpeg reads)")->required();
      sub.add_option("--out", args->out, "Output .npy file")->required();
      sub.add_option("--frames", args->frames, "Frames per clip (T)")->capture_default_str()->check(CLI::PositiveNumber);
      sub.add_option("--size", args->size, "Output height and width (S)")->capture_default_str()->check(CLI::PositiveNumber);
      sub.add_option("--resize", args->resize, "Resize filter")->capture_default_str()
          ->check(CLI::IsMember({"lanczos", "bilinear", "area"}));
      sub.add_option("--crop", args->crop, "none: stretch; center: short side + center crop; pad: letterbox")->capture_default_str()
          ->check(CLI::IsMember({"none", "center", "pad"}));
      sub.add_option("--windows", args->windows, "Clips over K equal consecutive segments")->capture_default_str()
          ->check(CLI::PositiveNumber);
      sub.add_option("--threads", args->threads, "Decoder threads (0 = FFmpeg's choice)");
      sub.footer("Example:\n  videoprism frames clip.mp4 --frames 16 --size 288 --crop center --windows 4 --out clips.npy");
      return [args] {
        videoprism::ClipOptions options;
        options.num_frames = args->frames;
        options.size = args->size;
        options.filter = videoprism::parse_resize_filter(args->resize);
        options.crop = videoprism::parse_crop_mode(args->crop);
        options.windows = args->windows;
        options.threads = args->threads;
        const videoprism::VideoInfo info = videoprism::probe_video(args->video);
        const auto clips = videoprism::read_clips(args->video, options);

        std::vector<torch::Tensor> frames;
        auto summary = nlohmann::json::array();
        for (const auto& clip : clips) {
          frames.push_back(clip.frames);
          auto pads = clip.frame_paddings.contiguous();
          summary.push_back({
              {"start_s", clip.start_s},
              {"end_s", clip.end_s},
              {"frame_indices", clip.frame_indices},
              {"frame_paddings",
               std::vector<float>(pads.data_ptr<float>(), pads.data_ptr<float>() + pads.numel())},
          });
        }
        // [T, S, S, 3] for one window, [K, T, S, S, 3] otherwise.
        auto array = args->windows == 1 ? frames[0] : torch::stack(frames);
        nlohmann::json video = {{"num_frames", info.num_frames}, {"duration_s", info.duration_s},
                                {"fps", info.fps},           {"width", info.width},
                                {"height", info.height},     {"rotation", info.rotation},
                                {"codec", info.codec}};
        videoprism::put_path(video, "path", info.path);  // path_hex for a name that is not UTF-8
        nlohmann::json out = {{"video", video}, {"shape", array.sizes().vec()}, {"clips", summary}};
        videoprism::put_path(out, "out", args->out);
        // The summary is formatted before the .npy is written: nothing is
        // written when it cannot be printed.
        const std::string text = videoprism::dump_json(out);
        videoprism::save_npy(args->out, array);
        std::cout << text << "\n";
        return 0;
      };
}

}  // namespace

VP_REGISTER_COMMAND("frames",
                    "Decode and preprocess video clip(s) to .npy ([T,S,S,3] or [K,T,S,S,3] float32)",
                    setup_frames);
