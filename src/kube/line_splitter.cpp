#include "kube/line_splitter.h"

namespace nonevent::kube {

bool LineSplitter::feed(std::string_view data,
                        const std::function<bool(std::string_view)>& on_line) {
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + data.size() > max_line_) {
        overflowed_ = true;
        partial_.clear();
        return false;
      }
      partial_.append(data);
      return true;
    }
    std::string_view line;
    if (partial_.empty()) {
      line = data.substr(0, nl);  // fast path: no copy
    } else {
      if (partial_.size() + nl > max_line_) {
        overflowed_ = true;
        partial_.clear();
        return false;
      }
      partial_.append(data.substr(0, nl));
      line = partial_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool keep_going = true;
    if (!line.empty()) keep_going = on_line(line);
    partial_.clear();
    data.remove_prefix(nl + 1);
    if (!keep_going) return false;
  }
  return true;
}

}  // namespace nonevent::kube
