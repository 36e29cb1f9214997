// A searchable library of video embeddings in a directory:
//   DIR/index.sqlite   the source of truth: meta, one row per file (path, size,
//                      mtime, duration), one row per window (time range and
//                      the embedding as a float32 BLOB). A file and its windows
//                      are written in one transaction, so an interrupted build
//                      leaves whole files only and resumes without duplicates.
//   DIR/vectors.faiss  a cache of the window embeddings for fast inner-product
//                      search, rebuilt from SQLite when stale or damaged
//                      (unreadable, truncated, wrong count or dimension) and
//                      written atomically (tmp, fsync, rename, fsync of the
//                      directory). Without FAISS the search is brute force
//                      over the BLOBs.
// A damaged index.sqlite is reported in one line naming it.
// Torch-free: embeddings are plain float vectors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace videoprism {

struct IndexedFile {
  std::string path;        // absolute
  int64_t size = 0;        // bytes
  int64_t mtime_ns = 0;    // modification time
  double duration_s = 0;
  int64_t num_frames = 0;
  std::vector<std::pair<double, double>> windows;  // [K] (start_s, end_s)
  std::vector<float> embeddings;                   // [K * D], row-major, unit rows
};

struct IndexedWindow {
  int64_t id = 0;  // vector id (SQLite rowid of the window)
  std::string path;
  int window = 0;
  double start_s = 0, end_s = 0;
  std::vector<float> embedding;  // [D]; filled by windows() only
};

struct SearchHit {
  std::string path;
  int window = 0;
  double start_s = 0, end_s = 0;
  double score = 0;  // inner product (cosine for unit vectors)
};

class VideoIndex {
 public:
  // Opens (creating the directory and schema when needed) DIR/index.sqlite.
  explicit VideoIndex(const std::string& dir);
  ~VideoIndex();
  VideoIndex(const VideoIndex&) = delete;
  VideoIndex& operator=(const VideoIndex&) = delete;

  const std::string& dir() const { return dir_; }
  std::string db_path() const { return dir_ + "/index.sqlite"; }
  std::string vectors_path() const { return dir_ + "/vectors.faiss"; }

  std::optional<std::string> meta(const std::string& key) const;
  std::map<std::string, std::string> all_meta() const;
  void set_meta(const std::map<std::string, std::string>& values);  // one transaction
  // Reads every meta value, lets `update` compare them (it may throw, which
  // rolls back) and writes what it returns, all in one write transaction: two
  // concurrent runs cannot both pass the comparison with different settings.
  using MetaUpdate = std::function<std::map<std::string, std::string>(const std::map<std::string, std::string>&)>;
  void update_meta(const MetaUpdate& update);
  // A recorded integer meta value; a missing or unparsable one is an error
  // naming the index and the key ("damaged metadata").
  int64_t meta_int(const std::string& key) const;

  // The recorded (size, mtime_ns) of a file, if indexed.
  std::optional<std::pair<int64_t, int64_t>> stat_of(const std::string& path) const;
  std::vector<std::string> paths() const;
  int64_t num_files() const;
  int64_t num_vectors() const;

  // Replaces the file's rows (file + windows) in one committed transaction.
  void put_file(const IndexedFile& file);
  void remove_file(const std::string& path);

  // Every window (ordered by path, window), with embeddings when asked.
  std::vector<IndexedWindow> windows(bool with_embeddings = true) const;

  // Vector cache. type: "flat" (exact inner product), "hnsw", "ivf".
  void build_vectors(const std::string& type = "flat");
  bool vectors_fresh() const;
  // Top-k windows by inner product with `query` [D]; rebuilds a stale cache
  // (with the recorded type) first.
  std::vector<SearchHit> search(const std::vector<float>& query, int k);

 private:
  struct Impl;
  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

// Whether this build searches with FAISS (else brute force).
bool have_faiss();

}  // namespace videoprism
