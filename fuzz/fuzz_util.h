// Helpers shared by the libFuzzer targets (one target per parser, fuzz_*.cc).
//
// The parsers under test read files, so each input is written to a file in a
// per-process scratch directory. A videoprism::Error is the expected answer
// to bad input and is swallowed; any other exception escapes, and libFuzzer
// reports it (std::terminate -> abort) like a crash: the project's rule is a
// clear one-line videoprism::Error, never a raw library exception.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "videoprism/core/error.h"

namespace videoprism::fuzz {

// The process's scratch directory ($TMPDIR/videoprism-fuzz-<pid>), removed at exit.
inline const std::string& scratch_dir() {
  // Never destroyed: the exit handler below runs after static destructors.
  static const std::string* const dir = [] {
    auto* path = new std::string(
        (std::filesystem::temp_directory_path() / ("videoprism-fuzz-" + std::to_string(::getpid()))).string());
    std::filesystem::create_directories(*path);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return path;
  }();
  return *dir;
}

// Writes the input to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // the harness itself failed: not a finding
  return path;
}

// Runs fn; a videoprism::Error (bad input, reported cleanly) is the expected outcome.
template <typename Fn>
bool expect_clean(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const videoprism::Error&) {
    return false;
  }
}

}  // namespace videoprism::fuzz
