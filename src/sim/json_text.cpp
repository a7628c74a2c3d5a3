#include "sim/json_text.h"

#include <cstring>
#include <string>

namespace nonevent::sim::json_text {

namespace {

constexpr size_t kBad = std::string_view::npos;

size_t skip_space(std::string_view s, size_t i, size_t end) {
  while (i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Past the string whose opening quote is at i; kBad if it does not end before `end`.
size_t skip_string(std::string_view s, size_t i, size_t end) {
  for (++i; i < end;) {
    const void* q = std::memchr(s.data() + i, '"', end - i);
    if (!q) return kBad;
    size_t at = static_cast<const char*>(q) - s.data();
    // Escaped if an odd number of backslashes precede it.
    size_t slashes = 0;
    while (at - slashes > i && s[at - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return at + 1;
    i = at + 1;
  }
  return kBad;
}

// Past the value starting at i (a string, an object or array with everything in it, or a
// scalar); kBad if it does not end before `end`.
size_t skip_value(std::string_view s, size_t i, size_t end) {
  if (i >= end) return kBad;
  if (s[i] == '"') return skip_string(s, i, end);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < end) {
      const char c = s[i];
      if (c == '"') {
        i = skip_string(s, i, end);
        if (i == kBad) return kBad;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return kBad;
  }
  const size_t start = i;
  while (i < end && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') ++i;
  return i == start ? kBad : i;
}

}  // namespace

std::optional<Span> object(std::string_view text) {
  const size_t b = skip_space(text, 0, text.size());
  if (b >= text.size() || text[b] != '{') return std::nullopt;
  const size_t e = skip_value(text, b, text.size());
  if (e == kBad || skip_space(text, e, text.size()) != text.size()) return std::nullopt;
  return Span{b, e};
}

std::optional<Span> stored_object(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  return Span{0, text.size()};
}

std::optional<std::string_view> plain_string(std::string_view text, Span s) {
  if (s.end > text.size() || s.end < s.begin + 2 || text[s.begin] != '"' || text[s.end - 1] != '"') return std::nullopt;
  const auto inside = text.substr(s.begin + 1, s.end - s.begin - 2);
  if (inside.find('\\') != std::string_view::npos) return std::nullopt;
  return inside;
}

std::optional<Span> member(std::string_view text, Span obj, std::string_view key) {
  if (obj.end > text.size() || obj.begin >= obj.end || text[obj.begin] != '{') return std::nullopt;
  size_t i = obj.begin + 1;
  const size_t end = obj.end;
  for (;;) {
    i = skip_space(text, i, end);
    if (i >= end || text[i] != '"') return std::nullopt;  // '}' (no more members) or not JSON
    const size_t key_end = skip_string(text, i, end);
    if (key_end == kBad) return std::nullopt;
    const bool wanted = text.substr(i + 1, key_end - i - 2) == key;
    i = skip_space(text, key_end, end);
    if (i >= end || text[i] != ':') return std::nullopt;
    i = skip_space(text, i + 1, end);
    const size_t value_end = skip_value(text, i, end);
    if (value_end == kBad) return std::nullopt;
    if (wanted) return Span{i, value_end};
    i = skip_space(text, value_end, end);
    if (i >= end || text[i] != ',') return std::nullopt;
    ++i;
  }
}

std::optional<std::vector<Insertion>> insert_members(std::string_view text, Span obj,
                                                     const std::vector<std::pair<std::string_view, std::string>>& members) {
  if (obj.end > text.size() || obj.begin >= obj.end || text[obj.begin] != '{') return std::nullopt;
  // The object's keys (as written) and where each member starts; then where its '}' is.
  std::vector<std::pair<std::string_view, size_t>> keys;
  size_t i = skip_space(text, obj.begin + 1, obj.end);
  for (bool after_comma = false; after_comma || (i < obj.end && text[i] != '}');) {
    if (i >= obj.end || text[i] != '"') return std::nullopt;  // also a comma with no member after it
    const size_t key_end = skip_string(text, i, obj.end);
    if (key_end == kBad) return std::nullopt;
    const std::string_view key = text.substr(i + 1, key_end - i - 2);
    if (key.find('\\') != std::string_view::npos) return std::nullopt;
    keys.emplace_back(key, i);
    i = skip_space(text, key_end, obj.end);
    if (i >= obj.end || text[i] != ':') return std::nullopt;
    i = skip_value(text, skip_space(text, i + 1, obj.end), obj.end);
    if (i == kBad) return std::nullopt;
    i = skip_space(text, i, obj.end);
    after_comma = i < obj.end && text[i] == ',';
    if (after_comma) i = skip_space(text, i + 1, obj.end);
    else break;
  }
  if (i >= obj.end || text[i] != '}') return std::nullopt;
  const size_t close = i;
  std::vector<Insertion> out;
  size_t next_key = 0;  // the first existing key not less than the member being placed
  for (const auto& [key, json] : members) {
    while (next_key < keys.size() && keys[next_key].first < key) ++next_key;
    if (next_key < keys.size() && keys[next_key].first == key) return std::nullopt;
    const size_t at = next_key < keys.size() ? keys[next_key].second : close;
    if (out.empty() || out.back().at != at) out.push_back({at, std::string()});
    auto& t = out.back().text;
    if (!t.empty()) t += ',';
    t.append(1, '"').append(key).append("\":").append(json);
  }
  // A comma between the new members and an existing one on either side.
  for (auto& ins : out) {
    if (ins.at == close) {
      if (!keys.empty()) ins.text.insert(0, 1, ',');
    } else {
      ins.text += ',';
    }
  }
  return out;
}

std::optional<StatusSplice> status_splice(std::string_view text) {
  const auto obj = object(text);
  if (!obj) return std::nullopt;
  const auto meta = member(text, *obj, "metadata");
  if (!meta) return std::nullopt;
  const auto rv = member(text, *meta, "resourceVersion");
  const auto status = member(text, *obj, "status");
  if (!rv || !status || rv->end > status->begin) return std::nullopt;
  return StatusSplice{*rv, *status};
}

}  // namespace nonevent::sim::json_text
