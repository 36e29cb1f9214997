// Regression tests for the hostile inputs of issue 14 that crashed, leaked or
// answered wrongly: each is now a one-line error naming the file, key or
// argument, exit code 1, and nothing written. (Damaged index state is in
// test_index_repair.cc, full disks in test_fault_injection.cc, kill -9 in
// test_kill_resume.cc.)
#include <dirent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "hostile_fixtures.h"
#include "videoprism/core/error.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/limits.h"
#include "videoprism/core/npz.h"
#include "videoprism/train/manifest.h"
#include "videoprism/media/video_reader.h"

namespace videoprism::testing {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---- Crashes -------------------------------------------------------------

TEST(HostileCheckpoint, ZeroDimArrayAtADetectionKeyIsAnError) {
  TempDir dir;
  const std::string ckpt = dir.file("scalar.npz");
  save_npz(ckpt, {{"params/patch_projection/linear/kernel", torch::tensor(1.0f)}});  // 0-d
  EXPECT_TRUE(fails_cleanly(cli("info " + ckpt), "expected rank 2"));
  EXPECT_TRUE(fails_cleanly(cli("embed --checkpoint " + ckpt + " --out " + dir.file("o.npz") + " " +
                                hostile_world().files[0]),
                            "expected rank 2"));
  EXPECT_TRUE(fails_cleanly(cli("index --checkpoint " + ckpt + " --db " + dir.file("db") + " " + hostile_world().videos),
                            "expected rank 2"));
  EXPECT_FALSE(fs::exists(dir.file("o.npz")));
}

TEST(HostileCheckpoint, OneDimPatchKernelAndBadStackRanksAreErrors) {
  TempDir dir;
  // The real tiny checkpoint with one detection array's rank changed.
  auto arrays = load_npz(hostile_world().checkpoint);
  for (const std::string key : {"params/vision_encoder/patch_projection/linear/kernel",
                                "params/vision_encoder/spatial_encoder/transformers_stack/x_layers/self_attention/query/w",
                                "params/text_encoder/token_emb/emb_var"}) {
    if (!arrays.count(key)) continue;  // the tiny config may not scan its layers
    std::vector<std::pair<std::string, torch::Tensor>> bad;
    for (const auto& [k, v] : arrays) bad.emplace_back(k, k == key ? v.flatten() : v);
    const std::string ckpt = dir.file("bad.npz");
    save_npz(ckpt, bad);
    auto r = cli("info " + ckpt);
    EXPECT_TRUE(fails_cleanly(r, key)) << key;
    EXPECT_TRUE(fails_cleanly(r, "expected rank")) << key;
  }
}

TEST(HostileInputs, ZeroFramesIsAnErrorNotADivisionByZero) {
  TempDir dir;
  const std::string inputs = dir.file("in.npz"), out = dir.file("out.npz");
  save_npz(inputs, {{"inputs", torch::zeros({2, 0, 24, 24, 3})}});
  EXPECT_TRUE(fails_cleanly(cli("forward --checkpoint " + hostile_world().checkpoint + " --inputs " + inputs +
                                " --out " + out),
                            "B, T, H, W > 0"));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fails_cleanly(cli("bench --frames 0 --dtype f32"), "--frames: expected 1..1024, got 0"));
  EXPECT_TRUE(fails_cleanly(cli("bench --iterations 0 --dtype f32"), "--iterations: expected 1..1000000, got 0"));
}

// ---- Resource leaks and limits ---------------------------------------------

int open_fds() {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) (void)e, ++n;
  return n;
}

// A valid 0.1 s mono WAV: a media file FFmpeg opens that has no video stream.
void write_wav(const std::string& path) {
  const uint32_t rate = 8000, samples = 800, data = samples * 2;
  std::ofstream out(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  out << "RIFF";
  u32(36 + data);
  out << "WAVEfmt ";
  u32(16), u16(1), u16(1), u32(rate), u32(rate * 2), u16(2), u16(16);
  out << "data";
  u32(data);
  out << std::string(data, '\0');
}

TEST(HostileVideo, UnreadableVideosLeakNoFileDescriptors) {
  TempDir dir;
  const std::string wav = dir.file("audio_only.mp4");
  write_wav(wav);
  EXPECT_NE(error_of([&] { probe_video(wav); }).find("no video stream"), std::string::npos);
  const int before = open_fds();
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(error_of([&] { probe_video(wav); }).empty());
    EXPECT_FALSE(error_of([&] { read_clips(wav, ClipOptions{}); }).empty());
  }
  EXPECT_EQ(open_fds(), before) << "file descriptors leaked by failed opens";
}

TEST(HostileNpz, DecompressedSizeIsCappedAndOverridable) {
  TempDir dir;
  const std::string bomb = dir.file("bomb.npz"), out = dir.file("out.npz");
  // 8 MB of zeros deflates to a few kilobytes.
  save_npz(bomb, {{"inputs", torch::zeros({8 << 20}, torch::kUInt8)}}, /*compress=*/true);
  EXPECT_LT(fs::file_size(bomb), 100000u);
  const std::string forward = "forward --checkpoint " + hostile_world().checkpoint + " --inputs " + bomb + " --out " + out;
  auto r = run_command("VIDEOPRISM_NPZ_MAX_BYTES=1M " + cli_path() + " " + forward);
  EXPECT_TRUE(fails_cleanly(r, "more than the limit of 1048576 bytes (set VIDEOPRISM_NPZ_MAX_BYTES"));
  EXPECT_TRUE(fails_cleanly(r, "bomb.npz"));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fails_cleanly(run_command("VIDEOPRISM_NPZ_MAX_BYTES=lots " + cli_path() + " " + forward),
                            "VIDEOPRISM_NPZ_MAX_BYTES: expected"));
  // Raised, the same file is read (and then rejected as a video for its shape, not its size).
  r = run_command("VIDEOPRISM_NPZ_MAX_BYTES=64M " + cli_path() + " " + forward);
  EXPECT_EQ(r.output.find("more than the limit"), std::string::npos) << r.output;
}

TEST(HostileNpz, DeclaredSizeBeyondDeflateRatioIsRejectedBeforeInflating) {
  TempDir dir;
  const std::string path = dir.file("liar.npz");
  save_npz(path, {{"a", torch::zeros({1 << 20}, torch::kUInt8)}}, /*compress=*/true);
  std::string bytes = file_bytes(path);
  // Declare 4 GB uncompressed in the local header and the central directory.
  const uint32_t lie = 0xFFFFFFF0u;
  auto patch = [&](size_t at) { std::memcpy(&bytes[at], &lie, 4); };
  ASSERT_EQ(bytes.compare(0, 4, "PK\x03\x04"), 0);
  patch(22);
  const size_t central = bytes.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  patch(central + 24);
  std::ofstream(path, std::ios::binary) << bytes;
  const std::string e = error_of([&] { NpzReader reader(path); });
  EXPECT_NE(e.find("more than deflate can expand"), std::string::npos) << e;
  EXPECT_NE(e.find("liar.npz"), std::string::npos) << e;
}

TEST(HostileNpy, HeaderSizeIsCheckedAgainstTheFileBeforeAllocating) {
  TempDir dir;
  const std::string path = dir.file("huge.npy");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }";
  header.append(118 - header.size(), ' ').push_back('\n');
  std::ofstream(path, std::ios::binary) << std::string("\x93NUMPY\x01\x00", 8) << char(header.size()) << char(0)
                                        << header << std::string(16, '\0');
  const std::string e = error_of([&] { load_npy(path); });
  EXPECT_NE(e.find("huge.npy"), std::string::npos) << e;
  EXPECT_NE(e.find("more than the limit of"), std::string::npos) << e;
  // Within the cap, the header's size is compared with the file's.
  header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }";
  header.append(118 - header.size(), ' ').push_back('\n');
  std::ofstream(path, std::ios::binary) << std::string("\x93NUMPY\x01\x00", 8) << char(header.size()) << char(0)
                                        << header << std::string(16, '\0');
  const std::string e2 = error_of([&] { load_npy(path); });
  EXPECT_NE(e2.find("expected 4000000 data bytes for <f4 [1000,1000], got 16 (truncated?)"), std::string::npos) << e2;
}

TEST(HostileLimits, LargeNumbersStopBeforeAllocatorsAndThreadPools) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  EXPECT_TRUE(fails_cleanly(cli("tokenize --tokenizer " + w.tokenizer + " --max-length 2000000000 hello"),
                            "max_length (--max-length): expected 1..4096, got 2000000000"));
  EXPECT_TRUE(fails_cleanly(cli("frames " + w.files[0] + " --threads 5000 --out " + dir.file("f.npy")),
                            "threads (--threads): expected 0 (default) .. "));
  EXPECT_TRUE(fails_cleanly(cli("frames " + w.files[0] + " --frames 100000 --out " + dir.file("f.npy")),
                            "--frames): expected 1..1024, got 100000"));
  EXPECT_TRUE(fails_cleanly(cli("frames " + w.files[0] + " --size 100000 --out " + dir.file("f.npy")),
                            "--size): expected 1..4096, got 100000"));
  EXPECT_TRUE(fails_cleanly(cli("embed" + tiny_args() + "--threads 5000 --out " + dir.file("e.npz") + " " + w.files[0]),
                            "--threads: expected 0 (default) .. "));
  EXPECT_TRUE(fails_cleanly(cli("embed" + tiny_args() + "--windows 100000 --out " + dir.file("e.npz") + " " + w.files[0]),
                            "--windows: expected 1..4096, got 100000"));
  EXPECT_FALSE(fs::exists(dir.file("f.npy")));
  EXPECT_FALSE(fs::exists(dir.file("e.npz")));
}

// ---- Silent wrong answers ----------------------------------------------------

TEST(HostileArguments, ZeroAndNegativeClipShapesAreErrorsNotDefaults) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  const std::string ckpt = " --checkpoint " + w.checkpoint + " ";
  for (const std::string flag : {"--frames", "--size"}) {
    for (const std::string value : {"0", "-3"}) {
      const std::string bad = " " + flag + " " + value + " ";
      const std::string want = flag + ": expected 1..";
      EXPECT_TRUE(fails_cleanly(cli("embed" + ckpt + bad + "--out " + dir.file("e.npz") + " " + w.files[0]), want));
      EXPECT_TRUE(fails_cleanly(cli("classify" + ckpt + bad + "--tokenizer " + w.tokenizer + " --labels a,b " + w.files[0]),
                                want));
      EXPECT_TRUE(fails_cleanly(cli("index" + ckpt + bad + "--db " + dir.file("db") + " " + w.videos), want));
    }
  }
  EXPECT_FALSE(fs::exists(dir.file("e.npz")));
  EXPECT_FALSE(fs::exists(dir.file("db")));
}

TEST(HostileConfig, IntegersThatDoNotFitAreErrorsNotWrapped) {
  TempDir dir;
  nlohmann::json base;
  std::ifstream(golden_dir("clip_tiny") + "/case.json") >> base;
  nlohmann::json config = base.contains("config") ? base["config"] : base;
  struct Case { std::string key; nlohmann::json value; };
  for (const Case& c : {Case{"model_dim", 4294967344ULL}, Case{"vocabulary_size", (1ULL << 32) + 1000},
                        Case{"num_heads", -4294967295LL}, Case{"mlp_dim", 1e30}, Case{"patch_size", 2.5}}) {
    nlohmann::json bad = config;
    bad[c.key] = c.value;
    const std::string path = dir.file(c.key + ".json"), out = dir.file(c.key + ".npz");
    std::ofstream(path) << bad.dump();
    EXPECT_TRUE(fails_cleanly(cli("init --config " + path + " --out " + out),
                              "config key '" + c.key + "': expected an integer in [-2147483648, 2147483647], got"))
        << c.key;
    EXPECT_FALSE(fs::exists(out));
  }
  nlohmann::json bad = config;
  bad["pos_emb_shape"] = {4, 4294967300ULL, 4};
  std::ofstream(dir.file("pos.json")) << bad.dump();
  EXPECT_TRUE(fails_cleanly(cli("init --config " + dir.file("pos.json") + " --out " + dir.file("pos.npz")),
                            "config key 'pos_emb_shape': expected an integer"));
}

TEST(HostileConfig, TrainingConfigValuesAreRangeChecked) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  std::ofstream(dir.file("m.jsonl")) << nlohmann::json{{"video", w.files[0]}, {"caption", "a square"}}.dump() << "\n";
  nlohmann::json base = {{"model_config", golden_dir("clip_tiny") + "/case.json"},
                         {"tokenizer", w.tokenizer},
                         {"data", dir.file("m.jsonl")},
                         {"num_frames", 4},
                         {"image_size", 24},
                         {"batch_size", 1},
                         {"steps", 1}};
  struct Case { std::string key; nlohmann::json value; std::string want; };
  for (const Case& c : {Case{"scale_jitter", 1e9, "scale_jitter: expected 0 <= scale_jitter"},
                        Case{"steps", 1e30, "stage1 config key 'steps': expected an integer"},
                        Case{"batch_size", 4294967297ULL, "batch_size: expected 1..1048576"},
                        Case{"grad_accum", 4294967297ULL, "stage1 config key 'grad_accum': expected an integer"},
                        Case{"workers", 100000, "workers: expected 0..256"},
                        Case{"num_frames", 100000, "num_frames: expected 1..1024"}}) {
    nlohmann::json bad = base;
    bad[c.key] = c.value;
    std::ofstream(dir.file("c.json")) << bad.dump();
    EXPECT_TRUE(fails_cleanly(cli("train stage1 --config " + dir.file("c.json") + " --out " + dir.file("run")), c.want))
        << c.key;
  }
  // Manifest times that would overflow a frame index.
  std::ofstream(dir.file("t.jsonl")) << nlohmann::json{{"video", w.files[0]}, {"start", 1e300}}.dump() << "\n";
  const std::string e = error_of([&] { train::read_manifest(dir.file("t.jsonl")); });
  EXPECT_NE(e.find("\"start\" must be seconds in [0, 1e9]"), std::string::npos) << e;
}

TEST(HostileArguments, ClassifyTemperatureZeroIsAnError) {
  HostileWorld& w = hostile_world();
  for (const std::string t : {"0", "-1", "nan"}) {
    EXPECT_TRUE(fails_cleanly(cli("classify" + tiny_args() + "--tokenizer " + w.tokenizer + " --labels a,b --temperature " +
                                  t + " " + w.files[0]),
                              "--temperature: expected a finite value > 0"))
        << t;
  }
}

TEST(HostileArguments, BogusVectorIndexIsRejectedBeforeAnythingIsWritten) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  const std::string db = dir.file("db");
  ASSERT_EQ(cli("index" + tiny_args() + "--db " + db + " " + w.videos).exit_code, 0);
  const std::string before = file_bytes(db + "/index.sqlite");
  EXPECT_TRUE(fails_cleanly(cli("index" + tiny_args() + "--vector-index bogus --db " + db + " " + w.videos),
                            "--vector-index: expected flat, hnsw or ivf, got 'bogus'"));
  EXPECT_TRUE(fails_cleanly(cli("index" + tiny_args() + "--vector-index bogus --db " + dir.file("new") + " " + w.videos),
                            "--vector-index"));
  EXPECT_FALSE(fs::exists(dir.file("new")));
  EXPECT_EQ(file_bytes(db + "/index.sqlite"), before);
  auto r = cli("search --db " + db + " --like " + w.files[0] + " -k 1 --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(HostileCheckpoint, NanWeightsGiveNoStoredEmbeddings) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (const auto& [k, v] : load_npz(w.checkpoint))
    arrays.emplace_back(k, k.find("patch_projection/linear/bias") != std::string::npos ? torch::full_like(v, NAN) : v);
  const std::string ckpt = dir.file("nan.npz");
  save_npz(ckpt, arrays);
  const std::string nan_args = " --checkpoint " + ckpt + " --frames 4 --size 24 ";
  auto r = cli("embed" + nan_args + "--out " + dir.file("e.npz") + " " + w.files[0]);
  EXPECT_TRUE(fails_cleanly(r, "no video could be read")) << r.output;
  EXPECT_NE(r.output.find("non-finite (NaN or infinite) embedding; not stored"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir.file("e.npz")));
  r = cli("index" + nan_args + "--db " + dir.file("db") + " " + w.videos + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("non-finite"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"embedded\":0"), std::string::npos) << r.output;
}

// ---- Non-UTF-8 file names ------------------------------------------------------

TEST(HostileNames, NonUtf8FileNamesKeepJsonOutputWhole) {
  HostileWorld& w = hostile_world();
  TempDir dir;
  const std::string videos = dir.file("videos");
  fs::create_directories(videos);
  const std::string odd = videos + "/caf\xe9-\xff.mkv";  // Latin-1 bytes, not UTF-8
  fs::copy_file(w.files[0], odd);
  fs::copy_file(w.files[1], videos + "/plain.mkv");
  const std::string q = "'" + odd + "'";

  auto r = cli("index" + tiny_args() + "--tokenizer " + w.tokenizer + " --db " + dir.file("db") + " " + videos);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = cli("search --db " + dir.file("db") + " 'a square' -k 5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto hits = last_json(r.output);
  ASSERT_EQ(hits.size(), 2u);
  int with_hex = 0;
  for (const auto& h : hits) {
    if (!h.contains("path_hex")) continue;
    ++with_hex;
    EXPECT_NE(h["path"].get<std::string>().find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
    std::string raw;
    const std::string hex = h["path_hex"];
    for (size_t i = 0; i < hex.size(); i += 2) raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    EXPECT_EQ(raw, fs::weakly_canonical(odd).string());
  }
  EXPECT_EQ(with_hex, 1);

  r = cli("classify" + tiny_args() + "--tokenizer " + w.tokenizer + " --labels a,b --json " + q + " " + videos +
          "/plain.mkv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int lines = 0;
  for (const auto& line : split_output_lines(r.output))
    if (!line.empty() && line[0] == '{') {
      EXPECT_NO_THROW(nlohmann::json::parse(line)) << line;
      ++lines;
    }
  EXPECT_EQ(lines, 2);

  r = cli("frames " + q + " --frames 4 --size 24 --out " + dir.file("f.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(last_json(r.output).contains("video"));

  const std::string jsonl = dir.file("e.jsonl");
  r = cli("embed" + tiny_args() + "--out " + jsonl + " " + q + " " + videos + "/plain.mkv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_jsonl(jsonl).size(), 2u);
  EXPECT_TRUE(temp_leftovers(dir.path()).empty());
}

TEST(JsonOutput, Utf8ValidatorAcceptsTextAndRejectsBytes) {
  EXPECT_TRUE(is_valid_utf8("plain, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x8e\xa5"));
  for (const std::string bad : {"\xff", "caf\xe9", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"})
    EXPECT_FALSE(is_valid_utf8(bad)) << nlohmann::json(bad).dump(-1, ' ', false, kJsonReplace);
}

}  // namespace
}  // namespace videoprism::testing
