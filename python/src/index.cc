// vp.VideoIndex / vp.build_index: a searchable video library (SQLite + FAISS).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.h"
#include "py_model.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/indexer.h"
#include "videoprism/core/model.h"

namespace fs = std::filesystem;

namespace videoprism::python {

namespace {

// The model options of a search or build: from a vp.Model when given.
struct ModelChoice {
  std::string checkpoint, device = "cpu", dtype = "f32";
  int threads = 0;
};
ModelChoice model_choice(const py::object& model, const char* what) {
  ModelChoice c;
  if (model.is_none()) return c;
  if (py::isinstance<PyModel>(model)) {
    const PyModel& m = model.cast<const PyModel&>();
    check_arg(!m.checkpoint.empty(), what, ": the model was not loaded from a checkpoint");
    c.checkpoint = m.checkpoint;
    c.device = m.run.device.str();
    c.dtype = m.run.dtype == torch::kBFloat16 ? "bf16" : m.run.dtype == torch::kQInt8 ? "int8" : "f32";
    c.threads = m.run.threads;
    return c;
  }
  c.checkpoint = path_string(model, what);
  return c;
}

std::vector<std::string> video_paths(const py::object& paths_or_dir) {
  if (py::isinstance<py::str>(paths_or_dir) || py::hasattr(paths_or_dir, "__fspath__")) {
    const std::string p = path_string(paths_or_dir, "build_index: paths_or_dir");
    if (fs::is_directory(p)) return list_videos(p);
    if (!fs::exists(p)) fail_not_found("build_index: '", p, "' not found");
    return {p};
  }
  std::vector<std::string> out;
  for (auto item : paths_or_dir) out.push_back(path_string(item, "build_index: paths_or_dir"));
  return out;
}

}  // namespace

void bind_index(py::module_& m) {
  py::class_<SearchHit>(m, "SearchHit", "One search result: a window of an indexed video.")
      .def_readonly("path", &SearchHit::path)
      .def_readonly("window", &SearchHit::window)
      .def_readonly("start_s", &SearchHit::start_s)
      .def_readonly("end_s", &SearchHit::end_s)
      .def_readonly("score", &SearchHit::score, "inner product of unit vectors (cosine)")
      .def("__repr__", [](const SearchHit& h) {
        char buf[96];
        std::snprintf(buf, sizeof(buf), "', window=%d, %.2f-%.2fs, score=%.4f)", h.window, h.start_s, h.end_s, h.score);
        return "SearchHit('" + h.path + buf;
      });

  py::class_<VideoIndex, std::shared_ptr<VideoIndex>>(m, "VideoIndex", R"doc(An index built by vp.build_index
(or `videoprism index`): DIR/index.sqlite plus the DIR/vectors.faiss cache.

    index = vp.VideoIndex("videos.vpdb")
    for hit in index.search(text="someone drumming", k=5): print(hit.path, hit.score)
)doc")
      .def(py::init([](const py::object& db) {
             const std::string dir = path_string(db, "VideoIndex: db");
             if (!fs::exists(fs::path(dir) / "index.sqlite"))
               fail_not_found("VideoIndex: no index at '", dir, "' (expected ", dir, "/index.sqlite); build one with vp.build_index");
             return std::make_shared<VideoIndex>(dir);
           }),
           py::arg("db"), "Opens an existing index directory (FileNotFoundError when there is none).")
      .def_property_readonly("dir", &VideoIndex::dir)
      .def_property_readonly("num_files", &VideoIndex::num_files)
      .def_property_readonly("num_vectors", &VideoIndex::num_vectors)
      .def_property_readonly("paths", &VideoIndex::paths, "The indexed files (absolute paths).")
      .def_property_readonly("meta", &VideoIndex::all_meta, "What the index records: checkpoint, frames, size, ...")
      .def("__len__", &VideoIndex::num_files)
      .def(
          "search",
          [](VideoIndex& self, const py::object& text, const py::object& embedding, const py::object& like, int k,
             const py::object& model, const py::object& tokenizer) {
            check_arg(k > 0, "search: k expected > 0, got ", k);
            const int given = !text.is_none() + !embedding.is_none() + !like.is_none();
            check_arg(given == 1, "search: give exactly one of text=, embedding=, like=");
            if (!embedding.is_none()) {
              HeldArray q = from_numpy(embedding, "search: embedding");
              torch::Tensor v = q.tensor.to(torch::kFloat32).contiguous().flatten();  // [D]
              std::vector<float> query(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
              py::gil_scoped_release release;
              return self.search(query, k);
            }
            ModelChoice choice = model_choice(model, "search: model");
            SearchOptions options;
            options.k = k;
            options.checkpoint = choice.checkpoint;
            options.device = choice.device;
            options.dtype = choice.dtype;
            options.threads = choice.threads;
            if (!tokenizer.is_none()) options.tokenizer = path_string(tokenizer, "search: tokenizer");
            if (!text.is_none()) {
              check_arg(py::isinstance<py::str>(text), "search: text expected a str");
              const std::string query = text.cast<std::string>();
              py::gil_scoped_release release;
              return search_text(self.dir(), query, options);
            }
            const std::string video = path_string(like, "search: like");
            py::gil_scoped_release release;
            return search_like(self.dir(), video, options);
          },
          py::kw_only(), py::arg("text") = py::none(), py::arg("embedding") = py::none(), py::arg("like") = py::none(),
          py::arg("k") = 10, py::arg("model") = py::none(), py::arg("tokenizer") = py::none(),
          R"doc(The k best windows, best first, as SearchHit (path, window, start_s, end_s, score).

Exactly one query:
  text="..."      through the index's text tower (loads the recorded checkpoint;
                  tokenizer= when the index recorded none);
  embedding=vec   a unit vector [D], e.g. model.embed_texts("...", tok) (no model load);
  like="clip.mp4" the video's global embedding.
model: a vp.Model or checkpoint path, which must be the index's model.)doc");

  m.def(
      "build_index",
      [](const py::object& db, const py::object& paths_or_dir, const py::object& model, const py::object& tokenizer,
         int frames, int size, int windows, int batch, const std::string& vector_index, const py::object& progress,
         const py::object& on_error) {
        const std::string dir = path_string(db, "build_index: db");
        check_arg(!model.is_none(), "build_index: model= (a vp.Model or a video-text checkpoint path) is required");
        ModelChoice choice = model_choice(model, "build_index: model");
        if (!fs::exists(choice.checkpoint)) fail_not_found("build_index: checkpoint '", choice.checkpoint, "' not found");
        check_arg(windows > 0, "build_index: windows expected > 0, got ", windows);
        check_arg(batch > 0, "build_index: batch expected > 0, got ", batch);
        IndexBuildOptions options;
        options.checkpoint = choice.checkpoint;
        options.device = choice.device;
        options.dtype = choice.dtype;
        options.threads = choice.threads;
        if (!tokenizer.is_none()) options.tokenizer = path_string(tokenizer, "build_index: tokenizer");
        options.frames = frames;
        options.size = size;
        options.windows = windows;
        options.batch = batch;
        options.vector_index = vector_index;
        options.progress = progress.is_none();
        const std::vector<std::string> paths = video_paths(paths_or_dir);

        // Called on this thread with the GIL released: take it, run the
        // signal handlers (Ctrl-C raises KeyboardInterrupt here) and the
        // user's callback; a Python exception stops the build after the file.
        std::exception_ptr pending;
        options.on_progress = [&](const IndexProgress& p) {
          py::gil_scoped_acquire gil;
          try {
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            if (!progress.is_none()) progress(p.done, p.total, p.path, p.failed);
          } catch (...) {
            pending = std::current_exception();
            return false;
          }
          return true;
        };
        py::list errors;
        IndexBuildReport report;
        {
          py::gil_scoped_release release;
          report = build_index(dir, paths, options, [&](const std::string& path, const std::string& message) {
            py::gil_scoped_acquire gil;
            errors.append(py::make_tuple(path, message));
            if (!on_error.is_none() && !pending) {
              try {
                on_error(path, message);
              } catch (...) {
                pending = std::current_exception();
              }
            }
          });
        }
        if (pending) std::rethrow_exception(pending);
        py::dict d;
        d["embedded"] = report.embedded;
        d["skipped"] = report.skipped;
        d["removed"] = report.removed;
        d["failed"] = report.failed;
        d["files"] = report.files;
        d["vectors"] = report.vectors;
        d["seconds"] = report.seconds;
        d["errors"] = errors;
        return d;
      },
      py::arg("db"), py::arg("paths_or_dir"), py::kw_only(), py::arg("model"), py::arg("tokenizer") = py::none(),
      py::arg("frames") = 0, py::arg("size") = 0, py::arg("windows") = 1, py::arg("batch") = 1,
      py::arg("vector_index") = "flat", py::arg("progress") = py::none(), py::arg("on_error") = py::none(),
      R"doc(Builds or updates the index in directory `db` (created when missing).

paths_or_dir: a directory (its videos, recursively), one file, or a list of files.
model: a vp.Model (its checkpoint, dtype, device and threads are used) or a
video-text checkpoint path. tokenizer: the SentencePiece model recorded for
text search. frames / size: the clip shape (0: the preset's, else 16 / 288);
windows: K vectors per video over equal time ranges; batch: clips per forward;
vector_index: flat | hnsw | ivf.
progress(done, total, path, failed) is called after each file; on_error(path,
message) for each file that cannot be read (the build goes on).
Unchanged files are skipped, changed ones re-embedded, deleted ones removed.
Each file commits on its own: Ctrl-C (KeyboardInterrupt) or an exception
from a callback stops the build after the current file, keeping the files
already done, and propagates. Returns {embedded, skipped, removed, failed,
files, vectors, seconds, errors: [(path, message)]}.)doc");

  m.def("list_videos", &list_videos, py::arg("dir"), "Video files under a directory (recursive, by extension), sorted.");
  m.def("have_faiss", &have_faiss, "Whether this build searches with FAISS (else brute force).");
}

}  // namespace videoprism::python
