// Fuzz target: text through canonicalization and the SentencePiece tokenizer
// (Tokenizer::tokenize with the project's test model), as `tokenize`,
// `classify` and text search feed it. Built WITHOUT AddressSanitizer (UBSan
// only): the SentencePiece module is dlopen'ed with RTLD_DEEPBIND, which the
// ASan runtime refuses. Input: byte 0 picks max_length (1..64) and whether to
// canonicalize; the rest is texts, one per line.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "videoprism/media/tokenizer.h"

using namespace videoprism;

namespace {
const Tokenizer& tokenizer() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    const char* env = std::getenv("VIDEOPRISM_FUZZ_SPM_MODEL");
    return std::make_unique<Tokenizer>(env != nullptr ? env : VP_FUZZ_SPM_MODEL);
  }();
  return *tok;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)tokenizer();  // fail early (an Error escapes) when the model cannot load
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int max_length = 1 + data[0] % 64;
  const bool canonicalize = (data[0] & 0x80) == 0;
  std::vector<std::string> texts;
  std::string current;
  for (size_t i = 1; i < size; ++i) {
    if (data[i] == '\n') {
      texts.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  texts.push_back(current);
  fuzz::expect_clean([&] {
    TokenizedBatch batch = tokenizer().tokenize(texts, max_length, canonicalize);
    if (batch.ids.size(0) != static_cast<int64_t>(texts.size()) || batch.ids.size(1) != max_length) std::abort();
    const int vocab = tokenizer().vocab_size();
    if (batch.ids.min().item<int>() < 0 || batch.ids.max().item<int>() >= vocab) std::abort();
  });
  fuzz::expect_clean([&] { (void)tokenizer().encode(texts[0]); });
  return 0;
}
