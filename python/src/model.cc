// vp.load / vp.Model: load a checkpoint, run it on numpy arrays, embed videos and texts.
#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/stl.h>
#include <torch/torch.h>

#include "bindings.h"
#include "py_model.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "videoprism/media/tokenizer.h"

namespace fs = std::filesystem;

namespace videoprism::python {

int PyModel::default_frames() const {
  const Preset* preset = match_preset(model->config());
  return preset ? preset->default_num_frames : 16;
}
int PyModel::default_size() const {
  const Preset* preset = match_preset(model->config());
  return preset ? preset->default_image_size : 288;
}

namespace {

// `config`: a dict (the official keyword arguments with `kind`, or a whole
// case.json) or a JSON file; `preset`: a preset name or a JSON file.
std::optional<ModelConfig> requested_config(const py::object& preset, const py::object& config) {
  check_arg(preset.is_none() || config.is_none(), "load: give model= (a preset) or config=, not both");
  if (!preset.is_none()) {
    const std::string name = path_string(preset, "load: model");
    try {
      return resolve_model_config(name);
    } catch (const Error& e) {
      fail_arg(e.what());
    }
  }
  if (config.is_none()) return std::nullopt;
  if (py::isinstance<py::dict>(config)) {
    const std::string text = py::module_::import("json").attr("dumps")(config).cast<std::string>();
    try {
      return config_from_json(nlohmann::json::parse(text));
    } catch (const InvalidArgument&) {
      throw;
    } catch (const std::exception& e) {
      fail_arg("load: config: ", e.what());
    }
  }
  return load_config_file(path_string(config, "load: config"));
}

std::string dtype_name(torch::ScalarType t) {
  return t == torch::kBFloat16 ? "bfloat16" : t == torch::kQInt8 ? "int8" : "float32";
}

py::dict outputs_to_dict(TensorMap& out) {
  py::dict d;
  for (auto& [name, tensor] : out) d[py::str(name)] = to_numpy(tensor);
  return d;
}

// A video array [B,T,H,W,3] (or one clip [T,H,W,3]) and its optional paddings.
struct VideoInput {
  HeldArray video, paddings;
  bool single = false;
};
VideoInput video_input(const py::object& videos, const py::object& frame_paddings, const char* what) {
  VideoInput in;
  in.video = from_numpy(videos, std::string(what) + ": videos");
  if (in.video.tensor.dim() == 4) {
    in.single = true;
    in.video.tensor = in.video.tensor.unsqueeze(0);
  }
  check_arg(in.video.tensor.dim() == 5 && in.video.tensor.size(4) == 3, what,
            ": videos expected [B,T,H,W,3] or [T,H,W,3], got ", shape_str(in.video.array.request().shape));
  if (!frame_paddings.is_none()) {
    in.paddings = from_numpy(frame_paddings, std::string(what) + ": frame_paddings");
    if (in.single && in.paddings.tensor.dim() == 1) in.paddings.tensor = in.paddings.tensor.unsqueeze(0);
  }
  return in;
}

bool is_path_like(const py::handle& o) { return py::isinstance<py::str>(o) || py::hasattr(o, "__fspath__"); }

}  // namespace

void bind_model(py::module_& m) {
  py::class_<PyModel, std::shared_ptr<PyModel>> cls(m, "Model", R"doc(A VideoPrism model loaded with vp.load().

Properties: config (dict, the official keyword arguments plus `kind`), kind
(the official class name), num_params, dtype, device, checkpoint.)doc");

  m.def(
      "load",
      [](const py::object& checkpoint, const py::object& preset, const py::object& config, const std::string& dtype,
         const std::string& device, const py::object& threads, const std::string& f32_gemm) {
        auto self = std::make_shared<PyModel>();
        const std::string path = path_string(checkpoint, "load: checkpoint");
        self->run.dtype = parse_dtype(dtype);
        self->run.device = parse_device(device);
        self->run.cpu_gemm = parse_cpu_gemm(f32_gemm);
        if (!threads.is_none()) {
          self->run.threads = threads.cast<int>();
          check_arg(self->run.threads > 0, "load: threads expected > 0, got ", self->run.threads);
        }
        std::optional<ModelConfig> wanted = requested_config(preset, config);
        py::gil_scoped_release release;
        apply_run_options(self->run);
        if (!fs::exists(path)) fail_not_found("load: checkpoint '", path, "' not found");
        self->model = std::make_shared<Model>(Model::load(path, wanted ? &*wanted : nullptr));
        self->model->prepare_for_inference(self->run);
        self->checkpoint = fs::weakly_canonical(fs::absolute(path)).string();
        return self;
      },
      py::arg("checkpoint"), py::arg("model") = py::none(), py::arg("config") = py::none(),
      py::arg("dtype") = "float32", py::arg("device") = "cpu", py::arg("threads") = py::none(),
      py::arg("f32_gemm") = "onednn",
      R"doc(Loads a released-layout .npz checkpoint and returns a Model.

model:  a preset name (e.g. "videoprism_lvt_public_v1_base") or a config JSON file.
config: a dict of the official keyword arguments (with "kind"), a case.json dict,
        or a JSON file, as `videoprism forward --config` takes.
With neither, the model is detected from the checkpoint's keys and shapes
(as `videoprism info`). Loading is strict: every array must match a parameter
by name, shape and dtype.
dtype:  "float32" or "bfloat16" activations.  device: "cpu" or "cuda[:N]".
threads: compute threads (None: as set at import: every CPU this process may use,
         or OMP_NUM_THREADS).
f32_gemm: CPU float32: "onednn" (weights packed at load, bias / GELU / residual
         fused; faster, one more copy of the projection weights in memory) or
         "openblas" (libtorch's BLAS). docs/performance.md.)doc");

  cls.def_property_readonly("config", [](const PyModel& s) {
       return py::module_::import("json").attr("loads")(config_to_json(s.model->config()).dump());
     })
      .def_property_readonly("kind", [](const PyModel& s) { return to_string(s.model->config().kind); },
                             "FactorizedEncoder, FactorizedVideoCLIP or FactorizedVideoClassifier")
      .def_property_readonly("num_params", [](const PyModel& s) { return s.model->num_params(); })
      .def_property_readonly("dtype", [](const PyModel& s) { return dtype_name(s.run.dtype); })
      .def_property_readonly("f32_gemm", [](const PyModel& s) { return std::string(to_string(s.run.cpu_gemm)); })
      .def_property_readonly("device", [](const PyModel& s) { return s.run.device.str(); })
      .def_property_readonly("checkpoint", [](const PyModel& s) { return s.checkpoint; })
      .def("__repr__", [](const PyModel& s) {
        return "<videoprism.Model " + to_string(s.model->config().kind) + " " + std::to_string(s.model->num_params()) +
               " params, " + dtype_name(s.run.dtype) + ", " + s.run.device.str() + ">";
      });

  cls.def(
      "forward",
      [](PyModel& self, const py::object& videos, const py::object& frame_paddings, const py::object& text_token_ids,
         const py::object& text_paddings) {
        TensorMap inputs;
        std::vector<HeldArray> held;
        auto add = [&](const char* name, const py::object& value) {
          if (value.is_none()) return;
          held.push_back(from_numpy(value, std::string("forward: ") + name));
          inputs[name] = held.back().tensor;
        };
        add("inputs", videos);
        add("frame_paddings", frame_paddings);
        add("text_token_ids", text_token_ids);
        add("text_paddings", text_paddings);
        TensorMap out;
        {
          py::gil_scoped_release release;
          out = self.model->forward(inputs, self.run);
        }
        return outputs_to_dict(out);
      },
      py::arg("videos") = py::none(), py::arg("frame_paddings") = py::none(), py::arg("text_token_ids") = py::none(),
      py::arg("text_paddings") = py::none(),
      R"doc(Runs the model; returns every official output, {name: float32 array}.

videos [B,T,H,W,3] in [0,1]; optional frame_paddings [B,T] (1 = padded frame);
for a video-text model text_token_ids [B',L] and text_paddings [B',L] (see
Tokenizer), with or without videos. Outputs, by kind:
  FactorizedEncoder: embeddings, spatial_features
  FactorizedVideoCLIP: video_embeddings(_unnormalized), spatial_features,
    spatiotemporal_features, frame_embeddings, text_embeddings(_unnormalized)
  FactorizedVideoClassifier: logits, spatial_features, spatiotemporal_features,
    global_embeddings
The GIL is released while the model runs.)doc");

  cls.def(
      "embed_videos",
      [](PyModel& self, const py::object& videos, const py::object& frame_paddings, const py::object& frames,
         const py::object& size, int batch) -> py::object {
        check_arg(batch > 0, "embed_videos: batch expected > 0, got ", batch);
        const bool one_path = is_path_like(videos);
        bool paths = one_path;
        if (!paths && py::isinstance<py::sequence>(videos) && py::len(videos) > 0 &&
            is_path_like(py::object(videos[py::int_(0)])))
          paths = true;
        if (paths) {
          std::vector<std::string> files;
          if (one_path) files.push_back(path_string(videos, "embed_videos: videos"));
          else
            for (auto v : videos) files.push_back(path_string(v, "embed_videos: videos"));
          EmbedOptions options;
          options.clip.num_frames = frames.is_none() ? self.default_frames() : frames.cast<int>();
          options.clip.size = size.is_none() ? self.default_size() : size.cast<int>();
          options.batch = batch;
          torch::Tensor out;
          {
            py::gil_scoped_release release;
            VideoEmbedder embedder(*self.model, self.run, options);
            std::vector<torch::Tensor> rows(files.size());
            std::string error;
            embedder.run(
                files, [&](const VideoEmbedding& v) { rows[v.index] = v.embeddings[0]; },
                [&](size_t, const std::string& path, const std::string& message) {
                  if (error.empty()) error = message;
                });
            check(error.empty(), error);
            out = torch::stack(rows);  // [N, D]
          }
          return to_numpy(one_path ? out[0] : out);
        }
        VideoInput in = video_input(videos, frame_paddings, "embed_videos");
        torch::Tensor out;
        {
          py::gil_scoped_release release;
          RunOptions run = self.run;
          run.frame_embeddings = false;
          std::vector<torch::Tensor> parts;
          const int64_t n = in.video.tensor.size(0);
          for (int64_t b = 0; b < n; b += batch) {
            const int64_t e = std::min(n, b + batch);
            TensorMap inputs{{"inputs", in.video.tensor.slice(0, b, e)}};
            if (in.paddings.tensor.defined()) inputs["frame_paddings"] = in.paddings.tensor.slice(0, b, e);
            parts.push_back(clip_embeddings(self.model->config().kind, self.model->forward(inputs, run)));
          }
          out = torch::cat(parts);  // [N, D]
        }
        return to_numpy(in.single ? out[0] : out);
      },
      py::arg("videos"), py::arg("frame_paddings") = py::none(), py::arg("frames") = py::none(),
      py::arg("size") = py::none(), py::arg("batch") = 8,
      R"doc(L2-normalized video embeddings, float32 [N, D] ([D] for one clip or one path).

videos: an array [N,T,H,W,3] (or [T,H,W,3]) in [0,1], or video file paths
(decoded as one clip of `frames` x `size` x `size`, default the preset's,
else 16 x 288). A video-text model gives its video embedding; an encoder the
normalized mean of its tokens; a classifier its normalized global embedding.)doc");

  cls.def(
      "embed_texts",
      [](PyModel& self, const py::object& texts, const Tokenizer& tokenizer, int max_length, int batch) {
        check_arg(max_length > 0, "embed_texts: max_length expected > 0, got ", max_length);
        check_arg(batch > 0, "embed_texts: batch expected > 0, got ", batch);
        std::vector<std::string> list;
        const bool single = py::isinstance<py::str>(texts);
        if (single) list.push_back(texts.cast<std::string>());
        else
          for (auto t : texts) {
            check_arg(py::isinstance<py::str>(t), "embed_texts: expected str texts, got ",
                      py::str(py::type::of(t)).cast<std::string>());
            list.push_back(t.cast<std::string>());
          }
        torch::Tensor out;
        {
          py::gil_scoped_release release;
          if (self.model->config().kind != ModelKind::kVideoClip)
            fail_arg("embed_texts: text embeddings need a video-text model, not a ", to_string(self.model->config().kind));
          out = encode_texts(*self.model, tokenizer, list, self.run, batch, max_length);  // [N, D]
        }
        return to_numpy(single ? out[0] : out);
      },
      py::arg("texts"), py::arg("tokenizer"), py::arg("max_length") = 64, py::arg("batch") = 64,
      "L2-normalized text embeddings of a video-text model, float32 [N, D] ([D] for one str).");

  cls.def(
      "save",
      [](const PyModel& self, const py::object& path) {
        const std::string file = path_string(path, "save: path");
        py::gil_scoped_release release;
        self.model->save(file);
      },
      py::arg("path"), "Writes the parameters as a released-layout .npz (atomically: temporary file + rename).");
}

}  // namespace videoprism::python
