// Fuzz target: the index's vector cache, DIR/vectors.faiss, beside a valid
// index.sqlite that calls it fresh: a search must load it, or reject it with
// a clear error, or rebuild it from SQLite; never crash on a damaged cache.
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_util.h"
#include "index_fixture.h"
#include "videoprism/apps/video_index.h"

using namespace videoprism;

namespace {
std::string pristine_db;  // a copy of the valid index.sqlite
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string base = fuzz::scratch_dir() + "/base";
  fuzz::make_index(base);
  pristine_db = base + "/index.sqlite";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz::scratch_dir() + "/index";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(pristine_db, dir + "/index.sqlite");
  fuzz::write_input("index/vectors.faiss", data, size);
  fuzz::expect_clean([&] {
    VideoIndex index(dir);
    for (const SearchHit& hit : index.search(fuzz::unit_vector(1), 4)) (void)hit.path.size();
  });
  return 0;
}
