#include "serve/http_util.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace videoprism::serve {

void reply_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, {{"error", message}, {"status", status}}, status);
}

int64_t int_param(const httplib::Request& req, const std::string& name, int64_t fallback, int64_t lo, int64_t hi) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  const std::string expected = name + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                               "], got '" + text.substr(0, 40) + "'";
  if (text.empty() || text.size() > 18) throw HttpError(400, expected);
  size_t i = (text[0] == '-') ? 1 : 0;
  if (i == text.size()) throw HttpError(400, expected);
  for (size_t j = i; j < text.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(text[j]))) throw HttpError(400, expected);
  const int64_t v = std::stoll(text);
  if (v < lo || v > hi) throw HttpError(400, expected);
  return v;
}

int64_t id_from_path(const httplib::Request& req, const std::string& what) {
  const std::string text = req.matches.size() > 1 ? req.matches[1].str() : "";
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    throw HttpError(400, what + " id: expected a decimal number, got '" + text.substr(0, 40) + "'");
  return std::stoll(text);
}

namespace {

bool same(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(1, b.size())]);
  return diff == 0;
}

}  // namespace

bool has_token(const httplib::Request& req, const std::string& token) {
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.size() > prefix.size() && header.compare(0, prefix.size(), prefix) == 0 &&
      same(header.substr(prefix.size()), token))
    return true;
  return req.has_param("access_token") && same(req.get_param_value("access_token"), token);
}

void reply_file(const httplib::Request& req, httplib::Response& res, const std::string& path,
                const std::string& content_type) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
  if (ec || !in->good()) throw HttpError(404, "the file is not readable any more");
  if (req.ranges.size() > 16) {
    drop_ranges(req);
    throw HttpError(416, "range not satisfiable: at most 16 ranges per request");
  }
  for (const auto& [first, last] : req.ranges) {
    // (first, last) inclusive; first == -1: the last `last` bytes; last == -1: to the end.
    const bool bad = first == -1 ? last <= 0 : (first >= static_cast<ssize_t>(size) || (last != -1 && last < first));
    if (bad) {
      drop_ranges(req);
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      throw HttpError(416, "range not satisfiable: the file has " + std::to_string(size) + " bytes");
    }
  }
  // status stays unset: cpp-httplib makes it 200, or 206 when it slices ranges.
  res.set_header("Accept-Ranges", "bytes");
  res.set_content_provider(static_cast<size_t>(size), content_type,
                           [in](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::vector<char> buffer(std::min<size_t>(length, 256 * 1024));
                             in->clear();
                             in->seekg(static_cast<std::streamoff>(offset));
                             in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                             const auto got = in->gcount();
                             if (got <= 0) return false;
                             return sink.write(buffer.data(), static_cast<size_t>(got));
                           });
}

void drop_ranges(const httplib::Request& req) {
  // The server owns the Request (handlers see it const); nothing reads the
  // ranges after this but the reply writer.
  const_cast<httplib::Request&>(req).ranges.clear();
}

std::string video_content_type(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".mp4" || ext == ".m4v") return "video/mp4";
  if (ext == ".webm") return "video/webm";
  if (ext == ".mov") return "video/quicktime";
  if (ext == ".mkv") return "video/x-matroska";
  if (ext == ".avi") return "video/x-msvideo";
  if (ext == ".ogv") return "video/ogg";
  return "application/octet-stream";
}

}  // namespace videoprism::serve
