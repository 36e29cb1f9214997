// Tokenizer parity with the official tokenize_texts (golden JSON) and
// canonicalize_text edge cases checked against Python str semantics.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "videoprism/core/error.h"
#include "videoprism/media/tokenizer.h"

namespace {

const std::string kShared = VP_SHARED_DIR;
const std::string kModel = kShared + "/assets/test_spm.model";

TEST(Tokenizer, LoadsTestModel) {
  videoprism::Tokenizer tok(kModel);
  EXPECT_EQ(tok.vocab_size(), 1000);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
}

TEST(Tokenizer, MatchesGoldenCases) {
  std::ifstream in(kShared + "/golden/tokenizer_test_spm/tokenizer.json");
  ASSERT_TRUE(in.good());
  auto golden = nlohmann::json::parse(in);
  videoprism::Tokenizer tok(kModel);
  ASSERT_EQ(tok.vocab_size(), golden["vocab_size"].get<int>());
  ASSERT_EQ(tok.bos_id(), golden["bos"].get<int>());
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"];
    const int max_length = c["max_length"];
    SCOPED_TRACE("text='" + text + "' max_length=" + std::to_string(max_length));
    EXPECT_EQ(videoprism::canonicalize_text(text), c["canonical"].get<std::string>());
    auto batch = tok.tokenize({text}, max_length);
    ASSERT_EQ(batch.ids.sizes(), (std::vector<int64_t>{1, max_length}));
    ASSERT_EQ(batch.ids.scalar_type(), torch::kInt32);
    ASSERT_EQ(batch.paddings.scalar_type(), torch::kFloat32);
    EXPECT_EQ(batch.canonical.at(0), c["canonical"].get<std::string>());
    auto expected_ids = c["ids"].get<std::vector<int>>();
    auto expected_pad = c["paddings"].get<std::vector<float>>();
    ASSERT_EQ(static_cast<int>(expected_ids.size()), max_length);
    for (int i = 0; i < max_length; ++i) {
      EXPECT_EQ(batch.ids[0][i].item<int>(), expected_ids[i]) << "position " << i;
      EXPECT_EQ(batch.paddings[0][i].item<float>(), expected_pad[i]) << "position " << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 28);
}

TEST(Tokenizer, BatchesAndPads) {
  videoprism::Tokenizer tok(kModel);
  auto batch = tok.tokenize({"Hello, World!", "", std::string(5000, 'b')}, 16);
  ASSERT_EQ(batch.ids.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_EQ(batch.ids[0][0].item<int>(), 1);  // BOS
  EXPECT_EQ(batch.paddings[2].sum().item<float>(), 0.0f);  // long text fills all
  EXPECT_EQ(batch.paddings[1].sum().item<float>(), 13.0f);  // "." -> BOS + 2 pieces
  // Without canonicalization the raw text goes to SentencePiece.
  auto raw = tok.tokenize({"Hello, World!"}, 16, /*canonicalize=*/false);
  EXPECT_EQ(raw.canonical[0], "Hello, World!");
  EXPECT_FALSE(torch::equal(raw.ids, batch.ids.slice(0, 0, 1)));
}

TEST(Tokenizer, UnreadableModelNamesPath) {
  try {
    videoprism::Tokenizer tok("/nonexistent/model.spm");
    FAIL() << "expected an error";
  } catch (const videoprism::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.spm"), std::string::npos);
  }
  // A file that exists but is not a SentencePiece model.
  EXPECT_THROW(videoprism::Tokenizer(kShared + "/golden/README.md"), videoprism::Error);
}

// Expected strings computed with CPython 3 `canonicalize_text`.
TEST(CanonicalizeText, PythonStrSemantics) {
  using videoprism::canonicalize_text;
  EXPECT_EQ(canonicalize_text(""), ".");
  EXPECT_EQ(canonicalize_text("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), ".");
  EXPECT_EQ(canonicalize_text("a\x1c" "b\x1f" "c\x0b" "d\x0c" "e\r\nf"), "a b c d e f.");
  EXPECT_EQ(canonicalize_text("x\xc2\x85y\xc2\xa0z\xe1\x9a\x80w"), "x y z w.");       // U+0085 U+00A0 U+1680
  EXPECT_EQ(canonicalize_text("a\xe2\x80\x80" "b\xe2\x80\x8a" "c\xe2\x80\xa8" "d\xe2\x80\xa9" "e"),
            "a b c d e.");                                                         // U+2000 U+200A U+2028 U+2029
  EXPECT_EQ(canonicalize_text("a\xe2\x80\xaf" "b\xe2\x81\x9f" "c\xe3\x80\x80" "d"), "a b c d.");  // U+202F U+205F U+3000
  // Not whitespace for Python: U+200B ZERO WIDTH SPACE, U+180E.
  EXPECT_EQ(canonicalize_text("a\xe2\x80\x8b" "b"), "a\xe2\x80\x8b" "b.");
  EXPECT_EQ(canonicalize_text("\xc4\xb0stanbul"), "i\xcc\x87stanbul.");  // U+0130 -> i + U+0307
  EXPECT_EQ(canonicalize_text("\xc3\x84\xc3\x96\xc3\x9c \xc3\x89T\xc3\x89"), "\xc3\xa4\xc3\xb6\xc3\xbc \xc3\xa9t\xc3\xa9.");
  // Greek final sigma: "ΟΔΟΣ ΣΑΣ" -> "οδος σας".
  EXPECT_EQ(canonicalize_text("\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3\xce\x91\xce\xa3"),
            "\xce\xbf\xce\xb4\xce\xbf\xcf\x82 \xcf\x83\xce\xb1\xcf\x82.");
  // Lone capital sigma stays non-final.
  EXPECT_EQ(canonicalize_text("\xce\xa3"), "\xcf\x83.");
  // Non-ASCII punctuation is kept (string.punctuation is ASCII only).
  EXPECT_EQ(canonicalize_text("\xe2\x80\x9cHi\xe2\x80\x9d"), "\xe2\x80\x9chi\xe2\x80\x9d.");
  // Full-width letters lower-case.
  EXPECT_EQ(canonicalize_text("\xef\xbc\xa1"), "\xef\xbd\x81.");
}

TEST(CanonicalizeText, InvalidUtf8NamesOffset) {
  try {
    videoprism::canonicalize_text(std::string("ab\xff" "c"));
    FAIL() << "expected an error";
  } catch (const videoprism::Error& e) {
    EXPECT_NE(std::string(e.what()).find("offset 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(videoprism::canonicalize_text(std::string("\xc3")), videoprism::Error);  // truncated
  EXPECT_THROW(videoprism::canonicalize_text(std::string("\xed\xa0\x80")), videoprism::Error);  // surrogate
}

}  // namespace

namespace {

TEST(TokenizeCli, PrintsJson) {
  std::string cmd = std::string(VP_CLI_PATH) + " tokenize --tokenizer '" + kModel +
                    "' --max-length 8 'Hello, World!' 'a red square moving left'";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0) << out;
  auto json = nlohmann::json::parse(out);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["canonical"], "hello world.");
  EXPECT_EQ(json[0]["ids"], nlohmann::json({1, 39, 88, 21, 887, 6, 0, 0}));
  EXPECT_EQ(json[0]["paddings"], nlohmann::json({0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0}));
  EXPECT_EQ(json[1]["ids"], nlohmann::json({1, 11, 70, 17, 740, 264, 87, 18}));
}

}  // namespace
