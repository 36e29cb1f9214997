// A learnable synthetic video world for small-scale training and frozen-backbone
// evaluation (training-recipe.md, "A learnable world on a 2-core CPU"):
// Fashion-MNIST items moving on a dark canvas, with known latent factors
//   class (10), direction (8), speed (slow / fast), arrow of time (forward /
//   reversed), bouncing off the walls,
// written as lossless videos plus JSONL manifests (stage 1 captions, stage 2
// video-only, labelled evaluation splits, unique retrieval captions).
//
// Motion: an item moves from a uniform start position; its speed decays
// linearly from 1.6v to 0.4v (friction), so forward motion decelerates. A
// reversed video is the frame order of such a forward video reversed: it
// accelerates. It is generated directly as the displayed (reversed) motion,
// which keeps the displayed start position uniform and the labels exact.
// `direction` is always the direction of the displayed motion at the start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace videoprism::eval {

// Names of the latent factors, indexed by label.
extern const std::vector<std::string> kFashionClasses;  // 10: "T-shirt/top", ..., "Ankle boot"
extern const std::vector<std::string> kClassWords;      // 10 caption words: "t-shirt", ..., "ankle boot"
extern const std::vector<std::string> kDirections;      // 8 counter-clockwise from "right": right, up-right, up, ...
extern const std::vector<std::string> kSpeeds;          // 2: slow, fast
extern const std::vector<std::string> kArrows;          // 2: forward, reversed

// Label names of a task: "class" | "direction" | "speed" | "arrow".
const std::vector<std::string>& task_label_names(const std::string& task);
// Phrases for zero-shot classification of a task, in label order, to fill
// prompt templates ("a video of {}."): "a sneaker", "something moving up-left", ...
std::vector<std::string> task_prompt_labels(const std::string& task);

// Fashion-MNIST images and labels (IDX files, optionally gzipped).
struct FashionMnist {
  torch::Tensor images;  // uint8 [N, 28, 28]
  torch::Tensor labels;  // int64 [N]
};
// split "train" or "t10k"; dir holds "<split>-images-idx3-ubyte[.gz]" and
// "<split>-labels-idx1-ubyte[.gz]".
FashionMnist load_fashion_mnist(const std::string& dir, const std::string& split);

// The latent factors of one video.
struct SynthFactors {
  int cls = 0, direction = 0, speed = 0, arrow = 0;
  int num_items = 1;
  int tint = 0;           // index into the tint palette (caption word)
  int start_region = 0;   // 3x3 grid cell of the first item's start (0 = top-left)
};

struct SynthOptions {
  int num_frames = 16;
  int size = 64;           // canvas S x S
  double slow_speed = 1.0; // mean pixels per frame at S = 64 (scaled with S)
  double fast_speed = 2.5;
  double two_items = 0.3;  // probability of a second item (same class and direction)
};

// Renders one video from a factor set: uint8 [T, S, S, 3]. `sprites` are the
// items' 28x28 images (1 or 2), `rng_seed` draws the start positions.
torch::Tensor render_synth_video(const SynthFactors& factors, const std::vector<torch::Tensor>& sprites,
                                 const SynthOptions& options, uint64_t rng_seed, SynthFactors* filled = nullptr);

struct SynthCorpusOptions {
  std::string out_dir;
  std::string mnist_dir;  // the Fashion-MNIST IDX folder (required; the CLI has the default)
  int train_videos = 400;
  int test_videos = 0;        // 0: train_videos / 2
  uint64_t seed = 0;          // the test split uses another seed derived from it
  SynthOptions video;
  double motion_captions = 0.2;  // share of stage 1 captions with motion words
  double noisy_captions = 0.1;   // share with a wrong or generic word
};

struct SynthCorpusStats {
  int train_videos = 0, test_videos = 0, retrieval_videos = 0;
  double seconds = 0;
};

// Writes <out>/train/*.mkv, <out>/test/*.mkv and the manifests
//   stage1.jsonl     {"video","caption"}                       (train)
//   stage2.jsonl     {"video"}                                 (train)
//   eval_train.jsonl {"video","class","direction","arrow","speed", "*_name"} (train)
//   eval_test.jsonl  same fields                               (test)
//   retrieval.jsonl  {"video","caption"}, captions unique      (test)
// Deterministic given the options.
SynthCorpusStats write_synth_corpus(const SynthCorpusOptions& options);

// Caption helpers (exposed for tests).
std::string appearance_caption(const SynthFactors& f, uint64_t variant);
std::string motion_caption(const SynthFactors& f, uint64_t variant);
std::string retrieval_caption(const SynthFactors& f);

}  // namespace videoprism::eval
