#include "model/json_write.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

namespace nonevent::model {

using web::json::value;

namespace {

// As cpprest's append_escape_string: the two-character escapes, \u00XX for the other
// control characters, everything else (UTF-8 included) as it is.
// Whether any of the 8 bytes at `p` needs escaping (a control character, '"' or '\\'): the
// exact word-at-a-time tests for a zero byte and a byte below 0x20. Almost no string the
// simulation writes has one, and looking at one byte at a time was a twentieth of a run.
bool word_needs_escape(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_zero = [&](uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; };
  const bool below_space = ((w - kOnes * 0x20) & ~w & kHigh) != 0;
  return below_space || has_zero(w ^ (kOnes * '"')) || has_zero(w ^ (kOnes * '\\'));
}

void append_string(std::string& out, const std::string& s) {
  out.push_back('"');
  size_t plain = 0;  // start of the run not yet copied
  size_t i = 0;
  // Whole words that need nothing are skipped; the byte loop below finds what a word has.
  while (i + 8 <= s.size() && !word_needs_escape(s.data() + i)) i += 8;
  for (; i < s.size(); ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    out.append(s, plain, i - plain);
    plain = i + 1;
    out.push_back('\\');
    switch (ch) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\r': out.push_back('r'); break;
      case '\n': out.push_back('n'); break;
      case '\t': out.push_back('t'); break;
      default: {
        static const char kHex[] = "0123456789ABCDEF";
        out.append("u00");
        out.push_back(kHex[(ch & 0xF0) >> 4]);
        out.push_back(kHex[ch & 0x0F]);
      }
    }
  }
  out.append(s, plain, s.size() - plain);
  out.push_back('"');
}

void append_number(std::string& out, const web::json::number& n) {
  char buf[32];
  if (n.is_integral()) {
    // cpprest keeps an integer as signed or unsigned; either prints as its digits.
    const auto r = n.is_int64() ? std::to_chars(buf, buf + sizeof buf, n.to_int64())
                                : std::to_chars(buf, buf + sizeof buf, n.to_uint64());
    out.append(buf, r.ptr);
    return;
  }
  // cpprest's format for doubles (digits10 + 2 significant digits), in the C locale.
  const int len = std::snprintf(buf, sizeof buf, "%.*g", std::numeric_limits<double>::digits10 + 2, n.to_double());
  out.append(buf, static_cast<size_t>(len));
}

}  // namespace

void append_json_string(std::string& out, const std::string& s) { append_string(out, s); }

bool json_needs_escape(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8)
    if (word_needs_escape(s.data() + i)) return true;
  for (; i < s.size(); ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    if (ch < 0x20 || ch == '"' || ch == '\\') return true;
  }
  return false;
}

void append_json(std::string& out, const value& v) {
  switch (v.type()) {
    case value::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, member] : v.as_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, k);
        out.push_back(':');
        append_json(out, member);
      }
      out.push_back('}');
      return;
    }
    case value::Array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_json(out, item);
      }
      out.push_back(']');
      return;
    }
    case value::String: append_string(out, v.as_string()); return;
    case value::Number: append_number(out, v.as_number()); return;
    case value::Boolean: out.append(v.as_bool() ? "true" : "false"); return;
    case value::Null: out.append("null"); return;
  }
}

std::string to_json(const value& v) {
  // Written into a buffer that keeps its capacity, then copied out at its exact size: the
  // stored objects keep these strings, and growing each by doubling left up to half unused.
  thread_local std::string buffer;
  buffer.clear();
  append_json(buffer, v);
  return buffer;
}

}  // namespace nonevent::model
