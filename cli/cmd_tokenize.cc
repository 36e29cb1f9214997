// `videoprism tokenize`: canonicalize + tokenize texts, print JSON.
#include <nlohmann/json.hpp>

#include <iostream>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/media/tokenizer.h"

namespace {

struct TokenizeArgs {
  std::string tokenizer;
  int max_length = 64;
  bool no_canonicalize = false;
  std::vector<std::string> texts;
};

}  // namespace

VP_REGISTER_COMMAND("tokenize", "Tokenize texts as the text encoder sees them (JSON to stdout)",
                    [](CLI::App& sub) -> std::function<int()> {
                      auto args = std::make_shared<TokenizeArgs>();
                      sub.add_option("--tokenizer", args->tokenizer, "SentencePiece .model file")
                          ->required();
                      sub.add_option("--max-length", args->max_length, "Token sequence length")
                          ->check(CLI::PositiveNumber);
                      sub.add_flag("--no-canonicalize", args->no_canonicalize,
                                   "Skip lower-casing / punctuation removal");
                      sub.add_option("texts", args->texts, "Texts to tokenize")->required();
                      sub.footer("Example:\n  videoprism tokenize --tokenizer c4_en.model --max-length 16 \"A dog, running!\"");
                      return [args] {
                        videoprism::Tokenizer tok(args->tokenizer);
                        auto batch = tok.tokenize(args->texts, args->max_length,
                                                  !args->no_canonicalize);
                        auto out = nlohmann::json::array();
                        for (size_t b = 0; b < args->texts.size(); ++b) {
                          auto ids = batch.ids[b].contiguous();
                          auto pads = batch.paddings[b].contiguous();
                          out.push_back({
                              {"text", args->texts[b]},
                              {"canonical", batch.canonical[b]},
                              {"ids", std::vector<int32_t>(ids.data_ptr<int32_t>(),
                                                           ids.data_ptr<int32_t>() + ids.numel())},
                              {"paddings", std::vector<float>(pads.data_ptr<float>(),
                                                              pads.data_ptr<float>() + pads.numel())},
                          });
                        }
                        std::cout << out.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
                        return 0;
                      };
                    });
