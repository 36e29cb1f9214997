// Fuzz target: the index's metadata, DIR/index.sqlite (any bytes: SQLite
// headers, pages, and the rows our schema holds), read through VideoIndex as
// `index` and `search` do: settings, files, windows and their embedding
// BLOBs, the vector cache's freshness, and a search (which rebuilds the cache
// from the rows when stale).
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_util.h"
#include "index_fixture.h"
#include "videoprism/apps/video_index.h"

using namespace videoprism;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz::scratch_dir() + "/index";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  fuzz::write_input("index/index.sqlite", data, size);
  fuzz::expect_clean([&] {
    VideoIndex index(dir);
    (void)index.all_meta();
    (void)index.meta("dim");
    for (const std::string& path : index.paths()) (void)index.stat_of(path);
    (void)index.num_files();
    (void)index.num_vectors();
    const auto rows = index.windows(true);
    (void)index.vectors_fresh();
    const size_t dim = rows.empty() ? fuzz::kIndexDim : rows[0].embedding.size();
    (void)index.search(std::vector<float>(dim, 0.25f), 3);
  });
  return 0;
}
