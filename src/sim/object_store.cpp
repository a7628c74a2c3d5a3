#include "sim/object_store.h"

#include <algorithm>
#include <charconv>
#include <istream>
#include <ostream>
#include <limits>
#include <random>

#include "kube/rest_config.h"
#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using kube::ApiError;
using web::json::value;

std::string store_key(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

namespace {
std::string new_uid() {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard g(mu);
  const uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
                static_cast<unsigned long long>(a & 0xfff), static_cast<unsigned long long>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}
ApiError error(int code, const std::string& reason, const std::string& message) {
  ApiError e;
  e.code = code;
  e.reason = reason;
  e.message = message;
  return e;
}
// An object as kube-apiserver's errors name it: `pods "x"`. Built only for an error (built
// for every write, under the lock, it was three allocations).
// kube-apiserver's words for an object: its group-qualified resource and name
// (`deployments.apps "x"`, `pods "x"`). Store keys are "<group>/<plural>" ("/pods" for core).
std::string named(const std::string& resource, const std::string& name) {
  const auto slash = resource.find('/');
  const std::string group = slash == std::string::npos ? "" : resource.substr(0, slash);
  return resource.substr(slash + 1) + (group.empty() ? "" : "." + group) + " \"" + name + "\"";
}
// An error about one object, with the StatusDetails kube-apiserver gives it.
ApiError error_about(int code, const std::string& reason, const std::string& message, const std::string& resource,
                     const std::string& name) {
  ApiError e = error(code, reason, message);
  const auto slash = resource.find('/');
  e.details_name = name;
  e.details_group = slash == std::string::npos ? "" : resource.substr(0, slash);
  e.details_kind = resource.substr(slash + 1);
  return e;
}
// A resourceVersion as JSON text ("123"), and the most characters it takes.
constexpr size_t kQuotedVersionMax = 2 + std::numeric_limits<uint64_t>::digits10 + 1;
std::string quoted_version(uint64_t rv) {
  char version[kQuotedVersionMax];
  version[0] = '"';
  char* end = std::to_chars(version + 1, version + sizeof version - 1, rv).ptr;
  *end++ = '"';
  return std::string(version, end);
}
// What kube-apiserver answers an update of `what` ("pods \"x\"") written against an older version.
ApiError modified_since(const std::string& resource, const std::string& name) {
  return error_about(409, "Conflict",
                     "Operation cannot be fulfilled on " + named(resource, name) +
                         ": the object has been modified; please apply your changes to the latest version and try again",
                     resource, name);
}

// kube-apiserver's continue token: base64 of {"v":"meta.k8s.io/v1","rv":<snapshot>,"start":<next key>}.
struct ContinueToken {
  uint64_t rv = 0;
  std::string start;  // the last key served; the next page starts after it
};
std::string encode_continue(const ContinueToken& t) {
  value v = value::object();
  v["v"] = value::string("meta.k8s.io/v1");
  v["rv"] = value::number(t.rv);
  v["start"] = value::string(t.start);
  return kube::base64_encode(v.serialize());
}
kube::Result<ContinueToken> decode_continue(const std::string& token) {
  ContinueToken t;
  try {
    auto v = value::parse(kube::base64_decode(token));
    if (!v.is_object() || v.at("v").as_string() != "meta.k8s.io/v1") return error(400, "BadRequest", "unknown version");
    t.rv = v.at("rv").as_number().to_uint64();
    t.start = v.at("start").as_string();
  } catch (const std::exception& e) {
    return error(400, "BadRequest", e.what());
  }
  return t;
}
}  // namespace

bool WatchFilter::matches(const StoredObject& o) const {
  if (!ns.empty() && o.ns != ns) return false;
  return labels.matches(*o.labels) && fields.matches(o.fields);
}

// ---------- Watch ----------

std::optional<Watch::Event> Watch::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  Event e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool Watch::closed() const {
  std::lock_guard g(mu_);
  return closed_ && queue_.empty();
}

bool Watch::expired() const {
  std::lock_guard g(mu_);
  return expired_;
}

void Watch::push(Event e) {
  std::lock_guard g(mu_);
  if (closed_) return;
  if (queue_.size() >= kMaxQueue) {
    closed_ = expired_ = true;  // too slow: the client must relist
    queue_.clear();
  } else {
    queue_.push_back(std::move(e));
  }
  cv_.notify_all();
}

void Watch::close(bool expired) {
  std::lock_guard g(mu_);
  closed_ = true;
  expired_ = expired_ || expired;
  cv_.notify_all();
}

// ---------- ObjectStore ----------

ObjectStore::ObjectStore(size_t history_limit) : history_limit_(history_limit) {}

uint64_t ObjectStore::resource_version() const {
  std::lock_guard g(mu_);
  return rv_;
}

uint64_t ObjectStore::last_change_rv(const std::string& resource) const {
  std::lock_guard g(mu_);
  auto it = last_change_rv_.find(resource);
  return it == last_change_rv_.end() ? 0 : it->second;
}

void ObjectStore::set_field_extractor(FieldExtractor fn) { extract_fields_ = std::move(fn); }

void ObjectStore::add_observer(std::function<void(const Change&)> fn) {
  std::lock_guard g(mu_);
  observers_.push_back(std::move(fn));
}

size_t ObjectStore::count(const std::string& resource) const {
  std::lock_guard g(mu_);
  auto it = data_.find(resource);
  return it == data_.end() ? 0 : it->second.size();
}

StoredPtr ObjectStore::get(const std::string& resource, const std::string& ns,
                           const std::string& name) const {
  std::lock_guard g(mu_);
  auto r = data_.find(resource);
  if (r == data_.end()) return nullptr;
  auto it = r->second.find(store_key(ns, name));
  return it == r->second.end() ? nullptr : it->second;
}

namespace {

// A member of an object (json::member: no std::string made of the key); null when `o` is
// not an object or lacks it.
const value* member(const value& o, const char* key) { return o.is_object() ? json::member(o.as_object(), key) : nullptr; }

// Appends object `o` as model::append_json does, each member's value written by
// write_value(key, value) and its span in `out` then given to noted(key, span).
template <class WriteValue, class Noted>
void append_object(std::string& out, const value& o, WriteValue write_value, Noted noted) {
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : o.as_object()) {
    if (!first) out.push_back(',');
    first = false;
    model::append_json_string(out, k);
    out.push_back(':');
    const size_t at = out.size();
    write_value(k, v);
    noted(k, json_text::Span{at, out.size()});
  }
  out.push_back('}');
}

// The object as model::to_json writes it, noting where metadata.resourceVersion and status
// are (for status writes, which replace just those).
std::string write_noting_splice(const value& obj, std::optional<json_text::StatusSplice>& splice) {
  if (!obj.is_object()) return model::to_json(obj);
  std::string out;
  std::optional<json_text::Span> rv, status;
  auto plain = [&](const std::string&, const value& v) { model::append_json(out, v); };
  append_object(
      out, obj,
      [&](const std::string& k, const value& v) {
        if (k == "metadata" && v.is_object())
          append_object(out, v, plain, [&](const std::string& mk, json_text::Span at) {
            if (mk == "resourceVersion") rv = at;
          });
        else
          model::append_json(out, v);
      },
      [&](const std::string& k, json_text::Span at) {
        if (k == "status") status = at;
      });
  if (rv && status && rv->end <= status->begin) splice = json_text::StatusSplice{*rv, *status};
  return out;
}

}  // namespace

const std::shared_ptr<const StringMap>& StoredObject::no_labels() {
  static const auto none = std::make_shared<const StringMap>();
  return none;
}

const std::shared_ptr<const std::vector<std::string>>& StoredObject::no_owners() {
  static const auto none = std::make_shared<const std::vector<std::string>>();
  return none;
}

std::shared_ptr<StoredObject> ObjectStore::make_stored(const std::string& resource, value& obj, uint64_t rv) const {
  auto s = std::make_shared<StoredObject>();
  auto& meta = obj["metadata"];
  meta["resourceVersion"] = value::string(std::to_string(rv));
  const value* name = member(meta, "name");
  const value* ns = member(meta, "namespace");
  s->name = name && name->is_string() ? name->as_string() : "";
  s->ns = ns && ns->is_string() ? ns->as_string() : "";
  s->rv = rv;
  if (const value* labels = member(meta, "labels"); labels && labels->is_object() && labels->size() > 0) {
    StringMap m;
    for (const auto& [k, v] : labels->as_object())
      if (v.is_string()) m[k] = v.as_string();
    s->labels = std::make_shared<const StringMap>(std::move(m));
  }
  if (const value* refs = member(meta, "ownerReferences"); refs && refs->is_array() && refs->size() > 0) {
    std::vector<std::string> uids;
    for (const auto& ref : refs->as_array())
      if (const value* uid = member(ref, "uid"); uid && uid->is_string()) uids.push_back(uid->as_string());
    s->owner_uids = std::make_shared<const std::vector<std::string>>(std::move(uids));
  }
  s->fields["metadata.name"] = s->name;
  s->fields["metadata.namespace"] = s->ns;
  if (extract_fields_) extract_fields_(resource, obj, s->fields);
  s->being_deleted = member(meta, "deletionTimestamp") != nullptr;
  s->json = write_noting_splice(obj, s->splice);
  return s;
}

void ObjectStore::set_version(StoredObject& s, value& obj, uint64_t rv) {
  s.rv = rv;
  if (!s.splice) {  // no status to note it by (a ConfigMap...): written again
    obj["metadata"]["resourceVersion"] = value::string(std::to_string(rv));
    s.json = write_noting_splice(obj, s.splice);
    return;
  }
  const std::string version = quoted_version(rv);
  auto& at = s.splice->resource_version;
  const long delta = static_cast<long>(version.size()) - static_cast<long>(at.end - at.begin);
  s.json.replace(at.begin, at.end - at.begin, version);
  at.end += delta;
  s.splice->status.begin += delta;  // the status comes after metadata (write_noting_splice)
  s.splice->status.end += delta;
}

ObjectStore::WriteLock::WriteLock(ObjectStore& store) : store_(store) { store_.mu_.lock(); }

ObjectStore::WriteLock::~WriteLock() {
  std::vector<Change> evicted;
  if (!store_.evicted_.empty()) evicted.swap(store_.evicted_);
  store_.mu_.unlock();
}  // `evicted` goes here, after the unlock

void ObjectStore::publish(const Change& c) {
  last_change_rv_[c.resource] = c.object->rv;
  history_.push_back(c);
  while (history_.size() > history_limit_) {
    oldest_rv_ = history_.front().object->rv;
    evicted_.push_back(std::move(history_.front()));  // freed once the lock is let go (WriteLock)
    history_.pop_front();
  }
  for (auto it = watches_.begin(); it != watches_.end();) {
    auto w = it->lock();
    if (!w) {
      it = watches_.erase(it);
      continue;
    }
    ++it;
    if (w->filter_.resource != c.resource) continue;
    const bool now = w->filter_.matches(*c.object);
    const bool before = c.previous && w->filter_.matches(*c.previous);
    if (c.type == ChangeType::kModified) {
      // An object entering or leaving a selector is an ADDED or DELETED for that watch.
      if (now && before) w->push({ChangeType::kModified, c.object});
      else if (now) w->push({ChangeType::kAdded, c.object});
      else if (before) w->push({ChangeType::kDeleted, c.object});
    } else if (now) {
      w->push({c.type, c.object});
    }
  }
  for (const auto& o : observers_) o(c);
}

kube::Result<ObjectStore::ListResult> ObjectStore::list(const WatchFilter& filter, long limit,
                                                        const std::string& continue_token) const {
  std::lock_guard g(mu_);
  ListResult out;
  out.rv = rv_;
  auto r = data_.find(filter.resource);
  if (r == data_.end()) return out;
  // A node's pods: from the index (a full list otherwise walks every pod in the cluster).
  if (filter.resource == "/pods" && limit <= 0 && continue_token.empty())
    for (const auto& req : filter.fields.requirements)
      if (req.key == "spec.nodeName" && req.op == Requirement::Op::kEquals && req.values.size() == 1 && !req.values[0].empty()) {
        auto keys = pods_by_node_.find(req.values[0]);
        if (keys == pods_by_node_.end()) return out;
        for (const auto& k : keys->second)
          if (auto o = r->second.find(k); o != r->second.end() && filter.matches(*o->second)) out.items.push_back(o->second);
        return out;
      }
  // A continued list reads the snapshot of its first page, as kube-apiserver's continue
  // tokens do (an etcd read at the first page's revision): otherwise an object deleted between
  // two pages stays in the client's list and no watch event will ever remove it.
  std::map<std::string, StoredPtr> snapshot_changes;  // key → state at the snapshot (null: absent)
  std::string after;
  if (!continue_token.empty()) {
    auto token = decode_continue(continue_token);
    if (!token.ok()) return error(400, "BadRequest", "continue key is not valid: " + token.error().message);
    if (token.value().rv < oldest_rv_)
      return error(410, "Expired",
                   "The provided continue parameter is too old to display a consistent list result. You can "
                   "start a new list without the continue parameter.");
    out.rv = token.value().rv;
    after = token.value().start;
    // Undo, newest first, every change after the snapshot: the oldest undo of a key wins.
    for (auto c = history_.rbegin(); c != history_.rend() && c->object->rv > out.rv; ++c) {
      if (c->resource != filter.resource) continue;
      auto key = store_key(c->object->ns, c->object->name);
      if (key > after) snapshot_changes[std::move(key)] = c->type == ChangeType::kAdded ? nullptr : c->previous;
    }
  } else if (!filter.ns.empty()) {
    after = filter.ns + "/";
  }
  auto it = continue_token.empty() ? r->second.lower_bound(after) : r->second.upper_bound(after);
  auto undo = snapshot_changes.begin();
  // Merges the current objects with the undone ones, in key order.
  auto next = [&]() -> std::pair<std::string, StoredPtr> {
    while (true) {
      const bool have_cur = it != r->second.end(), have_undo = undo != snapshot_changes.end();
      if (!have_cur && !have_undo) return {"", nullptr};
      if (have_undo && (!have_cur || undo->first <= it->first)) {
        if (have_cur && undo->first == it->first) ++it;
        auto [k, o] = *undo++;
        if (o) return {k, o};
        continue;  // did not exist at the snapshot
      }
      auto& e = *it++;
      return {e.first, e.second};
    }
  };
  for (auto [key, o] = next(); o; std::tie(key, o) = next()) {
    if (!filter.ns.empty() && o->ns != filter.ns) {
      if (o->ns > filter.ns) break;  // keys are sorted by namespace first
      continue;
    }
    if (!filter.matches(*o)) continue;
    if (limit > 0 && static_cast<long>(out.items.size()) == limit) {
      out.continue_token = encode_continue({out.rv, store_key(out.items.back()->ns, out.items.back()->name)});
      out.remaining = 1;
      for (; it != r->second.end(); ++it) ++out.remaining;  // an estimate, as the real one is
      break;
    }
    out.items.push_back(o);
  }
  return out;
}


void ObjectStore::reindex(const std::string& resource, const StoredObject* before, const StoredObject* after) {
  link_owners(resource, before, after);
  if (resource != "/pods") return;
  auto node_of = [](const StoredObject* o) -> std::string {
    auto it = o->fields.find("spec.nodeName");
    return it == o->fields.end() ? "" : it->second;
  };
  const std::string was = before ? node_of(before) : "", now = after ? node_of(after) : "";
  if (before && after && was == now) return;
  if (before && !was.empty()) {
    auto it = pods_by_node_.find(was);
    if (it != pods_by_node_.end() && it->second.erase(store_key(before->ns, before->name)) && it->second.empty()) pods_by_node_.erase(it);
  }
  if (after && !now.empty()) pods_by_node_[now].insert(store_key(after->ns, after->name));
}

void ObjectStore::link_owners(const std::string& resource, const StoredObject* before, const StoredObject* after) {
  if (before && after && (before->owner_uids == after->owner_uids || *before->owner_uids == *after->owner_uids)) return;
  if (before)
    for (const auto& u : *before->owner_uids) {
      auto it = dependents_.find(u);
      if (it != dependents_.end() && it->second.erase({resource, store_key(before->ns, before->name)}) && it->second.empty())
        dependents_.erase(it);
    }
  if (after)
    for (const auto& u : *after->owner_uids) dependents_[u].insert({resource, store_key(after->ns, after->name)});
}

std::vector<std::pair<std::string, StoredPtr>> ObjectStore::dependents(const std::string& owner_uid) const {
  std::lock_guard g(mu_);
  std::vector<std::pair<std::string, StoredPtr>> out;
  auto it = dependents_.find(owner_uid);
  if (it == dependents_.end()) return out;
  for (const auto& [resource, key] : it->second) {
    auto r = data_.find(resource);
    if (r == data_.end()) continue;
    if (auto o = r->second.find(key); o != r->second.end()) out.emplace_back(resource, o->second);
  }
  return out;
}

kube::Result<StoredPtr> ObjectStore::create(const std::string& resource, value obj) {
  auto& meta = obj["metadata"];
  const std::string name = meta.has_field("name") ? meta.at("name").as_string() : "";
  const std::string ns = meta.has_field("namespace") ? meta.at("namespace").as_string() : "";
  if (!meta.has_field("uid")) meta["uid"] = value::string(new_uid());
  auto made = make_stored(resource, obj, 0);  // before the lock; versioned under it
  WriteLock g(*this);
  auto& coll = data_[resource];
  const auto key = store_key(ns, name);
  if (coll.count(key))
    return error_about(409, "AlreadyExists", named(resource, name) + " already exists", resource, name);
  set_version(*made, obj, ++rv_);
  StoredPtr stored = std::move(made);
  coll[key] = stored;
  reindex(resource, nullptr, stored.get());
  publish({ChangeType::kAdded, resource, stored, nullptr});
  return stored;
}

kube::Result<StoredPtr> ObjectStore::update(const std::string& resource, value obj,
                                            const std::string& expected_rv) {
  auto& meta = obj["metadata"];
  const std::string name = meta.has_field("name") ? meta.at("name").as_string() : "";
  const std::string ns = meta.has_field("namespace") ? meta.at("namespace").as_string() : "";
  auto made = make_stored(resource, obj, 0);  // before the lock; versioned under it
  WriteLock g(*this);
  auto& coll = data_[resource];
  auto it = coll.find(store_key(ns, name));
  if (it == coll.end()) return error_about(404, "NotFound", named(resource, name) + " not found", resource, name);
  if (!expected_rv.empty() && expected_rv != std::to_string(it->second->rv)) return modified_since(resource, name);
  auto previous = it->second;
  set_version(*made, obj, ++rv_);
  StoredPtr stored = std::move(made);
  it->second = stored;
  reindex(resource, previous.get(), stored.get());
  publish({ChangeType::kModified, resource, stored, previous});
  return stored;
}

kube::Result<StoredPtr> ObjectStore::update_status(const std::string& resource, const StoredPtr& current,
                                                   const json_text::StatusSplice& where, value& status,
                                                   const std::string& expected_rv) {
  // Everything but the splice itself is done before taking the lock: `current` is immutable.
  value holder = value::object();  // the fields selectors read from the status, from a DOM of it alone
  holder["status"] = std::move(status);
  std::string text = model::to_json(holder.at("status"));
  StringMap fields = with_status_fields(resource, *current, holder);
  status = std::move(holder["status"]);
  return write_edits(resource, current, where, {{where.status, std::move(text)}}, std::move(fields), current->being_deleted,
                     expected_rv, true);
}

kube::Result<StoredPtr> ObjectStore::update_status_text(const std::string& resource, const StoredPtr& current,
                                                        const json_text::StatusSplice& where, std::string status_json,
                                                        const std::string& expected_rv) {
  // The fields selectors read from a status: its phase (status.phase of pods and namespaces,
  // the only ones the API server has), read from the text alone.
  value holder = value::object();
  if (const auto obj = json_text::stored_object(status_json))
    if (const auto phase = json_text::member(status_json, *obj, "phase"))
      if (const auto s = json_text::plain_string(status_json, *phase)) holder["status"]["phase"] = value::string(std::string(*s));
  StringMap fields = with_status_fields(resource, *current, holder);
  return write_edits(resource, current, where, {{where.status, std::move(status_json)}}, std::move(fields),
                     current->being_deleted, expected_rv, true);
}

StringMap ObjectStore::with_status_fields(const std::string& resource, const StoredObject& current, const value& status_holder) const {
  StringMap status_fields;
  if (extract_fields_) extract_fields_(resource, status_holder, status_fields);
  StringMap fields = current.fields;
  for (auto& [k, v] : status_fields)
    if (k.starts_with("status.")) fields[k] = std::move(v);
  return fields;
}

kube::Result<StoredPtr> ObjectStore::update_text(const std::string& resource, const StoredPtr& current,
                                                 const json_text::StatusSplice& where, std::vector<TextEdit> edits,
                                                 StringMap fields, bool being_deleted, const std::string& expected_rv) {
  return write_edits(resource, current, where, std::move(edits), std::move(fields), being_deleted, expected_rv, false);
}

kube::Result<StoredPtr> ObjectStore::write_edits(const std::string& resource, const StoredPtr& current,
                                                 const json_text::StatusSplice& where, std::vector<TextEdit> edits,
                                                 StringMap fields, bool being_deleted, const std::string& expected_rv,
                                                 bool status_only) {
  const std::string_view text = current->json;
  // The resourceVersion's edit goes in among the caller's, which must keep clear of it.
  const json_text::Span rv_at = where.resource_version;
  auto rv_pos = std::find_if(edits.begin(), edits.end(), [&](const TextEdit& e) { return e.at.begin >= rv_at.end; });
  for (size_t i = 0; i < edits.size(); ++i) {
    const auto& e = edits[i].at;
    const bool clear_of_rv = e.end <= rv_at.begin || e.begin >= rv_at.end;
    if (e.begin > e.end || e.end > text.size() || (i > 0 && e.begin < edits[i - 1].at.end) || !clear_of_rv)
      return error(500, "InternalError", "a text edit of " + current->name + " overlaps another or its resourceVersion");
  }
  rv_pos = edits.insert(rv_pos, TextEdit{rv_at, std::string()});
  // Where the resourceVersion and status are after the edits: a span moves by what edits
  // before it added or removed, and its end by what edits within it did.
  // (Read once the resourceVersion's edit has its text.)
  auto moved = [&](json_text::Span span) {
    json_text::Span out = span;
    for (const auto& e : edits) {
      const long delta = static_cast<long>(e.text.size()) - static_cast<long>(e.at.end - e.at.begin);
      if (e.at.end <= span.begin) {
        out.begin += delta;
        out.end += delta;
      } else if (e.at.begin >= span.begin && e.at.end <= span.end) {
        out.end += delta;
      }
    }
    return out;
  };
  const auto inside_or_clear = [&](json_text::Span span) {
    for (const auto& e : edits)
      if (!(e.at.end <= span.begin || e.at.begin >= span.end || (e.at.begin >= span.begin && e.at.end <= span.end))) return false;
    return true;
  };
  if (!inside_or_clear(where.status))
    return error(500, "InternalError", "a text edit of " + current->name + " overlaps the edge of its status");
  auto s = std::make_shared<StoredObject>();
  s->ns = current->ns;
  s->name = current->name;
  s->labels = current->labels;
  s->owner_uids = current->owner_uids;
  s->fields = std::move(fields);
  s->being_deleted = being_deleted;
  // The new text but its resourceVersion, made before the lock is taken, with room for the
  // version: allocating it and copying the old text into it under the lock was most of what
  // the other thread's writes waited for (perf: a fifth of a pod status write spinning).
  size_t size = text.size();
  for (const auto& e : edits) size += e.text.size() - (e.at.end - e.at.begin);
  s->json.reserve(size + kQuotedVersionMax);
  size_t from = 0, version_at = 0;
  for (auto e = edits.begin(); e != edits.end(); ++e) {
    s->json.append(text.substr(from, e->at.begin - from));
    if (e == rv_pos) version_at = s->json.size();
    s->json.append(e->text);
    from = e->at.end;
  }
  s->json.append(text.substr(from));

  WriteLock g(*this);
  auto& coll = data_[resource];
  auto it = coll.find(store_key(current->ns, current->name));
  if (it == coll.end()) return error_about(404, "NotFound", named(resource, current->name) + " not found", resource, current->name);
  if (it->second != current || (!expected_rv.empty() && expected_rv != std::to_string(current->rv)))
    return modified_since(resource, current->name);
  s->rv = ++rv_;
  rv_pos->text = quoted_version(s->rv);
  s->json.insert(version_at, rv_pos->text);  // within the reserved room: moves the rest, allocates nothing
  s->splice = json_text::StatusSplice{moved(where.resource_version), moved(where.status)};
  StoredPtr stored = std::move(s);
  it->second = stored;
  reindex(resource, current.get(), stored.get());
  publish({ChangeType::kModified, resource, stored, current, status_only});
  return stored;
}

kube::Result<StoredPtr> ObjectStore::remove(const std::string& resource, const std::string& ns,
                                            const std::string& name, const std::string& expected_uid,
                                            const std::string& expected_rv) {
  WriteLock g(*this);
  auto& coll = data_[resource];
  auto it = coll.find(store_key(ns, name));
  if (it == coll.end()) return error_about(404, "NotFound", named(resource, name) + " not found", resource, name);
  const StoredObject& last = *it->second;
  std::error_code ec;
  if (!expected_uid.empty()) {
    const value uid = model::parse_json_member(last.json, {"metadata", "uid"}, ec);
    const std::string have = uid.is_string() ? uid.as_string() : "";
    if (have != expected_uid)
      return error(409, "Conflict", "Precondition failed: UID in precondition: " + expected_uid + ", UID in object meta: " + have);
  }
  if (!expected_rv.empty() && expected_rv != std::to_string(last.rv))
    return error(409, "Conflict", "Precondition failed: ResourceVersion in precondition: " + expected_rv);
  // The deleted object is the last state with the deletion's resourceVersion: written into
  // the text where the store noted it, rather than through a DOM of the whole object.
  StoredPtr stored;
  if (last.splice) {
    auto s = std::make_shared<StoredObject>(last);
    s->rv = ++rv_;
    const auto& at = last.splice->resource_version;
    s->json.replace(at.begin, at.end - at.begin, '"' + std::to_string(s->rv) + '"');
    s->splice.reset();  // no status write follows a deletion
    stored = std::move(s);
  } else {
    auto obj = model::parse_json(last.json, ec);
    stored = make_stored(resource, obj, ++rv_);
  }
  reindex(resource, it->second.get(), nullptr);
  auto before = it->second;
  coll.erase(it);
  publish({ChangeType::kDeleted, resource, stored, before});
  return stored;
}

kube::Result<std::shared_ptr<Watch>> ObjectStore::watch(const WatchFilter& filter, const std::string& from_rv) {
  std::lock_guard g(mu_);
  auto w = std::make_shared<Watch>();
  w->filter_ = filter;
  if (from_rv.empty() || from_rv == "0") {
    auto r = data_.find(filter.resource);
    if (r != data_.end())
      for (const auto& [k, o] : r->second)
        if (filter.matches(*o)) w->queue_.push_back({ChangeType::kAdded, o});
  } else {
    uint64_t from = 0;
    try {
      from = std::stoull(from_rv);
    } catch (const std::exception&) {
      return error(400, "BadRequest", "resourceVersion \"" + from_rv + "\" is not a number");
    }
    if (from < oldest_rv_)
      return error(410, "Expired", "too old resource version: " + from_rv + " (" + std::to_string(oldest_rv_) + ")");
    for (const auto& c : history_) {
      if (c.object->rv <= from || c.resource != filter.resource) continue;
      const bool now = filter.matches(*c.object);
      const bool before = c.previous && filter.matches(*c.previous);
      if (c.type == ChangeType::kModified) {
        if (now && before) w->queue_.push_back({ChangeType::kModified, c.object});
        else if (now) w->queue_.push_back({ChangeType::kAdded, c.object});
        else if (before) w->queue_.push_back({ChangeType::kDeleted, c.object});
      } else if (now) {
        w->queue_.push_back({c.type, c.object});
      }
    }
  }
  watches_.push_back(w);
  return w;
}

std::optional<uint64_t> ObjectStore::bookmark_rv(const Watch& w) const {
  std::lock_guard g(mu_);
  std::lock_guard wg(w.mu_);
  if (!w.queue_.empty()) return std::nullopt;
  return rv_;
}

size_t ObjectStore::undelivered_watch_events() const {
  std::lock_guard g(mu_);
  size_t n = 0;
  for (const auto& wp : watches_)
    if (auto w = wp.lock()) {
      std::lock_guard wg(w->mu_);
      n += w->queue_.size();
    }
  return n;
}

void ObjectStore::close_watches() {
  std::lock_guard g(mu_);
  for (auto& wp : watches_)
    if (auto w = wp.lock()) w->close(false);
}

void ObjectStore::save(std::ostream& out) const {
  // The pointers are taken under the lock (a consistent cut); their text is immutable, so it is
  // written after the lock is let go.
  std::vector<std::pair<const std::string*, StoredPtr>> objects;
  uint64_t rv = 0;
  {
    std::lock_guard g(mu_);
    rv = rv_;
    for (const auto& [resource, coll] : data_)
      for (const auto& [key, obj] : coll) objects.emplace_back(&resource, obj);
  }  // `data_`'s keys outlive this: resources are never erased from the map
  out << "{\"resourceVersion\":" << rv << "}\n";
  std::string line;
  for (const auto& [resource, obj] : objects) {
    line.clear();
    line += "{\"resource\":";
    model::append_json_string(line, *resource);
    line += ",\"object\":";
    line += obj->json;
    line += "}\n";
    out << line;
  }
}

void ObjectStore::restore(std::istream& in) {
  std::string line;
  size_t number = 0;
  auto fail = [&](const std::string& why) {
    throw std::runtime_error("stored state, line " + std::to_string(number) + ": " + why);
  };
  uint64_t saved_rv = 0;
  std::vector<std::pair<std::string, std::shared_ptr<StoredObject>>> objects;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::error_code ec;
    value entry = model::parse_json(line, ec);
    if (ec || !entry.is_object()) fail("not a JSON object");
    if (number == 1) {
      const value* rv = member(entry, "resourceVersion");
      if (!rv || !rv->is_integer()) fail("the header has no resourceVersion");
      saved_rv = rv->as_number().to_uint64();
      continue;
    }
    const value* resource = member(entry, "resource");
    value* obj = entry.is_object() && entry.has_field("object") ? &entry.at("object") : nullptr;
    if (!resource || !resource->is_string() || !obj || !obj->is_object()) fail("expected {\"resource\": ..., \"object\": {...}}");
    const value* meta = member(*obj, "metadata");
    const value* rv_text = meta ? member(*meta, "resourceVersion") : nullptr;
    uint64_t rv = 0;
    if (!rv_text || !rv_text->is_string()) fail("the object has no metadata.resourceVersion");
    const auto& t = rv_text->as_string();
    if (std::from_chars(t.data(), t.data() + t.size(), rv).ec != std::errc{} || rv > saved_rv)
      fail("metadata.resourceVersion \"" + t + "\" is not a version up to the header's");
    objects.emplace_back(resource->as_string(), make_stored(resource->as_string(), *obj, rv));
  }
  if (number == 0) fail("empty (no header line)");
  WriteLock g(*this);
  // What a server made before it was given its storage (its default namespaces) is replaced.
  data_.clear();
  dependents_.clear();
  pods_by_node_.clear();
  history_.clear();
  for (auto& [resource, stored] : objects) {
    auto& slot = data_[resource][store_key(stored->ns, stored->name)];
    if (slot) fail("two objects named " + store_key(stored->ns, stored->name) + " in " + resource);
    slot = stored;
    reindex(resource, nullptr, stored.get());
  }
  rv_ = saved_rv;
  oldest_rv_ = rv_;
}

void ObjectStore::compact() {
  std::lock_guard g(mu_);
  history_.clear();
  oldest_rv_ = rv_;
  for (auto& wp : watches_)
    if (auto w = wp.lock()) w->close(true);
}

}  // namespace nonevent::sim
