// The end-to-end demo (`videoprism demo`): a synthetic Fashion-MNIST video
// world, stage-1 and stage-2 pre-training of a small VideoPrism (plus the
// stage-2 ablations without shuffling and without global distillation), the
// LiT-style zero-shot head, frozen-backbone probes with controls, zero-shot
// classification, retrieval, an index with a few text searches, and a report
// (report.md, results.json, PNG plots through gnuplot) under one folder.
#pragma once

#include <string>
#include <vector>

namespace videoprism::demo {

struct DemoOptions {
  std::string out_dir = "demo-out";
  std::string tokenizer;      // SentencePiece model (required)
  std::string mnist_dir;      // empty: Debian's dataset-fashion-mnist folder
  bool quick = false;         // tiny corpus and few steps (~3 minutes)
  int seeds = 0;              // probe seeds; 0: 3 (quick: 2)
  std::string probe = "linear";  // linear | map (linear: reliable at this scale, see report)
  int threads = 0;            // 0: the process's setting
  bool progress = true;       // phase lines on stderr
};

struct DemoPhase {
  std::string name;
  double seconds = 0;
};

struct DemoSummary {
  std::vector<DemoPhase> phases;
  double seconds = 0;
  std::string report_path, results_path;
};

// Runs every phase (reusing the corpus when present) and writes the report.
DemoSummary run_demo(const DemoOptions& options);

}  // namespace videoprism::demo
