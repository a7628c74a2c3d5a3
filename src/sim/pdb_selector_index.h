#pragma once
// The PodDisruptionBudgets whose selector may select a pod, found without matching every PDB
// of its namespace. kube-apiserver's eviction lists all of them and matches each
// (pkg/registry/core/pod/storage/eviction.go); at 250 PDBs a namespace that was a tenth of
// evacuating a 5,000-node cluster. PDBs are filed under their selector's first equality
// requirement (a label every pod they select carries), or under their namespace when they
// have none. Fed by the store's change stream; a PDB's selector is parsed again only when a
// lookup finds it changed since.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/object_store.h"
#include "sim/selectors.h"

namespace nonevent::sim {

class PdbSelectorIndex {
 public:
  // Registers with `store` (what it holds now, and every later change); the registration
  // ends when the index is destroyed (a restarted API server keeps the store).
  static std::shared_ptr<PdbSelectorIndex> attach(ObjectStore& store);

  // Names of the PDBs of `ns` whose selector matches `labels` (a nil selector matches none).
  std::vector<std::string> matching(const std::string& ns, const StringMap& labels);

 private:
  void changed(const Change& c);  // under the store's lock: only notes the change
  void refresh();                 // caller holds mu_
  struct Filed {
    std::optional<Selector> selector;
    std::string bucket;
  };
  std::mutex mu_;
  std::map<std::string, StoredPtr> stale_;                                 // key → latest version (null: deleted)
  std::unordered_map<std::string, Filed> by_key_;                          // "ns/name"
  std::unordered_map<std::string, std::set<std::string>> keys_by_bucket_;  // label index key or namespace
};

}  // namespace nonevent::sim
