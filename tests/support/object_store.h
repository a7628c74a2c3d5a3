#pragma once
// A tiny in-memory API for client tests that need real write semantics (Leases, Events):
// create (409 AlreadyExists), get (404), update with resourceVersion (409 Conflict when
// stale), JSON merge patch, list. Not the embedded cluster: just enough to hold our client
// to the protocol.
#include <map>
#include <mutex>
#include <string>

#include "support/test_server.h"

namespace nonevent::testing {

class ObjectStore {
 public:
  TestResponse handle(const TestRequest& r);
  // Objects stored under a collection path, e.g. /api/v1/namespaces/default/events.
  std::map<std::string, std::string> objects(const std::string& collection) const;
  std::string get(const std::string& collection, const std::string& name) const;
  long writes() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> data_;  // collection → name → json
  long rv_ = 100;
  long writes_ = 0;
};

}  // namespace nonevent::testing
