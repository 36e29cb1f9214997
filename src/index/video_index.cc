// VideoIndex: SQLite rows are the truth, the FAISS file is a rebuildable cache.
// Freshness: every change bumps meta.generation in its transaction; the cache
// is fresh when meta.vectors_generation (set after the rename) equals it, the
// file has the size and CRC-32 recorded with it, and FAISS reads from it as
// many vectors as SQLite has windows, of the recorded dimension.
#include "videoprism/apps/video_index.h"

#include <sqlite3.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"

#ifdef VIDEOPRISM_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#endif

namespace videoprism {

bool have_faiss() {
#ifdef VIDEOPRISM_HAVE_FAISS
  return true;
#else
  return false;
#endif
}

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  duration_s REAL NOT NULL, num_frames INTEGER NOT NULL, indexed_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
  id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  window INTEGER NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL, embedding BLOB NOT NULL,
  UNIQUE(file_id, window));
INSERT OR IGNORE INTO meta VALUES ('schema_version', '1');
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
)";

// One line for a failed SQLite call: a damaged file says so and names it.
[[noreturn]] void sqlite_fail(sqlite3* db, int rc, const std::string& what) {
  const char* file = sqlite3_db_filename(db, "main");
  const int code = rc & 0xff;
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    fail("index: '", file ? file : "?", "' is damaged (SQLite: ", sqlite3_errmsg(db),
         "); move it away and rebuild it with `videoprism index`");
  }
  // The operating system's reason too ("disk I/O error" alone hides a full disk).
  const int os_error = sqlite3_system_errno(db);
  const std::string os = os_error != 0 ? std::string(" (") + std::strerror(os_error) + ")" : std::string();
  fail("index: '", file ? file : "?", "': SQLite error: ", sqlite3_errmsg(db), os, what.empty() ? "" : " in ", what);
}

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) sqlite_fail(db, rc, sql);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); return *this; }
  Statement& bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); return *this; }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_blob(int i, const void* data, size_t bytes) {
    sqlite3_bind_blob(stmt_, i, data, static_cast<int>(bytes), SQLITE_TRANSIENT);
    return *this;
  }
  // true while a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite_fail(db_, rc, "");
  }
  int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
  double real(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
  }
  std::vector<float> floats(int c) const {
    const void* p = sqlite3_column_blob(stmt_, c);
    const int bytes = sqlite3_column_bytes(stmt_, c);
    std::vector<float> v(static_cast<size_t>(bytes) / sizeof(float));
    if (bytes > 0) std::memcpy(v.data(), p, v.size() * sizeof(float));
    return v;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) sqlite_fail(db, rc, sql);
}

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed. The write lock
// is taken at BEGIN, so everything read inside is one consistent snapshot
// that no other writer can change before COMMIT.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

void bump_generation(sqlite3* db) {
  exec(db, "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'");
}

}  // namespace

struct VideoIndex::Impl {
  sqlite3* db = nullptr;
#ifdef VIDEOPRISM_HAVE_FAISS
  std::unique_ptr<faiss::Index> vectors;
#endif
  ~Impl() {
    if (db) sqlite3_close(db);
  }
};

VideoIndex::VideoIndex(const std::string& dir) : dir_(dir), impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  check(std::filesystem::is_directory(dir_), "index: cannot create the directory '", dir_, "'");
  if (sqlite3_open_v2(db_path().c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK)
    fail("index: cannot open '", db_path(), "': ", impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory");
  sqlite3_busy_timeout(impl_->db, 10000);
  // WAL: a killed writer leaves the last committed state; readers never block.
  exec(impl_->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  exec(impl_->db, kSchema);
}

VideoIndex::~VideoIndex() = default;

std::optional<std::string> VideoIndex::meta(const std::string& key) const {
  Statement s(impl_->db, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (s.step()) return s.text(0);
  return std::nullopt;
}

std::map<std::string, std::string> VideoIndex::all_meta() const {
  std::map<std::string, std::string> out;
  Statement s(impl_->db, "SELECT key, value FROM meta");
  while (s.step()) out[s.text(0)] = s.text(1);
  return out;
}

void VideoIndex::update_meta(const MetaUpdate& update) {
  Transaction tx(impl_->db);
  const std::map<std::string, std::string> values = update(all_meta());
  for (const auto& [key, value] : values) {
    Statement s(impl_->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    s.bind(1, key).bind(2, value).step();
  }
  tx.commit();
}

int64_t VideoIndex::meta_int(const std::string& key) const {
  const auto value = meta(key);
  check(value.has_value(), "index: '", db_path(), "': damaged metadata: no '", key, "' recorded");
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(value->c_str(), &end, 10);
  check(!value->empty() && errno == 0 && end != nullptr && *end == '\0', "index: '", db_path(),
        "': damaged metadata: '", key, "' = '", value->substr(0, 40), "', expected an integer");
  return v;
}

void VideoIndex::set_meta(const std::map<std::string, std::string>& values) {
  Transaction tx(impl_->db);
  for (const auto& [key, value] : values) {
    Statement s(impl_->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    s.bind(1, key).bind(2, value).step();
  }
  tx.commit();
}

std::optional<std::pair<int64_t, int64_t>> VideoIndex::stat_of(const std::string& path) const {
  Statement s(impl_->db, "SELECT size, mtime_ns FROM files WHERE path = ?");
  s.bind(1, path);
  if (s.step()) return std::make_pair(s.int64(0), s.int64(1));
  return std::nullopt;
}

std::vector<std::string> VideoIndex::paths() const {
  std::vector<std::string> out;
  Statement s(impl_->db, "SELECT path FROM files ORDER BY path");
  while (s.step()) out.push_back(s.text(0));
  return out;
}

int64_t VideoIndex::num_files() const {
  Statement s(impl_->db, "SELECT COUNT(*) FROM files");
  s.step();
  return s.int64(0);
}

int64_t VideoIndex::num_vectors() const {
  Statement s(impl_->db, "SELECT COUNT(*) FROM windows");
  s.step();
  return s.int64(0);
}

void VideoIndex::put_file(const IndexedFile& file) {
  const size_t K = file.windows.size();
  check(K > 0 && file.embeddings.size() % K == 0, "index: '", file.path, "': ", file.embeddings.size(),
        " floats do not split into ", K, " windows");
  const size_t D = file.embeddings.size() / K;
  Transaction tx(impl_->db);
  Statement(impl_->db, "DELETE FROM files WHERE path = ?").bind(1, file.path).step();
  Statement insert(impl_->db,
                   "INSERT INTO files (path, size, mtime_ns, duration_s, num_frames, indexed_at) "
                   "VALUES (?, ?, ?, ?, ?, strftime('%s','now'))");
  insert.bind(1, file.path).bind(2, file.size).bind(3, file.mtime_ns).bind(4, file.duration_s).bind(5, file.num_frames);
  insert.step();
  const int64_t file_id = sqlite3_last_insert_rowid(impl_->db);
  for (size_t k = 0; k < K; ++k) {
    Statement w(impl_->db,
                "INSERT INTO windows (file_id, window, start_s, end_s, embedding) VALUES (?, ?, ?, ?, ?)");
    w.bind(1, file_id).bind(2, static_cast<int64_t>(k)).bind(3, file.windows[k].first).bind(4, file.windows[k].second);
    w.bind_blob(5, file.embeddings.data() + k * D, D * sizeof(float));
    w.step();
  }
  bump_generation(impl_->db);
  tx.commit();
}

void VideoIndex::remove_file(const std::string& path) {
  Transaction tx(impl_->db);
  Statement(impl_->db, "DELETE FROM files WHERE path = ?").bind(1, path).step();
  bump_generation(impl_->db);
  tx.commit();
}

std::vector<IndexedWindow> VideoIndex::windows(bool with_embeddings) const {
  std::vector<IndexedWindow> out;
  Statement s(impl_->db,
              with_embeddings
                  ? "SELECT w.id, f.path, w.window, w.start_s, w.end_s, w.embedding FROM windows w "
                    "JOIN files f ON f.id = w.file_id ORDER BY f.path, w.window"
                  : "SELECT w.id, f.path, w.window, w.start_s, w.end_s FROM windows w "
                    "JOIN files f ON f.id = w.file_id ORDER BY f.path, w.window");
  while (s.step()) {
    IndexedWindow w;
    w.id = s.int64(0);
    w.path = s.text(1);
    w.window = static_cast<int>(s.int64(2));
    w.start_s = s.real(3);
    w.end_s = s.real(4);
    if (with_embeddings) w.embedding = s.floats(5);
    out.push_back(std::move(w));
  }
  return out;
}

#ifdef VIDEOPRISM_HAVE_FAISS
namespace {

// The cache's bytes when they match the size and CRC-32 recorded when it was
// written; nullopt when missing, truncated or overwritten. Checked before
// FAISS parses anything, so damage never reaches its reader.
std::optional<std::vector<uint8_t>> read_checked(const std::string& path, const std::optional<std::string>& bytes,
                                                 const std::optional<std::string>& crc) {
  if (!bytes || !crc) return std::nullopt;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || std::to_string(size) != *bytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> data(size);
  if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) return std::nullopt;
  const uLong sum = ::crc32_z(::crc32(0L, Z_NULL, 0), data.data(), data.size());
  if (std::to_string(sum) != *crc) return std::nullopt;
  return data;
}

}  // namespace
#endif

bool VideoIndex::vectors_fresh() const {
  if (!have_faiss()) return true;  // brute force reads SQLite directly
#ifdef VIDEOPRISM_HAVE_FAISS
  const auto meta_now = all_meta();
  auto get = [&](const char* key) -> std::optional<std::string> {
    auto it = meta_now.find(key);
    return it == meta_now.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto gen = get("generation"), built = get("vectors_generation");
  if (!gen || !built || *gen != *built) return false;
  if (impl_->vectors) return impl_->vectors->ntotal == num_vectors();
  // Fresh by the book; now the file itself: its size and checksum, then what
  // FAISS reads from it. Any damage makes the cache stale, to be rebuilt.
  auto data = read_checked(vectors_path(), get("vectors_bytes"), get("vectors_crc32"));
  if (!data) return false;
  try {
    faiss::VectorIOReader reader;
    reader.data = std::move(*data);
    std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
    if (index->ntotal != num_vectors()) return false;
    const auto dim = get("dim");
    if (index->ntotal > 0 && dim && std::to_string(index->d) != *dim) return false;
    impl_->vectors = std::move(index);
    return true;
  } catch (const std::exception&) {
    return false;
  }
#else
  return true;
#endif
}

void VideoIndex::build_vectors(const std::string& type) {
  check(type == "flat" || type == "hnsw" || type == "ivf", "index: vector index type '", type,
        "': expected flat, hnsw or ivf");
#ifdef VIDEOPRISM_HAVE_FAISS
  impl_->vectors.reset();
  std::string generation;
  std::vector<IndexedWindow> rows;
  int d = 1;
  {
    // The generation and the rows from one snapshot: a file committed in
    // between could otherwise leave a cache that looks fresh but lacks it.
    Transaction tx(impl_->db);
    generation = meta("generation").value_or("0");
    rows = windows(true);
    if (rows.empty()) {
      if (meta("dim")) d = static_cast<int>(meta_int("dim"));
    } else {
      d = static_cast<int>(rows[0].embedding.size());
    }
    tx.commit();
  }
  check(d > 0, "index: '", db_path(), "': damaged metadata: dim ", d);
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<float> data(static_cast<size_t>(n) * d);
  std::vector<faiss::Index::idx_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    check(static_cast<int>(rows[i].embedding.size()) == d, "index: '", rows[i].path, "' window ", rows[i].window,
          " has dimension ", rows[i].embedding.size(), ", expected ", d);
    std::copy(rows[i].embedding.begin(), rows[i].embedding.end(), data.begin() + i * d);
    ids[i] = rows[i].id;
  }
  std::unique_ptr<faiss::Index> index;
  if (type == "ivf" && n >= 256) {
    // IVF: ~4 sqrt(n) lists, 39+ training points per list; probe 1/8 of them.
    const size_t nlist = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(4 * std::sqrt(double(n))), n / 39));
    auto* quantizer = new faiss::IndexFlatIP(d);
    auto* ivf = new faiss::IndexIVFFlat(quantizer, d, nlist, faiss::METRIC_INNER_PRODUCT);
    ivf->own_fields = true;
    ivf->train(n, data.data());
    ivf->nprobe = std::max<size_t>(1, nlist / 8);
    index.reset(ivf);
    index->add_with_ids(n, data.data(), ids.data());
  } else {
    faiss::Index* inner = (type == "hnsw") ? static_cast<faiss::Index*>(new faiss::IndexHNSWFlat(d, 32, faiss::METRIC_INNER_PRODUCT))
                                           : static_cast<faiss::Index*>(new faiss::IndexFlatIP(d));
    auto* map = new faiss::IndexIDMap(inner);
    map->own_fields = true;
    index.reset(map);
    if (n > 0) index->add_with_ids(n, data.data(), ids.data());
  }
  // Serialized in memory, then written by the one atomic writer (every write
  // error checked, fsync, rename, directory fsync); the size and CRC-32 go to
  // meta so a damaged file is recognised and rebuilt.
  remove_stale_temporaries(dir_);  // vectors.faiss.tmp.* of a killed build
  faiss::VectorIOWriter writer;
  faiss::write_index(index.get(), &writer);
  const std::string bytes(writer.data.begin(), writer.data.end());
  write_file_atomically(vectors_path(), bytes);
  const uLong sum = ::crc32_z(::crc32(0L, Z_NULL, 0), writer.data.data(), writer.data.size());
  set_meta({{"vectors_generation", generation},
            {"vectors_count", std::to_string(n)},
            {"vectors_type", type},
            {"vectors_bytes", std::to_string(bytes.size())},
            {"vectors_crc32", std::to_string(sum)}});
  impl_->vectors = std::move(index);
#else
  (void)type;
#endif
}

std::vector<SearchHit> VideoIndex::search(const std::vector<float>& query, int k) {
  check(k > 0, "search: k expected > 0, got ", k);
  std::vector<std::pair<double, int64_t>> scored;  // (score, window id)
#ifdef VIDEOPRISM_HAVE_FAISS
  // A stale or damaged cache (see vectors_fresh) is rebuilt from SQLite.
  if (!vectors_fresh()) build_vectors(meta("vector_index").value_or("flat"));
  faiss::Index& index = *impl_->vectors;
  if (index.ntotal > 0) {
    check(static_cast<int>(query.size()) == index.d, "search: query dimension ", query.size(), ", index has ", index.d);
    const int64_t kk = std::min<int64_t>(k, index.ntotal);
    std::vector<float> distances(static_cast<size_t>(kk));
    std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(kk));
    index.search(1, query.data(), kk, distances.data(), labels.data());
    for (int64_t i = 0; i < kk; ++i)
      if (labels[i] >= 0) scored.emplace_back(distances[i], labels[i]);
  }
#else
  for (const auto& w : windows(true)) {
    check(w.embedding.size() == query.size(), "search: query dimension ", query.size(), ", index has ",
          w.embedding.size());
    double dot = 0;
    for (size_t i = 0; i < query.size(); ++i) dot += double(query[i]) * w.embedding[i];
    scored.emplace_back(dot, w.id);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (static_cast<int>(scored.size()) > k) scored.resize(static_cast<size_t>(k));
#endif
  std::vector<SearchHit> hits;
  for (const auto& [score, id] : scored) {
    Statement row(impl_->db,
                  "SELECT f.path, w.window, w.start_s, w.end_s FROM windows w JOIN files f ON f.id = w.file_id "
                  "WHERE w.id = ?");
    row.bind(1, id);
    if (!row.step()) continue;
    hits.push_back({row.text(0), static_cast<int>(row.int64(1)), row.real(2), row.real(3), score});
  }
  return hits;
}

}  // namespace videoprism
