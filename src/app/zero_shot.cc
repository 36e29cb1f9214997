// Zero-shot classification: templates, prompt ensembling, softmax over labels.
#include "videoprism/apps/zero_shot.h"

#include <algorithm>
#include <fstream>

#include <torch/torch.h>

#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "videoprism/media/tokenizer.h"

namespace videoprism {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

std::vector<std::string> read_lines(const std::string& path, const char* what) {
  std::ifstream in(path);
  check(in.good(), what, ": cannot read '", path, "'");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  check(!lines.empty(), what, ": '", path, "' has no entries");
  return lines;
}

// Video prompts in the style of CLIP's Kinetics-700 prompt set.
const std::vector<std::string>& kinetics_templates() {
  static const std::vector<std::string> templates = {
      "a photo of {}.",
      "a photo of a person {}.",
      "a photo of a person using {}.",
      "a photo of a person doing {}.",
      "a photo of a person during {}.",
      "a photo of a person performing {}.",
      "a photo of a person practicing {}.",
      "a video of {}.",
      "a video of a person {}.",
      "a video of a person using {}.",
      "a video of a person doing {}.",
      "a video of a person during {}.",
      "a video of a person performing {}.",
      "a video of a person practicing {}.",
      "a example of {}.",
      "a example of a person {}.",
      "a example of a person using {}.",
      "a example of a person doing {}.",
      "a example of a person during {}.",
      "a example of a person performing {}.",
      "a example of a person practicing {}.",
      "a demonstration of {}.",
      "a demonstration of a person {}.",
      "a demonstration of a person using {}.",
      "a demonstration of a person doing {}.",
      "a demonstration of a person during {}.",
      "a demonstration of a person performing {}.",
      "a demonstration of a person practicing {}.",
  };
  return templates;
}

}  // namespace

std::vector<std::string> prompt_templates(const std::string& name_or_file) {
  if (name_or_file.empty() || name_or_file == "simple") return {"a video of {}."};
  if (name_or_file == "kinetics") return kinetics_templates();
  if (name_or_file == "none") return {"{}"};
  return read_lines(name_or_file, "templates");
}

std::vector<std::string> split_labels(const std::string& comma_separated) {
  std::vector<std::string> labels;
  size_t begin = 0;
  while (begin <= comma_separated.size()) {
    size_t end = comma_separated.find(',', begin);
    if (end == std::string::npos) end = comma_separated.size();
    std::string label = trim(comma_separated.substr(begin, end - begin));
    if (!label.empty()) labels.push_back(label);
    begin = end + 1;
  }
  check(!labels.empty(), "labels: none in '", comma_separated, "'");
  return labels;
}

std::vector<std::string> read_labels_file(const std::string& path) { return read_lines(path, "labels"); }

std::string fill_template(const std::string& templ, const std::string& label) {
  const auto at = templ.find("{}");
  if (at == std::string::npos) return templ + " " + label;
  return templ.substr(0, at) + label + templ.substr(at + 2);
}

torch::Tensor class_embeddings(Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& labels,
                               const std::vector<std::string>& templates, const RunOptions& run) {
  check(!labels.empty(), "zero-shot: no labels");
  check(!templates.empty(), "zero-shot: no templates");
  std::vector<std::string> prompts;
  for (const auto& label : labels)
    for (const auto& templ : templates) prompts.push_back(fill_template(templ, label));
  torch::Tensor text = encode_texts(model, tokenizer, prompts, run);  // [C*P, D], unit rows
  const int64_t C = static_cast<int64_t>(labels.size()), P = static_cast<int64_t>(templates.size());
  torch::Tensor mean = text.reshape({C, P, -1}).mean(1);  // [C, D]
  return mean / (mean.pow(2).sum(-1, true) + 1e-12).sqrt();
}

torch::Tensor zero_shot_probabilities(const torch::Tensor& video_embeddings, const torch::Tensor& class_embeddings,
                                      double temperature) {
  check(video_embeddings.size(-1) == class_embeddings.size(-1), "zero-shot: video dim ", video_embeddings.size(-1),
        " differs from text dim ", class_embeddings.size(-1));
  return torch::softmax(torch::matmul(video_embeddings, class_embeddings.t()) / temperature, -1);
}

std::vector<LabelScore> top_k(const torch::Tensor& probabilities, const torch::Tensor& similarities,
                              const std::vector<std::string>& labels, int k) {
  const int64_t C = probabilities.size(0);
  std::vector<int64_t> order(static_cast<size_t>(C));
  for (int64_t i = 0; i < C; ++i) order[i] = i;
  auto p = probabilities.contiguous();
  const float* prob = p.data_ptr<float>();
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return prob[a] > prob[b]; });
  std::vector<LabelScore> out;
  for (int64_t i = 0; i < std::min<int64_t>(k, C); ++i) {
    const int64_t c = order[i];
    out.push_back({labels[c], prob[c], similarities[c].item<double>()});
  }
  return out;
}

}  // namespace videoprism
