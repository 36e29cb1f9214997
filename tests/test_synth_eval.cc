// The synthetic Fashion-MNIST world (videoprism synth) and frozen-backbone
// evaluation (probes with controls, retrieval metrics, the eval CLI).
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "test_util.h"
#include "videoprism/apps/features.h"
#include "videoprism/apps/probe.h"
#include "videoprism/apps/retrieval.h"
#include "videoprism/apps/synth.h"
#include "videoprism/core/model.h"
#include "videoprism/train/manifest.h"
#include "videoprism/media/video_reader.h"

namespace videoprism {
namespace {

using testing::read_jsonl;

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist

bool have_fashion_mnist() {
  return std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz") ||
         std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte");
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A tiny encoder for 8 frames of 32x32 with 8x8 patches: tokens [N, 128, 64].
ModelConfig tiny_encoder_config() {
  ModelConfig config;
  config.kind = ModelKind::kEncoder;
  config.encoder.patch_size = 8;
  config.encoder.pos_emb_shape = {8, 4, 4};
  config.encoder.model_dim = 64;
  config.encoder.num_spatial_layers = 1;
  config.encoder.num_temporal_layers = 1;
  config.encoder.num_heads = 4;
  config.encoder.mlp_dim = 128;
  return config;
}

// One corpus shared by the tests below: 160 train, 80 test videos, 8 frames of 32x32.
class SynthWorld : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_fashion_mnist()) return;
    dir_ = new testing::TempDir();
    eval::SynthCorpusOptions options;
    options.mnist_dir = kFashionMnistDir;
    options.out_dir = dir_->path();
    options.train_videos = 160;
    options.test_videos = 80;
    options.seed = 3;
    options.video.num_frames = 8;
    options.video.size = 32;
    stats_ = eval::write_synth_corpus(options);
    std::printf("synth: %d train + %d test videos (8x32x32) in %.2f s\n", stats_.train_videos, stats_.test_videos,
                stats_.seconds);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  static std::string file(const std::string& name) { return dir_->file(name); }

  // Frozen tokens of a random-init tiny encoder for a manifest.
  static torch::Tensor tokens(const std::string& manifest, eval::FrameControl control, torch::Tensor* labels,
                              const std::string& task) {
    static Model* model = [] {
      auto* m = new Model(tiny_encoder_config());
      m->init_random(11);
      return m;
    }();
    const auto items = eval::read_labelled_manifest(file(manifest), task);
    std::vector<std::string> videos;
    std::vector<int64_t> y;
    for (const auto& item : items) videos.push_back(item.video), y.push_back(item.label);
    *labels = torch::tensor(y, torch::kInt64);
    eval::FeatureOptions options;
    options.clip.num_frames = 8;
    options.clip.size = 32;
    options.control = control;
    options.control_seed = 99;
    options.batch = 16;
    return eval::extract_features(*model, videos, "tokens", options);
  }

  static testing::TempDir* dir_;
  static eval::SynthCorpusStats stats_;
};
testing::TempDir* SynthWorld::dir_ = nullptr;
eval::SynthCorpusStats SynthWorld::stats_;

TEST_F(SynthWorld, WritesTheManifestsWithBalancedLabelsAndUniqueRetrievalCaptions) {
  EXPECT_EQ(stats_.train_videos, 160);
  EXPECT_EQ(stats_.test_videos, 80);
  const auto stage1 = read_jsonl(file("stage1.jsonl")), stage2 = read_jsonl(file("stage2.jsonl"));
  const auto train = read_jsonl(file("eval_train.jsonl")), test = read_jsonl(file("eval_test.jsonl"));
  const auto retrieval = read_jsonl(file("retrieval.jsonl"));
  ASSERT_EQ(stage1.size(), 160u);
  ASSERT_EQ(stage2.size(), 160u);
  ASSERT_EQ(train.size(), 160u);
  ASSERT_EQ(test.size(), 80u);
  EXPECT_GE(retrieval.size(), 70u);  // duplicates of a caption are left out
  std::set<std::string> captions;
  for (const auto& r : retrieval) EXPECT_TRUE(captions.insert(r["caption"].get<std::string>()).second) << r;
  int motion_words = 0;
  for (const auto& r : stage1) {
    EXPECT_TRUE(std::filesystem::exists(file(r["video"])));
    EXPECT_FALSE(stage2.empty() || r["caption"].get<std::string>().empty());
    const std::string c = r["caption"];
    motion_words += c.find("moving") != std::string::npos || c.find("drift") != std::string::npos;
  }
  std::printf("stage 1 captions with motion words: %d / 160; retrieval: %zu unique of 80\n", motion_words,
              retrieval.size());
  EXPECT_GT(motion_words, 16);
  EXPECT_LT(motion_words, 64);
  std::map<int, int> classes, directions, arrows, speeds;
  for (const auto& r : train) {
    ++classes[r["class"]], ++directions[r["direction"]], ++arrows[r["arrow"]], ++speeds[r["speed"]];
    EXPECT_EQ(r["class_name"], eval::kFashionClasses[r["class"].get<int>()]);
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(classes[c], 16);
  for (int d = 0; d < 8; ++d) EXPECT_EQ(directions[d], 20);
  EXPECT_EQ(arrows[0], 80);
  EXPECT_EQ(speeds[1], 80);
}

TEST_F(SynthWorld, IsDeterministicGivenTheSeed) {
  testing::TempDir a, b;
  for (const auto* dir : {&a, &b}) {
    eval::SynthCorpusOptions options;
    options.mnist_dir = kFashionMnistDir;
    options.out_dir = dir->path();
    options.train_videos = 6;
    options.test_videos = 4;
    options.seed = 5;
    options.video.num_frames = 6;
    options.video.size = 32;
    eval::write_synth_corpus(options);
  }
  for (const char* name : {"stage1.jsonl", "stage2.jsonl", "eval_train.jsonl", "eval_test.jsonl", "retrieval.jsonl"})
    EXPECT_EQ(slurp(a.file(name)), slurp(b.file(name))) << name;
  // Pixels (the Matroska container carries a random segment UID).
  const std::vector<int64_t> all{0, 1, 2, 3, 4, 5};
  for (const char* name : {"train/00003.mkv", "test/00002.mkv"})
    EXPECT_TRUE(torch::equal(read_frames_rgb(a.file(name), all), read_frames_rgb(b.file(name), all))) << name;
  EXPECT_FALSE(torch::equal(read_frames_rgb(a.file("train/00000.mkv"), {0}), read_frames_rgb(file("train/00000.mkv"), {0})));
}

TEST_F(SynthWorld, VideosDecodeAndTheItemMovesInTheLabelledDirection) {
  const auto train = read_jsonl(file("eval_train.jsonl"));
  int agree = 0, total = 0;
  for (const auto& r : train) {
    // One item, and far enough in 3 frames to see (slow reversed videos start at 0.4x speed).
    if (r["num_items"] != 1 || (r["arrow"] == 1 && r["speed"] == 0)) continue;
    const std::string path = file(r["video"]);
    ASSERT_EQ(probe_video(path).num_frames, 8);
    const torch::Tensor frames = read_frames_rgb(path, {0, 1, 2, 3}).to(torch::kFloat32).sum(3);  // [4, H, W]
    auto centroid = [&](int t) {
      const torch::Tensor m = frames[t];
      const torch::Tensor ys = torch::arange(m.size(0), torch::kFloat32).unsqueeze(1), xs = torch::arange(m.size(1), torch::kFloat32);
      const double total_mass = m.sum().item<double>();
      return std::pair{(m * xs).sum().item<double>() / total_mass, (m * ys).sum().item<double>() / total_mass};
    };
    const auto [x0, y0] = centroid(0);
    const auto [x1, y1] = centroid(3);
    const double angle = r["direction"].get<int>() * M_PI / 4;
    const double dx = x1 - x0, dy = y1 - y0, norm = std::hypot(dx, dy);
    ++total;
    if (norm > 0.3 && (dx * std::cos(angle) - dy * std::sin(angle)) / norm > 0.7) ++agree;
  }
  std::printf("centroid moves in the labelled direction (frames 0->3): %d / %d\n", agree, total);
  EXPECT_GE(agree, total * 4 / 5);
}

TEST_F(SynthWorld, ProbesReportMeanStdChanceAndClassBeatsChanceFromRandomFeatures) {
  torch::Tensor y_train, y_test;
  const torch::Tensor x_train = tokens("eval_train.jsonl", eval::FrameControl::kNone, &y_train, "class");
  const torch::Tensor x_test = tokens("eval_test.jsonl", eval::FrameControl::kNone, &y_test, "class");
  EXPECT_EQ(x_train.sizes(), (torch::IntArrayRef{160, 128, 64}));
  for (auto kind : {eval::ProbeKind::kLinear, eval::ProbeKind::kMap}) {
    eval::ProbeOptions options;
    options.kind = kind;
    options.num_classes = 10;
    options.epochs = kind == eval::ProbeKind::kMap ? 40 : 60;
    options.batch = 16;
    options.lr = kind == eval::ProbeKind::kMap ? 3e-3 : 1e-2;
    const auto r = eval::run_probe(x_train, y_train, x_test, y_test, options);
    std::printf("class probe (%s, random-init encoder): test %.3f +- %.3f over %zu seeds, train %.3f, chance %.3f\n",
                kind == eval::ProbeKind::kMap ? "map" : "linear", r.mean, r.std, r.test_accuracy.size(),
                r.train_accuracy[0], r.chance);
    EXPECT_EQ(r.test_accuracy.size(), 3u);
    EXPECT_NEAR(r.chance, 0.1, 1e-9);
    EXPECT_GE(r.std, 0.0);
    EXPECT_GT(r.mean, r.chance + 0.05);  // measured: linear 0.19, map 0.21 (80 test videos)
  }
}

TEST_F(SynthWorld, ShuffledTestFramesDoNotBeatTheUnshuffledDirectionProbe) {
  torch::Tensor y_train, y_test, y_shuffled;
  const torch::Tensor x_train = tokens("eval_train.jsonl", eval::FrameControl::kNone, &y_train, "direction");
  const torch::Tensor x_test = tokens("eval_test.jsonl", eval::FrameControl::kNone, &y_test, "direction");
  const torch::Tensor x_shuffled = tokens("eval_test.jsonl", eval::FrameControl::kShuffled, &y_shuffled, "direction");
  EXPECT_GT((x_test - x_shuffled).abs().max().item<double>(), 1e-3);  // the control changed the features
  eval::ProbeOptions options;
  options.kind = eval::ProbeKind::kLinear;
  options.num_classes = 8;
  options.epochs = 60;
  options.batch = 16;
  options.lr = 1e-2;
  const auto plain = eval::run_probe(x_train, y_train, x_test, y_test, options);
  const auto shuffled = eval::run_probe(x_train, y_train, x_shuffled, y_shuffled, options);
  std::printf("direction probe: unshuffled %.3f +- %.3f, shuffled %.3f +- %.3f, chance %.3f\n", plain.mean, plain.std,
              shuffled.mean, shuffled.std, shuffled.chance);
  // Shuffled frames still show the path's axis (not its sign), so the ceiling
  // for 8 directions is 0.5, not chance; a random encoder sits near chance.
  EXPECT_LE(shuffled.mean, plain.mean + 0.1);
  EXPECT_LT(shuffled.mean, 0.5);
}

TEST_F(SynthWorld, FrameControlsShuffleAndRepeat) {
  const torch::Tensor frames = torch::arange(6, torch::kFloat32).view({6, 1, 1, 1}).expand({6, 2, 2, 3}).contiguous();
  const torch::Tensor single = eval::apply_frame_control(frames, eval::FrameControl::kSingleFrame, 0);
  EXPECT_TRUE(torch::equal(single, torch::full({6, 2, 2, 3}, 3.0f)));
  const torch::Tensor shuffled = eval::apply_frame_control(frames, eval::FrameControl::kShuffled, 4);
  EXPECT_TRUE(torch::equal(std::get<0>(shuffled.flatten().sort()), std::get<0>(frames.flatten().sort())));
  EXPECT_FALSE(torch::equal(shuffled, frames));
  EXPECT_TRUE(torch::equal(shuffled, eval::apply_frame_control(frames, eval::FrameControl::kShuffled, 4)));
}

TEST_F(SynthWorld, CliWritesASynthCorpusAndAProbeResult) {
  testing::TempDir dir;
  auto synth = testing::run_command(testing::cli_path() + " synth --out " + dir.path() +
                                    " --videos 20 --test-videos 10 --frames 8 --size 32 --seed 2");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  Model model(tiny_encoder_config());
  model.init_random(1);
  model.save(dir.file("random.npz"));
  auto probe = testing::run_command(testing::cli_path() + " eval probe --checkpoint " + dir.file("random.npz") +
                                    " --data " + dir.file("eval_train.jsonl") + " --test " +
                                    dir.file("eval_test.jsonl") + " --task speed --seeds 2 --epochs 3 --kind map"
                                    " --control shuffled --out " + dir.file("speed.json"));
  ASSERT_EQ(probe.exit_code, 0) << probe.output;
  std::printf("%s", probe.output.c_str());
  const auto j = nlohmann::json::parse(slurp(dir.file("speed.json")));
  EXPECT_EQ(j["task"], "speed");
  EXPECT_EQ(j["seeds"], 2);
  EXPECT_EQ(j["control"], "shuffled");
  EXPECT_NEAR(j["chance"].get<double>(), 0.5, 0.21);
  EXPECT_TRUE(j.contains("mean") && j.contains("std"));
}

TEST_F(SynthWorld, StageManifestsParseAsTrainingManifests) {
  EXPECT_EQ(train::read_manifest(file("stage1.jsonl")).items.size(), 160u);
  const auto stage2 = train::read_manifest(file("stage2.jsonl"));
  ASSERT_EQ(stage2.items.size(), 160u);
  EXPECT_TRUE(stage2.items[0].caption.empty());
  EXPECT_TRUE(std::filesystem::exists(stage2.items[0].video));
}

TEST_F(SynthWorld, CliZeroShotAndRetrievalRunOnATinyVideoTextModel) {
  testing::TempDir dir;
  Model model(load_config_file(testing::golden_dir("clip_tiny") + "/case.json"));
  model.init_random(2);
  model.save(dir.file("clip.npz"));
  const std::string common = " --checkpoint " + dir.file("clip.npz") + " --tokenizer " + testing::shared_dir() +
                             "/assets/test_spm.model --frames 4 --size 24";
  auto zeroshot = testing::run_command(testing::cli_path() + " eval zeroshot" + common + " --data " +
                                       file("eval_test.jsonl") + " --task direction --templates simple --out " +
                                       dir.file("zs.json"));
  ASSERT_EQ(zeroshot.exit_code, 0) << zeroshot.output;
  const auto zs = nlohmann::json::parse(slurp(dir.file("zs.json")));
  EXPECT_NEAR(zs["chance"].get<double>(), 0.125, 1e-9);
  EXPECT_EQ(zs["labels"].size(), 8u);
  auto retrieval = testing::run_command(testing::cli_path() + " eval retrieval" + common + " --data " +
                                        file("retrieval.jsonl") + " --out " + dir.file("ret.json"));
  ASSERT_EQ(retrieval.exit_code, 0) << retrieval.output;
  std::printf("%s%s", zeroshot.output.c_str(), retrieval.output.c_str());
  const auto r = nlohmann::json::parse(slurp(dir.file("ret.json")));
  EXPECT_NEAR(r["text_to_video"]["chance_at_1"].get<double>(), 1.0 / 80, 1e-9);
  EXPECT_TRUE(r["video_to_text"].contains("median_rank"));
}

TEST(Retrieval, PerfectSimilarityGivesRecallOneAndChanceIsReported) {
  const auto m = eval::retrieval_metrics(torch::eye(20) + 0.01 * torch::rand({20, 20}));
  EXPECT_EQ(m.recall_at_1, 1.0);
  EXPECT_EQ(m.median_rank, 1.0);
  EXPECT_NEAR(m.chance_at_1, 0.05, 1e-12);
  EXPECT_NEAR(m.chance_at_10, 0.5, 1e-12);
  const torch::Tensor e = torch::nn::functional::normalize(torch::randn({12, 8}),
                                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto both = eval::evaluate_retrieval(e, e);
  EXPECT_EQ(both.text_to_video.recall_at_1, 1.0);
  EXPECT_EQ(both.video_to_text.recall_at_5, 1.0);
  // Reversed order: the truth always ranks last.
  const auto worst = eval::retrieval_metrics(-torch::eye(10));
  EXPECT_EQ(worst.recall_at_1, 0.0);
  EXPECT_EQ(worst.median_rank, 10.0);
  EXPECT_EQ(worst.recall_at_10, 1.0);
  EXPECT_NEAR(eval::zero_shot_accuracy(torch::eye(3), torch::eye(3), torch::tensor({0, 1, 1})), 2.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace videoprism
