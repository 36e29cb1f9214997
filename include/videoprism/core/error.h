// The one exception type the library throws at its boundaries.
//
// Messages are one line and say what was expected and what came, naming the
// file, key or argument: "load: params/.../w expected [768,12,64], got [768,12,32]".
// Only front-ends (CLI, tests, the Python binding) catch it. Two subclasses tell
// front-ends what kind of mistake it was (the Python binding maps them to
// FileNotFoundError and ValueError); what() is the same one-line message.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace videoprism {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A file or directory that does not exist.
class FileNotFound : public Error {
 public:
  explicit FileNotFound(const std::string& message) : Error(message) {}
};

// A bad argument: wrong shape, dtype, value or option.
class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& message) : Error(message) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

// Builds a message from its parts and throws videoprism::Error.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  throw Error(out.str());
}

// Throws videoprism::Error with the message when the condition is false.
template <typename... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) fail(parts...);
}

// As fail / check, throwing videoprism::InvalidArgument.
template <typename... Parts>
[[noreturn]] void fail_arg(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  throw InvalidArgument(out.str());
}
template <typename... Parts>
void check_arg(bool condition, const Parts&... parts) {
  if (!condition) fail_arg(parts...);
}

// Throws videoprism::FileNotFound with the message.
template <typename... Parts>
[[noreturn]] void fail_not_found(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  throw FileNotFound(out.str());
}

// "[2,3,4]" for error messages.
template <typename Container>
std::string shape_str(const Container& shape) {
  std::ostringstream out;
  out << "[";
  bool first = true;
  for (auto d : shape) {
    if (!first) out << ",";
    out << d;
    first = false;
  }
  out << "]";
  return out.str();
}

}  // namespace videoprism
