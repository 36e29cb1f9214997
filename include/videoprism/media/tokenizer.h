// Text canonicalization and SentencePiece tokenization, as the official
// `utils.canonicalize_text` and `models.tokenize_texts`.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace videoprism {

struct SentencePieceLibrary;

// Python `canonicalize_text`: ASCII punctuation (string.punctuation) -> space,
// Unicode lower-casing as Python str.lower (full mapping incl. U+0130 and the
// final-sigma rule), split on Unicode whitespace as str.split(), join with one
// space, append ".". Throws videoprism::Error on invalid UTF-8 (byte offset).
std::string canonicalize_text(const std::string& text);

// Result of Tokenizer::tokenize for a batch of B texts padded to length L.
struct TokenizedBatch {
  torch::Tensor ids;                   // int32 [B, L]; 0 on padded positions
  torch::Tensor paddings;              // float32 [B, L]; 1 = padded position
  std::vector<std::string> canonical;  // [B] the text given to SentencePiece
};

// A SentencePiece model (e.g. the c4_en model of the video-text checkpoints).
// SentencePiece itself lives in the module libvideoprism_spm.so, loaded on
// first use (see src/text/spm_shim.cc). Copies share the loaded model.
class Tokenizer {
 public:
  // Loads a SentencePiece .model file; throws naming the path when it cannot.
  explicit Tokenizer(const std::string& model_path);

  int vocab_size() const;
  int bos_id() const;  // -1 when the model has no BOS piece (c4_en)
  int eos_id() const;
  const std::string& path() const { return path_; }

  // Raw SentencePiece ids for one text (no BOS/EOS, no canonicalization).
  std::vector<int> encode(const std::string& text) const;

  // Official tokenize_texts: optionally canonicalize, encode, prepend BOS when
  // bos_id() >= 0, never EOS, truncate to max_length, pad with id 0.
  TokenizedBatch tokenize(const std::vector<std::string>& texts, int max_length = 64,
                          bool canonicalize = true) const;

 private:
  std::string path_;
  const SentencePieceLibrary* lib_ = nullptr;
  std::shared_ptr<void> processor_;  // opaque sentencepiece::SentencePieceProcessor
};

}  // namespace videoprism
