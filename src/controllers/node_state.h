#pragma once
// Where a claimed node is in its claimant's work: the value of the node annotation
// nonevent.dev/state. One enum, one parser, one writer (Drainer's claim / cordon / set_state /
// skip): a switch over it has no default, so the compiler names a state a controller forgot.
//
//   MaintenanceWindow:  draining → drained            (or skipped: onBlocked SkipNode)
//   PatchCampaign:      draining → patching → verifying → released
//                       surging → draining → replacing → gone          (Replace with maxSurge)
//                       draining → (node deleted)                       (Replace)
//                       any → failed                   (keepFailedNodesCordoned)
// `cordoned` is written by no controller today; an operator before the claim-and-cordon
// merge wrote it, so it is still read (as draining).
#include <optional>
#include <string_view>

#include "model/objects.h"

namespace nonevent::controllers {

enum class NodeState { kCordoned, kDraining, kDrained, kSkipped, kSurging, kPatching, kVerifying, kReplacing, kFailed };

// The annotation's text for a state.
const char* to_string(NodeState s);
// The state the text names, or nullopt for text this operator does not know (a newer
// operator's, or an edit by hand: report it, never guess).
std::optional<NodeState> parse_node_state(std::string_view text);

// A claimed node's state as read from its annotation.
struct NodeStateRead {
  std::optional<NodeState> state;  // nullopt: absent or unknown
  const std::string* text = nullptr;  // the annotation as written; null when absent
  bool unknown() const { return text && !state; }
};
NodeStateRead read_node_state(const model::Node& node);

}  // namespace nonevent::controllers
