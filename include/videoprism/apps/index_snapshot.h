// A read-only, in-memory view of one complete generation of a VideoIndex, for
// servers that search while `videoprism index` may be writing:
//   - DIR/index.sqlite is opened read-only; meta, files, windows and
//     embeddings are read in one SQLite read transaction (WAL: a consistent
//     snapshot that never blocks the writer);
//   - the generation is complete when meta.vectors_generation equals
//     meta.generation (the vector cache was rebuilt after the last change);
//     a generation that is still being written is refused (IndexBusy);
//   - DIR/vectors.faiss is then read and kept only if the generation did not
//     move while it was read and it holds exactly the snapshot's windows.
// Without FAISS every committed state is whole files, searched by brute force.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "videoprism/core/error.h"

namespace videoprism {

// The index is mid-update (or changed while it was read): try again later.
class IndexBusy : public Error {
 public:
  using Error::Error;
};

struct SnapshotFile {
  int64_t id = 0;          // SQLite rowid of the file (changes when the file is re-embedded)
  std::string path;        // absolute
  int64_t size = 0;        // bytes, as indexed
  int64_t mtime_ns = 0;
  double duration_s = 0;
  std::vector<int64_t> window_ids;  // [K] in window order
};

struct SnapshotWindow {
  int64_t id = 0;       // vector id
  int64_t file_id = 0;
  int window = 0;
  double start_s = 0, end_s = 0;
};

struct SnapshotHit {
  int64_t window_id = 0;
  double score = 0;  // inner product
};

class IndexSnapshot {
 public:
  // Reads the index's current generation; throws IndexBusy when it is not
  // complete, Error when DIR is not a readable, built index.
  static std::shared_ptr<const IndexSnapshot> load(const std::string& dir);
  // The (generation, vectors_generation) the index records now: one cheap
  // read-only query. nullopt when the database cannot be read.
  static std::optional<std::pair<std::string, std::string>> generations(const std::string& dir);

  ~IndexSnapshot();
  IndexSnapshot(const IndexSnapshot&) = delete;
  IndexSnapshot& operator=(const IndexSnapshot&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& generation() const { return generation_; }
  const std::map<std::string, std::string>& meta() const { return meta_; }
  std::string meta(const std::string& key, const std::string& fallback = "") const;
  int dim() const { return dim_; }
  bool uses_faiss() const;

  const std::vector<SnapshotFile>& files() const { return files_; }  // ordered by path
  const SnapshotFile* file(int64_t id) const;          // nullptr when unknown
  const SnapshotWindow* window(int64_t id) const;      // nullptr when unknown
  const float* embedding(int64_t window_id) const;     // [D]; nullptr when unknown
  size_t num_windows() const { return windows_.size(); }

  // Top-k windows by inner product with `query` [D], best first.
  std::vector<SnapshotHit> search(const std::vector<float>& query, int k) const;

 private:
  IndexSnapshot() = default;
  struct Vectors;
  std::string dir_, generation_;
  std::map<std::string, std::string> meta_;
  int dim_ = 0;
  std::vector<SnapshotFile> files_;
  std::vector<SnapshotWindow> windows_;  // ordered by (path, window)
  std::vector<float> embeddings_;        // [N, D], row i = windows_[i]
  std::unordered_map<int64_t, size_t> file_row_, window_row_;
  std::unique_ptr<Vectors> vectors_;     // FAISS index from vectors.faiss, when built with FAISS
};

}  // namespace videoprism
