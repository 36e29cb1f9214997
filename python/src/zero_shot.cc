// vp.classify / vp.prompt_templates: zero-shot classification with a video-text model.
#include <vector>

#include <pybind11/stl.h>
#include <torch/torch.h>

#include "bindings.h"
#include "py_model.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "videoprism/media/tokenizer.h"
#include "videoprism/apps/zero_shot.h"

namespace videoprism::python {

namespace {

std::vector<std::string> string_list(const py::handle& o, const char* what) {
  std::vector<std::string> out;
  for (auto item : o) {
    check_arg(py::isinstance<py::str>(item), what, ": expected str items, got ",
              py::str(py::type::of(item)).cast<std::string>());
    out.push_back(item.cast<std::string>());
  }
  return out;
}

bool is_path_like(const py::handle& o) { return py::isinstance<py::str>(o) || py::hasattr(o, "__fspath__"); }

py::dict result(const std::string& path, const torch::Tensor& probs, const torch::Tensor& similarity,
                const std::vector<std::string>& labels, int k) {
  py::dict d;
  if (!path.empty()) d["path"] = path;
  py::list top;
  for (const auto& s : top_k(probs, similarity, labels, k)) {
    py::dict t;
    t["label"] = s.label;
    t["probability"] = s.probability;
    t["similarity"] = s.similarity;
    top.append(t);
  }
  d["top"] = top;
  d["probabilities"] = to_numpy(probs);
  return d;
}

}  // namespace

void bind_zero_shot(py::module_& m) {
  m.def("prompt_templates", &prompt_templates, py::arg("name_or_file"),
        "The prompt templates: \"simple\", \"kinetics\" (28 CLIP-style), \"none\", or a file (one per line).");

  m.def(
      "classify",
      [](PyModel& model, const Tokenizer& tokenizer, const py::object& videos, const py::object& labels,
         const py::object& templates, int k, double temperature, const py::object& frames,
         const py::object& size) -> py::object {
        check_arg(k > 0, "classify: k expected > 0, got ", k);
        check_arg(temperature > 0, "classify: temperature expected > 0, got ", temperature);
        check_arg(model.model->config().kind == ModelKind::kVideoClip,
                  "classify: zero-shot needs a video-text model, not a ", to_string(model.model->config().kind));
        const std::vector<std::string> label_list =
            py::isinstance<py::str>(labels) ? split_labels(labels.cast<std::string>()) : string_list(labels, "classify: labels");
        const std::vector<std::string> template_list = py::isinstance<py::str>(templates)
                                                           ? prompt_templates(templates.cast<std::string>())
                                                           : string_list(templates, "classify: templates");
        // Paths (one or a list) or an array [N,T,H,W,3] / [T,H,W,3].
        const bool one_path = is_path_like(videos);
        bool paths = one_path;
        if (!paths && py::isinstance<py::sequence>(videos) && py::len(videos) > 0 &&
            is_path_like(py::object(videos[py::int_(0)])))
          paths = true;
        std::vector<std::string> files;
        HeldArray held;
        bool single = one_path;
        if (paths) {
          if (one_path) files.push_back(path_string(videos, "classify: videos"));
          else
            for (auto v : videos) files.push_back(path_string(v, "classify: videos"));
        } else {
          held = from_numpy(videos, "classify: videos");
          if (held.tensor.dim() == 4) {
            single = true;
            held.tensor = held.tensor.unsqueeze(0);
          }
          check_arg(held.tensor.dim() == 5 && held.tensor.size(4) == 3,
                    "classify: videos expected [N,T,H,W,3], [T,H,W,3] or video paths, got an array of shape ",
                    shape_str(held.tensor.sizes()));
        }
        torch::Tensor video, classes, probs, similarity;  // [N, D], [C, D], [N, C], [N, C]
        {
          py::gil_scoped_release release;
          RunOptions run = model.run;
          run.frame_embeddings = false;
          classes = class_embeddings(*model.model, tokenizer, label_list, template_list, run);
          if (paths) {
            EmbedOptions options;
            options.clip.num_frames = frames.is_none() ? model.default_frames() : frames.cast<int>();
            options.clip.size = size.is_none() ? model.default_size() : size.cast<int>();
            VideoEmbedder embedder(*model.model, run, options);
            std::vector<torch::Tensor> rows(files.size());
            std::string error;
            embedder.run(
                files, [&](const VideoEmbedding& v) { rows[v.index] = v.embeddings[0]; },
                [&](size_t, const std::string&, const std::string& message) {
                  if (error.empty()) error = message;
                });
            check(error.empty(), error);
            video = torch::stack(rows);
          } else {
            video = clip_embeddings(model.model->config().kind, model.model->forward({{"inputs", held.tensor}}, run));
          }
          similarity = torch::matmul(video, classes.t());
          probs = zero_shot_probabilities(video, classes, temperature);
        }
        py::list results;
        for (int64_t i = 0; i < video.size(0); ++i)
          results.append(result(paths ? files[i] : "", probs[i], similarity[i], label_list, k));
        if (single) return results[0];
        return std::move(results);
      },
      py::arg("model"), py::arg("tokenizer"), py::arg("videos"), py::arg("labels"), py::arg("templates") = "kinetics",
      py::arg("k") = 5, py::arg("temperature") = 0.01, py::arg("frames") = py::none(), py::arg("size") = py::none(),
      R"doc(Zero-shot classification of videos against text labels (video-text model).

videos: a path, a list of paths, or clips [N,T,H,W,3] / [T,H,W,3] in [0,1].
labels: a list of str or one comma-separated str.
templates: "kinetics" (28 CLIP-style prompts), "simple" ("a video of {}."),
"none" (the bare label), a template file, or a list of templates ("{}" = label).
Each label's text embedding is the re-normalized mean over its prompts; the
probabilities are softmax(cosine / temperature) over the labels, as the
official demo. Returns, per video, {"path" (for files), "top": [{"label",
"probability", "similarity"}] (k best first), "probabilities": float32 [C]};
a single video (one path or one clip) gives one dict, otherwise a list.)doc");
}

}  // namespace videoprism::python
