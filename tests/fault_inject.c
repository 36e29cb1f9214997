/* A disk that fills up or fails, for tests only (LD_PRELOAD=libvp_fault_inject.so).
 *
 * Interposes the calls through which the library and its dependencies write
 * files (write, pwrite, pwrite64, writev, fwrite, fsync, fdatasync, close) and
 * makes them fail on files whose path contains VP_FAULT_PATH:
 *
 *   VP_FAULT_PATH         substring of the affected paths (unset: the shim does nothing)
 *   VP_FAULT_AFTER_BYTES  bytes that may still be written to those files; the
 *                         write that crosses the budget writes what fits and
 *                         every later one fails (a disk filling up). Unset: no
 *                         write fails.
 *   VP_FAULT_ERRNO        ENOSPC (default) or EIO
 *   VP_FAULT_FSYNC        1: fsync/fdatasync of those files fail with EIO
 *   VP_FAULT_CLOSE        1: close of those files closes, then reports EIO
 *   VP_FAULT_LOG          file to which "failed_calls N" is appended at exit
 *                         (failed calls, counting the short write that fills the budget)
 *
 * Nothing here is linked into the library or the CLI.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long long budget = -1; /* bytes left; -1: unlimited */
static int fault_errno = ENOSPC;
static int fail_fsync = 0, fail_close = 0;
static const char* fault_path = NULL;
static long long failed_calls = 0;

__attribute__((constructor)) static void fault_init(void) {
  fault_path = getenv("VP_FAULT_PATH");
  if (fault_path != NULL && *fault_path == '\0') fault_path = NULL;
  const char* after = getenv("VP_FAULT_AFTER_BYTES");
  if (after != NULL && *after != '\0') budget = atoll(after);
  const char* err = getenv("VP_FAULT_ERRNO");
  if (err != NULL && strcmp(err, "EIO") == 0) fault_errno = EIO;
  const char* s = getenv("VP_FAULT_FSYNC");
  fail_fsync = s != NULL && strcmp(s, "1") == 0;
  s = getenv("VP_FAULT_CLOSE");
  fail_close = s != NULL && strcmp(s, "1") == 0;
}

__attribute__((destructor)) static void fault_report(void) {
  const char* log = getenv("VP_FAULT_LOG");
  if (log == NULL || *log == '\0') return;
  FILE* f = fopen(log, "a");
  if (f == NULL) return;
  fprintf(f, "failed_calls %lld\n", failed_calls);
  fclose(f);
}

static int affected(int fd) {
  if (fault_path == NULL || fd < 0) return 0;
  char link[64], target[4096];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  return strstr(target, fault_path) != NULL;
}

/* How many of n bytes may be written to fd now; -1 (errno set): none. */
static ssize_t allowance(int fd, size_t n) {
  if (budget < 0 || n == 0 || !affected(fd)) return (ssize_t)n;
  if (budget == 0) {
    __atomic_add_fetch(&failed_calls, 1, __ATOMIC_RELAXED);
    errno = fault_errno;
    return -1;
  }
  const long long take = (long long)n < budget ? (long long)n : budget;
  budget -= take;
  /* The write that fills the disk: a short write, counted as a fault. */
  if (take < (long long)n) __atomic_add_fetch(&failed_calls, 1, __ATOMIC_RELAXED);
  return (ssize_t)take;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void* buf, size_t n) {
  const ssize_t k = allowance(fd, n);
  if (k < 0) return -1;
  return REAL(write)(fd, buf, (size_t)k);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  const ssize_t k = allowance(fd, n);
  if (k < 0) return -1;
  return REAL(pwrite)(fd, buf, (size_t)k, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  const ssize_t k = allowance(fd, n);
  if (k < 0) return -1;
  return REAL(pwrite64)(fd, buf, (size_t)k, off);
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  const ssize_t k = allowance(fd, total);
  if (k < 0) return -1;
  if ((size_t)k == total) return REAL(writev)(fd, iov, count);
  /* Partial: write the first k bytes only. */
  ssize_t done = 0;
  for (int i = 0; i < count && done < k; ++i) {
    size_t part = iov[i].iov_len;
    if ((ssize_t)part > k - done) part = (size_t)(k - done);
    const ssize_t w = REAL(write)(fd, iov[i].iov_base, part);
    if (w < 0) return done > 0 ? done : -1;
    done += w;
  }
  return done;
}

size_t fwrite(const void* ptr, size_t size, size_t count, FILE* stream) {
  if (size == 0 || count == 0) return 0;
  const ssize_t k = allowance(fileno(stream), size * count);
  if (k < 0) return 0;
  const size_t items = (size_t)k / size;
  const size_t wrote = REAL(fwrite)(ptr, size, items, stream);
  if (items < count) errno = fault_errno;
  return wrote;
}

int fsync(int fd) {
  if (fail_fsync && affected(fd)) {
    __atomic_add_fetch(&failed_calls, 1, __ATOMIC_RELAXED);
    errno = EIO;
    return -1;
  }
  return REAL(fsync)(fd);
}

int fdatasync(int fd) {
  if (fail_fsync && affected(fd)) {
    __atomic_add_fetch(&failed_calls, 1, __ATOMIC_RELAXED);
    errno = EIO;
    return -1;
  }
  return REAL(fdatasync)(fd);
}

int close(int fd) {
  const int fault = fail_close && affected(fd);
  const int rc = REAL(close)(fd);
  if (fault && rc == 0) {
    __atomic_add_fetch(&failed_calls, 1, __ATOMIC_RELAXED);
    errno = EIO;
    return -1;
  }
  return rc;
}
