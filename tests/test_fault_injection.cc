// A disk that fills up (ENOSPC) or fails (EIO, failing fsync) while a
// checkpoint, an index, an .npz or an output is written: the LD_PRELOAD shim
// tests/fault_inject.c fails the writes after a byte budget. Each time the
// command exits 1 with one line naming the file and the cause, the previous
// version stays byte-identical, no temporary file is left, and a later run
// without faults completes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hostile_fixtures.h"
#include "videoprism/core/npz.h"
#include "videoprism/apps/video_index.h"

namespace videoprism::testing {
namespace {

namespace fs = std::filesystem;

struct Fault {
  std::string path;          // substring of the affected files
  long long after_bytes = 0;  // -1: writes never fail
  std::string error = "ENOSPC";
  bool fsync = false;
  std::string label() const {
    return fsync ? "failing fsync" : error + " after " + std::to_string(after_bytes) + " bytes";
  }
};

// Disk-full events seen over the whole test program (reported at the end).
int& events() {
  static int n = 0;
  return n;
}

// Runs the CLI with the fault shim; counts the failed calls the shim made.
CommandResult run_faulty(const std::string& args, const Fault& fault, long long* failed_calls) {
  TempDir logs;
  std::string env = "VIDEOPRISM_KEEP_OMP_WAIT=1 LD_PRELOAD=" + std::string(VP_FAULT_INJECT_LIB) + " VP_FAULT_PATH='" +
                    fault.path + "' VP_FAULT_LOG=" + logs.file("log") + " VP_FAULT_ERRNO=" + fault.error;
  if (fault.after_bytes >= 0) env += " VP_FAULT_AFTER_BYTES=" + std::to_string(fault.after_bytes);
  if (fault.fsync) env += " VP_FAULT_FSYNC=1";
  CommandResult r = run_command(env + " " + cli_path() + " " + args);
  long long calls = 0, n = 0;
  std::ifstream log(logs.file("log"));
  std::string word;
  while (log >> word >> n) calls += n;  // one line per process (the CLI re-executes itself once)
  *failed_calls = calls;
  if (calls > 0) ++events();
  return r;
}

// The message a failed write must carry: the cause in words.
bool names_cause(const std::string& output, const Fault& fault) {
  if (fault.fsync || fault.error == "EIO")
    return output.find("Input/output error") != std::string::npos || output.find("disk I/O error") != std::string::npos;
  return output.find("No space left on device") != std::string::npos ||
         output.find("database or disk is full") != std::string::npos;
}

std::vector<Fault> faults_for(const std::string& path, std::initializer_list<long long> budgets) {
  std::vector<Fault> out;
  for (long long b : budgets) out.push_back({path, b, "ENOSPC", false});
  out.push_back({path, 1000, "EIO", false});
  out.push_back({path, -1, "ENOSPC", true});
  return out;
}

TEST(FaultInjection, NpzWriteOnAFullDiskKeepsThePreviousFile) {
  TempDir dir;
  const std::string out = dir.file("model.npz");
  const std::string config = " --config " + golden_dir("clip_tiny") + "/case.json --out " + out;
  ASSERT_EQ(cli("init" + config + " --seed 1").exit_code, 0);
  const std::string before = file_bytes(out);
  for (const Fault& fault : faults_for(dir.path(), {0, 100, 20000, static_cast<long long>(before.size()) - 64})) {
    long long calls = 0;
    auto r = run_faulty("init" + config + " --seed 2", fault, &calls);
    EXPECT_GT(calls, 0) << fault.label();
    EXPECT_TRUE(fails_cleanly(r, "model.npz")) << fault.label();
    EXPECT_TRUE(names_cause(r.output, fault)) << fault.label() << ": " << r.output;
    EXPECT_EQ(file_bytes(out), before) << fault.label();
    EXPECT_TRUE(temp_leftovers(dir.path()).empty()) << fault.label();
  }
  ASSERT_EQ(cli("init" + config + " --seed 2").exit_code, 0);
  EXPECT_NE(file_bytes(out), before);
}

TEST(FaultInjection, EmbedOutputOnAFullDiskKeepsThePreviousFile) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  for (const std::string name : {"out.jsonl", "out.npz"}) {
    const std::string out = dir.file(name);
    ASSERT_EQ(cli("embed" + tiny_args() + "--out " + out + " " + w.files[0]).exit_code, 0);
    const std::string before = file_bytes(out);
    for (const Fault& fault : faults_for(dir.path(), {0, 300})) {
      long long calls = 0;
      auto r = run_faulty("embed" + tiny_args() + "--out " + out + " " + w.files[0] + " " + w.files[1], fault, &calls);
      EXPECT_GT(calls, 0) << name << ", " << fault.label();
      EXPECT_TRUE(fails_cleanly(r, name)) << name << ", " << fault.label();
      EXPECT_TRUE(names_cause(r.output, fault)) << name << ", " << fault.label() << ": " << r.output;
      EXPECT_EQ(file_bytes(out), before) << name << ", " << fault.label();
      EXPECT_TRUE(temp_leftovers(dir.path()).empty()) << name << ", " << fault.label();
    }
  }
}

// (path, window) -> embedding.
std::map<std::pair<std::string, int>, std::vector<float>> index_rows(const std::string& db) {
  std::map<std::pair<std::string, int>, std::vector<float>> out;
  VideoIndex index(db);
  for (auto& row : index.windows(true)) out[{row.path, row.window}] = row.embedding;
  return out;
}

TEST(FaultInjection, IndexUpdateOnAFullDiskKeepsCommittedFilesAndResumes) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  const std::string db = dir.file("db"), whole = dir.file("whole");
  std::ofstream(dir.file("two.txt")) << w.files[0] << "\n" << w.files[1] << "\n";
  std::ofstream(dir.file("three.txt")) << w.files[0] << "\n" << w.files[1] << "\n" << w.files[2] << "\n";
  const std::string args = tiny_args() + "--windows 2 --list " + dir.file("three.txt") + " --db ";
  ASSERT_EQ(cli("index" + args + whole).exit_code, 0);
  const auto expected = index_rows(whole);
  ASSERT_EQ(expected.size(), 6u);
  for (const Fault& fault : faults_for(db, {0, 2000, 30000})) {
    fs::remove_all(db);
    ASSERT_EQ(cli("index" + tiny_args() + "--windows 2 --list " + dir.file("two.txt") + " --db " + db).exit_code, 0);
    const auto before = index_rows(db);
    long long calls = 0;
    auto r = run_faulty("index" + args + db, fault, &calls);
    if (fault.fsync && r.exit_code == 0) {
      // SQLite in WAL mode with synchronous=NORMAL syncs only at checkpoints;
      // the vector cache write must still have failed loudly.
      ADD_FAILURE() << "a failing fsync went unnoticed: " << r.output;
    }
    EXPECT_GT(calls, 0) << fault.label();
    EXPECT_TRUE(fails_cleanly(r, db)) << fault.label();
    EXPECT_TRUE(names_cause(r.output, fault)) << fault.label() << ": " << r.output;
    // What was committed is whole files: the two old ones, plus the new one
    // only with both of its windows.
    const auto after = index_rows(db);
    for (const auto& [key, embedding] : before) EXPECT_EQ(after.at(key), embedding) << fault.label();
    EXPECT_TRUE(after.size() == 4u || after.size() == 6u) << fault.label() << ": " << after.size() << " rows";
    EXPECT_TRUE(temp_leftovers(db).empty()) << fault.label();
    // The disk has room again: the same command completes the index.
    r = cli("index" + args + db + " --json");
    ASSERT_EQ(r.exit_code, 0) << fault.label() << ": " << r.output;
    EXPECT_EQ(index_rows(db), expected) << fault.label();
    r = cli("search --db " + db + " --like " + w.files[2] + " -k 1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST(FaultInjection, TrainingCheckpointOnAFullDiskKeepsTheLatestOne) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  std::ofstream manifest(dir.file("m.jsonl"));
  for (int i = 0; i < 3; ++i)
    manifest << nlohmann::json{{"video", w.files[i]}, {"caption", "square " + std::to_string(i)}}.dump() << "\n";
  manifest.close();
  nlohmann::json config = {{"model_config", golden_dir("clip_tiny") + "/case.json"},
                           {"tokenizer", w.tokenizer}, {"data", dir.file("m.jsonl")}, {"num_frames", 4},
                           {"image_size", 24}, {"batch_size", 2}, {"steps", 2}, {"max_text_length", 8},
                           {"checkpoint_every", 1}, {"workers", 1}, {"dtype", "f32"}, {"seed", 5},
                           {"plot", false}, {"progress", false}};
  std::ofstream(dir.file("c.json")) << config.dump();
  const std::string run = dir.file("run");
  const std::string train = "train stage1 --config " + dir.file("c.json") + " --threads 1 --out " + run;
  ASSERT_EQ(cli(train + " --stop-at 1").exit_code, 0);
  const std::string step1 = run + "/checkpoints/step_00000001";
  const std::string model = file_bytes(step1 + "/model.npz"), state = file_bytes(step1 + "/state.json");
  // Budgets that fail the model, then the optimizer state (after the model).
  const long long after_model = static_cast<long long>(model.size()) + 4096;
  for (const Fault& fault : faults_for(run + "/checkpoints", {0, 4096, after_model})) {
    long long calls = 0;
    auto r = run_faulty(train + " --resume", fault, &calls);
    EXPECT_GT(calls, 0) << fault.label();
    EXPECT_TRUE(fails_cleanly(r, run + "/checkpoints")) << fault.label();
    EXPECT_TRUE(names_cause(r.output, fault)) << fault.label() << ": " << r.output;
    EXPECT_EQ(file_bytes(run + "/checkpoints/latest"), "step_00000001\n") << fault.label();
    EXPECT_EQ(file_bytes(step1 + "/model.npz"), model) << fault.label();
    EXPECT_EQ(file_bytes(step1 + "/state.json"), state) << fault.label();
    EXPECT_FALSE(fs::exists(run + "/checkpoints/step_00000002")) << fault.label();
    EXPECT_TRUE(temp_leftovers(run).empty()) << fault.label();
  }
  // With room again, the resumed run ends where a straight run ends.
  ASSERT_EQ(cli(train + " --resume").exit_code, 0);
  ASSERT_EQ(cli("train stage1 --config " + dir.file("c.json") + " --threads 1 --out " + dir.file("straight")).exit_code, 0);
  EXPECT_EQ(file_bytes(run + "/checkpoints/step_00000002/model.npz"),
            file_bytes(dir.file("straight") + "/checkpoints/step_00000002/model.npz"));
  std::printf("fault injection: %d disk-full / I/O-error events so far, nothing lost\n", events());
}

}  // namespace
}  // namespace videoprism::testing
