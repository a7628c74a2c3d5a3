#include "controllers/node_state.h"

#include "controllers/drain.h"

namespace nonevent::controllers {

const char* to_string(NodeState s) {
  switch (s) {
    case NodeState::kCordoned: return "cordoned";
    case NodeState::kDraining: return "draining";
    case NodeState::kDrained: return "drained";
    case NodeState::kSkipped: return "skipped";
    case NodeState::kSurging: return "surging";
    case NodeState::kPatching: return "patching";
    case NodeState::kVerifying: return "verifying";
    case NodeState::kReplacing: return "replacing";
    case NodeState::kFailed: return "failed";
  }
  return "";  // unreachable: every enumerator is named above
}

std::optional<NodeState> parse_node_state(std::string_view text) {
  for (auto s : {NodeState::kCordoned, NodeState::kDraining, NodeState::kDrained, NodeState::kSkipped, NodeState::kSurging,
                 NodeState::kPatching, NodeState::kVerifying, NodeState::kReplacing, NodeState::kFailed})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

NodeStateRead read_node_state(const model::Node& node) {
  NodeStateRead r;
  r.text = node.annotation(kNodeState);
  if (r.text) r.state = parse_node_state(*r.text);
  return r;
}

}  // namespace nonevent::controllers
