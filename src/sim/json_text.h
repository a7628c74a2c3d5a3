#pragma once
// Where a member's value lies in JSON text, found without building a DOM: for writes that
// replace one member of a stored object. A status write changes `status` and the
// resourceVersion and keeps every other byte; parsing the whole pod into a DOM and writing it
// out again to change those two was most of the cost of the simulation's commonest write.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nonevent::sim::json_text {

// A value's bytes: text.substr(begin, end - begin).
struct Span {
  size_t begin = 0, end = 0;
};

// The whole of `text` if it is one object (surrounding whitespace allowed).
std::optional<Span> object(std::string_view text);
// The whole of `text` as the store writes an object: one object with nothing around it
// (checked at its ends only, so in constant time; object() checks it all).
std::optional<Span> stored_object(std::string_view text);
// The string at `s` if it is one written without escapes (as uids and names are); nullopt
// for anything else.
std::optional<std::string_view> plain_string(std::string_view text, Span s);

// The value of member `key` of the object at `obj` in `text`; nullopt when the object has no
// such member or the text is not well-formed where the search went. Keys are compared as
// written (a key spelled with escapes does not match): the store's own text never has them.
std::optional<Span> member(std::string_view text, Span obj, std::string_view key);

// Text to insert into the object at `obj` so that it gains `members` (key and value as JSON
// text, in key order) with its keys still in order, as the store writes them: each new
// member goes before the first key greater than its own, members bound for the same place
// in one insertion. nullopt when one of the keys is there already, or the object's text is
// not well-formed or has a key written with an escape (its order is then not the text's).
struct Insertion {
  size_t at = 0;
  std::string text;
};
std::optional<std::vector<Insertion>> insert_members(std::string_view text, Span obj,
                                                     const std::vector<std::pair<std::string_view, std::string>>& members);

// Where an object's status and metadata.resourceVersion are in its text: what a status write
// replaces. nullopt when either is missing, or the resourceVersion does not come first (the
// store's text is written with sorted keys: metadata before status).
struct StatusSplice {
  Span resource_version, status;
};
std::optional<StatusSplice> status_splice(std::string_view text);

}  // namespace nonevent::sim::json_text
