// PNG plots through gnuplot, the one driver for the trainers' loss.png and
// the demo's figures. gnuplot is a program run on a script written beside the
// PNG (PNG.gp); data files and scripts are written atomically.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace videoprism {

// The terminal line every script starts with (pngcairo; run_gnuplot falls
// back to libgd's png where pngcairo is missing).
std::string png_terminal(int width = 900, int height = 520);

// Writes `script` to png + ".gp" and runs gnuplot on it (gnuplot's output goes
// to png + ".gp.log"). Returns "" on success, else a one-line reason.
std::string run_gnuplot(const std::string& png, const std::string& script);

// Loss curves: one line per (legend, metrics.jsonl) pair, from the records
// holding "step" and "loss" (other lines skipped); the data go to
// png + "." + index + ".dat". Runs whose file is missing are left out; none
// left is an error. Returns "" on success, else a one-line reason.
std::string plot_loss_curves(const std::string& png, const std::string& title,
                             const std::vector<std::pair<std::string, std::string>>& runs);

}  // namespace videoprism
