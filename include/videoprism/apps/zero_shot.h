// Zero-shot video classification with a video-text model, as the official
// video-text demo: class text embeddings (prompt-ensembled), cosine similarity
// with the video embedding, softmax over the labels at temperature 0.01.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "videoprism/core/model.h"

namespace videoprism {

class Tokenizer;

// Prompt templates with "{}" where the label goes.
//   "simple":   {"a video of {}."}
//   "kinetics": CLIP-style Kinetics prompts (28 templates)
//   otherwise:  a file, one template per line (blank lines and '#' skipped).
std::vector<std::string> prompt_templates(const std::string& name_or_file);

// "a,b , c" -> {"a","b","c"}; a file -> one label per non-empty line.
std::vector<std::string> split_labels(const std::string& comma_separated);
std::vector<std::string> read_labels_file(const std::string& path);

// Fills the template ("{}" replaced by the label; a template without "{}" gets
// the label appended after a space).
std::string fill_template(const std::string& templ, const std::string& label);

// Prompt ensembling: per label, the mean over templates of the L2-normalized
// text embeddings, re-normalized. float32 [C, D].
torch::Tensor class_embeddings(Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& labels,
                               const std::vector<std::string>& templates, const RunOptions& run);

// softmax(video @ classes^T / temperature) over the labels: [N, C] for video
// [N, D] and classes [C, D].
torch::Tensor zero_shot_probabilities(const torch::Tensor& video_embeddings, const torch::Tensor& class_embeddings,
                                      double temperature = 0.01);

struct LabelScore {
  std::string label;
  double probability = 0;
  double similarity = 0;  // cosine similarity
};

// The k most probable labels of one video, best first.
std::vector<LabelScore> top_k(const torch::Tensor& probabilities, const torch::Tensor& similarities,
                              const std::vector<std::string>& labels, int k);

}  // namespace videoprism
