#include "kube/watch_framer.h"

#include <cstdint>

namespace nonevent::kube {

namespace {
uint32_t big_endian_length(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
}  // namespace

bool WatchFramer::feed(std::string_view data, const std::function<bool(std::string_view)>& on_frame) {
  if (data.empty()) return true;
  if (mode_ == Mode::kUnknown) mode_ = data[0] == '\0' ? Mode::kLengthDelimited : Mode::kLines;
  if (mode_ == Mode::kLines) return lines_.feed(data, on_frame);
  return feed_length_delimited(data, on_frame);
}

bool WatchFramer::feed_length_delimited(std::string_view data, const std::function<bool(std::string_view)>& on_frame) {
  while (!data.empty()) {
    if (partial_.empty() && data.size() >= 4) {
      // Fast path: a whole frame in this piece is handed on where it lies.
      const uint32_t n = big_endian_length(data.data());
      if (n > max_frame_) {
        overflowed_ = true;
        return false;
      }
      if (data.size() - 4 >= n) {
        if (!on_frame(data.substr(4, n))) return false;
        data.remove_prefix(4 + static_cast<size_t>(n));
        continue;
      }
    }
    // Gather the prefix, then the payload, across pieces.
    if (partial_.size() < 4) {
      const size_t take = std::min<size_t>(4 - partial_.size(), data.size());
      partial_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (partial_.size() < 4) return true;
      if (big_endian_length(partial_.data()) > max_frame_) {
        overflowed_ = true;
        partial_.clear();
        return false;
      }
    }
    const size_t want = 4 + static_cast<size_t>(big_endian_length(partial_.data()));
    const size_t take = std::min(want - partial_.size(), data.size());
    partial_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (partial_.size() < want) return true;
    const bool keep_going = on_frame(std::string_view(partial_).substr(4));
    partial_.clear();
    if (!keep_going) return false;
  }
  return true;
}

}  // namespace nonevent::kube
