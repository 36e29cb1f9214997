// Generated captioned videos for the training tests (stage 1, stage 2,
// align): a colored square moving across a black canvas, lossless FFV1.
#pragma once

#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include "videoprism/media/video_writer.h"

namespace videoprism::testing {

// 4 colors x 4 directions.
inline const char* kColors[] = {"red", "green", "blue", "yellow"};
inline const uint8_t kRgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}};
inline const char* kDirections[] = {"left", "right", "up", "down"};
inline constexpr int kSize = 24, kFileFrames = 8, kSquare = 6, kSpeed = 2;

inline std::string caption(int color, int direction) {
  return std::string("a ") + kColors[color] + " square moving " + kDirections[direction];
}

// A square crossing a black 24x24 canvas, 8 frames, lossless FFV1.
inline void write_moving_square(const std::string& path, int color, int direction, std::mt19937& rng) {
  const int travel = kSpeed * (kFileFrames - 1), room = kSize - kSquare;
  std::uniform_int_distribution<int> along(0, room - travel), across(0, room);
  int start = along(rng), other = across(rng);
  if (direction == 0 || direction == 2) start += travel;  // left / up start far
  torch::Tensor frames = torch::zeros({kFileFrames, kSize, kSize, 3}, torch::kUInt8);
  for (int f = 0; f < kFileFrames; ++f) {
    const int sign = (direction == 0 || direction == 2) ? -1 : 1;
    const int pos = start + sign * kSpeed * f;
    const int y = direction >= 2 ? pos : other, x = direction >= 2 ? other : pos;
    for (int c = 0; c < 3; ++c) frames[f].slice(0, y, y + kSquare).slice(1, x, x + kSquare).select(2, c).fill_(kRgb[color][c]);
  }
  write_video(path, frames);
}

// Writes `per_class` videos per class and a manifest; returns its path.
inline std::string write_dataset(const std::string& dir, int per_class, unsigned seed, const std::string& name) {
  std::mt19937 rng(seed);
  std::ofstream manifest(dir + "/" + name + ".jsonl");
  for (int k = 0; k < per_class; ++k)
    for (int color = 0; color < 4; ++color)
      for (int direction = 0; direction < 4; ++direction) {
        const std::string file = name + "_" + std::to_string(k) + "_" + std::to_string(color) + std::to_string(direction) + ".mkv";
        write_moving_square(dir + "/" + file, color, direction, rng);
        manifest << nlohmann::json{{"video", file}, {"caption", caption(color, direction)}}.dump() << "\n";
      }
  return dir + "/" + name + ".jsonl";
}

}  // namespace videoprism::testing
