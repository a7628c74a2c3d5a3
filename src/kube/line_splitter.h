#pragma once
// Newline-delimited JSON framing for watch streams: bytes arrive in arbitrary pieces (a line
// may be split anywhere, even inside a UTF-8 sequence); whole lines come out. Buffering is
// bounded: a line longer than max_line is an error, not an unbounded allocation.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace nonevent::kube {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line = 16U << 20) : max_line_(max_line) {}
  // Feeds bytes; calls on_line for each complete non-empty line (without the '\n').
  // Returns false if a line exceeded max_line or on_line returned false.
  bool feed(std::string_view data, const std::function<bool(std::string_view)>& on_line);
  size_t buffered() const { return partial_.size(); }
  bool overflowed() const { return overflowed_; }

 private:
  const size_t max_line_;
  std::string partial_;
  bool overflowed_ = false;
};

}  // namespace nonevent::kube
