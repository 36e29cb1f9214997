// Atomic file replacement (src/io/atomic_file.h).
#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <cstdlib>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "videoprism/core/error.h"

namespace videoprism {
namespace {

// A temporary name no other writer (thread or process) uses at the same time.
std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

}  // namespace

void remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.find(".tmp.");
    if (at == std::string::npos) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + at + 5, &end, 10);
    if (pid <= 0 || end == name.c_str() + at + 5 || (*end != '\0' && *end != '.')) continue;
    // Alive (ours, or another writer's that is still running): keep it.
    if (pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code remove_ec;
    std::filesystem::remove_all(entry.path(), remove_ec);
  }
}

std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void write_all(int fd, const void* data, size_t n, const std::string& where) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t got = ::write(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail(where, ": write failed (", got < 0 ? std::strerror(errno) : "no progress", ")");
    p += got;
    n -= static_cast<size_t>(got);
  }
}

void sync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open to fsync (", std::strerror(errno), ")");
  int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && !(directory && (err == EINVAL || err == EROFS)))
    fail(path, ": fsync failed (", std::strerror(err), ")");
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(temporary_name(path_)) {
  const int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail(path_, ": cannot create the temporary file ", tmp_, " (", std::strerror(errno), ")");
  ::close(fd);
}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::commit() {
  check(!committed_, path_, ": committed twice");
  sync_path(tmp_, false);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail(path_, ": cannot rename ", tmp_, " into place (", std::strerror(errno), ")");
  committed_ = true;
  sync_path(parent_directory(path_), true);
}

void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
  AtomicFile file(path);
  write(file.tmp());
  file.commit();
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_atomically(path, [&](const std::string& tmp) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) fail(path, ": cannot open ", tmp, " (", std::strerror(errno), ")");
    try {
      write_all(fd, bytes.data(), bytes.size(), path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::fsync(fd) != 0) {
      const int err = errno;
      ::close(fd);
      fail(path, ": fsync failed (", std::strerror(err), ")");
    }
    if (::close(fd) != 0) fail(path, ": close failed (", std::strerror(errno), ")");
  });
}

}  // namespace videoprism
