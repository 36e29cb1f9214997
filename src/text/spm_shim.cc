// C interface to SentencePiece, built as its own shared module
// (libvideoprism_spm.so) and loaded by tokenizer.cc with dlopen(RTLD_LOCAL |
// RTLD_DEEPBIND).
//
// Why: Debian's libsentencepiece.so.0 embeds and exports its own protobuf-lite
// 3.14, while libtorch pulls in libprotobuf.so.32 (3.21). Linked into one
// process the two copies interpose each other's symbols and the process
// crashes during static initialization (or aborts on the protobuf version
// check). Loading SentencePiece privately with deep binding keeps each library
// on its own protobuf. Only plain C types cross this boundary; no exceptions.
#include <sentencepiece_processor.h>

#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {
void set_error(char* err, size_t err_len, const std::string& message) {
  if (err == nullptr || err_len == 0) return;
  std::strncpy(err, message.c_str(), err_len - 1);
  err[err_len - 1] = '\0';
}
}  // namespace

extern "C" {

// Returns a processor handle, or nullptr with the reason in `err`.
__attribute__((visibility("default"))) void* vp_spm_open(const char* path, char* err,
                                                         size_t err_len) {
  try {
    auto* processor = new sentencepiece::SentencePieceProcessor();
    auto status = processor->Load(path);
    if (!status.ok()) {
      set_error(err, err_len, status.ToString());
      delete processor;
      return nullptr;
    }
    return processor;
  } catch (const std::exception& e) {
    set_error(err, err_len, e.what());
    return nullptr;
  }
}

__attribute__((visibility("default"))) void vp_spm_close(void* handle) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

__attribute__((visibility("default"))) int vp_spm_piece_size(const void* handle) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}

__attribute__((visibility("default"))) int vp_spm_bos_id(const void* handle) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->bos_id();
}

__attribute__((visibility("default"))) int vp_spm_eos_id(const void* handle) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->eos_id();
}

// Encodes `text` into at most `capacity` ids. Returns the total number of ids
// (call again with a larger buffer when it exceeds `capacity`), or -1 with the
// reason in `err`.
__attribute__((visibility("default"))) long vp_spm_encode(const void* handle, const char* text,
                                                          size_t text_len, int* ids,
                                                          size_t capacity, char* err,
                                                          size_t err_len) {
  try {
    std::vector<int> out;
    auto status = static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->Encode(
        std::string(text, text_len), &out);
    if (!status.ok()) {
      set_error(err, err_len, status.ToString());
      return -1;
    }
    for (size_t i = 0; i < out.size() && i < capacity; ++i) ids[i] = out[i];
    return static_cast<long>(out.size());
  } catch (const std::exception& e) {
    set_error(err, err_len, e.what());
    return -1;
  }
}

}  // extern "C"
