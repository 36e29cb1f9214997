// Internal: small HTTP helpers for `serve` on cpp-httplib: JSON replies and
// errors, parameter parsing that names what is wrong, bearer-token checks,
// and Range-capable file replies.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace videoprism::serve {

// A request problem with its HTTP status; handlers throw it, the route
// wrapper turns it into a JSON error reply.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

void reply_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
// {"error": message, "status": status}
void reply_error(httplib::Response& res, int status, const std::string& message);

// An integer query parameter in [lo, hi]; `fallback` when absent. 400 otherwise.
int64_t int_param(const httplib::Request& req, const std::string& name, int64_t fallback, int64_t lo, int64_t hi);
// A decimal id from a path like /api/thumb/ID (the route's first capture). 400 when not one.
int64_t id_from_path(const httplib::Request& req, const std::string& what);

// Whether the request carries the token: "Authorization: Bearer TOKEN" or the
// query parameter access_token=TOKEN (for <img>/<video> URLs). Constant time.
bool has_token(const httplib::Request& req, const std::string& token);

// Replies with the file's bytes, streamed from disk: 200, or 206 for a Range
// request (cpp-httplib slices the stream), or 416 for a range past the end.
void reply_file(const httplib::Request& req, httplib::Response& res, const std::string& path,
                const std::string& content_type);
// Forgets the request's Range header. cpp-httplib 0.11 slices every reply
// body by the request's ranges, unchecked (a range past the end of a JSON
// error would throw in its writer); only file replies may be sliced, and only
// after reply_file checked the ranges against the file.
void drop_ranges(const httplib::Request& req);

// MIME type from the file name's extension (video/mp4, video/webm, ...).
std::string video_content_type(const std::string& path);

}  // namespace videoprism::serve
