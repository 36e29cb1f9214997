// NumPy .npz / .npy input and output.
//
// The released VideoPrism weights are .npz archives written by numpy (each
// array a ".npy" member, usually stored uncompressed, sometimes zip64). The
// reader parses every member's header up front so that shape and dtype
// mistakes surface when the file is opened, and reads array data straight
// into the destination tensor's memory so multi-gigabyte checkpoints never
// exist twice in RAM. The writers produce files numpy.load reads.
//
// Everything here throws videoprism::Error with a one-line message naming the
// file and key.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace videoprism {

// What a .npy header says about its array.
struct NpyInfo {
  std::string key;                 // npz member name without ".npy"; the path for a .npy file
  std::string descr;               // numpy descr as written, e.g. "<f4"
  std::vector<int64_t> shape;      // empty for a 0-d scalar
  bool fortran_order = false;      // data is column-major on disk (read() still returns C order)
  torch::ScalarType dtype = torch::kFloat;
  uint64_t data_offset_in_member = 0;  // bytes of magic + header before the data
};

// An open .npz archive. Reads are serialised internally, so one reader may be
// shared between threads, but reads do not run in parallel.
class NpzReader {
 public:
  // Opens the archive, lists its members and parses every .npy header.
  // Throws on a missing, non-zip, corrupt or truncated file, on a member that
  // is not a .npy array, and on a member whose size disagrees with its header.
  explicit NpzReader(const std::string& path);
  ~NpzReader();
  NpzReader(NpzReader&&) noexcept;
  NpzReader& operator=(NpzReader&&) noexcept;
  NpzReader(const NpzReader&) = delete;
  NpzReader& operator=(const NpzReader&) = delete;

  const std::string& path() const;
  // Member names without the trailing ".npy", in archive order.
  std::vector<std::string> keys() const;
  bool contains(const std::string& key) const;
  // Throws naming the key when it is missing.
  const NpyInfo& info(const std::string& key) const;
  // A new contiguous CPU tensor of the stored dtype, in C order.
  torch::Tensor read(const std::string& key) const;
  // Reads into an existing contiguous CPU tensor whose shape and dtype equal
  // the stored array's exactly (no conversion). Loads weights with no second
  // copy in memory (Fortran-ordered arrays need one temporary).
  void read_into(const std::string& key, torch::Tensor& dst) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every array of an archive, keyed like NpzReader::keys().
std::map<std::string, torch::Tensor> load_npz(const std::string& path);

// Writes the arrays (CPU tensors; contiguous copies are made as needed) as
// "<key>.npy" members. compress=false stores members like np.savez, true
// deflates them like np.savez_compressed. The file is written to a temporary
// file beside path, fsync'ed and renamed over path (src/io/atomic_file.h), so
// readers never see half a file and a failed write leaves the old one intact.
void save_npz(const std::string& path,
              const std::vector<std::pair<std::string, torch::Tensor>>& arrays,
              bool compress = false);

// A single .npy file.
torch::Tensor load_npy(const std::string& path);
// Atomic like save_npz.
void save_npy(const std::string& path, const torch::Tensor& array);

}  // namespace videoprism
