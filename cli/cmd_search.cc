// videoprism search: text-to-video and video-to-video search in an index.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "run_flags.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/indexer.h"
#include "videoprism/core/model.h"

namespace videoprism::cli {
namespace {

struct SearchArgs {
  SearchOptions options;
  std::string db, query, like;
  bool json = false;
};

int run_search(const SearchArgs& args) {
  check(args.query.empty() != args.like.empty(), "search: give a text query or --like VIDEO (one of them)");
  dtype_flag(args.options.dtype, parse_device(args.options.device));  // validates; warns on emulated bf16
  std::vector<SearchHit> hits = args.like.empty() ? search_text(args.db, args.query, args.options)
                                                  : search_like(args.db, args.like, args.options);
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : hits) {
      nlohmann::json hit;
      put_path(hit, "path", h.path);  // adds path_hex for a name that is not UTF-8
      hit.update({{"window", h.window}, {"start_s", h.start_s}, {"end_s", h.end_s}, {"score", h.score}});
      out.push_back(hit);
    }
    std::cout << out.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
    return 0;
  }
  int rank = 1;
  for (const auto& h : hits) {
    char range[48], buf[96];
    std::snprintf(range, sizeof(range), "%.2fs-%.2fs", h.start_s, h.end_s);
    std::snprintf(buf, sizeof(buf), "%3d  %.4f  %-17s  ", rank++, h.score, range);
    std::cout << buf << h.path << "\n";
  }
  return 0;
}

VP_REGISTER_COMMAND("search", "Search an index by text or by example video", [](CLI::App& sub) {
  auto args = std::make_shared<SearchArgs>();
  sub.add_option("--db", args->db, "Index directory (from `videoprism index`)")->required();
  auto* query = sub.add_option("query", args->query, "Text query");
  sub.add_option("--like", args->like, "Find videos similar to this one")->excludes(query);
  sub.add_option("-k,--top", args->options.k, "Results")->capture_default_str();
  sub.add_option("--checkpoint", args->options.checkpoint, "Checkpoint (default: the index's; must be the same model)");
  sub.add_option("--tokenizer", args->options.tokenizer, "SentencePiece model if the index recorded none");
  sub.add_option("--dtype", args->options.dtype, kDtypeHelp)->capture_default_str();
  sub.add_option("--device", args->options.device, "cpu or cuda")->capture_default_str();
  sub.add_option("--threads", args->options.threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_flag("--json", args->json, "JSON array of {path, window, start_s, end_s, score}");
  sub.footer(
      "Example:\n  videoprism search --db ~/videos.vpdb \"a dog catching a frisbee\" -k 5\n"
      "  videoprism search --db ~/videos.vpdb --like clip.mp4 --json\n"
      "The model and tokenizer are the ones recorded in the index.");
  return [args] { return run_search(*args); };
});

}  // namespace
}  // namespace videoprism::cli
