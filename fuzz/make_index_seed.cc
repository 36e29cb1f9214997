// Writes the index fuzzers' seeds: OUT/index_meta/* (index.sqlite of a small
// valid index) and OUT/index_vectors/* (its vectors.faiss, flat and hnsw).
#include <filesystem>
#include <iostream>
#include <string>

#include "index_fixture.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_index_seed OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "index_meta");
  fs::create_directories(out / "index_vectors");
  for (const std::string type : {"flat", "hnsw"}) {
    const fs::path dir = out / ("tmp-index-" + type);
    fs::remove_all(dir);
    videoprism::fuzz::make_index(dir.string(), type);
    fs::copy_file(dir / "index.sqlite", out / "index_meta" / ("index-" + type + ".sqlite"),
                  fs::copy_options::overwrite_existing);
    fs::copy_file(dir / "vectors.faiss", out / "index_vectors" / ("vectors-" + type + ".faiss"),
                  fs::copy_options::overwrite_existing);
    fs::remove_all(dir);
  }
  return 0;
}
