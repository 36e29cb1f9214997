// NumPy .npy / .npz reading and writing on top of libzip.
//
// Format reference: numpy/lib/format.py ("NEP 1"). A .npy file is the magic
// "\x93NUMPY", a version byte pair, a little-endian header length (2 bytes for
// version 1.0, 4 bytes for 2.0 and 3.0), a Python dict literal padded with
// spaces and '\n', then the raw array bytes. A .npz is a zip of such files.
#include "videoprism/core/npz.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <set>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"

namespace videoprism {
namespace {

constexpr char kMagic[] = "\x93" "NUMPY";
constexpr size_t kMagicLen = 6;
// zip_fread / fread in pieces so no single call asks for gigabytes at once.
constexpr uint64_t kChunk = uint64_t{64} << 20;
// numpy itself refuses headers over 10000 bytes by default; a megabyte bound
// only guards against allocating garbage lengths from a corrupt file.
constexpr uint32_t kMaxHeaderLen = 1u << 20;

constexpr time_t kFixedMtime = 315619200;  // 1980-01-02 00:00 UTC, the DOS epoch's first safe day
constexpr bool kHostLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// Reads up to n bytes into buf and returns how many came; fewer than n only at
// the end of the data. Throws on I/O errors (including libzip's CRC check).
using ReadFn = std::function<uint64_t(char*, uint64_t)>;

struct DtypeRow { char kind; int size; torch::ScalarType type; };
// numpy kind/size pairs that have an exact torch counterpart.
const DtypeRow kDtypes[] = {
    {'f', 4, torch::kFloat},  {'f', 8, torch::kDouble}, {'f', 2, torch::kHalf},
    {'i', 4, torch::kInt},    {'i', 8, torch::kLong},   {'i', 2, torch::kShort},
    {'i', 1, torch::kChar},   {'u', 1, torch::kByte},   {'b', 1, torch::kBool},
};

const char* kSupported = "<f4 <f8 <f2 <i4 <i8 <i2 |i1 |u1 |b1";

// Maps a descr such as "<f4" to a torch dtype; '=' means native order.
torch::ScalarType dtype_from_descr(const std::string& descr, const std::string& where) {
  if (descr.size() == 3 && std::strchr("<>|=", descr[0]) != nullptr && descr[0] != '\0') {
    for (const auto& row : kDtypes) {
      if (descr[1] != row.kind || descr[2] != '0' + row.size) continue;
      // '|' (not applicable) is only meaningful for one-byte types.
      if (descr[0] == '|' && row.size != 1) break;
      return row.type;
    }
  }
  fail(where, ": unsupported dtype '", descr, "' (supported: ", kSupported, ")");
}

// The descr numpy would write for a tensor of this dtype on this host.
std::string descr_for(torch::ScalarType type, const std::string& where) {
  for (const auto& row : kDtypes) {
    if (row.type != type) continue;
    const char order = row.size == 1 ? '|' : (kHostLittleEndian ? '<' : '>');
    return std::string{order, row.kind, static_cast<char>('0' + row.size)};
  }
  fail(where, ": cannot save dtype ", c10::toString(type), " (supported: ", kSupported, ")");
}

bool needs_byte_swap(const NpyInfo& info) {
  if (c10::elementSize(info.dtype) == 1) return false;
  return info.descr[0] == (kHostLittleEndian ? '>' : '<');
}

uint64_t data_bytes(const NpyInfo& info, const std::string& where) {
  uint64_t total = c10::elementSize(info.dtype);
  for (int64_t d : info.shape) {
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(d), &total))
      fail(where, ": shape ", shape_str(info.shape), " is too large");
  }
  return total;
}

// The payload size the header declares, checked against the decompressed-size
// cap before anything of that size is allocated or inflated.
uint64_t capped_data_bytes(const NpyInfo& info, const std::string& where) {
  const uint64_t bytes = data_bytes(info, where);
  const uint64_t cap = npz_max_member_bytes();
  check(bytes <= cap, where, ": ", info.descr, " ", shape_str(info.shape), " declares ", bytes,
        " bytes, more than the limit of ", cap, " bytes (set VIDEOPRISM_NPZ_MAX_BYTES to raise it)");
  return bytes;
}

// Deflate cannot expand a stream by more than 1032:1 (a 258-byte match from
// every 2 bits); a member that declares more is a bomb or a lying header.
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string describe(const NpyInfo& info) { return info.descr + " " + shape_str(info.shape); }

// Parses the header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// numpy writes it with Python's repr(), so a tiny literal parser suffices.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& where) : text_(text), where_(where) {}

  void parse(NpyInfo& info) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    items('}', [&] {
      const std::string key = parse_string();
      expect(':');
      if (key == "descr" && !have_descr) {
        if (peek() == '[') bad("structured dtypes are not supported");
        info.descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order" && !have_order) {
        info.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape" && !have_shape) {
        info.shape = parse_shape();
        have_shape = true;
      } else {
        bad("unexpected or repeated key '" + key + "'");
      }
    });
    if (peek() != '\0') bad("text after the dict");
    if (!have_descr || !have_order || !have_shape) bad("missing 'descr', 'fortran_order' or 'shape'");
  }

 private:
  // The next character after any whitespace; '\0' at the end.
  char peek() {
    while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_]) != nullptr) ++pos_;
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  bool eat(char c) { return peek() == c && (++pos_, true); }
  void expect(char c) {
    if (!eat(c)) bad(std::string("expected '") + c + "'");
  }
  // Calls item() for each element of a comma-separated list that ends with
  // `close`; Python leaves a trailing comma, as in "(3,)".
  template <typename Fn>
  void items(char close, Fn item) {
    while (!eat(close)) {
      item();
      if (!eat(',')) return expect(close);
    }
  }
  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string s = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return s;
  }
  bool parse_bool() {
    peek();
    if (text_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
    if (text_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
    bad("expected True or False");
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(');
    items(')', [&] {
      peek();  // whitespace before the number, none inside it
      auto digit = [&] {
        return pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0;
      };
      int64_t value = 0;
      size_t digits = 0;
      for (; digit() && digits < 18; ++digits) value = value * 10 + (text_[pos_++] - '0');
      if (digits == 0 || digit()) bad("expected a dimension");
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 wrote longs as 3L
      shape.push_back(value);
    });
    return shape;
  }
  [[noreturn]] void bad(const std::string& what) const {
    std::string shown = text_.substr(0, 200);
    std::replace(shown.begin(), shown.end(), '\n', ' ');
    fail(where_, ": bad .npy header (", what, " at offset ", pos_, "): ", shown);
  }

  const std::string& text_;
  const std::string& where_;
  size_t pos_ = 0;
};

void read_exact(const ReadFn& read, char* buf, uint64_t n, const std::string& where) {
  const uint64_t got = read(buf, n);
  check(got == n, where, ": truncated .npy header (expected ", n, " more bytes, got ", got, ")");
}

// Reads magic and header, leaving `read` positioned at the first data byte.
NpyInfo parse_npy_header(const ReadFn& read, const std::string& key, const std::string& where) {
  unsigned char pre[8];
  const uint64_t got = read(reinterpret_cast<char*>(pre), sizeof(pre));
  check(got == sizeof(pre) && std::memcmp(pre, kMagic, kMagicLen) == 0, where,
        ": not a .npy array (no \\x93NUMPY magic at the start)");
  const int major = pre[6], minor = pre[7];
  check((major == 1 || major == 2 || major == 3) && minor == 0, where,
        ": unsupported .npy format version ", major, ".", minor, " (expected 1.0, 2.0 or 3.0)");
  const int len_bytes = major == 1 ? 2 : 4;
  unsigned char len_buf[4];
  read_exact(read, reinterpret_cast<char*>(len_buf), len_bytes, where);
  uint32_t header_len = 0;
  for (int i = len_bytes - 1; i >= 0; --i) header_len = (header_len << 8) | len_buf[i];
  check(header_len <= kMaxHeaderLen, where, ": .npy header length ", header_len,
        " exceeds the ", kMaxHeaderLen, " byte limit (corrupt file?)");
  std::string text(header_len, '\0');
  read_exact(read, &text[0], header_len, where);

  NpyInfo info;
  info.key = key;
  HeaderParser(text, where).parse(info);
  info.dtype = dtype_from_descr(info.descr, where);
  info.data_offset_in_member = sizeof(pre) + len_bytes + header_len;
  data_bytes(info, where);  // rejects shapes whose byte count overflows
  return info;
}

void byte_swap(char* data, uint64_t nbytes, size_t item) {
  for (uint64_t i = 0; i + item <= nbytes; i += item) std::reverse(data + i, data + i + item);
}

// Reads exactly the array's bytes into dst, then asks for one more byte: it
// must not come, and asking lets libzip reach end-of-member and verify the CRC.
void read_payload(const ReadFn& read, const NpyInfo& info, void* dst, const std::string& where) {
  const uint64_t nbytes = data_bytes(info, where);
  char* out = static_cast<char*>(dst);
  uint64_t done = 0;
  while (done < nbytes) {
    const uint64_t want = std::min(kChunk, nbytes - done);
    const uint64_t got = read(out + done, want);
    done += got;
    if (got < want) break;
  }
  check(done == nbytes, where, ": expected ", nbytes, " data bytes for ", describe(info), ", got ", done,
        " (truncated?)");
  char extra;
  check(read(&extra, 1) == 0, where, ": more data than the ", nbytes, " bytes of ", describe(info));
  if (needs_byte_swap(info)) byte_swap(out, nbytes, c10::elementSize(info.dtype));
}

// Fills a contiguous tensor of the header's shape and dtype in C order.
void fill(const ReadFn& read, const NpyInfo& info, torch::Tensor& dst, const std::string& where) {
  if (!info.fortran_order || info.shape.size() < 2) {
    read_payload(read, info, dst.data_ptr(), where);
    return;
  }
  // Column-major data is the C-order array of the reversed shape, transposed.
  std::vector<int64_t> reversed(info.shape.rbegin(), info.shape.rend());
  std::vector<int64_t> perm(reversed.size());
  for (size_t d = 0; d < perm.size(); ++d) perm[d] = static_cast<int64_t>(perm.size() - 1 - d);
  torch::Tensor tmp = torch::empty(reversed, torch::TensorOptions().dtype(info.dtype));
  read_payload(read, info, tmp.data_ptr(), where);
  dst.copy_(tmp.permute(perm));
}

void check_destination(const NpyInfo& info, const torch::Tensor& dst, const std::string& where) {
  check(dst.defined(), where, ": read_into got an undefined tensor");
  const bool ok = dst.device().is_cpu() && dst.is_contiguous() && dst.scalar_type() == info.dtype &&
                  dst.sizes().vec() == info.shape;
  check(ok, where, ": read_into expects a contiguous CPU ", c10::toString(info.dtype), " tensor of shape ",
        shape_str(info.shape), ", got ", dst.device().is_cpu() ? "" : "non-CPU ",
        dst.is_contiguous() ? "" : "non-contiguous ", c10::toString(dst.scalar_type()), " ",
        shape_str(dst.sizes()));
}

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

// One open archive member; closed on scope exit.
class ZipMember {
 public:
  ZipMember(zip_t* archive, zip_uint64_t index, const std::string& where) : where_(where) {
    file_ = zip_fopen_index(archive, index, 0);
    if (file_ == nullptr) fail(where, ": cannot open member (", zip_strerror(archive), ")");
  }
  ~ZipMember() { zip_fclose(file_); }
  ZipMember(const ZipMember&) = delete;
  ZipMember& operator=(const ZipMember&) = delete;

  ReadFn reader() {
    return [this](char* buf, uint64_t n) {
      uint64_t done = 0;
      while (done < n) {
        const zip_int64_t got = zip_fread(file_, buf + done, n - done);
        if (got < 0) fail(where_, ": read failed (", zip_file_strerror(file_), ")");
        if (got == 0) break;
        done += static_cast<uint64_t>(got);
      }
      return done;
    };
  }

 private:
  zip_file_t* file_ = nullptr;
  const std::string& where_;
};

// A tensor ready to be written: its .npy header and contiguous CPU data.
struct NpyBlob {
  std::string header;
  torch::Tensor data;
  uint64_t nbytes = 0;
};

NpyBlob make_blob(const torch::Tensor& array, const std::string& where) {
  check(array.defined(), where, ": cannot save an undefined tensor");
  check(array.device().is_cpu(), where, ": cannot save a tensor on ", array.device().str(),
        ", expected a CPU tensor");
  NpyBlob blob;
  const std::string descr = descr_for(array.scalar_type(), where);
  blob.data = array.contiguous();
  blob.nbytes = blob.data.numel() * blob.data.element_size();

  // Python tuple syntax: (), (5,), (2, 3).
  std::string shape = "(";
  for (int64_t i = 0; i < array.dim(); ++i) shape += (i > 0 ? ", " : "") + std::to_string(array.size(i));
  shape += array.dim() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";

  // Like numpy, pad with spaces and a final '\n' so the data starts at a
  // multiple of 64 bytes, which keeps memory-mapped arrays aligned.
  auto padded = [&](size_t prefix) { return (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix; };
  int major = 1;
  size_t prefix = kMagicLen + 2 + 2;
  if (padded(prefix) > 0xFFFF) major = 2, prefix = kMagicLen + 2 + 4;
  const size_t header_len = padded(prefix);
  dict.append(header_len - dict.size() - 1, ' ').push_back('\n');

  blob.header.assign(kMagic, kMagicLen);
  blob.header.push_back(static_cast<char>(major));
  blob.header.push_back('\0');
  for (size_t i = 0; i < prefix - kMagicLen - 2; ++i)
    blob.header.push_back(static_cast<char>(header_len >> (8 * i)));
  blob.header += dict;
  return blob;
}

}  // namespace

// ---------------------------------------------------------------- NpzReader

struct NpzReader::Impl {
  std::string path;
  zip_t* archive = nullptr;
  std::vector<NpyInfo> infos;                 // archive order
  std::vector<zip_uint64_t> indices;          // zip index of infos[i]
  std::vector<std::string> names;             // member name of infos[i]
  std::map<std::string, size_t> by_key;       // key -> position in infos
  mutable std::mutex mutex;                   // a zip_t is not safe for concurrent reads

  ~Impl() {
    if (archive != nullptr) zip_discard(archive);  // read-only: nothing to write back
  }
  std::string where(const std::string& member) const { return "npz: " + path + ": member '" + member + "'"; }
  size_t position(const std::string& key) const {
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      fail("npz: ", path, ": no array '", key, "' (the archive holds ", infos.size(), " arrays",
           infos.empty() ? "" : ", e.g. '" + infos.front().key + "'", ")");
    }
    return it->second;
  }
};

NpzReader::NpzReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) fail_not_found("npz: ", path, ": cannot open (", std::strerror(errno), ")");
    fail("npz: ", path, ": cannot open (", std::strerror(errno), ")");
  }
  check(S_ISREG(st.st_mode), "npz: ", path, ": not a regular file");
  // libzip treats a 0-byte file as an empty archive; numpy would not.
  check(st.st_size > 0, "npz: ", path, ": empty file, expected a zip archive");

  // Not ZIP_CHECKCONS: it also demands that every local header agree field
  // by field with the central directory, which can reject archives that other
  // zip readers (and numpy) accept. What matters is checked below and on
  // read: every member must parse as .npy, its size must match its header,
  // and libzip verifies each member's CRC when a read reaches its end. A
  // truncated file loses its end-of-central-directory record, which zip_open
  // always rejects.
  int code = 0;
  m.archive = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (m.archive == nullptr) {
    fail("npz: ", path, ": not a readable zip archive (", zip_error_text(code), "; truncated or corrupt?)");
  }
  const zip_int64_t count = zip_get_num_entries(m.archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t zs;
    zip_stat_init(&zs);
    const zip_uint64_t needed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if (zip_stat_index(m.archive, i, 0, &zs) != 0 || (zs.valid & needed) != needed)
      fail("npz: ", path, ": cannot stat member #", i, " (", zip_strerror(m.archive), ")");
    const std::string name = zs.name;
    if (!name.empty() && name.back() == '/' && zs.size == 0) continue;  // a directory entry
    // Like numpy, a member "x.npy" is array "x"; other names are kept whole.
    std::string key = name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    const std::string where = m.where(name);
    check(m.by_key.count(key) == 0, where, ": duplicate array key '", key, "'");

    // Sizes the zip declares, before a byte is inflated.
    const uint64_t cap = npz_max_member_bytes();
    check(zs.size <= cap + kMaxHeaderLen + 16, where, ": declares ", zs.size,
          " uncompressed bytes, more than the limit of ", cap, " bytes (set VIDEOPRISM_NPZ_MAX_BYTES to raise it)");
    if (zs.comp_method == ZIP_CM_DEFLATE) {
      check(zs.size / kMaxDeflateRatio <= zs.comp_size + 1, where, ": declares ", zs.size, " bytes from ",
            zs.comp_size, " deflated bytes, more than deflate can expand (", kMaxDeflateRatio,
            ":1); corrupt sizes or a zip bomb");
    } else if (zs.comp_method == ZIP_CM_STORE) {
      check(zs.comp_size == zs.size, where, ": stored member declares ", zs.size, " bytes but occupies ",
            zs.comp_size, " (corrupt sizes)");
    }
    ZipMember member(m.archive, i, where);
    NpyInfo info = parse_npy_header(member.reader(), key, where);
    const uint64_t expected = capped_data_bytes(info, where);
    const uint64_t got = zs.size > info.data_offset_in_member ? zs.size - info.data_offset_in_member : 0;
    check(got == expected, where, ": expected ", expected, " data bytes for ", describe(info), ", got ", got,
          got < expected ? " (truncated?)" : " (trailing data?)");
    m.by_key[key] = m.infos.size();
    m.infos.push_back(std::move(info));
    m.indices.push_back(static_cast<zip_uint64_t>(i));
    m.names.push_back(name);
  }
}

NpzReader::~NpzReader() = default;
NpzReader::NpzReader(NpzReader&&) noexcept = default;
NpzReader& NpzReader::operator=(NpzReader&&) noexcept = default;

const std::string& NpzReader::path() const { return impl_->path; }

std::vector<std::string> NpzReader::keys() const {
  std::vector<std::string> keys;
  for (const auto& info : impl_->infos) keys.push_back(info.key);
  return keys;
}

bool NpzReader::contains(const std::string& key) const { return impl_->by_key.count(key) != 0; }

const NpyInfo& NpzReader::info(const std::string& key) const { return impl_->infos[impl_->position(key)]; }

torch::Tensor NpzReader::read(const std::string& key) const {
  const NpyInfo& meta = info(key);
  torch::Tensor out = torch::empty(meta.shape, torch::TensorOptions().dtype(meta.dtype));
  read_into(key, out);
  return out;
}

void NpzReader::read_into(const std::string& key, torch::Tensor& dst) const {
  const size_t pos = impl_->position(key);
  const NpyInfo& meta = impl_->infos[pos];
  const std::string where = impl_->where(impl_->names[pos]);
  check_destination(meta, dst, where);

  std::lock_guard<std::mutex> lock(impl_->mutex);
  ZipMember member(impl_->archive, impl_->indices[pos], where);
  ReadFn read = member.reader();
  // Skip the header again: members may be deflated, so there is no seeking.
  std::string skip(meta.data_offset_in_member, '\0');
  read_exact(read, &skip[0], skip.size(), where);
  fill(read, meta, dst, where);
}

// ---------------------------------------------------------------- functions

std::map<std::string, torch::Tensor> load_npz(const std::string& path) {
  NpzReader reader(path);
  std::map<std::string, torch::Tensor> arrays;
  for (const auto& key : reader.keys()) arrays[key] = reader.read(key);
  return arrays;
}

void save_npz(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& arrays,
              bool compress) {
  // Prepare everything first so no archive is started for bad input. The
  // blobs own the header strings and tensors libzip reads at zip_close.
  std::vector<NpyBlob> blobs;
  std::set<std::string> seen;
  for (const auto& [key, array] : arrays) {
    const std::string where = "npz: " + path + ": array '" + key + "'";
    check(!key.empty(), "npz: ", path, ": empty array key");
    check(seen.insert(key).second, where, ": duplicate key");
    blobs.push_back(make_blob(array, where));
  }

  write_atomically(path, [&](const std::string& tmp) {
    if (blobs.empty()) {
      // libzip writes no file at all for an empty archive; np.savez() writes
      // a lone 22-byte end-of-central-directory record, and so do we.
      std::FILE* f = std::fopen(tmp.c_str(), "wb");
      check(f != nullptr, "npz: ", tmp, ": cannot create (", std::strerror(errno), ")");
      const char eocd[22] = {'P', 'K', 5, 6};
      const bool ok = std::fwrite(eocd, 1, sizeof(eocd), f) == sizeof(eocd);
      check(std::fclose(f) == 0 && ok, "npz: ", tmp, ": write failed");
      return;
    }
    int code = 0;
    zip_t* za = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    check(za != nullptr, "npz: ", tmp, ": cannot create (", zip_error_text(code), ")");
    try {
      for (size_t i = 0; i < blobs.size(); ++i) {
        const std::string name = arrays[i].first + ".npy";
        // Header and tensor memory as two fragments: libzip reads the
        // tensor in place, no copy of the array is made.
        NpyBlob& blob = blobs[i];
        zip_buffer_fragment_t parts[2] = {
            {reinterpret_cast<zip_uint8_t*>(&blob.header[0]), blob.header.size()},
            {static_cast<zip_uint8_t*>(blob.data.data_ptr()), blob.nbytes}};
        zip_source_t* src = zip_source_buffer_fragment(za, parts, blob.nbytes > 0 ? 2 : 1, 0);
        check(src != nullptr, "npz: ", path, ": array '", arrays[i].first, "': ", zip_strerror(za));
        const zip_int64_t index = zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
          zip_source_free(src);
          fail("npz: ", path, ": array '", arrays[i].first, "': cannot add (", zip_strerror(za), ")");
        }
        // A fixed member time (1980-01-02) instead of "now": the same arrays
        // give the same bytes, so a resumed training run's checkpoint can be
        // compared byte for byte with an uninterrupted one's.
        check(zip_file_set_mtime(za, static_cast<zip_uint64_t>(index), kFixedMtime, 0) == 0, "npz: ", path, ": array '",
              arrays[i].first, "': cannot set the member time (", zip_strerror(za), ")");
        const zip_int32_t method = compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
        check(zip_set_file_compression(za, index, method, 0) == 0, "npz: ", path, ": array '",
              arrays[i].first, "': cannot set compression (", zip_strerror(za), ")");
      }
      if (zip_close(za) != 0) fail("npz: ", tmp, ": write failed (", zip_strerror(za), ")");
    } catch (...) {
      zip_discard(za);  // after a failed zip_close the archive is still open
      throw;
    }
  });
}

torch::Tensor load_npy(const std::string& path) {
  const std::string where = "npy: " + path;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr && errno == ENOENT) fail_not_found(where, ": cannot open (", std::strerror(errno), ")");
  check(f != nullptr, where, ": cannot open (", std::strerror(errno), ")");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f, &std::fclose);
  ReadFn read = [&](char* buf, uint64_t n) {
    const uint64_t got = std::fread(buf, 1, n, f);
    check(got == n || !std::ferror(f), where, ": read failed (", std::strerror(errno), ")");
    return got;
  };
  const NpyInfo info = parse_npy_header(read, path, where);
  // The header's size against the file's, before allocating what it declares.
  const uint64_t nbytes = capped_data_bytes(info, where);
  struct stat st;
  check(::fstat(::fileno(f), &st) == 0, where, ": cannot stat (", std::strerror(errno), ")");
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  const uint64_t payload = file_bytes > info.data_offset_in_member ? file_bytes - info.data_offset_in_member : 0;
  check(payload >= nbytes, where, ": expected ", nbytes, " data bytes for ", describe(info), ", got ", payload,
        " (truncated?)");
  check(payload == nbytes, where, ": more data than the ", nbytes, " bytes of ", describe(info));
  torch::Tensor out = torch::empty(info.shape, torch::TensorOptions().dtype(info.dtype));
  fill(read, info, out, where);
  return out;
}

void save_npy(const std::string& path, const torch::Tensor& array) {
  const std::string where = "npy: " + path;
  const NpyBlob blob = make_blob(array, where);
  write_atomically(path, [&](const std::string& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    check(f != nullptr, "npy: ", tmp, ": cannot create (", std::strerror(errno), ")");
    bool ok = std::fwrite(blob.header.data(), 1, blob.header.size(), f) == blob.header.size();
    if (ok && blob.nbytes > 0) ok = std::fwrite(blob.data.data_ptr(), 1, blob.nbytes, f) == blob.nbytes;
    const int err = errno;
    ok = std::fclose(f) == 0 && ok;
    check(ok, "npy: ", tmp, ": write failed (", std::strerror(err), ")");
  });
}

}  // namespace videoprism
