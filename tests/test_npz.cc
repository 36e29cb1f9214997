// Tests for the .npy / .npz reader and writers.
#include "videoprism/core/npz.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "videoprism/core/error.h"

namespace videoprism {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class NpzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "vp_npz_" + std::to_string(::getpid()) + "_" + test->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = (fs::temp_directory_path() / name).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  std::string dir_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void spill(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Replaces the first occurrence of `from` in the file with `to` (same length),
// which keeps a stored zip structurally valid.
void patch(const std::string& path, const std::string& from, const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  std::string bytes = slurp(path);
  const size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  bytes.replace(at, from.size(), to);
  spill(path, bytes);
}

// Offset of the .npy magic that starts the member whose header contains `text`.
size_t member_start(const std::string& bytes, const std::string& text) {
  return bytes.rfind(std::string("\x93NUMPY", 6), bytes.find(text));
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const auto ca = a.contiguous(), cb = b.contiguous();
  return ca.numel() == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

// Runs fn, expecting videoprism::Error whose message contains every needle.
template <typename Fn>
void expect_error(Fn fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no videoprism::Error thrown";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const auto& needle : needles) EXPECT_NE(message.find(needle), std::string::npos) << message;
  }
}

std::vector<std::pair<std::string, torch::Tensor>> sample_arrays() {
  torch::manual_seed(7);
  auto f32 = torch::randn({2, 3, 4});
  f32.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  f32.view(-1)[1] = -std::numeric_limits<float>::infinity();
  f32.view(-1)[2] = -0.0f;
  return {
      {"params/layer/w", f32},
      {"ints", torch::arange(-5, 7, torch::kInt).reshape({3, 4})},
      {"f64", torch::randn({3, 2}, torch::kDouble)},
      {"scalar", torch::tensor(3.25f).reshape({})},
      {"empty", torch::empty({0, 3})},
      {"half", torch::randn({5}).to(torch::kHalf)},
      {"i64", torch::tensor({int64_t{1} << 40, int64_t{-3}})},
      {"i16", torch::tensor({-300, 300}, torch::kShort)},
      {"i8", torch::tensor({-128, 127}, torch::kChar)},
      {"u8", torch::tensor({0, 255}, torch::kByte)},
      {"mask", torch::tensor({true, false, true})},
      {"transposed", torch::arange(6, torch::kFloat).reshape({2, 3}).t()},  // non-contiguous input
  };
}

void check_round_trip(const std::string& path, bool compress) {
  const auto arrays = sample_arrays();
  save_npz(path, arrays, compress);
  NpzReader reader(path);
  std::vector<std::string> expected_keys;
  for (const auto& kv : arrays) expected_keys.push_back(kv.first);
  EXPECT_EQ(reader.keys(), expected_keys);
  for (const auto& [key, original] : arrays) {
    SCOPED_TRACE(key);
    const NpyInfo& info = reader.info(key);
    EXPECT_EQ(info.key, key);
    EXPECT_EQ(info.shape, original.sizes().vec());
    EXPECT_EQ(info.dtype, original.scalar_type());
    EXPECT_FALSE(info.fortran_order);
    EXPECT_EQ(info.data_offset_in_member % 64, 0u);
    const torch::Tensor back = reader.read(key);
    EXPECT_TRUE(back.is_contiguous());
    EXPECT_TRUE(same_bits(back, original));
  }
  EXPECT_EQ(reader.info("params/layer/w").descr, "<f4");
  EXPECT_EQ(reader.info("u8").descr, "|u1");
  EXPECT_EQ(reader.info("mask").descr, "|b1");
  const auto all = load_npz(path);
  EXPECT_EQ(all.size(), arrays.size());
  EXPECT_TRUE(same_bits(all.at("f64"), arrays[2].second));
}

TEST_F(NpzTest, RoundTripStored) { check_round_trip(file("a.npz"), false); }

TEST_F(NpzTest, RoundTripDeflated) { check_round_trip(file("a.npz"), true); }

TEST_F(NpzTest, DeflateShrinksCompressibleData) {
  save_npz(file("stored.npz"), {{"z", torch::zeros({10000})}}, false);
  save_npz(file("deflated.npz"), {{"z", torch::zeros({10000})}}, true);
  EXPECT_GT(fs::file_size(file("stored.npz")), 40000u);
  EXPECT_LT(fs::file_size(file("deflated.npz")), 2000u);
  EXPECT_TRUE(same_bits(NpzReader(file("deflated.npz")).read("z"), torch::zeros({10000})));
}

TEST_F(NpzTest, EmptyArchiveRoundTrips) {
  save_npz(file("none.npz"), {});
  EXPECT_EQ(fs::file_size(file("none.npz")), 22u);
  EXPECT_TRUE(NpzReader(file("none.npz")).keys().empty());
}

TEST_F(NpzTest, NpyRoundTripAndNumpyHeader) {
  const auto arrays = sample_arrays();
  for (const auto& [key, array] : arrays) {
    const std::string path = file("one.npy");
    save_npy(path, array);
    EXPECT_TRUE(same_bits(load_npy(path), array)) << key;
  }
  save_npy(file("m.npy"), torch::zeros({2, 3}));
  const std::string bytes = slurp(file("m.npy"));
  // 10 prefix bytes + the 60-byte dict + '\n' round up to 128, as numpy writes it.
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8, 118);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.find_first_not_of(' ', 10 + dict.size()), 127u);
  EXPECT_EQ(bytes[127], '\n');
  save_npy(file("s.npy"), torch::tensor({1, 2, 3}, torch::kLong));
  EXPECT_NE(slurp(file("s.npy")).find("'shape': (3,), }"), std::string::npos);
  save_npy(file("s.npy"), torch::tensor(1.0, torch::kDouble).reshape({}));
  EXPECT_NE(slurp(file("s.npy")).find("'descr': '<f8', 'fortran_order': False, 'shape': (), }"),
            std::string::npos);
}

// Hand-written .npy with the given version, header dict and data bytes.
std::string make_npy(int major, const std::string& dict, const std::string& data) {
  std::string header = dict + "\n";
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const size_t len = header.size();
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out.push_back(static_cast<char>(len >> (8 * i)));
  return out + header + data;
}

TEST_F(NpzTest, ReadsVersion2And3BigEndianAndFortranOrder) {
  // Big-endian int32 [[0,1,2],[3,4,5]] stored column-major: 0,3,1,4,2,5.
  std::string data;
  for (int v : {0, 3, 1, 4, 2, 5}) data += std::string{0, 0, 0, static_cast<char>(v)};
  const auto expected = torch::arange(6, torch::kInt).reshape({2, 3});
  const std::string dict = "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }";
  for (int major : {1, 2, 3}) {
    spill(file("be.npy"), make_npy(major, dict, data));
    const auto got = load_npy(file("be.npy"));
    EXPECT_TRUE(got.is_contiguous());
    EXPECT_TRUE(same_bits(got, expected)) << "version " << major << ": " << got;
  }
  // Python 2 style "3L" dimensions and double quotes also parse.
  spill(file("py2.npy"), make_npy(1, "{\"descr\": \"<i2\", \"fortran_order\": False, \"shape\": (3L,)}",
                                  std::string("\x01\x00\x02\x00\x03\x00", 6)));
  EXPECT_TRUE(same_bits(load_npy(file("py2.npy")), torch::tensor({1, 2, 3}, torch::kShort)));
}

TEST_F(NpzTest, RejectsUnsupportedAndMalformedNpy) {
  const std::string path = file("bad.npy");
  spill(path, make_npy(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0')));
  expect_error([&] { load_npy(path); }, {path, "'<u4'"});
  spill(path, make_npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')));
  expect_error([&] { load_npy(path); }, {path, "'<c8'"});
  spill(path, make_npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "abcd"));
  expect_error([&] { load_npy(path); }, {path, "structured"});
  spill(path, make_npy(1, "{'descr': '<f4', 'shape': (1,), }", "abcd"));
  expect_error([&] { load_npy(path); }, {path, "bad .npy header"});
  spill(path, make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1 2,), }", "abcd"));
  expect_error([&] { load_npy(path); }, {path, "bad .npy header"});
  spill(path, make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 9999999999), }",
                       ""));
  expect_error([&] { load_npy(path); }, {path, "too large"});
  spill(path, make_npy(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "abcd"));
  expect_error([&] { load_npy(path); }, {path, "version 4.0"});
  spill(path, make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", "abcd"));
  expect_error([&] { load_npy(path); }, {path, "expected 16 data bytes for <f4 [4], got 4 (truncated?)"});
  spill(path, make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "abcdefgh"));
  expect_error([&] { load_npy(path); }, {path, "more data"});
  spill(path, "just text, not numpy");
  expect_error([&] { load_npy(path); }, {path, "magic"});
  expect_error([&] { load_npy(file("missing.npy")); }, {file("missing.npy")});
}

TEST_F(NpzTest, ReadIntoFillsAndChecksDestination) {
  const std::string path = file("w.npz");
  const auto w = torch::randn({4, 5});
  save_npz(path, {{"w", w}, {"i", torch::arange(3, torch::kInt)}});
  NpzReader reader(path);
  torch::Tensor dst = torch::zeros({4, 5});
  const void* before = dst.data_ptr();
  reader.read_into("w", dst);
  EXPECT_EQ(dst.data_ptr(), before);
  EXPECT_TRUE(same_bits(dst, w));

  torch::Tensor wrong_shape = torch::zeros({5, 4});
  expect_error([&] { reader.read_into("w", wrong_shape); }, {path, "'w.npy'", "[4,5]", "[5,4]"});
  torch::Tensor wrong_dtype = torch::zeros({4, 5}, torch::kDouble);
  expect_error([&] { reader.read_into("w", wrong_dtype); }, {path, "Double"});
  torch::Tensor int_into_float = torch::zeros({3});
  expect_error([&] { reader.read_into("i", int_into_float); }, {path, "'i.npy'"});
  torch::Tensor strided = torch::zeros({5, 4}).t();
  expect_error([&] { reader.read_into("w", strided); }, {path, "non-contiguous"});
}

TEST_F(NpzTest, TruncatedArchiveThrowsNamingPath) {
  const std::string path = file("cut.npz");
  save_npz(path, {{"a", torch::randn({4096})}, {"b", torch::randn({64, 64})}});
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_error([&] { NpzReader reader(path); }, {path});
  expect_error([&] { load_npz(path); }, {path});
}

TEST_F(NpzTest, GarbageMissingAndEmptyFilesThrow) {
  const std::string garbage = file("garbage.npz");
  std::string noise;
  for (int i = 0; i < 5000; ++i) noise.push_back(static_cast<char>((i * 7919) % 251));
  spill(garbage, noise);
  expect_error([&] { NpzReader reader(garbage); }, {garbage, "zip"});
  const std::string empty = file("empty.npz");
  spill(empty, "");
  expect_error([&] { NpzReader reader(empty); }, {empty});
  const std::string missing = file("nope.npz");
  expect_error([&] { NpzReader reader(missing); }, {missing});
}

TEST_F(NpzTest, MissingKeyThrowsNamingKey) {
  const std::string path = file("k.npz");
  save_npz(path, {{"present", torch::ones({2})}});
  NpzReader reader(path);
  EXPECT_TRUE(reader.contains("present"));
  EXPECT_FALSE(reader.contains("absent"));
  expect_error([&] { reader.info("absent"); }, {path, "'absent'"});
  expect_error([&] { reader.read("absent"); }, {path, "'absent'"});
}

TEST_F(NpzTest, CorruptMembersThrowNamingMember) {
  const std::string path = file("c.npz");
  const auto make = [&] { save_npz(path, {{"ok", torch::ones({3})}, {"x", torch::ones({10})}}); };
  const std::string x_header = "'shape': (10,)";

  make();  // a member without the magic
  std::string bytes = slurp(path);
  bytes.replace(member_start(bytes, x_header), 6, "NOTNPY");
  spill(path, bytes);
  expect_error([&] { NpzReader reader(path); }, {path, "'x.npy'", "magic"});

  make();  // a header that does not parse
  patch(path, x_header, "'shape': [10,)");
  expect_error([&] { NpzReader reader(path); }, {path, "'x.npy'", "bad .npy header"});

  make();  // a header claiming more data than the member holds
  patch(path, x_header, "'shape': (90,)");
  expect_error([&] { NpzReader reader(path); },
               {path, "'x.npy'", "expected 360 data bytes for <f4 [90], got 40 (truncated?)"});

  make();  // flipped data bytes: the header is fine, the CRC is not
  bytes = slurp(path);
  const size_t start = member_start(bytes, x_header);
  const size_t data = start + 10 + (static_cast<unsigned char>(bytes[start + 8]) |
                                    static_cast<unsigned char>(bytes[start + 9]) << 8);
  ASSERT_EQ(bytes[data - 1], '\n');
  bytes[data + 3] ^= 0x40;
  spill(path, bytes);
  NpzReader reader(path);
  EXPECT_TRUE(same_bits(reader.read("ok"), torch::ones({3})));
  expect_error([&] { reader.read("x"); }, {path, "'x.npy'", "CRC"});
}

TEST_F(NpzTest, WriteRejectsBadInputAndLeavesNothing) {
  const std::string path = file("w.npz");
  expect_error([&] { save_npz(path, {{"a", torch::ones({1})}, {"a", torch::ones({2})}}); },
               {path, "'a'", "duplicate"});
  const auto meta = torch::empty({2}, torch::TensorOptions().device(torch::kMeta));
  expect_error([&] { save_npz(path, {{"m", meta}}); }, {path, "'m'", "CPU"});
  expect_error([&] { save_npy(file("m.npy"), meta); }, {"m.npy", "CPU"});
  expect_error([&] { save_npz(path, {{"c", torch::ones({2}, torch::kComplexFloat)}}); },
               {path, "'c'", "dtype"});
  const std::string nowhere = file("no/such/dir/x.npz");
  expect_error([&] { save_npz(nowhere, {{"a", torch::ones({1})}}); }, {nowhere});
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(NpzTest, AtomicWriteLeavesNoTemporaryFile) {
  save_npz(file("a.npz"), {{"v", torch::ones({100})}});
  save_npz(file("a.npz"), {{"v", torch::zeros({100})}}, true);  // replaces the old file
  save_npy(file("b.npy"), torch::ones({7}));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.npz", "b.npy"}));
  EXPECT_TRUE(same_bits(NpzReader(file("a.npz")).read("v"), torch::zeros({100})));
}

// The tiny encoder fixture written by numpy (see shared/golden).
TEST(NpzGolden, EncoderTinyParams) {
  const std::string path = VP_SHARED_DIR "/golden/encoder_tiny/params.npz";
  NpzReader reader(path);
  const auto keys = reader.keys();
  ASSERT_EQ(keys.size(), 40u);
  for (const auto& key : keys) EXPECT_EQ(key.rfind("params/", 0), 0u) << key;
  const std::string kernel = "params/patch_projection/linear/kernel";
  ASSERT_TRUE(reader.contains(kernel));
  EXPECT_EQ(reader.info(kernel).dtype, torch::kFloat);
  EXPECT_EQ(reader.info(kernel).shape, (std::vector<int64_t>{108, 48}));
  const auto w = reader.read(kernel);
  // First and last values, as bit patterns read with Python's zipfile.
  uint32_t first, last;
  std::memcpy(&first, w.data_ptr<float>(), 4);
  std::memcpy(&last, w.data_ptr<float>() + w.numel() - 1, 4);
  EXPECT_EQ(first, 0xbdb02bf8u);
  EXPECT_EQ(last, 0xbd51b73cu);
  EXPECT_EQ(reader.info("params/spatial_encoder/transformers_stack/x_layers/self_attention/key/w").shape,
            (std::vector<int64_t>{2, 48, 4, 12}));
}

TEST(NpzGolden, EncoderTinyInputs) {
  const auto arrays = load_npz(VP_SHARED_DIR "/golden/encoder_tiny/io.npz");
  const auto& inputs = arrays.at("inputs");
  EXPECT_EQ(inputs.scalar_type(), torch::kFloat);
  EXPECT_EQ(inputs.sizes().vec(), (std::vector<int64_t>{2, 4, 24, 24, 3}));
  EXPECT_GE(inputs.min().item<float>(), 0.0f);
  EXPECT_LE(inputs.max().item<float>(), 1.0f);
  EXPECT_NEAR(inputs.sum(torch::kDouble).item<double>(), 6989.1616, 1e-3);
  EXPECT_EQ(arrays.at("embeddings").sizes().vec(), (std::vector<int64_t>{2, 64, 48}));
}

}  // namespace
}  // namespace videoprism
