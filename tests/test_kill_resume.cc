// kill -9 at random moments during `videoprism index` and `videoprism train
// stage1`, then resume: the result equals an uninterrupted run's (index: the
// same rows and embeddings; training: a byte-identical final checkpoint).
// Bounded: at most kMaxKills kills per command. Prints the kills survived.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "hostile_fixtures.h"
#include "videoprism/apps/video_index.h"

namespace videoprism::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kMaxKills = 10;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Starts `sh -c "exec COMMAND"` (the shell becomes the CLI: one pid to kill).
pid_t spawn(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("VIDEOPRISM_KEEP_OMP_WAIT", "1", 1);  // no self re-exec: the pid stays the CLI's
    const std::string line = "exec " + command;
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits up to `seconds` for the child; its wait status, or -1 if still running.
int wait_for(pid_t pid, double seconds) {
  const auto start = Clock::now();
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    if (seconds_since(start) >= seconds) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

struct KillLoop {
  int kills = 0;      // SIGKILLs that hit a running process
  int finished = 0;   // runs that completed before their kill time
};

// Runs `command` again and again, killing each run after a random delay in
// [0.1, 0.7] x the uninterrupted run's time (a resumed run has less left to
// do, so later runs may finish first), until a run completes; after kMaxKills
// kills the last run is left to finish. Every completed run must exit 0.
KillLoop kill_until_done(const std::string& command, double full_seconds, unsigned seed) {
  KillLoop loop;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> when(0.1 * full_seconds, 0.7 * full_seconds);
  for (;;) {
    const pid_t pid = spawn(command);
    const bool may_kill = loop.kills < kMaxKills;
    int status = wait_for(pid, may_kill ? when(rng) : 600.0);
    if (status == -1) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        ++loop.kills;
        continue;
      }
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << ": status " << status;
    ++loop.finished;
    return loop;
  }
}

std::map<std::pair<std::string, int>, std::vector<float>> index_rows(const std::string& db) {
  std::map<std::pair<std::string, int>, std::vector<float>> out;
  VideoIndex index(db);
  for (auto& row : index.windows(true)) out[{row.path, row.window}] = row.embedding;
  return out;
}

TEST(KillResume, IndexKilledAtRandomMomentsEndsEqualToAnUninterruptedBuild) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  // Twelve files: more commits for the kills to land between and inside.
  const std::string videos = dir.file("videos");
  fs::create_directories(videos);
  for (int i = 0; i < 12; ++i) fs::copy_file(w.files[i % 3], videos + "/v" + std::to_string(i) + ".mkv");
  const std::string args = tiny_args() + "--windows 2 --tokenizer " + w.tokenizer + " " + videos + " --db ";
  const auto start = Clock::now();
  auto r = cli("index" + args + dir.file("whole"));
  const double full = seconds_since(start);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto expected = index_rows(dir.file("whole"));
  ASSERT_EQ(expected.size(), 24u);

  const std::string db = dir.file("killed");
  const KillLoop loop = kill_until_done(cli_path() + " index" + args + db + " > " +
                                           dir.file("log") + " 2>&1",
                                       full, 1234);
  std::printf("kill -9 during index: %d kills survived (full run %.2f s)\n", loop.kills, full);
  // How many runs a kill lands in depends on the machine's speed (a resumed
  // run has less left to do and may finish first); the first run, the whole
  // workload, is killed at <= 0.7 of its measured time.
  EXPECT_GE(loop.kills, 1) << "no run was interrupted";
  EXPECT_EQ(index_rows(db), expected);
  // A further run finds nothing to do, and the index searches like the whole one.
  r = cli("index" + args + db + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(last_json(r.output)["skipped"], 12);
  r = cli("search --db " + db + " 'a square' -k 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto whole = cli("search --db " + dir.file("whole") + " 'a square' -k 3 --json");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  auto a = last_json(r.output), b = last_json(whole.output);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["window"], b[i]["window"]);
    EXPECT_EQ(fs::path(a[i]["path"].get<std::string>()).filename(), fs::path(b[i]["path"].get<std::string>()).filename());
    EXPECT_DOUBLE_EQ(a[i]["score"].get<double>(), b[i]["score"].get<double>());
  }
  EXPECT_TRUE(temp_leftovers(db).empty());
}

TEST(KillResume, TrainingKilledAtRandomMomentsEndsWithAByteIdenticalCheckpoint) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  std::ofstream manifest(dir.file("m.jsonl"));
  for (int i = 0; i < 3; ++i)
    manifest << nlohmann::json{{"video", w.files[i]}, {"caption", "square " + std::to_string(i)}}.dump() << "\n";
  manifest.close();
  const int steps = 6;
  nlohmann::json config = {{"model_config", golden_dir("clip_tiny") + "/case.json"},
                           {"tokenizer", w.tokenizer}, {"data", dir.file("m.jsonl")}, {"num_frames", 4},
                           {"image_size", 24}, {"batch_size", 2}, {"steps", steps}, {"max_text_length", 8},
                           {"checkpoint_every", 1}, {"workers", 1}, {"dtype", "f32"}, {"seed", 9},
                           {"plot", false}, {"progress", false}};
  std::ofstream(dir.file("c.json")) << config.dump();
  const std::string train = "train stage1 --config " + dir.file("c.json") + " --threads 1 --out ";
  const auto start = Clock::now();
  auto r = cli(train + dir.file("straight"));
  const double full = seconds_since(start);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  char final_name[64];
  std::snprintf(final_name, sizeof(final_name), "/checkpoints/step_%08d", steps);
  const std::string expected = file_bytes(dir.file("straight") + final_name + "/model.npz");
  ASSERT_FALSE(expected.empty());

  const std::string run = dir.file("killed");
  const KillLoop loop = kill_until_done(
      cli_path() + " " + train + run + " --resume > " + dir.file("log") + " 2>&1",
      full, 4321);
  std::printf("kill -9 during train stage1: %d kills survived (full run %.2f s)\n", loop.kills, full);
  EXPECT_GE(loop.kills, 1) << "no run was interrupted";
  EXPECT_EQ(file_bytes(run + final_name + "/model.npz"), expected) << "final checkpoint differs from the straight run's";
  EXPECT_EQ(file_bytes(run + final_name + "/optimizer.npz"),
            file_bytes(dir.file("straight") + final_name + "/optimizer.npz"));
  EXPECT_EQ(read_jsonl(run + "/metrics.jsonl").size(), static_cast<size_t>(steps));
  EXPECT_TRUE(temp_leftovers(run).empty());
}

}  // namespace
}  // namespace videoprism::testing
