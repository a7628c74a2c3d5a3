#pragma once
// The vocabulary between decoding (model/ codecs) and the watch machinery (watcher,
// informer): a list page and a watch event of compact typed objects.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "kube/http_transport.h"
#include "kube/resource.h"

namespace nonevent::kube {

template <class T>
struct ListPage {
  std::vector<std::shared_ptr<const T>> items;
  std::string resource_version;
  std::string continue_token;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

template <class T>
struct WatchEvent {
  WatchEventType type = WatchEventType::kError;
  std::shared_ptr<const T> object;  // Added/Modified/Deleted
  std::string resource_version;     // of the object or the bookmark
  std::optional<ApiError> error;    // kError: the Status the server sent (410 Expired...)
};

// A Codec<T> (see model/codecs.h) provides:
//   static Result<ListPage<T>> decode_list(std::string& body);       // may pad `body`
//   static Result<WatchEvent<T>> decode_event(std::string_view line);
//   static std::string key(const T&);                                 // "ns/name" or "name"
//   static const std::string& resource_version(const T&);

// Where a watcher gets its data: the API server (RestListWatch) or anything else that speaks
// the same protocol (benchmarks feed pages from memory). Thread-safe.
class ListWatchSource {
 public:
  virtual ~ListWatchSource() = default;
  virtual Result<std::string> list(const ListOptions& opts) = 0;
  virtual Status watch(const ListOptions& opts, const std::function<bool(std::string_view)>& on_line,
                       CancelToken* cancel) = 0;
  virtual std::string describe() const = 0;
};

}  // namespace nonevent::kube
