// Synthetic Fashion-MNIST motion world: IDX loading, rendering, captions and
// the corpus writer. See include/videoprism/eval/synth.h.
#include "videoprism/apps/synth.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"
#include "videoprism/media/video_writer.h"

namespace videoprism::eval {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kClassWords = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                              "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};
const std::vector<std::string> kDirections = {"right", "up-right",  "up",   "up-left",
                                              "left",  "down-left", "down", "down-right"};
const std::vector<std::string> kSpeeds = {"slow", "fast"};
const std::vector<std::string> kArrows = {"forward", "reversed"};

namespace {

const std::vector<std::string> kTintNames = {"white", "red", "green", "blue", "yellow", "cyan"};
const float kTints[6][3] = {{1, 1, 1}, {1, .35f, .35f}, {.4f, 1, .4f}, {.45f, .55f, 1}, {1, 1, .35f}, {.4f, 1, 1}};
const std::vector<std::string> kRegions = {"top left",    "top",    "top right",    "left", "center",
                                           "right",       "bottom left", "bottom", "bottom right"};

// The whole (optionally gzipped) file; gzread reads plain files unchanged.
std::string read_maybe_gz(const std::string& base) {
  std::string path = base;
  if (!std::filesystem::exists(path)) path = base + ".gz";
  check(std::filesystem::exists(path), "fashion-mnist: neither ", base, " nor ", base, ".gz exists");
  gzFile file = gzopen(path.c_str(), "rb");
  check(file != nullptr, "fashion-mnist: cannot open ", path);
  std::string data;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) data.append(buffer, n);
  const bool failed = n < 0;
  gzclose(file);
  check(!failed, "fashion-mnist: cannot decompress ", path);
  return data;
}

uint32_t big_endian(const std::string& data, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + offset);
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Triangle wave: reflects x into [0, room] (bounces off both walls).
double fold(double x, double room) {
  if (room <= 0) return 0;
  double m = std::fmod(x, 2 * room);
  if (m < 0) m += 2 * room;
  return m > room ? 2 * room - m : m;
}

std::string plural(const std::string& word) { return word + (word.back() == 's' ? "es" : "s"); }

std::string items_phrase(const SynthFactors& f) {
  const std::string& w = kClassWords[f.cls];
  if (f.num_items == 2) return "two " + plural(w);
  return (w[0] == 'a' ? "an " : "a ") + w;
}

std::string speed_adverb(int speed) { return speed ? "quickly" : "slowly"; }

void write_lines(const std::string& path, const std::vector<nlohmann::json>& rows) {
  std::string text;
  for (const auto& row : rows) text += row.dump() + "\n";
  write_file_atomically(path, text);
}

// Exactly balanced labels: i % k, shuffled.
std::vector<int> balanced(int n, int k, std::mt19937_64& rng) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i % k;
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

}  // namespace

const std::vector<std::string>& task_label_names(const std::string& task) {
  if (task == "class") return kFashionClasses;
  if (task == "direction") return kDirections;
  if (task == "speed") return kSpeeds;
  if (task == "arrow") return kArrows;
  fail("task: expected class, direction, speed or arrow, got '", task, "'");
}

std::vector<std::string> task_prompt_labels(const std::string& task) {
  std::vector<std::string> out;
  if (task == "class") {
    for (const auto& w : kClassWords) out.push_back((w[0] == 'a' ? "an " : "a ") + w);
  } else if (task == "direction") {
    for (const auto& d : kDirections) out.push_back("something moving " + d);
  } else if (task == "speed") {
    out = {"something moving slowly", "something moving quickly"};
  } else if (task == "arrow") {
    out = {"something moving forward in time", "something moving in reverse"};
  } else {
    task_label_names(task);  // throws naming the tasks
  }
  return out;
}

FashionMnist load_fashion_mnist(const std::string& dir, const std::string& split) {
  const std::string images = read_maybe_gz(dir + "/" + split + "-images-idx3-ubyte");
  const std::string labels = read_maybe_gz(dir + "/" + split + "-labels-idx1-ubyte");
  check(images.size() >= 16 && big_endian(images, 0) == 2051, "fashion-mnist: ", split, " images: bad IDX magic");
  check(labels.size() >= 8 && big_endian(labels, 0) == 2049, "fashion-mnist: ", split, " labels: bad IDX magic");
  const int64_t n = big_endian(images, 4), rows = big_endian(images, 8), cols = big_endian(images, 12);
  check(rows == 28 && cols == 28, "fashion-mnist: expected 28x28 images, got ", rows, "x", cols);
  check(int64_t(big_endian(labels, 4)) == n, "fashion-mnist: ", n, " images but ", big_endian(labels, 4), " labels");
  check(images.size() == size_t(16 + n * 784) && labels.size() == size_t(8 + n), "fashion-mnist: truncated ", split);
  FashionMnist out;
  out.images = torch::empty({n, 28, 28}, torch::kUInt8);
  std::memcpy(out.images.data_ptr(), images.data() + 16, n * 784);
  out.labels = torch::empty({n}, torch::kInt64);
  auto* l = out.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) l[i] = static_cast<unsigned char>(labels[8 + i]);
  return out;
}

torch::Tensor render_synth_video(const SynthFactors& factors, const std::vector<torch::Tensor>& sprites,
                                 const SynthOptions& options, uint64_t rng_seed, SynthFactors* filled) {
  const int T = options.num_frames, S = options.size;
  const int P = std::max(8, static_cast<int>(std::lround(S * 24.0 / 64.0)));  // item side
  check(T >= 2 && S > P, "synth: need >= 2 frames and a canvas larger than ", P, " px");
  const double room = S - P;
  std::mt19937_64 rng(rng_seed);
  std::uniform_real_distribution<double> uniform(0.0, room);
  const double angle = factors.direction * M_PI / 4;
  const double dx = std::cos(angle), dy = -std::sin(angle);  // image y points down
  const double v = (factors.speed ? options.fast_speed : options.slow_speed) * S / 64.0;
  // Cumulative displayed distance: decelerating (forward) or accelerating (reversed).
  std::vector<double> dist(T, 0.0);
  for (int t = 1; t < T; ++t) {
    const double r = T > 2 ? double(t - 1) / (T - 2) : 0.0;
    const double step = factors.arrow == 0 ? v * (1.6 - 1.2 * r) : v * (0.4 + 1.2 * r);
    dist[t] = dist[t - 1] + step;
  }
  torch::Tensor frames = torch::zeros({T, S, S, 3}, torch::kUInt8);
  auto out = frames.accessor<uint8_t, 4>();
  const float* tint = kTints[factors.tint % 6];
  SynthFactors f = factors;
  for (size_t k = 0; k < sprites.size(); ++k) {
    // Sprite scaled to P x P, float in [0, 1].
    torch::Tensor sprite = torch::nn::functional::interpolate(
        sprites[k].to(torch::kFloat32).div(255).view({1, 1, 28, 28}),
        torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{P, P}).mode(torch::kBilinear).align_corners(false));
    sprite = sprite.view({P, P}).contiguous();
    auto sp = sprite.accessor<float, 2>();
    const double x0 = uniform(rng), y0 = uniform(rng);
    if (k == 0) {
      const int col = std::min(2, int(3 * x0 / room)), row = std::min(2, int(3 * y0 / room));
      f.start_region = row * 3 + col;
    }
    for (int t = 0; t < T; ++t) {
      const int x = static_cast<int>(std::lround(fold(x0 + dx * dist[t], room)));
      const int y = static_cast<int>(std::lround(fold(y0 + dy * dist[t], room)));
      for (int i = 0; i < P; ++i)
        for (int j = 0; j < P; ++j) {
          const float g = sp[i][j];
          if (g <= 0) continue;
          for (int c = 0; c < 3; ++c) {
            const uint8_t value = static_cast<uint8_t>(std::min(255.0f, std::round(255 * g * tint[c])));
            uint8_t& px = out[t][y + i][x + j][c];
            px = std::max(px, value);
          }
        }
    }
  }
  if (filled) *filled = f;
  return frames;
}

std::string appearance_caption(const SynthFactors& f, uint64_t variant) {
  const std::string items = items_phrase(f);
  switch (variant % 4) {
    case 0: return items + " on a dark background";
    case 1: return "a video of " + items;
    case 2: return items + ", " + kTintNames[f.tint];
    default: return "there is " + items + " in the picture";
  }
}

std::string motion_caption(const SynthFactors& f, uint64_t variant) {
  const std::string items = items_phrase(f);
  const std::string verb = f.num_items == 2 ? " moving " : " moving ";
  if (variant % 2 == 0) return items + verb + kDirections[f.direction] + " " + speed_adverb(f.speed);
  return items + (f.num_items == 2 ? " drift " : " drifts ") + kDirections[f.direction];
}

std::string retrieval_caption(const SynthFactors& f) {
  return "a " + kTintNames[f.tint] + " " + kClassWords[f.cls] + (f.num_items == 2 ? " and another" : "") +
         " moving " + kDirections[f.direction] + " " + speed_adverb(f.speed) + (f.arrow ? " in reverse" : "") +
         " from the " + kRegions[f.start_region];
}

namespace {

struct SplitResult {
  std::vector<SynthFactors> factors;
  std::vector<std::string> files;  // relative to out_dir
};

SplitResult write_split(const SynthCorpusOptions& options, const FashionMnist& mnist, const std::string& name,
                        int count, uint64_t seed) {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(options.out_dir) / name);
  std::mt19937_64 rng(seed);
  // Image indices per class.
  std::vector<std::vector<int64_t>> by_class(10);
  const auto* labels = mnist.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < mnist.labels.size(0); ++i) by_class[labels[i]].push_back(i);
  const auto cls = balanced(count, 10, rng), dir = balanced(count, 8, rng), speed = balanced(count, 2, rng),
             arrow = balanced(count, 2, rng);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  SplitResult result;
  for (int i = 0; i < count; ++i) {
    SynthFactors f;
    f.cls = cls[i], f.direction = dir[i], f.speed = speed[i], f.arrow = arrow[i];
    f.num_items = unit(rng) < options.video.two_items ? 2 : 1;
    f.tint = static_cast<int>(rng() % 6);
    std::vector<torch::Tensor> sprites;
    for (int k = 0; k < f.num_items; ++k) {
      const auto& pool = by_class[f.cls];
      sprites.push_back(mnist.images[pool[rng() % pool.size()]]);
    }
    SynthFactors filled;
    torch::Tensor frames = render_synth_video(f, sprites, options.video, rng(), &filled);
    char file[64];
    std::snprintf(file, sizeof(file), "%s/%05d.mkv", name.c_str(), i);
    write_video((fs::path(options.out_dir) / file).string(), frames);
    result.factors.push_back(filled);
    result.files.push_back(file);
  }
  return result;
}

nlohmann::json labels_json(const std::string& file, const SynthFactors& f) {
  return {{"video", file},         {"class", f.cls},
          {"direction", f.direction}, {"arrow", f.arrow},
          {"speed", f.speed},      {"class_name", kFashionClasses[f.cls]},
          {"direction_name", kDirections[f.direction]}, {"arrow_name", kArrows[f.arrow]},
          {"speed_name", kSpeeds[f.speed]}, {"num_items", f.num_items}};
}

}  // namespace

SynthCorpusStats write_synth_corpus(const SynthCorpusOptions& options) {
  check(!options.out_dir.empty(), "synth: --out is required");
  check(!options.mnist_dir.empty(), "synth: mnist_dir (--mnist): expected the Fashion-MNIST IDX folder, got none");
  check(options.train_videos > 0, "synth: --videos must be positive");
  const auto begin = std::chrono::steady_clock::now();
  const int test_count = options.test_videos > 0 ? options.test_videos : std::max(1, options.train_videos / 2);
  const FashionMnist train_images = load_fashion_mnist(options.mnist_dir, "train");
  const FashionMnist test_images = load_fashion_mnist(options.mnist_dir, "t10k");
  const SplitResult train = write_split(options, train_images, "train", options.train_videos, options.seed * 2654435761ULL + 1);
  const SplitResult test = write_split(options, test_images, "test", test_count, options.seed * 2654435761ULL + 1000003ULL);

  std::mt19937_64 rng(options.seed + 77);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<nlohmann::json> stage1, stage2, eval_train, eval_test, retrieval;
  for (size_t i = 0; i < train.files.size(); ++i) {
    const SynthFactors& f = train.factors[i];
    const double u = unit(rng);
    const uint64_t variant = rng();
    std::string caption;
    if (u < options.noisy_captions) {
      SynthFactors wrong = f;
      wrong.cls = (f.cls + 1 + static_cast<int>(variant % 9)) % 10;  // a wrong class word
      caption = variant % 3 == 0 ? "an object on a dark background" : appearance_caption(wrong, variant / 3);
    } else if (u < options.noisy_captions + options.motion_captions) {
      caption = motion_caption(f, variant);
    } else {
      caption = appearance_caption(f, variant);
    }
    stage1.push_back({{"video", train.files[i]}, {"caption", caption}});
    stage2.push_back({{"video", train.files[i]}});
    eval_train.push_back(labels_json(train.files[i], f));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < test.files.size(); ++i) {
    eval_test.push_back(labels_json(test.files[i], test.factors[i]));
    const std::string caption = retrieval_caption(test.factors[i]);
    if (seen.insert(caption).second) retrieval.push_back({{"video", test.files[i]}, {"caption", caption}});
  }
  const std::string out = options.out_dir + "/";
  write_lines(out + "stage1.jsonl", stage1);
  write_lines(out + "stage2.jsonl", stage2);
  write_lines(out + "eval_train.jsonl", eval_train);
  write_lines(out + "eval_test.jsonl", eval_test);
  write_lines(out + "retrieval.jsonl", retrieval);
  SynthCorpusStats stats;
  stats.train_videos = static_cast<int>(train.files.size());
  stats.test_videos = static_cast<int>(test.files.size());
  stats.retrieval_videos = static_cast<int>(retrieval.size());
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return stats;
}

}  // namespace videoprism::eval
