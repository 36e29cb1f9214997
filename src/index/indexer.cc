// build_index / search_*: the model-facing half of the video index. The index
// records its model (checkpoint path + fingerprint, config, tokenizer, clip
// shape) in `meta`; later runs and searches must use the same one.
#include "videoprism/apps/indexer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "videoprism/core/cpu_features.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"
#include "videoprism/core/log.h"
#include "videoprism/media/tokenizer.h"

namespace fs = std::filesystem;

namespace videoprism {
namespace {

std::string absolute_path(const std::string& path) {
  return fs::weakly_canonical(fs::absolute(path)).string();
}

// (size, mtime in ns) or nullopt when the file is gone.
std::optional<std::pair<int64_t, int64_t>> stat_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return std::make_pair(static_cast<int64_t>(st.st_size),
                        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec);
}

RunOptions run_options(const std::string& device, const std::string& dtype, int threads) {
  RunOptions run;
  run.device = parse_device(device);
  run.dtype = resolve_dtype(dtype, run.device);
  run.threads = threads;
  run.frame_embeddings = false;
  apply_run_options(run);
  return run;
}

// The model recorded in the index, loaded; a model-less index that holds
// files has damaged metadata (not merely "not built yet").
Model load_model_of(const VideoIndex& index, const std::string& given_checkpoint) {
  auto meta = index.all_meta();
  if (!meta.count("checkpoint") || !meta.count("checkpoint_fingerprint") || !meta.count("model_config")) {
    const int64_t files = index.num_files();
    check(files == 0, "search: '", index.db_path(), "': damaged metadata: ", files,
          " files indexed but no model recorded; rebuild the index with `videoprism index`");
  }
  return load_index_model(index.dir(), std::move(meta), given_checkpoint);
}

}  // namespace

std::string checkpoint_fingerprint(const std::string& checkpoint) {
  auto st = stat_file(checkpoint);
  if (!st) fail_not_found("checkpoint '", checkpoint, "' not found");
  NpzReader reader(checkpoint);
  auto keys = reader.keys();
  check(!keys.empty(), "checkpoint '", checkpoint, "' holds no arrays");
  double sum = reader.read(keys.front()).to(torch::kFloat64).sum().item<double>();
  double sum_last = reader.read(keys.back()).to(torch::kFloat64).sum().item<double>();
  std::string shapes;
  for (const auto& key : keys) shapes += key + shape_str(reader.info(key).shape) + ";";
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%lld-%zx-%.9g-%.9g", static_cast<long long>(st->first),
                std::hash<std::string>{}(shapes), sum, sum_last);
  return buf;
}

Model load_index_model(const std::string& db_dir, std::map<std::string, std::string> meta,
                       const std::string& given_checkpoint) {
  check(meta.count("checkpoint") && meta.count("checkpoint_fingerprint"), "search: '", db_dir,
        "' is not a built index (no model recorded); run `videoprism index` first");
  const std::string recorded = meta["checkpoint"];
  std::string checkpoint = recorded;
  if (!given_checkpoint.empty()) {
    const std::string fp = checkpoint_fingerprint(given_checkpoint);
    check(fp == meta["checkpoint_fingerprint"], "search: the index '", db_dir, "' was built with '", recorded,
          "'; '", given_checkpoint, "' is a different model (fingerprint ", fp, " vs ", meta["checkpoint_fingerprint"],
          "). Re-index with that model or search without --checkpoint");
    checkpoint = given_checkpoint;
  } else {
    check(fs::exists(recorded), "search: the index's checkpoint '", recorded, "' is missing; pass --checkpoint");
    const std::string fp = checkpoint_fingerprint(recorded);
    check(fp == meta["checkpoint_fingerprint"], "search: the index's checkpoint '", recorded,
          "' changed since the index was built (fingerprint ", fp, " vs ", meta["checkpoint_fingerprint"],
          "); re-index");
  }
  ModelConfig config;
  try {
    config = config_from_json(nlohmann::json::parse(meta["model_config"]));
  } catch (const std::exception& e) {
    std::string what = e.what();
    fail("search: '", db_dir, "/index.sqlite': damaged metadata: the recorded model_config is unusable (",
         what.substr(0, what.find('\n')), "); rebuild the index with `videoprism index`");
  }
  return Model::load(checkpoint, &config);
}

std::vector<std::string> list_videos(const std::string& dir) {
  check(fs::is_directory(dir), "index: '", dir, "' is not a directory");
  static const std::set<std::string> exts = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".nut",
                                             ".mpg", ".mpeg", ".wmv", ".flv", ".gif", ".ts", ".3gp"};
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (exts.count(ext)) out.push_back(absolute_path(entry.path().string()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> read_path_list(const std::string& list_file) {
  std::ifstream in(list_file);
  check(in.good(), "index: cannot read the list '", list_file, "'");
  const fs::path base = fs::absolute(list_file).parent_path();
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    fs::path p(line);
    out.push_back(absolute_path((p.is_absolute() ? p : base / p).string()));
  }
  return out;
}

IndexBuildReport build_index(const std::string& db_dir, const std::vector<std::string>& input_paths,
                             const IndexBuildOptions& options, const FileErrorFn& on_error) {
  const auto start = std::chrono::steady_clock::now();
  IndexBuildReport report;
  const std::string checkpoint = absolute_path(options.checkpoint);
  const std::string fingerprint = checkpoint_fingerprint(checkpoint);
  const ModelConfig config = resolve_model_config(options.preset, checkpoint);
  check(config.kind == ModelKind::kVideoClip, "index: needs a video-text (FactorizedVideoCLIP) checkpoint; '",
        options.checkpoint, "' is a ", to_string(config.kind));

  // Clip shape: as given, else the released preset's (8 frames for the large
  // models), as embed and classify do.
  const Preset* preset = match_preset(config);
  // 0 means the preset's default; anything else must be a real clip shape.
  check(options.frames == 0 || (options.frames >= 1 && options.frames <= kMaxClipFrames), "index: --frames: expected 1..",
        kMaxClipFrames, " (or 0 for the preset's), got ", options.frames);
  check(options.size == 0 || (options.size >= 1 && options.size <= kMaxClipSize), "index: --size: expected 1..",
        kMaxClipSize, " (or 0 for the preset's), got ", options.size);
  check_range("index: --windows", options.windows, 1, kMaxWindows);
  check_range("index: --batch", options.batch, 1, kMaxBatch);
  check(options.vector_index == "flat" || options.vector_index == "hnsw" || options.vector_index == "ivf",
        "index: --vector-index: expected flat, hnsw or ivf, got '", options.vector_index, "'");
  const int frames = options.frames > 0 ? options.frames : (preset ? preset->default_num_frames : 16);
  const int size = options.size > 0 ? options.size : (preset ? preset->default_image_size : 288);

  VideoIndex index(db_dir);
  const std::map<std::string, std::string> wanted = {
      {"checkpoint_fingerprint", fingerprint},
      {"frames", std::to_string(frames)},
      {"size", std::to_string(size)},
      {"windows", std::to_string(options.windows)},
      {"dim", std::to_string(config.encoder.model_dim)}};
  // Compare with what the index recorded and record this run's settings in
  // one write transaction: of two concurrent runs with different settings,
  // the second sees the first's and stops.
  index.update_meta([&](const std::map<std::string, std::string>& current) {
    auto meta = current;
    if (meta.count("checkpoint_fingerprint")) {
      for (const auto& [key, value] : wanted) {
        check(meta[key] == value, "index: '", db_dir, "' was built with ", key, " = ", meta[key], " (checkpoint '",
              meta["checkpoint"], "'); this run has ", value, ". Use another --db or the same settings");
      }
    }
    std::map<std::string, std::string> record = wanted;
    record["checkpoint"] = checkpoint;
    record["model_config"] = config_to_json(config).dump();
    record["model"] = to_string(config.kind);
    if (!options.tokenizer.empty()) record["tokenizer"] = absolute_path(options.tokenizer);
    else if (meta.count("tokenizer")) record["tokenizer"] = meta["tokenizer"];
    record["vector_index"] = options.vector_index;
    return record;
  });

  // Removed files: rows whose file is gone.
  for (const auto& path : index.paths()) {
    if (!stat_file(path)) {
      index.remove_file(path);
      report.removed += 1;
    }
  }
  // New and changed files; unchanged ones are skipped without touching the model.
  std::vector<std::string> todo;
  std::map<std::string, std::pair<int64_t, int64_t>> stats;
  std::set<std::string> seen;
  for (const auto& raw : input_paths) {
    const std::string path = absolute_path(raw);
    if (!seen.insert(path).second) continue;
    auto st = stat_file(path);
    if (!st) {
      report.failed += 1;
      on_error(path, "no such file");
      continue;
    }
    auto recorded = index.stat_of(path);
    if (recorded && *recorded == *st) {
      report.skipped += 1;
      continue;
    }
    stats[path] = *st;
    todo.push_back(path);
  }

  if (!todo.empty()) {
    RunOptions run = run_options(options.device, options.dtype, options.threads);
    Model model = Model::load(checkpoint, &config);
    model.prepare_for_inference(run);
    EmbedOptions embed;
    embed.clip.num_frames = frames;
    embed.clip.size = size;
    embed.clip.windows = options.windows;
    embed.batch = options.batch;
    VideoEmbedder embedder(model, run, embed);
    ProgressEvent bar;  // to the application's sink
    bar.task = "index";
    bar.total = static_cast<int64_t>(todo.size());
    bar.unit = "files";
    struct Stop {};
    IndexProgress progress;
    progress.total = static_cast<int64_t>(todo.size());
    auto tell = [&](const std::string& path, bool failed) {
      if (!options.on_progress) return;
      progress.done += 1;
      progress.path = path;
      progress.failed = failed;
      if (!options.on_progress(progress)) throw Stop{};
    };
    try {
      report.embed = embedder.run(
          todo,
          [&](const VideoEmbedding& v) {
            IndexedFile file;
            file.path = v.path;
            file.size = stats[v.path].first;
            file.mtime_ns = stats[v.path].second;
            file.duration_s = v.info.duration_s;
            file.num_frames = v.info.num_frames;
            file.windows = v.windows;
            torch::Tensor e = v.embeddings.contiguous();  // [K, D]
            file.embeddings.assign(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
            index.put_file(file);
            report.embedded += 1;
            bar.done += 1;
            bar.note = fs::path(v.path).filename().string();
            if (options.progress) report_progress(bar);
            tell(v.path, false);
          },
          [&](size_t, const std::string& path, const std::string& message) {
            report.failed += 1;
            on_error(path, message);
            bar.done += 1;
            if (options.progress) report_progress(bar);
            tell(path, true);
          });
    } catch (const Stop&) {
      report.interrupted = true;
    }
    bar.finished = true;
    if (options.progress) report_progress(bar);
  }
  if (report.interrupted) {
    // Stopped by the caller: keep what is committed, return promptly.
  } else if (!todo.empty() || report.removed > 0 || !index.vectors_fresh() ||
      index.meta("vectors_type").value_or("") != options.vector_index) {
    index.build_vectors(options.vector_index);
  }
  report.files = index.num_files();
  report.vectors = index.num_vectors();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

namespace {

void require_index(const std::string& db_dir) {
  if (!fs::exists(fs::path(db_dir) / "index.sqlite")) fail_not_found("search: no index at '", db_dir,
        "' (expected ", db_dir, "/index.sqlite); build one with `videoprism index`");
}

}  // namespace

std::vector<SearchHit> search_text(const std::string& db_dir, const std::string& query, const SearchOptions& options) {
  require_index(db_dir);
  VideoIndex index(db_dir);
  RunOptions run = run_options(options.device, options.dtype, options.threads);
  Model model = load_model_of(index, options.checkpoint);
  model.to(run.device);
  std::string tokenizer_path = index.meta("tokenizer").value_or(options.tokenizer);
  check(!tokenizer_path.empty(), "search: the index '", db_dir,
        "' records no tokenizer; pass --tokenizer (or index with --tokenizer)");
  Tokenizer tokenizer(tokenizer_path);
  torch::Tensor q = encode_texts(model, tokenizer, {query}, run)[0].contiguous();  // [D]
  return index.search(std::vector<float>(q.data_ptr<float>(), q.data_ptr<float>() + q.numel()), options.k);
}

std::vector<SearchHit> search_like(const std::string& db_dir, const std::string& video, const SearchOptions& options) {
  require_index(db_dir);
  VideoIndex index(db_dir);
  RunOptions run = run_options(options.device, options.dtype, options.threads);
  Model model = load_model_of(index, options.checkpoint);
  model.to(run.device);
  EmbedOptions embed;
  embed.clip.num_frames = static_cast<int>(index.meta_int("frames"));
  embed.clip.size = static_cast<int>(index.meta_int("size"));
  embed.clip.windows = 1;
  VideoEmbedder embedder(model, run, embed);
  torch::Tensor q = embedder.embed(video).embeddings[0].contiguous();  // [D]
  return index.search(std::vector<float>(q.data_ptr<float>(), q.data_ptr<float>() + q.numel()), options.k);
}

}  // namespace videoprism
