// Canonicalization (Python str semantics on UTF-8) and SentencePiece wrapping.
#include "videoprism/media/tokenizer.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"

namespace videoprism {
namespace {

// Python string.punctuation.
constexpr const char* kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

// Python str.isspace / str.split() whitespace (Py_UNICODE_ISSPACE).
bool is_python_space(utf8proc_int32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return true;
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

// Unicode "Cased" (letters with case, approximated by category or mapping).
bool is_cased(utf8proc_int32_t c) {
  auto cat = utf8proc_category(c);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
    return true;
  return utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

// Unicode "Case_Ignorable": Mn, Me, Cf, Lm, Sk and the word-break mid letters.
bool is_case_ignorable(utf8proc_int32_t c) {
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52:
    case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default:
      return false;
  }
}

// Decodes UTF-8 into code points; throws naming the first bad byte offset.
std::vector<utf8proc_int32_t> decode_utf8(const std::string& text) {
  std::vector<utf8proc_int32_t> cps;
  cps.reserve(text.size());
  auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0, size = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < size) {
    utf8proc_int32_t c = 0;
    utf8proc_ssize_t n = utf8proc_iterate(bytes + pos, size - pos, &c);
    if (n <= 0 || c < 0)
      fail("canonicalize_text: invalid UTF-8 at byte offset ", pos, " (byte 0x", std::hex,
           static_cast<int>(bytes[pos]), ")");
    cps.push_back(c);
    pos += n;
  }
  return cps;
}

void append_utf8(std::string& out, utf8proc_int32_t c) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(c, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// Python str.lower: simple mapping plus the unconditional special case U+0130
// and the Final_Sigma context rule for U+03A3.
std::vector<utf8proc_int32_t> python_lower(const std::vector<utf8proc_int32_t>& cps) {
  std::vector<utf8proc_int32_t> out;
  out.reserve(cps.size() + 4);
  const size_t n = cps.size();
  for (size_t i = 0; i < n; ++i) {
    utf8proc_int32_t c = cps[i];
    if (c == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE -> "i" + U+0307
      out.push_back(0x69);
      out.push_back(0x307);
      continue;
    }
    if (c == 0x3A3) {  // GREEK CAPITAL SIGMA: final form at the end of a word
      size_t j = i;
      bool cased_before = false;
      while (j > 0) {
        --j;
        if (is_case_ignorable(cps[j])) continue;
        cased_before = is_cased(cps[j]);
        break;
      }
      bool cased_after = false;
      for (size_t k = i + 1; k < n; ++k) {
        if (is_case_ignorable(cps[k])) continue;
        cased_after = is_cased(cps[k]);
        break;
      }
      out.push_back(cased_before && !cased_after ? 0x3C2 : 0x3C3);
      continue;
    }
    out.push_back(utf8proc_tolower(c));
  }
  return out;
}

}  // namespace

std::string canonicalize_text(const std::string& text) {
  std::vector<utf8proc_int32_t> cps = decode_utf8(text);
  for (auto& c : cps)
    if (c < 0x80 && c != 0 && std::strchr(kPunctuation, static_cast<char>(c)) != nullptr) c = ' ';
  cps = python_lower(cps);
  std::string out;
  out.reserve(text.size() + 2);
  bool in_word = false;
  for (auto c : cps) {
    if (is_python_space(c)) {
      in_word = false;
      continue;
    }
    if (!in_word && !out.empty()) out.push_back(' ');
    in_word = true;
    append_utf8(out, c);
  }
  out.push_back('.');
  return out;
}

// The SentencePiece shim module (see spm_shim.cc for why it is separate).
struct SentencePieceLibrary {
  void* (*open)(const char*, char*, size_t) = nullptr;
  void (*close)(void*) = nullptr;
  int (*piece_size)(const void*) = nullptr;
  int (*bos_id)(const void*) = nullptr;
  int (*eos_id)(const void*) = nullptr;
  long (*encode)(const void*, const char*, size_t, int*, size_t, char*, size_t) = nullptr;
};

namespace {

constexpr const char* kShimName = "libvideoprism_spm.so";

// Candidate locations: $VIDEOPRISM_SPM_SHIM, the build-time path, next to the
// running executable, then the loader's search path.
std::vector<std::string> shim_candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("VIDEOPRISM_SPM_SHIM")) paths.emplace_back(env);
#ifdef VP_SPM_SHIM_PATH
  paths.emplace_back(VP_SPM_SHIM_PATH);
#endif
  // Beside the shared object this code is linked into (the Python extension
  // installs the shim next to itself).
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&shim_candidates), &self) != 0 && self.dli_fname != nullptr) {
    std::string so(self.dli_fname);
    if (so.find('/') != std::string::npos) paths.push_back(so.substr(0, so.rfind('/')) + "/" + kShimName);
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    paths.push_back(dir + "/" + kShimName);
    paths.push_back(dir + "/../lib/" + kShimName);
  }
  paths.emplace_back(kShimName);
  return paths;
}

template <typename Fn>
void bind(void* lib, const char* name, Fn& fn) {
  void* sym = dlsym(lib, name);
  check(sym != nullptr, "Tokenizer: symbol ", name, " missing in ", kShimName);
  fn = reinterpret_cast<Fn>(sym);
}

const SentencePieceLibrary& sentencepiece_library() {
  static const SentencePieceLibrary library = [] {
    int flags = RTLD_NOW | RTLD_LOCAL;
#ifdef RTLD_DEEPBIND
    flags |= RTLD_DEEPBIND;
#endif
    void* lib = nullptr;
    std::string tried, last_error;
    for (const auto& path : shim_candidates()) {
      lib = dlopen(path.c_str(), flags);
      if (lib != nullptr) break;
      const char* why = dlerror();
      if (why != nullptr) last_error = why;
      tried += (tried.empty() ? "" : ", ") + path;
    }
    check(lib != nullptr, "Tokenizer: cannot load the SentencePiece module ", kShimName,
          " (tried ", tried, "; set VIDEOPRISM_SPM_SHIM): ", last_error);
    SentencePieceLibrary fns;
    bind(lib, "vp_spm_open", fns.open);
    bind(lib, "vp_spm_close", fns.close);
    bind(lib, "vp_spm_piece_size", fns.piece_size);
    bind(lib, "vp_spm_bos_id", fns.bos_id);
    bind(lib, "vp_spm_eos_id", fns.eos_id);
    bind(lib, "vp_spm_encode", fns.encode);
    return fns;  // the module stays loaded for the life of the process
  }();
  return library;
}

}  // namespace

Tokenizer::Tokenizer(const std::string& model_path)
    : path_(model_path), lib_(&sentencepiece_library()) {
  char err[512] = {0};
  void* handle = lib_->open(model_path.c_str(), err, sizeof(err));
  if (handle == nullptr) {
    struct stat st {};
    if (::stat(model_path.c_str(), &st) != 0 && errno == ENOENT)
      fail_not_found("Tokenizer: cannot load SentencePiece model '", model_path, "': ", err);
    fail("Tokenizer: cannot load SentencePiece model '", model_path, "': ", err);
  }
  auto close = lib_->close;
  processor_ = std::shared_ptr<void>(handle, [close](void* p) { close(p); });
}

int Tokenizer::vocab_size() const { return lib_->piece_size(processor_.get()); }
int Tokenizer::bos_id() const { return lib_->bos_id(processor_.get()); }
int Tokenizer::eos_id() const { return lib_->eos_id(processor_.get()); }

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids(text.size() + 16);
  for (int attempt = 0; attempt < 2; ++attempt) {
    char err[512] = {0};
    long n = lib_->encode(processor_.get(), text.data(), text.size(), ids.data(), ids.size(), err,
                          sizeof(err));
    if (n < 0) fail("Tokenizer: encoding failed with '", path_, "': ", err);
    if (static_cast<size_t>(n) <= ids.size()) {
      ids.resize(static_cast<size_t>(n));
      return ids;
    }
    ids.resize(static_cast<size_t>(n));
  }
  fail("Tokenizer: encoding with '", path_, "' returned an unstable length");
}

TokenizedBatch Tokenizer::tokenize(const std::vector<std::string>& texts, int max_length,
                                   bool canonicalize) const {
  check_range("tokenize: max_length (--max-length)", max_length, 1, kMaxTextLength);
  const int64_t batch = static_cast<int64_t>(texts.size());
  TokenizedBatch result;
  result.ids = torch::zeros({batch, max_length}, torch::kInt32);         // [B, L]
  result.paddings = torch::ones({batch, max_length}, torch::kFloat32);   // [B, L]
  auto ids_acc = result.ids.accessor<int32_t, 2>();
  auto pad_acc = result.paddings.accessor<float, 2>();
  const int bos = bos_id();
  for (int64_t b = 0; b < batch; ++b) {
    std::string text = canonicalize ? canonicalize_text(texts[b]) : texts[b];
    std::vector<int> ids = encode(text);
    if (bos >= 0) ids.insert(ids.begin(), bos);
    const size_t len = std::min(ids.size(), static_cast<size_t>(max_length));
    for (size_t i = 0; i < len; ++i) {
      ids_acc[b][i] = ids[i];
      pad_acc[b][i] = 0.0f;
    }
    result.canonical.push_back(std::move(text));
  }
  return result;
}

}  // namespace videoprism
