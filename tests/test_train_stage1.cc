// Stage-1 training: loss and gradients, token dropping, learning on
// generated captioned videos, checkpoints, exact resume, two Gloo processes
// against one, and bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "models/model_modules.h"
#include "test_util.h"
#include "train_test_data.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"
#include "videoprism/media/tokenizer.h"
#include "train_step/contrastive_loss.h"
#include "videoprism/train/manifest.h"
#include "train_step/stage1_forward.h"
#include "videoprism/train/stage1.h"
#include "videoprism/media/video_reader.h"
#include "videoprism/media/video_writer.h"

namespace videoprism {
namespace {

using testing::TempDir;
using testing::read_jsonl;
using testing::max_param_diff;
using testing::free_port;
using namespace videoprism::train;

std::string spm_path() { return testing::shared_dir() + "/assets/test_spm.model"; }
ModelConfig tiny_config() { return load_config_file(testing::golden_dir("clip_tiny") + "/case.json"); }

using testing::kSize;
using testing::write_dataset;

Stage1Config tiny_train_config(const std::vector<std::string>& data) {
  Stage1Config c;
  c.model_config = tiny_config();
  c.tokenizer = spm_path();
  c.max_text_length = 16;
  c.data = data;
  c.data_options.num_frames = 4;
  c.data_options.image_size = kSize;
  c.data_options.workers = 2;
  c.batch_size = 8;
  c.steps = 6;
  c.lr = 1e-3;
  c.warmup_steps = 2;
  c.dtype = "f32";
  c.checkpoint_every = 1000;
  c.plot = false;
  c.seed = 3;
  return c;
}

// ---- Config ------------------------------------------------------------------

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Stage1Config, DeviceRoundTripsThroughJsonAndABadOneIsNamed) {
  Stage1Config c = tiny_train_config({"unused.jsonl"});
  EXPECT_EQ(c.device, "cpu");
  EXPECT_EQ(to_json(c)["device"], "cpu");
  c.device = "cuda:1";
  const Stage1Config back = stage1_config_from_json(to_json(c));
  EXPECT_EQ(back.device, "cuda:1");
  EXPECT_EQ(to_json(back), to_json(c));
  nlohmann::json older = to_json(c);  // a run recorded before the key existed trains on the CPU
  older.erase("device");
  EXPECT_EQ(stage1_config_from_json(older).device, "cpu");

  c.device = "cpu";
  EXPECT_NO_THROW(c.validate());
  c.device = "gpu";
  std::string message = error_of([&] { c.validate(); });
  std::printf("bad device: %s\n", message.c_str());
  EXPECT_NE(message.find("\"device\""), std::string::npos) << message;
  EXPECT_NE(message.find("\"gpu\""), std::string::npos) << message;
  if (!torch::cuda::is_available()) {
    c.device = "cuda";
    message = error_of([&] { c.validate(); });
    std::printf("no CUDA: %s\n", message.c_str());
    EXPECT_NE(message.find("\"cuda\""), std::string::npos) << message;
    EXPECT_NE(message.find("is_available"), std::string::npos) << message;
  }
}

// ---- Loss and gradients ----------------------------------------------------

TEST(ContrastiveLoss, MatchesDirectComputationAndGradients) {
  torch::manual_seed(0);
  const int64_t n = 5, d = 8;
  torch::Tensor video = l2_normalize(torch::randn({n, d})).requires_grad_(true);
  torch::Tensor text = l2_normalize(torch::randn({n, d})).requires_grad_(true);
  torch::Tensor log_scale = torch::full({}, std::log(10.0)).requires_grad_(true);
  torch::Tensor loss = contrastive_loss(video, text, log_scale);
  loss.backward();

  // Direct: double loops over the similarity matrix.
  auto v = video.detach().to(torch::kFloat64), t = text.detach().to(torch::kFloat64);
  auto sim = torch::matmul(v, t.t()) * 10.0;  // [N, N]
  double direct = 0;
  for (int64_t i = 0; i < n; ++i) {
    double row = 0, col = 0;
    for (int64_t j = 0; j < n; ++j) {
      row += std::exp(sim[i][j].item<double>());
      col += std::exp(sim[j][i].item<double>());
    }
    direct += 0.5 * (std::log(row) - sim[i][i].item<double>()) + 0.5 * (std::log(col) - sim[i][i].item<double>());
  }
  direct /= n;
  EXPECT_NEAR(loss.item<double>(), direct, 1e-5);
  // Analytic gradient: dL/dS = (softmax_rows(S) + softmax_cols(S) - 2I) / (2N), S = s V T^T.
  auto eye = torch::eye(n, torch::kFloat64);
  auto g_sim = (torch::softmax(sim, 1) + torch::softmax(sim, 0) - 2 * eye) / (2.0 * n);
  auto g_video = torch::matmul(g_sim, t) * 10.0;
  auto g_text = torch::matmul(g_sim.t(), v) * 10.0;
  auto g_log_scale = (g_sim * sim).sum().item<double>();
  const double e1 = testing::max_abs_diff(video.grad(), g_video), e2 = testing::max_abs_diff(text.grad(), g_text);
  std::printf("loss %.6f direct %.6f | grad err video %.2e text %.2e scale %.2e\n", loss.item<double>(), direct, e1,
              e2, std::abs(log_scale.grad().item<double>() - g_log_scale));
  EXPECT_LT(e1, 1e-5);
  EXPECT_LT(e2, 1e-5);
  EXPECT_NEAR(log_scale.grad().item<double>(), g_log_scale, 1e-5);
  // Finite differences (central, float64 copies through the float32 function).
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; j += 3) {
      const float h = 1e-2f;
      torch::Tensor plus = video.detach().clone(), minus = video.detach().clone();
      plus[i][j] += h;
      minus[i][j] -= h;
      const double fd = (contrastive_loss(plus, text.detach(), log_scale.detach()).item<double>() -
                         contrastive_loss(minus, text.detach(), log_scale.detach()).item<double>()) / (2 * h);
      worst = std::max(worst, std::abs(fd - video.grad()[i][j].item<double>()));
    }
  std::printf("finite-difference max error %.2e\n", worst);
  EXPECT_LT(worst, 2e-3);
}

TEST(TokenDrop, KeepAllEqualsFullEncoderAndGatheredPositions) {
  Model model(tiny_config());
  model.init_random(1);
  FactorizedVideoCLIPImpl* clip = &video_clip_module(model, "test");
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  torch::Tensor video = torch::rand({2, 4, 24, 24, 3});
  torch::Tensor patches = image_to_patch(video, 6);  // [8, 16, 108]
  auto full = clip->vision_encoder->encode_with_patches(patches, 4, 24, 24);
  torch::Tensor all = torch::arange(16, torch::kLong).unsqueeze(0).expand({2, 16}).contiguous();
  auto kept = clip->vision_encoder->encode_kept_patches(patches, all, 4, 24, 24);
  EXPECT_LT(testing::max_abs_diff(full.embeddings, kept.embeddings), 1e-6);
  // Keep indices: sorted, distinct, half of the grid, differ between clips.
  torch::Tensor keep = sample_tube_keep_indices(3, 16, 0.5, 7);
  ASSERT_EQ(keep.size(1), 8);
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t k = 1; k < 8; ++k) EXPECT_LT(keep[b][k - 1].item<int64_t>(), keep[b][k].item<int64_t>());
  EXPECT_FALSE(keep[0].equal(keep[1]));
}

TEST(Stage1Gradient, EveryTrainableParameterGetsAFiniteNonZeroGradient) {
  Model model(tiny_config());
  model.init_random(2);
  for (auto& [key, p] : model.named_arrays()) p.set_requires_grad(true);
  torch::manual_seed(2);
  torch::Tensor video = torch::rand({4, 4, 24, 24, 3});
  torch::Tensor ids = torch::randint(1, 1000, {4, 6}, torch::kInt);
  torch::Tensor paddings = torch::zeros({4, 6});
  paddings.slice(1, 4).fill_(1.0);
  torch::Tensor log_scale = torch::full({}, std::log(1 / 0.07)).requires_grad_(true);
  auto emb = stage1_embed(model, video, torch::zeros({4, 4}), sample_tube_keep_indices(4, 16, 0.5, 1), ids, paddings,
                          torch::kFloat32);
  contrastive_loss(emb.video, emb.text, log_scale).backward();
  int checked = 0;
  for (auto& [key, p] : model.named_arrays()) {
    ASSERT_TRUE(p.grad().defined()) << key;
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << key;
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << key;
    ++checked;
  }
  EXPECT_NE(log_scale.grad().item<double>(), 0.0);
  std::printf("%d parameters with finite non-zero gradients\n", checked);
}

// ---- Bad input -------------------------------------------------------------

TEST(Manifest, MalformedLineIsAnErrorNamingTheLine) {
  TempDir dir;
  std::ofstream(dir.file("m.jsonl")) << "{\"video\": \"a.mkv\", \"caption\": \"x\"}\n\n{\"video\": 3}\n";
  try {
    read_manifest(dir.file("m.jsonl"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("m.jsonl:3"), std::string::npos) << e.what();
  }
  std::ofstream(dir.file("bad.jsonl")) << "{not json\n";
  EXPECT_THROW(read_manifest(dir.file("bad.jsonl")), Error);
}

TEST(Stage1Data, MissingAndUndecodableVideosAreSkippedAndCounted) {
  TempDir dir;
  std::string manifest = write_dataset(dir.path(), 1, 5, "train");
  std::ofstream(dir.file("garbage.mp4")) << "this is not a video";
  {
    std::ofstream out(manifest, std::ios::app);
    out << "{\"video\": \"missing.mkv\", \"caption\": \"gone\"}\n";
    out << "{\"video\": \"garbage.mp4\", \"caption\": \"broken\"}\n";
  }
  Stage1Config config = tiny_train_config({manifest});
  config.steps = 1;
  Stage1Trainer trainer(config, dir.file("run"), false);
  EXPECT_EQ(trainer.skipped_items(), 2);
  trainer.run();
  EXPECT_EQ(trainer.step(), 1);

  // Nothing usable: an error.
  std::ofstream(dir.file("none.jsonl")) << "{\"video\": \"missing.mkv\", \"caption\": \"gone\"}\n";
  config.data = {dir.file("none.jsonl")};
  try {
    Stage1Trainer failing(config, dir.file("run2"), false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no usable items"), std::string::npos) << e.what();
  }
}

// ---- Learning, checkpoints, resume ------------------------------------------

TEST(Stage1Training, TinyModelLearnsCaptionedMovingShapes) {
  TempDir dir;
  std::string train = write_dataset(dir.path(), 3, 11, "train");
  write_dataset(dir.path(), 1, 99, "test");
  Stage1Config config = tiny_train_config({train});
  config.batch_size = 16;
  config.steps = 200;
  config.warmup_steps = 10;
  config.lr = 2e-3;
  // The 6x6 square covers one to four of the 16 patches: dropping half of
  // them often hides it in every frame, so this small world drops a quarter.
  config.token_drop = 0.25;
  config.adamw.weight_decay = 1e-4;
  config.checkpoint_every = 100;
  config.plot = true;
  // VP_LEARNING_SEED=N: the same run from another training seed, to measure
  // the spread that the thresholds below are set from (docs/testing.md).
  if (const char* seed = std::getenv("VP_LEARNING_SEED")) config.seed = std::stoull(seed);
  std::printf("training seed %llu\n", static_cast<unsigned long long>(config.seed));
  const auto start = std::chrono::steady_clock::now();
  Stage1Trainer trainer(config, dir.file("run"), false);
  auto steps = trainer.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(steps.size(), 200u);
  double first = 0, last = 0, rate = 0;
  for (int i = 0; i < 10; ++i) first += steps[i].loss / 10;
  for (int i = 190; i < 200; ++i) last += steps[i].loss / 10;
  for (const auto& s : steps) rate += s.clips_per_s / steps.size();
  std::printf("loss first10 %.3f -> last10 %.3f (log 16 = %.3f); %.1f clips/s; %.1f s total; T=%.4f\n", first, last,
              std::log(16.0), rate, seconds, steps.back().temperature);
  EXPECT_LT(last, first - 0.5);

  // Held-out zero-shot classification: kHeldOutPerClass new videos per class,
  // each matched against the 16 class captions; colour and direction scored
  // separately (chance 1/4 each). What 200 steps of this tiny run learn on
  // every CPU is colour, appearance named by the captions: measured 1.000 with
  // the ISA capped to AVX2 (as a Zen 3 computes), while direction stays near
  // chance there (0.281). The old check, text-to-video R@1 >= 0.25 over 16
  // clips, was that same colour-level bar on 16 items, where one item is
  // 0.0625 and a Zen 3 read 0.1875. Over 128 clips, colour accuracy 0.6 is 9
  // standard errors above chance and far below what learning gives; direction
  // is printed, not asserted (docs/testing.md).
  constexpr int kHeldOutPerClass = 8;
  write_dataset(dir.path(), kHeldOutPerClass, 99, "test");
  Manifest test = read_manifest(dir.file("test.jsonl"));
  ASSERT_EQ(test.items.size(), 16u * kHeldOutPerClass);
  Tokenizer tokenizer(spm_path());
  std::vector<std::string> class_captions;
  for (int color = 0; color < 4; ++color)
    for (int direction = 0; direction < 4; ++direction) class_captions.push_back(testing::caption(color, direction));
  std::vector<torch::Tensor> videos;
  std::vector<int64_t> labels;  // class index color * 4 + direction
  for (const auto& item : test.items) {
    ClipOptions options;
    options.num_frames = 4;
    options.size = kSize;
    videos.push_back(read_clips(item.video, options)[0].frames);
    const auto found = std::find(class_captions.begin(), class_captions.end(), item.caption);
    ASSERT_NE(found, class_captions.end()) << item.caption;
    labels.push_back(found - class_captions.begin());
  }
  TokenizedBatch text = tokenizer.tokenize(class_captions, 16);
  torch::NoGradGuard no_grad;
  torch::Tensor video_batch = torch::stack(videos);                           // [128, 4, 24, 24, 3]
  torch::Tensor text_ids = text.ids.repeat({kHeldOutPerClass, 1});             // [128, L]: the video batch size
  torch::Tensor text_paddings = text.paddings.repeat({kHeldOutPerClass, 1});  // [128, L]
  auto emb = stage1_embed(trainer.model(), video_batch, {}, {}, text_ids, text_paddings, torch::kFloat32);
  torch::Tensor predicted = torch::matmul(emb.video, emb.text.slice(0, 0, 16).t()).argmax(1);  // [128]
  int class_hits = 0, color_hits = 0, direction_hits = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t p = predicted[i].item<int64_t>(), y = labels[i];
    class_hits += p == y;
    color_hits += p / 4 == y / 4;
    direction_hits += p % 4 == y % 4;
  }
  const double n = static_cast<double>(labels.size());
  std::printf("held-out zero-shot over %d clips: class %.3f (chance 0.062), colour %.3f, direction %.3f (chance 0.25)\n",
              static_cast<int>(labels.size()), class_hits / n, color_hits / n, direction_hits / n);
  EXPECT_GE(color_hits / n, 0.6);

  // Run directory: config, metrics, plot, and a checkpoint with the official key set.
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/config.json")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/loss.png")));
  auto metrics = read_jsonl(dir.file("run/metrics.jsonl"));
  ASSERT_EQ(metrics.size(), 200u);
  for (const char* key : {"loss", "temperature", "lr", "grad_norm", "clips_per_s"})
    EXPECT_TRUE(metrics.back().contains(key)) << key;
  const std::string ckpt = dir.file("run/checkpoints/step_00000200/model.npz");
  Model loaded = Model::load(ckpt);
  std::set<std::string> ours, official;
  for (const auto& key : NpzReader(ckpt).keys()) ours.insert(key);
  for (const auto& key : NpzReader(testing::golden_dir("clip_tiny") + "/params.npz").keys()) official.insert(key);
  EXPECT_EQ(ours, official);
  EXPECT_LT(max_param_diff(load_npz(ckpt), [&] {
              std::map<std::string, torch::Tensor> m;
              for (auto& [k, v] : trainer.model().named_arrays()) m[k] = v.detach();
              return m;
            }()),
            0.0 + 1e-12);
}

TEST(Stage1Training, ResumeEqualsStraightRunAcrossTwoDatasets) {
  TempDir dir;
  std::string a = write_dataset(dir.path(), 1, 21, "a");
  std::string b = write_dataset(dir.path(), 1, 22, "b");
  Stage1Config config = tiny_train_config({a, b});
  config.steps = 6;
  config.data_options.scale_jitter = 0.25;
  {
    Stage1Trainer straight(config, dir.file("straight"), false);
    straight.run();
  }
  Stage1Config half = config;
  half.stop_at = 3;
  {
    Stage1Trainer first(half, dir.file("resumed"), false);
    first.run();
    EXPECT_EQ(first.step(), 3);
  }
  {
    Stage1Trainer second(config, dir.file("resumed"), true);
    EXPECT_EQ(second.step(), 3);
    second.run();
    EXPECT_EQ(second.step(), 6);
  }
  auto p1 = load_npz(dir.file("straight/checkpoints/step_00000006/model.npz"));
  auto p2 = load_npz(dir.file("resumed/checkpoints/step_00000006/model.npz"));
  const double diff = max_param_diff(p1, p2);
  auto m1 = read_jsonl(dir.file("straight/metrics.jsonl")), m2 = read_jsonl(dir.file("resumed/metrics.jsonl"));
  ASSERT_EQ(m1.size(), 6u);
  ASSERT_EQ(m2.size(), 6u);
  double loss_diff = 0;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(m1[i]["dataset"], i % 2);
    EXPECT_EQ(m2[i]["dataset"], i % 2);
    loss_diff = std::max(loss_diff, std::abs(m1[i]["loss"].get<double>() - m2[i]["loss"].get<double>()));
  }
  std::ifstream s1(dir.file("straight/checkpoints/step_00000006/state.json")),
      s2(dir.file("resumed/checkpoints/step_00000006/state.json"));
  auto j1 = nlohmann::json::parse(s1), j2 = nlohmann::json::parse(s2);
  std::printf("resume: max parameter diff %.3g, max loss diff %.3g\n", diff, loss_diff);
  EXPECT_EQ(j1["data_position"], j2["data_position"]);
  EXPECT_LT(diff, 1e-6);
  EXPECT_LT(loss_diff, 1e-6);
}

// ---- Distributed: two Gloo processes vs one ----------------------------------

TEST(Stage1Distributed, TwoGlooProcessesMatchOneProcess) {
  TempDir dir;
  std::string data = write_dataset(dir.path(), 1, 31, "d");
  Stage1Config config = tiny_train_config({data});
  config.steps = 3;
  config.data_options.workers = 1;
  std::ofstream(dir.file("train.json")) << to_json(config).dump(2);
  const std::string cli = testing::cli_path();
  const std::string common = " train stage1 --config " + dir.file("train.json") + " --threads 1";
  auto single = testing::run_command(cli + common + " --out " + dir.file("single"));
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port());
  const std::string two = "sh -c '" + env + " RANK=1 " + cli + common + " --out " + dir.file("dist") + " > " +
                          dir.file("rank1.log") + " 2>&1 & " + env + " RANK=0 " + cli + common + " --out " +
                          dir.file("dist") + "; r=$?; wait $! || r=1; exit $r'";
  auto dist = testing::run_command(two);
  std::ifstream rank1(dir.file("rank1.log"));
  std::string rank1_log((std::istreambuf_iterator<char>(rank1)), std::istreambuf_iterator<char>());
  ASSERT_EQ(dist.exit_code, 0) << dist.output << "\nrank 1:\n" << rank1_log;
  auto p1 = load_npz(dir.file("single/checkpoints/step_00000003/model.npz"));
  auto p2 = load_npz(dir.file("dist/checkpoints/step_00000003/model.npz"));
  auto m1 = read_jsonl(dir.file("single/metrics.jsonl")), m2 = read_jsonl(dir.file("dist/metrics.jsonl"));
  ASSERT_EQ(m1.size(), 3u);
  ASSERT_EQ(m2.size(), 3u);
  double loss_diff = 0;
  for (int i = 0; i < 3; ++i)
    loss_diff = std::max(loss_diff, std::abs(m1[i]["loss"].get<double>() - m2[i]["loss"].get<double>()));
  const double diff = max_param_diff(p1, p2);
  std::printf("gloo x2 vs single: max loss diff %.3g, max parameter diff %.3g\n", loss_diff, diff);
  // Adam's first updates are about lr * sign(g): a float-rounding difference in
  // a near-zero gradient (different reduction order) can move a parameter by
  // a small fraction of lr (1e-3 here), so parameters get 1e-4.
  EXPECT_LT(loss_diff, 1e-5);
  EXPECT_LT(diff, 1e-4);
}

}  // namespace
}  // namespace videoprism
