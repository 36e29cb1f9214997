// IndexSnapshot: one complete generation of DIR/index.sqlite (+ vectors.faiss),
// read without writing anything into the index directory's database.
#include "videoprism/apps/index_snapshot.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#ifdef VIDEOPRISM_HAVE_FAISS
#include <faiss/Index.h>
#include <faiss/index_io.h>
#endif

namespace videoprism {
namespace {

// A read-only connection, closed on scope exit.
class ReadOnlyDb {
 public:
  explicit ReadOnlyDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      fail("index: cannot open '", path, "' read-only: ", why);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~ReadOnlyDb() { sqlite3_close(db_); }
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;
  sqlite3* get() const { return db_; }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : "?";
      sqlite3_free(err);
      fail("index: SQL error: ", message);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      fail("index: SQL error: ", sqlite3_errmsg(db), " in ", sql);
  }
  ~Query() { sqlite3_finalize(stmt_); }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) throw IndexBusy(std::string("index: busy: ") + sqlite3_errmsg(db_));
    fail("index: SQLite error: ", sqlite3_errmsg(db_));
  }
  int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
  double real(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
  }
  const void* blob(int c) const { return sqlite3_column_blob(stmt_, c); }
  int bytes(int c) const { return sqlite3_column_bytes(stmt_, c); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::map<std::string, std::string> read_meta(sqlite3* db) {
  std::map<std::string, std::string> meta;
  Query q(db, "SELECT key, value FROM meta");
  while (q.step()) meta[q.text(0)] = q.text(1);
  return meta;
}

std::string db_file(const std::string& dir) { return dir + "/index.sqlite"; }

}  // namespace

struct IndexSnapshot::Vectors {
#ifdef VIDEOPRISM_HAVE_FAISS
  std::unique_ptr<faiss::Index> index;
#endif
};

IndexSnapshot::~IndexSnapshot() = default;

bool IndexSnapshot::uses_faiss() const {
#ifdef VIDEOPRISM_HAVE_FAISS
  return vectors_ && vectors_->index;
#else
  return false;
#endif
}

std::optional<std::pair<std::string, std::string>> IndexSnapshot::generations(const std::string& dir) {
  try {
    if (!std::filesystem::exists(db_file(dir))) return std::nullopt;
    ReadOnlyDb db(db_file(dir));
    Query q(db.get(), "SELECT key, value FROM meta WHERE key IN ('generation', 'vectors_generation')");
    std::pair<std::string, std::string> out;
    while (q.step()) (q.text(0) == "generation" ? out.first : out.second) = q.text(1);
    return out;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::shared_ptr<const IndexSnapshot> IndexSnapshot::load(const std::string& dir) {
  check(std::filesystem::exists(db_file(dir)), "index: no index at '", dir, "' (expected ", db_file(dir),
        "); build one with `videoprism index`");
  std::shared_ptr<IndexSnapshot> s(new IndexSnapshot());
  s->dir_ = dir;
  ReadOnlyDb db(db_file(dir));
  db.exec("BEGIN");  // one read transaction: every SELECT below sees the same commit
  s->meta_ = read_meta(db.get());
  check(s->meta_.count("checkpoint_fingerprint") > 0, "index: '", dir,
        "' is not a built index (no model recorded); run `videoprism index` first");
  s->generation_ = s->meta("generation", "0");
#ifdef VIDEOPRISM_HAVE_FAISS
  if (s->meta("vectors_generation") != s->generation_)
    throw IndexBusy("index: '" + dir + "' is being updated (generation " + s->generation_ + ", vectors built for " +
                    s->meta("vectors_generation", "none") + ")");
#endif
  {
    Query q(db.get(), "SELECT id, path, size, mtime_ns, duration_s FROM files ORDER BY path");
    while (q.step()) {
      SnapshotFile f;
      f.id = q.int64(0);
      f.path = q.text(1);
      f.size = q.int64(2);
      f.mtime_ns = q.int64(3);
      f.duration_s = q.real(4);
      s->file_row_[f.id] = s->files_.size();
      s->files_.push_back(std::move(f));
    }
  }
  {
    Query q(db.get(),
            "SELECT w.id, w.file_id, w.window, w.start_s, w.end_s, w.embedding FROM windows w "
            "JOIN files f ON f.id = w.file_id ORDER BY f.path, w.window");
    while (q.step()) {
      SnapshotWindow w;
      w.id = q.int64(0);
      w.file_id = q.int64(1);
      w.window = static_cast<int>(q.int64(2));
      w.start_s = q.real(3);
      w.end_s = q.real(4);
      const int d = q.bytes(5) / static_cast<int>(sizeof(float));
      if (s->windows_.empty()) s->dim_ = d;
      check(d == s->dim_ && d > 0, "index: '", dir, "' window ", w.id, " has dimension ", d, ", expected ", s->dim_);
      const size_t row = s->embeddings_.size();
      s->embeddings_.resize(row + static_cast<size_t>(d));
      std::memcpy(s->embeddings_.data() + row, q.blob(5), static_cast<size_t>(d) * sizeof(float));
      s->window_row_[w.id] = s->windows_.size();
      s->files_[s->file_row_.at(w.file_id)].window_ids.push_back(w.id);
      s->windows_.push_back(w);
    }
  }
  db.exec("COMMIT");
  if (s->dim_ == 0) s->dim_ = std::stoi(s->meta("dim", "0"));

#ifdef VIDEOPRISM_HAVE_FAISS
  const std::string vectors_path = dir + "/vectors.faiss";
  if (!s->windows_.empty()) {
    std::unique_ptr<faiss::Index> index;
    try {
      index.reset(faiss::read_index(vectors_path.c_str()));
    } catch (const std::exception& e) {
      throw IndexBusy("index: cannot read '" + vectors_path + "': " + e.what());
    }
    // The file on disk is this generation's only if no change was committed
    // since the snapshot was taken (a newer file comes after a newer generation).
    auto now = generations(dir);
    if (!now || now->first != s->generation_ || now->second != s->generation_)
      throw IndexBusy("index: '" + dir + "' changed while it was read");
    check(index->ntotal == static_cast<int64_t>(s->windows_.size()) && index->d == s->dim_, "index: '", vectors_path,
          "' holds ", index->ntotal, " vectors of dimension ", index->d, ", the database ", s->windows_.size(), " of ",
          s->dim_, "; rebuild it with `videoprism index`");
    s->vectors_ = std::make_unique<Vectors>();
    s->vectors_->index = std::move(index);
  }
#endif
  return s;
}

std::string IndexSnapshot::meta(const std::string& key, const std::string& fallback) const {
  auto it = meta_.find(key);
  return it == meta_.end() ? fallback : it->second;
}

const SnapshotFile* IndexSnapshot::file(int64_t id) const {
  auto it = file_row_.find(id);
  return it == file_row_.end() ? nullptr : &files_[it->second];
}

const SnapshotWindow* IndexSnapshot::window(int64_t id) const {
  auto it = window_row_.find(id);
  return it == window_row_.end() ? nullptr : &windows_[it->second];
}

const float* IndexSnapshot::embedding(int64_t window_id) const {
  auto it = window_row_.find(window_id);
  return it == window_row_.end() ? nullptr : embeddings_.data() + it->second * static_cast<size_t>(dim_);
}

std::vector<SnapshotHit> IndexSnapshot::search(const std::vector<float>& query, int k) const {
  check(k > 0, "search: k expected > 0, got ", k);
  std::vector<SnapshotHit> hits;
  if (windows_.empty()) return hits;
  check(static_cast<int>(query.size()) == dim_, "search: query dimension ", query.size(), ", index has ", dim_);
#ifdef VIDEOPRISM_HAVE_FAISS
  if (uses_faiss()) {
    const faiss::Index& index = *vectors_->index;
    const int64_t kk = std::min<int64_t>(k, index.ntotal);
    std::vector<float> distances(static_cast<size_t>(kk));
    std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(kk));
    index.search(1, query.data(), kk, distances.data(), labels.data());
    for (int64_t i = 0; i < kk; ++i)
      if (labels[i] >= 0 && window_row_.count(labels[i])) hits.push_back({labels[i], distances[i]});
    return hits;
  }
#endif
  // Brute force, as VideoIndex::search without FAISS: double accumulation, stable order.
  std::vector<std::pair<double, int64_t>> scored;
  scored.reserve(windows_.size());
  for (size_t i = 0; i < windows_.size(); ++i) {
    const float* e = embeddings_.data() + i * static_cast<size_t>(dim_);
    double dot = 0;
    for (int j = 0; j < dim_; ++j) dot += double(query[j]) * e[j];
    scored.emplace_back(dot, windows_[i].id);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (static_cast<int>(scored.size()) > k) scored.resize(static_cast<size_t>(k));
  for (const auto& [score, id] : scored) hits.push_back({id, score});
  return hits;
}

}  // namespace videoprism
