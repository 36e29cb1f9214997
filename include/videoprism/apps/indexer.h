// Building and searching a VideoIndex with a video-text model: which files to
// (re-)embed, the model recorded in the index, text and video queries.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "videoprism/apps/embedder.h"
#include "videoprism/apps/video_index.h"

namespace videoprism {

// Where a build stands, after each file that was embedded or failed.
struct IndexProgress {
  int64_t done = 0, total = 0;  // files handled so far / files to (re-)embed this run
  std::string path;             // the file just handled
  bool failed = false;          // it could not be read (on_error was told why)
};
// Called on the calling thread after each file; returning false stops the
// build there: finished files stay committed (as after a kill), the vector
// cache is left stale (the next search rebuilds it) and the report says
// `interrupted`. An exception thrown by it propagates the same way.
using IndexProgressFn = std::function<bool(const IndexProgress&)>;
class Model;

struct IndexBuildOptions {
  std::string checkpoint;         // video-text .npz
  std::string preset;             // optional preset/config name; empty: detect from the checkpoint
  std::string tokenizer;          // SentencePiece model recorded for text search (may be empty)
  int frames = 0, size = 0;       // clip shape; 0: the preset's (else 16 frames, 288 px)
  int windows = 1;                // K windows (time ranges) per video
  int batch = 1;                  // clips per forward
  std::string vector_index = "flat";  // flat | hnsw | ivf
  std::string device = "cpu", dtype = "auto";  // dtype: auto, f32 or bf16
  int threads = 0;
  bool progress = true;           // report to the progress sink (videoprism/log.h)
  IndexProgressFn on_progress;    // optional; see IndexProgress
};

struct IndexBuildReport {
  int64_t embedded = 0, skipped = 0, removed = 0, failed = 0;
  int64_t files = 0, vectors = 0;  // in the index afterwards
  double seconds = 0;
  bool interrupted = false;        // on_progress stopped the build
  // The embedding pass over new and changed files: clips, its wall time
  // (decode overlapped, each file committed), time in the model, time the
  // model waited for decoded clips.
  EmbedStats embed;
};

using FileErrorFn = std::function<void(const std::string& path, const std::string& message)>;

// Adds new and changed files, removes rows of files that no longer exist, and
// skips unchanged ones (same size and mtime). Each file commits on its own, so
// an interrupted run resumes where it stopped. Throws when the index was built
// with another checkpoint or clip shape, and before anything is written for
// out-of-range options (frames, size, windows, batch, vector_index). A killed
// run (kill -9) leaves whole files only; tests/test_kill_resume.cc checks it.
IndexBuildReport build_index(const std::string& db_dir, const std::vector<std::string>& paths,
                             const IndexBuildOptions& options, const FileErrorFn& on_error);

// Video files under a directory (recursive, by extension), sorted.
std::vector<std::string> list_videos(const std::string& dir);
// One path per non-empty line; relative paths are taken from the list's directory.
std::vector<std::string> read_path_list(const std::string& list_file);

// Identifies a checkpoint's contents: size, config and the sum of its first array.
std::string checkpoint_fingerprint(const std::string& checkpoint);

struct SearchOptions {
  int k = 10;
  std::string checkpoint;  // optional; must be the index's model
  std::string tokenizer;   // optional override when the index recorded none
  std::string device = "cpu", dtype = "auto";  // dtype: auto, f32 or bf16
  int threads = 0;
};

// The model an index records (meta: checkpoint, checkpoint_fingerprint,
// model_config), loaded on the CPU. A given checkpoint must have the recorded
// fingerprint; without one, the recorded file must exist and still match it.
Model load_index_model(const std::string& db_dir, std::map<std::string, std::string> meta,
                       const std::string& checkpoint = "");

// Text-to-video: the query through the index's text tower.
std::vector<SearchHit> search_text(const std::string& db_dir, const std::string& query, const SearchOptions& options);
// Video-to-video: the video's global embedding (one clip, the index's shape).
std::vector<SearchHit> search_like(const std::string& db_dir, const std::string& video, const SearchOptions& options);

}  // namespace videoprism
