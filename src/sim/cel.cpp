#include "sim/cel.h"

#include <cctype>
#include <cmath>
#include <regex>
#include <stdexcept>
#include <vector>

#include "kube/clock.h"

namespace nonevent::sim::cel {

using web::json::value;

// ---------- values ----------

namespace {

struct Val {
  enum Kind { kNull, kBool, kInt, kDouble, kString, kList, kMap, kTimestamp, kDuration, kType, kError } kind = kNull;
  bool b = false;
  int64_t i = 0;     // int; timestamp and duration in nanoseconds
  double d = 0;
  std::string s;     // string, type name, error message
  std::vector<Val> list;
  const value* map = nullptr;  // a JSON object inside `self` (alive for the evaluation)

  static Val error(std::string m) { Val v; v.kind = kError; v.s = std::move(m); return v; }
  static Val boolean(bool x) { Val v; v.kind = kBool; v.b = x; return v; }
  static Val integer(int64_t x) { Val v; v.kind = kInt; v.i = x; return v; }
  static Val text(std::string x) { Val v; v.kind = kString; v.s = std::move(x); return v; }
  static Val type(std::string x) { Val v; v.kind = kType; v.s = std::move(x); return v; }
  bool is_error() const { return kind == kError; }
};

const char* type_name(const Val& v) {
  switch (v.kind) {
    case Val::kNull: return "null_type";
    case Val::kBool: return "bool";
    case Val::kInt: return "int";
    case Val::kDouble: return "double";
    case Val::kString: return "string";
    case Val::kList: return "list";
    case Val::kMap: return "map";
    case Val::kTimestamp: return "google.protobuf.Timestamp";
    case Val::kDuration: return "google.protobuf.Duration";
    case Val::kType: return "type";
    case Val::kError: return "error";
  }
  return "?";
}

Val from_json(const value& j) {
  Val v;
  if (j.is_null()) return v;
  if (j.is_boolean()) return Val::boolean(j.as_bool());
  if (j.is_integer()) return Val::integer(j.as_number().to_int64());
  if (j.is_number()) {
    v.kind = Val::kDouble;
    v.d = j.as_double();
    return v;
  }
  if (j.is_string()) return Val::text(j.as_string());
  if (j.is_array()) {
    v.kind = Val::kList;
    for (const auto& x : j.as_array()) v.list.push_back(from_json(x));
    return v;
  }
  v.kind = Val::kMap;
  v.map = &j;
  return v;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

// ---------- syntax ----------

struct Node {
  enum Op { kLiteral, kIdent, kSelect, kHas, kCall, kMethod, kIndex, kNot, kNegate, kAnd, kOr, kCompare, kIn, kTernary, kList } op;
  std::string name;  // identifier, field, function, method or comparison operator
  Val literal;
  std::vector<std::shared_ptr<const Node>> kids;
};

namespace {

using NodePtr = std::shared_ptr<const Node>;

struct Token {
  enum Kind { kEnd, kIdent, kInt, kDouble, kString, kPunct } kind = kEnd;
  std::string text;
};

std::vector<Token> lex(const std::string& src) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < src.size()) {
    const char c = src[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < src.size() && (std::isalnum(static_cast<unsigned char>(src[j])) || src[j] == '_')) ++j;
      out.push_back({Token::kIdent, src.substr(i, j - i)});
      i = j;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      bool dbl = false;
      // (j moves on every character: `dbl = dbl || src[j++] == '.'` stopped moving at the
      // second dot, and "2.." hung the server; found by tests/fuzz cel_rules.)
      for (; j < src.size() && (std::isdigit(static_cast<unsigned char>(src[j])) || src[j] == '.'); ++j)
        if (src[j] == '.') dbl = true;
      out.push_back({dbl ? Token::kDouble : Token::kInt, src.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string s;
      size_t j = i + 1;
      for (; j < src.size() && src[j] != c; ++j) {
        if (src[j] == '\\' && j + 1 < src.size()) {
          const char e = src[++j];
          s.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          s.push_back(src[j]);
        }
      }
      if (j >= src.size()) throw std::runtime_error("unterminated string literal");
      out.push_back({Token::kString, s});
      i = j + 1;
      continue;
    }
    static const char* two[] = {"==", "!=", "<=", ">=", "&&", "||"};
    bool matched = false;
    for (const char* t : two)
      if (src.compare(i, 2, t) == 0) {
        out.push_back({Token::kPunct, t});
        i += 2;
        matched = true;
        break;
      }
    if (matched) continue;
    if (std::string("!<>?:.,()[]-").find(c) == std::string::npos)
      throw std::runtime_error(std::string("unexpected character '") + c + "'");
    out.push_back({Token::kPunct, std::string(1, c)});
    ++i;
  }
  out.push_back({Token::kEnd, ""});
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}
  NodePtr parse() {
    auto e = ternary();
    if (t_[p_].kind != Token::kEnd) throw std::runtime_error("unexpected '" + t_[p_].text + "'");
    return e;
  }

 private:
  bool is(const char* punct) const { return t_[p_].kind == Token::kPunct && t_[p_].text == punct; }
  bool is_word(const char* w) const { return t_[p_].kind == Token::kIdent && t_[p_].text == w; }
  void expect(const char* punct) {
    if (!is(punct)) throw std::runtime_error(std::string("expected '") + punct + "' at '" + t_[p_].text + "'");
    ++p_;
  }
  static NodePtr make(Node::Op op, std::string name, std::vector<NodePtr> kids) {
    auto n = std::make_shared<Node>();
    n->op = op;
    n->name = std::move(name);
    n->kids = std::move(kids);
    return n;
  }
  NodePtr ternary() {
    auto c = logical_or();
    if (!is("?")) return c;
    ++p_;
    auto a = ternary();
    expect(":");
    auto b = ternary();
    return make(Node::kTernary, "", {c, a, b});
  }
  NodePtr logical_or() {
    auto l = logical_and();
    while (is("||")) {
      ++p_;
      l = make(Node::kOr, "", {l, logical_and()});
    }
    return l;
  }
  NodePtr logical_and() {
    auto l = relation();
    while (is("&&")) {
      ++p_;
      l = make(Node::kAnd, "", {l, relation()});
    }
    return l;
  }
  NodePtr relation() {
    auto l = unary();
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"})
      if (is(op)) {
        ++p_;
        return make(Node::kCompare, op, {l, unary()});
      }
    if (is_word("in")) {
      ++p_;
      return make(Node::kIn, "", {l, unary()});
    }
    return l;
  }
  NodePtr unary() {
    // Every nesting (parentheses, lists, calls, `!` and `-`) passes through here: a rule
    // nested past 100 levels is refused instead of overflowing the stack ("!!!!…" did, found
    // by tests/fuzz cel_rules). kube-apiserver's CEL limits nesting too.
    struct Deeper {
      int& depth;
      explicit Deeper(int& d) : depth(d) {
        if (++depth > 100) throw std::runtime_error("expression nested too deeply (more than 100 levels)");
      }
      ~Deeper() { --depth; }
    } deeper(depth_);
    if (is("!")) {
      ++p_;
      return make(Node::kNot, "", {unary()});
    }
    if (is("-")) {
      ++p_;
      return make(Node::kNegate, "", {unary()});
    }
    return postfix();
  }
  std::vector<NodePtr> args(const char* close) {
    std::vector<NodePtr> out;
    if (is(close)) {
      ++p_;
      return out;
    }
    while (true) {
      out.push_back(ternary());
      if (is(close)) {
        ++p_;
        return out;
      }
      expect(",");
    }
  }
  NodePtr postfix() {
    auto e = primary();
    while (true) {
      if (is(".")) {
        ++p_;
        if (t_[p_].kind != Token::kIdent) throw std::runtime_error("expected a field name after '.'");
        const std::string name = t_[p_++].text;
        if (is("(")) {
          ++p_;
          auto a = args(")");
          a.insert(a.begin(), e);
          e = make(Node::kMethod, name, a);
        } else {
          e = make(Node::kSelect, name, {e});
        }
      } else if (is("[")) {
        ++p_;
        auto idx = ternary();
        expect("]");
        e = make(Node::kIndex, "", {e, idx});
      } else {
        return e;
      }
    }
  }
  NodePtr primary() {
    const Token tok = t_[p_];
    if (tok.kind == Token::kInt || tok.kind == Token::kDouble || tok.kind == Token::kString) {
      ++p_;
      auto n = std::make_shared<Node>();
      n->op = Node::kLiteral;
      if (tok.kind == Token::kInt) n->literal = Val::integer(std::stoll(tok.text));
      else if (tok.kind == Token::kString) n->literal = Val::text(tok.text);
      else {
        n->literal.kind = Val::kDouble;
        n->literal.d = std::stod(tok.text);
      }
      return n;
    }
    if (is("(")) {
      ++p_;
      auto e = ternary();
      expect(")");
      return e;
    }
    if (is("[")) {
      ++p_;
      return make(Node::kList, "", args("]"));
    }
    if (tok.kind == Token::kIdent) {
      ++p_;
      if (tok.text == "true" || tok.text == "false" || tok.text == "null") {
        auto n = std::make_shared<Node>();
        n->op = Node::kLiteral;
        if (tok.text != "null") n->literal = Val::boolean(tok.text == "true");
        return n;
      }
      if (is("(")) {
        ++p_;
        auto a = args(")");
        if (tok.text == "has") {
          if (a.size() != 1 || a[0]->op != Node::kSelect) throw std::runtime_error("has() takes one field selection");
          return make(Node::kHas, "", a);
        }
        static const std::vector<std::string> functions = {"size", "timestamp", "duration", "int", "string", "double", "type"};
        if (std::find(functions.begin(), functions.end(), tok.text) == functions.end())
          throw std::runtime_error("unsupported function " + tok.text + "()");
        return make(Node::kCall, tok.text, a);
      }
      return make(Node::kIdent, tok.text, {});
    }
    throw std::runtime_error("unexpected '" + tok.text + "'");
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  int depth_ = 0;  // nesting, bounded in unary()
};

// ---------- evaluation ----------

bool equal(const Val& a, const Val& b) {
  if ((a.kind == Val::kInt || a.kind == Val::kDouble) && (b.kind == Val::kInt || b.kind == Val::kDouble))
    return (a.kind == Val::kInt ? static_cast<double>(a.i) : a.d) == (b.kind == Val::kInt ? static_cast<double>(b.i) : b.d);
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Val::kNull: return true;
    case Val::kBool: return a.b == b.b;
    case Val::kInt: case Val::kTimestamp: case Val::kDuration: return a.i == b.i;
    case Val::kString: case Val::kType: return a.s == b.s;
    case Val::kList:
      if (a.list.size() != b.list.size()) return false;
      for (size_t i = 0; i < a.list.size(); ++i)
        if (!equal(a.list[i], b.list[i])) return false;
      return true;
    case Val::kMap: return a.map->serialize() == b.map->serialize();
    default: return false;
  }
}

Val eval(const Node& n, const value& self);

Val call(const std::string& f, const std::vector<Val>& a) {
  if (f == "type") return a.size() == 1 ? Val::type(type_name(a[0])) : Val::error("type() takes one argument");
  if (a.size() != 1) return Val::error(f + "() takes one argument");
  const Val& x = a[0];
  if (f == "size") {
    if (x.kind == Val::kString) return Val::integer(static_cast<int64_t>(utf8_length(x.s)));
    if (x.kind == Val::kList) return Val::integer(static_cast<int64_t>(x.list.size()));
    if (x.kind == Val::kMap) return Val::integer(static_cast<int64_t>(x.map->size()));
  } else if (f == "timestamp" && x.kind == Val::kString) {
    auto t = kube::parse_rfc3339(x.s);
    if (!t) return Val::error("timestamp(\"" + x.s + "\"): not an RFC 3339 time");
    Val v;
    v.kind = Val::kTimestamp;
    v.i = std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count();
    return v;
  } else if (f == "duration" && x.kind == Val::kString) {
    auto d = kube::parse_duration(x.s);
    if (!d) return Val::error("duration(\"" + x.s + "\"): not a duration");
    Val v;
    v.kind = Val::kDuration;
    v.i = d->count();
    return v;
  } else if (f == "int") {
    if (x.kind == Val::kInt) return x;
    if (x.kind == Val::kDouble) return Val::integer(static_cast<int64_t>(x.d));
    if (x.kind == Val::kString) {
      try {
        size_t used = 0;
        const long long v = std::stoll(x.s, &used);
        if (used == x.s.size()) return Val::integer(v);
      } catch (const std::exception&) {
      }
      return Val::error("int(\"" + x.s + "\"): not an integer");
    }
  } else if (f == "string") {
    if (x.kind == Val::kString) return x;
    if (x.kind == Val::kInt) return Val::text(std::to_string(x.i));
    if (x.kind == Val::kBool) return Val::text(x.b ? "true" : "false");
  } else if (f == "double") {
    if (x.kind == Val::kInt || x.kind == Val::kDouble) {
      Val v;
      v.kind = Val::kDouble;
      v.d = x.kind == Val::kInt ? static_cast<double>(x.i) : x.d;
      return v;
    }
  }
  return Val::error("no such overload: " + f + "(" + type_name(x) + ")");
}

Val method(const std::string& m, const Val& target, const std::vector<Val>& a) {
  if (target.kind == Val::kString) {
    if (m == "size" && a.empty()) return Val::integer(static_cast<int64_t>(utf8_length(target.s)));
    if (a.size() == 1 && a[0].kind == Val::kString) {
      const std::string& arg = a[0].s;
      if (m == "matches") {
        try {
          return Val::boolean(std::regex_search(target.s, std::regex(arg)));
        } catch (const std::regex_error&) {
          return Val::error("matches: invalid regular expression " + arg);
        }
      }
      if (m == "startsWith") return Val::boolean(target.s.rfind(arg, 0) == 0);
      if (m == "endsWith") return Val::boolean(target.s.size() >= arg.size() && target.s.compare(target.s.size() - arg.size(), arg.size(), arg) == 0);
      if (m == "contains") return Val::boolean(target.s.find(arg) != std::string::npos);
    }
  }
  if (m == "size" && a.empty()) return call("size", {target});
  return Val::error(std::string("no such overload: ") + type_name(target) + "." + m + "()");
}

Val eval(const Node& n, const value& self) {
  switch (n.op) {
    case Node::kLiteral: return n.literal;
    case Node::kIdent:
      if (n.name == "self") return from_json(self);
      for (const char* t : {"int", "string", "bool", "double", "list", "map", "null_type", "uint", "bytes"})
        if (n.name == t) return Val::type(t);
      return Val::error("undeclared reference to '" + n.name + "'");
    case Node::kSelect: {
      Val base = eval(*n.kids[0], self);
      if (base.is_error()) return base;
      if (base.kind != Val::kMap) return Val::error(std::string("no such key: ") + n.name);
      if (!base.map->has_field(n.name)) return Val::error("no such key: " + n.name);
      return from_json(base.map->at(n.name));
    }
    case Node::kHas: {
      const Node& sel = *n.kids[0];
      Val base = eval(*sel.kids[0], self);
      if (base.is_error()) return base;
      if (base.kind != Val::kMap) return Val::error("has() on a " + std::string(type_name(base)));
      return Val::boolean(base.map->has_field(sel.name));
    }
    case Node::kCall: {
      std::vector<Val> a;
      for (const auto& k : n.kids) {
        a.push_back(eval(*k, self));
        if (a.back().is_error()) return a.back();
      }
      return call(n.name, a);
    }
    case Node::kMethod: {
      std::vector<Val> a;
      for (const auto& k : n.kids) {
        a.push_back(eval(*k, self));
        if (a.back().is_error()) return a.back();
      }
      const Val target = a.front();
      a.erase(a.begin());
      return method(n.name, target, a);
    }
    case Node::kIndex: {
      Val base = eval(*n.kids[0], self), idx = eval(*n.kids[1], self);
      if (base.is_error()) return base;
      if (idx.is_error()) return idx;
      if (base.kind == Val::kList && idx.kind == Val::kInt) {
        if (idx.i < 0 || static_cast<size_t>(idx.i) >= base.list.size()) return Val::error("index out of range");
        return base.list[static_cast<size_t>(idx.i)];
      }
      if (base.kind == Val::kMap && idx.kind == Val::kString) {
        if (!base.map->has_field(idx.s)) return Val::error("no such key: " + idx.s);
        return from_json(base.map->at(idx.s));
      }
      return Val::error("invalid index");
    }
    case Node::kNot: {
      Val x = eval(*n.kids[0], self);
      if (x.is_error()) return x;
      if (x.kind != Val::kBool) return Val::error("! applied to a non-bool");
      return Val::boolean(!x.b);
    }
    case Node::kNegate: {
      Val x = eval(*n.kids[0], self);
      if (x.kind == Val::kInt) return Val::integer(-x.i);
      if (x.kind == Val::kDouble) {
        x.d = -x.d;
        return x;
      }
      return x.is_error() ? x : Val::error("- applied to a non-number");
    }
    case Node::kAnd:
    case Node::kOr: {
      // CEL's logical operators absorb errors: false && error is false, true || error is true.
      const bool is_and = n.op == Node::kAnd;
      Val l = eval(*n.kids[0], self);
      if (l.kind == Val::kBool && l.b != is_and) return l;
      Val r = eval(*n.kids[1], self);
      if (r.kind == Val::kBool && r.b != is_and) return r;
      if (l.is_error()) return l;
      if (r.is_error()) return r;
      if (l.kind != Val::kBool || r.kind != Val::kBool) return Val::error("logical operator on a non-bool");
      return Val::boolean(is_and);
    }
    case Node::kCompare: {
      Val l = eval(*n.kids[0], self), r = eval(*n.kids[1], self);
      if (l.is_error()) return l;
      if (r.is_error()) return r;
      if (n.name == "==") return Val::boolean(equal(l, r));
      if (n.name == "!=") return Val::boolean(!equal(l, r));
      int c = 0;
      const bool numbers = (l.kind == Val::kInt || l.kind == Val::kDouble) && (r.kind == Val::kInt || r.kind == Val::kDouble);
      if (numbers) {
        const double a = l.kind == Val::kInt ? static_cast<double>(l.i) : l.d, b = r.kind == Val::kInt ? static_cast<double>(r.i) : r.d;
        c = a < b ? -1 : a > b ? 1 : 0;
      } else if (l.kind == r.kind && l.kind == Val::kString) {
        c = l.s.compare(r.s);
      } else if (l.kind == r.kind && (l.kind == Val::kTimestamp || l.kind == Val::kDuration)) {
        c = l.i < r.i ? -1 : l.i > r.i ? 1 : 0;
      } else {
        return Val::error(std::string("no such overload: ") + type_name(l) + " " + n.name + " " + type_name(r));
      }
      if (n.name == "<") return Val::boolean(c < 0);
      if (n.name == "<=") return Val::boolean(c <= 0);
      if (n.name == ">") return Val::boolean(c > 0);
      return Val::boolean(c >= 0);
    }
    case Node::kIn: {
      Val l = eval(*n.kids[0], self), r = eval(*n.kids[1], self);
      if (l.is_error()) return l;
      if (r.is_error()) return r;
      if (r.kind == Val::kList) {
        for (const auto& x : r.list)
          if (equal(l, x)) return Val::boolean(true);
        return Val::boolean(false);
      }
      if (r.kind == Val::kMap && l.kind == Val::kString) return Val::boolean(r.map->has_field(l.s));
      return Val::error("'in' needs a list or a map");
    }
    case Node::kTernary: {
      Val c = eval(*n.kids[0], self);
      if (c.is_error()) return c;
      if (c.kind != Val::kBool) return Val::error("?: condition is not a bool");
      return eval(*n.kids[c.b ? 1 : 2], self);
    }
    case Node::kList: {
      Val v;
      v.kind = Val::kList;
      for (const auto& k : n.kids) {
        v.list.push_back(eval(*k, self));
        if (v.list.back().is_error()) return v.list.back();
      }
      return v;
    }
  }
  return Val::error("unknown expression");
}

}  // namespace

std::optional<Program> Program::compile(const std::string& rule, std::string& error) {
  try {
    Program p;
    p.root_ = Parser(lex(rule)).parse();
    return p;
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

std::optional<bool> Program::evaluate(const value& self, std::string& error) const {
  Val v = eval(*root_, self);
  if (v.is_error()) {
    error = v.s;
    return std::nullopt;
  }
  if (v.kind != Val::kBool) {
    error = std::string("the rule evaluated to a ") + type_name(v) + ", not a bool";
    return std::nullopt;
  }
  return v.b;
}

}  // namespace nonevent::sim::cel
