// vp.Tokenizer: SentencePiece tokenization as the official tokenize_texts.
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.h"
#include "videoprism/core/error.h"
#include "videoprism/media/tokenizer.h"

namespace videoprism::python {

namespace {

std::vector<std::string> text_list(const py::handle& texts, const char* what) {
  if (py::isinstance<py::str>(texts)) return {texts.cast<std::string>()};
  std::vector<std::string> out;
  try {
    for (auto t : py::iter(texts)) {
      check_arg(py::isinstance<py::str>(t), what, ": expected str items, got ", py::str(py::type::of(t)).cast<std::string>());
      out.push_back(t.cast<std::string>());
    }
  } catch (const py::error_already_set&) {
    fail_arg(what, ": expected a str or a list of str, got ", py::str(py::type::of(texts)).cast<std::string>());
  }
  return out;
}

}  // namespace

void bind_tokenizer(py::module_& m) {
  py::class_<Tokenizer>(m, "Tokenizer", R"doc(A SentencePiece model, tokenizing as the official `tokenize_texts`.

    tok = vp.Tokenizer("c4_en.model")
    ids, paddings = tok(["a person playing guitar"], max_length=64)

Texts are canonicalized (punctuation to spaces, lower case, one space, a final
"."), encoded, given BOS when the model has one, never EOS, truncated to
max_length and padded with id 0.)doc")
      .def(py::init([](const py::object& path) { return Tokenizer(path_string(path, "Tokenizer: path")); }),
           py::arg("path"), "Loads a SentencePiece .model file (FileNotFoundError when it does not exist).")
      .def(
          "__call__",
          [](const Tokenizer& self, const py::object& texts, int max_length, bool canonicalize) {
            check_arg(max_length > 0, "Tokenizer: max_length expected > 0, got ", max_length);
            std::vector<std::string> list = text_list(texts, "Tokenizer: texts");
            TokenizedBatch batch = self.tokenize(list, max_length, canonicalize);
            return py::make_tuple(to_numpy(batch.ids), to_numpy(batch.paddings));
          },
          py::arg("texts"), py::arg("max_length") = 64, py::arg("canonicalize") = true,
          "(ids int32 [B, L], paddings float32 [B, L], 1 = padded) for a str or a list of B str.")
      .def_static("canonicalize", &canonicalize_text, py::arg("text"),
                  "The official canonicalize_text: the string SentencePiece is given.")
      .def("encode", &Tokenizer::encode, py::arg("text"),
           "Raw SentencePiece ids of one text (no canonicalization, BOS or padding).")
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly("bos_id", &Tokenizer::bos_id, "-1 when the model has no BOS piece")
      .def_property_readonly("eos_id", &Tokenizer::eos_id)
      .def_property_readonly("path", &Tokenizer::path)
      .def("__repr__", [](const Tokenizer& t) {
        return "Tokenizer('" + t.path() + "', vocab_size=" + std::to_string(t.vocab_size()) + ")";
      });
}

}  // namespace videoprism::python
