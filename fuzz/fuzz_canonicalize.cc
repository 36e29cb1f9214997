// Fuzz target: text canonicalization (canonicalize_text: UTF-8 decoding,
// Unicode lower-casing, whitespace splitting) under ASan. SentencePiece is
// fuzzed separately, without ASan, by fuzz_text.cc.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "videoprism/media/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  videoprism::fuzz::expect_clean([&] {
    const std::string once = videoprism::canonicalize_text(text);
    // Canonical text is valid UTF-8, so canonicalizing it again must not throw.
    (void)videoprism::canonicalize_text(once);
  });
  return 0;
}
