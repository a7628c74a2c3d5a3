#pragma once
// Cuts a watch response into events, in either of the API server's watch framings: JSON's one
// event per line, or protobuf's (application/vnd.kubernetes.protobuf;stream=watch) 4-byte
// big-endian length before each event. The framing is told from the stream's first byte: a
// length prefix starts with 0 (frames are far below 16 MiB), a JSON stream never does.
// Like LineSplitter, buffering is bounded: a frame longer than max_frame is an error.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "kube/line_splitter.h"

namespace nonevent::kube {

class WatchFramer {
 public:
  explicit WatchFramer(size_t max_frame = 16U << 20) : max_frame_(max_frame), lines_(max_frame) {}
  // Feeds bytes; calls on_frame for each complete event (a JSON line without its newline, or
  // one protobuf WatchEvent message without its prefix). Returns false if a frame exceeded
  // max_frame or on_frame returned false.
  bool feed(std::string_view data, const std::function<bool(std::string_view)>& on_frame);
  bool overflowed() const { return overflowed_ || lines_.overflowed(); }
  bool length_delimited() const { return mode_ == Mode::kLengthDelimited; }

 private:
  enum class Mode { kUnknown, kLines, kLengthDelimited };
  bool feed_length_delimited(std::string_view data, const std::function<bool(std::string_view)>& on_frame);

  const size_t max_frame_;
  Mode mode_ = Mode::kUnknown;
  LineSplitter lines_;
  std::string partial_;  // length-delimited: the prefix and payload received so far
  bool overflowed_ = false;
};

}  // namespace nonevent::kube
