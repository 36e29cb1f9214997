// SplitMix64 finalizer: the stateless hash behind every keyed random stream of
// training (data order, augmentation, token drop, masks), so resumed and
// distributed runs draw the same numbers.
#pragma once

#include <cstdint>

namespace videoprism::train {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace videoprism::train
