// Atomic file replacement, the one way the library writes files.
//
// write_atomically(path, write) gives the strongest guarantee POSIX offers:
//   1. a new temporary file "<path>.tmp.<pid>.<n>" in the same directory
//      (same filesystem, so the rename cannot become a copy);
//   2. write(tmp) fills it (through its own stdio, libzip or FAISS writer);
//   3. the temporary file is fsync'ed (its data is on disk);
//   4. it is renamed over path (readers see the old or the new file, never
//      a mixture, even after a crash or kill -9);
//   5. the directory is fsync'ed (the rename itself is on disk).
// On any failure (a short write, ENOSPC, EIO, a failed fsync or rename) the
// temporary file is removed, the previous file at path is left untouched,
// and videoprism::Error says which file and why (strerror).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace videoprism {

// The same as an object, for writers that stream (a video encoder): the
// constructor creates the temporary file, the writer fills tmp(), commit()
// does steps 3-5, and the destructor removes the temporary file unless
// committed (an exception or an early return leaves `path` as it was).
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& tmp() const { return tmp_; }
  void commit();

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

// See above. `write` receives the temporary path, which already exists
// (empty, mode 0666 & ~umask); it may reopen it or truncate it.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);

// write_atomically for bytes in memory (JSON, text).
void write_file_atomically(const std::string& path, const std::string& bytes);

// Writes all n bytes to fd (retrying short writes and EINTR); throws naming
// `where` with strerror on failure.
void write_all(int fd, const void* data, size_t n, const std::string& where);

// fsync of a file or a directory; throws naming the path on failure (a
// directory fsync that the filesystem does not support, EINVAL, is ignored).
void sync_path(const std::string& path, bool directory);

// Removes what killed writers left in `dir`: entries named
// "<name>.tmp.<pid>[.<n>...]" whose writer process is gone (the name of an
// interrupted write_atomically or checkpoint folder). Best effort, never throws.
void remove_stale_temporaries(const std::string& dir);

// The directory holding path ("." for a bare name).
std::string parent_directory(const std::string& path);

}  // namespace videoprism
