// A damaged index (issue 14, "Damaged state is not repaired"): a truncated or
// overwritten vectors.faiss is rebuilt from SQLite; damaged metadata or
// SQLite pages give a one-line error naming index.sqlite; concurrent runs with
// different settings cannot both record theirs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "hostile_fixtures.h"
#include "videoprism/apps/video_index.h"

namespace videoprism::testing {
namespace {

namespace fs = std::filesystem;

// A built index of the world's three videos (one window each) in a new dir.
struct BuiltIndex {
  TempDir dir;
  std::string db;
  BuiltIndex() {
    db = dir.file("db");
    HostileWorld& w = hostile_world();
    auto r = cli("index" + tiny_args() + "--tokenizer " + w.tokenizer + " --db " + db + " " + w.videos);
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  CommandResult search() const { return cli("search --db " + db + " 'a square' -k 10 --json"); }
};

// Runs SQL on a database with Debian's Python (the tests do not link SQLite).
void sqlite_exec(const std::string& db, const std::string& sql) {
  auto r = run_command("/usr/bin/python3 -c \"import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                       "c.execute(sys.argv[2]); c.commit(); c.close()\" '" + db + "' \"" + sql + "\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

TEST(IndexRepair, TruncatedOrOverwrittenVectorsAreRebuiltFromSqlite) {
  if (!have_faiss()) GTEST_SKIP() << "built without FAISS: no vector cache";
  BuiltIndex built;
  const std::string vectors = built.db + "/vectors.faiss";
  const std::string good = file_bytes(vectors);
  ASSERT_GT(good.size(), 64u);

  // Truncated: `index` notices, rebuilds, and search answers again.
  fs::resize_file(vectors, good.size() / 2);
  HostileWorld& w = hostile_world();
  auto r = cli("index" + tiny_args() + "--db " + built.db + " " + w.videos + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(last_json(r.output)["skipped"], 3);
  EXPECT_EQ(file_bytes(vectors), good);
  r = built.search();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(last_json(r.output).size(), 3u);

  // Overwritten with garbage of the same size: search itself rebuilds.
  std::mt19937 rng(7);
  std::string garbage(good.size(), '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  std::ofstream(vectors, std::ios::binary) << garbage;
  r = built.search();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(last_json(r.output).size(), 3u);
  EXPECT_EQ(file_bytes(vectors), good);

  // One flipped byte in the middle, and a missing file.
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  std::ofstream(vectors, std::ios::binary) << flipped;
  r = built.search();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(file_bytes(vectors), good);
  fs::remove(vectors);
  r = built.search();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(last_json(r.output).size(), 3u);
  EXPECT_TRUE(temp_leftovers(built.db).empty());
}

TEST(IndexRepair, DamagedMetadataIsAOneLineErrorNamingTheIndex) {
  HostileWorld& w = hostile_world();
  {
    BuiltIndex built;
    VideoIndex(built.db).set_meta({{"model_config", "{\"kind\": oops"}});
    EXPECT_TRUE(fails_cleanly(built.search(), "index.sqlite': damaged metadata: the recorded model_config is unusable"));
  }
  {
    BuiltIndex built;
    VideoIndex(built.db).set_meta({{"frames", "four"}});
    EXPECT_TRUE(fails_cleanly(cli("search --db " + built.db + " --like " + w.files[0] + " --json"),
                              "damaged metadata: 'frames' = 'four', expected an integer"));
  }
  {
    BuiltIndex built;
    // The model rows lost (as page damage did): not "not a built index".
    sqlite_exec(built.db + "/index.sqlite", "DELETE FROM meta WHERE key IN ('checkpoint', 'model_config')");
    EXPECT_TRUE(fails_cleanly(built.search(), "damaged metadata: 3 files indexed but no model recorded"));
  }
}

TEST(IndexRepair, DamagedSqlitePagesAreAOneLineError) {
  BuiltIndex built;
  const std::string sqlite = built.db + "/index.sqlite";
  const auto size = fs::file_size(sqlite);
  ASSERT_GE(size, 3 * 4096u);
  // Every page but the first (the header) overwritten with 0xAB.
  {
    std::fstream f(sqlite, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4096);
    const std::string junk(size - 4096, '\xab');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto r = built.search();
  EXPECT_TRUE(fails_cleanly(r, built.db)) << r.output;
  EXPECT_TRUE(r.output.find("damaged") != std::string::npos || r.output.find("not a built index") != std::string::npos)
      << r.output;
  // The header itself: not a database at all.
  std::ofstream(sqlite, std::ios::binary) << std::string(8192, '\x5a');
  EXPECT_TRUE(fails_cleanly(built.search(), "index.sqlite' is damaged"));
}

TEST(IndexRepair, ConcurrentRunsWithDifferentSettingsCannotBothRecordThem) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  const std::string db = dir.file("db");
  const std::string base = cli_path() + " index" + tiny_args() + "--db " + db + " " + w.videos;
  const std::string both = "sh -c '" + base + " --windows 1 > " + dir.file("a.log") + " 2>&1 & " + base +
                           " --windows 2 > " + dir.file("b.log") + " 2>&1; b=$?; wait $!; a=$?; echo $a $b'";
  auto r = run_command(both);
  int a = -1, b = -1;
  ASSERT_EQ(std::sscanf(r.output.c_str(), "%d %d", &a, &b), 2) << r.output;
  const std::string logs = file_bytes(dir.file("a.log")) + file_bytes(dir.file("b.log"));
  EXPECT_EQ((a == 0) + (b == 0), 1) << "exit codes " << a << " " << b << "\n" << logs;
  EXPECT_NE(logs.find("was built with windows = "), std::string::npos) << logs;
  // What is recorded is one run's setting with that run's rows.
  VideoIndex index(db);
  const std::string windows = index.meta("windows").value_or("?");
  EXPECT_EQ(index.num_vectors(), 3 * std::stoi(windows));
}

}  // namespace
}  // namespace videoprism::testing
