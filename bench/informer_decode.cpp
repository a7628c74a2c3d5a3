// bench/informer_decode: how fast and how lean the informer path is for a big cluster.
//
// 150,000 realistic pods (~5 KB of JSON each: 3,000 Deployments of 50 pods in 50 namespaces
// on 5,000 nodes) are listed in pages of 500 and then 1,000,000 watch events are streamed,
// all through the real Watcher → codec → Informer (indexed cache) path. The source is in
// memory (no sockets): this measures decode + cache, not the network. Page and event text
// is generated lazily so the input never sits in memory whole; generation time is measured
// and subtracted.
//
// The watch is measured twice: as JSON lines and as protobuf frames (what the operator reads
// with --kube-api-content-type=application/vnd.kubernetes.protobuf), into the same cache.
//
// Prints `<metric> <value> <unit>` lines. Goals (issue 2): list decode >= 400 MB/s on one
// core, >= 200,000 watch events/s, <= 1,500 bytes per cached pod, peak RSS < 400 MB for the
// initial sync.
#include <malloc.h>
#ifdef NONEVENT_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif
#include <sys/resource.h>

#include <chrono>
#include <cpprest/json.h>
#include <cstdio>
#include <string>

#include "kube/informer.h"
#include "kube/watch_framer.h"
#include "model/codecs.h"
#include "model/indexers.h"
#include "sim/protobuf_body.h"
#include "support/realistic_objects.h"

using namespace nonevent;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPods = 150'000;
constexpr int kPodsPerWorkload = 50;
constexpr int kNamespaces = 50;
constexpr int kNodes = 5'000;
constexpr int kPageSize = 500;
constexpr long kWatchEvents = 1'000'000;
constexpr int kDistinctEventPods = 20'000;

testing::PodShape shape(int i, long rv) {
  const int w = i / kPodsPerWorkload;
  char node[32];
  std::snprintf(node, sizeof node, "node-%04d", (i * 7919) % kNodes);
  return {.ns = "team-" + std::to_string(w % kNamespaces),
          .workload = "svc-" + std::to_string(w),
          .index = i,
          .node = node,
          .resource_version = rv};
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

long peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// Bytes the program has allocated and not freed, from whichever allocator is linked: glibc's
// mallinfo2() reads 0 under tcmalloc (which the benches link), so ask tcmalloc itself then.
size_t heap_in_use() {
#ifdef NONEVENT_TCMALLOC
  size_t bytes = 0;
  if (MallocExtension::instance()->GetNumericProperty("generic.current_allocated_bytes", &bytes)) return bytes;
  return 0;
#else
  return mallinfo2().uordblks;
#endif
}

// A watch event as the API server streams it: a JSON line, or a length-prefixed protobuf
// WatchEvent (the embedded cluster's encoder, driven by Kubernetes' schemas).
std::string event_text(const std::string& pod_json, bool protobuf) {
  std::string line = testing::watch_event_json("MODIFIED", pod_json);
  if (!protobuf) return line;
  std::string error;
  auto frame = sim::encode_protobuf_watch_frame(line, error);
  if (!frame) {
    std::fprintf(stderr, "cannot encode a watch event in protobuf: %s\n", error.c_str());
    std::exit(1);
  }
  return *frame;
}

// An in-memory API: pages of the pod list, then a watch stream of MODIFIED events, in JSON
// or (watch_protobuf) protobuf's watch framing.
class MemorySource final : public kube::ListWatchSource {
 public:
  Clock::duration generation{};
  size_t list_bytes = 0, watch_bytes = 0;
  long events_sent = 0;
  bool watch_protobuf = false;

  kube::Result<std::string> list(const kube::ListOptions& opts) override {
    const auto t0 = Clock::now();
    const int start = opts.continue_token.empty() ? 0 : std::stoi(opts.continue_token);
    const int end = std::min(kPods, start + static_cast<int>(opts.limit));
    std::string items;
    items.reserve(static_cast<size_t>(end - start) * 5600);
    for (int i = start; i < end; ++i) {
      if (i > start) items.push_back(',');
      items += testing::realistic_pod_json(shape(i, 1000 + i));
    }
    auto body = testing::list_json("PodList", "200000", end < kPods ? std::to_string(end) : "", items);
    list_bytes += body.size();
    generation += Clock::now() - t0;
    return body;
  }

  kube::Status watch(const kube::ListOptions&, const std::function<bool(std::string_view)>& on_line,
                     kube::CancelToken*) override {
    // Event text for 20,000 distinct pods, made once; streamed in 64 KB pieces that cut
    // events anywhere, through the same framer the REST client uses.
    const auto t0 = Clock::now();
    std::vector<std::string> lines;
    lines.reserve(kDistinctEventPods);
    for (int i = 0; i < kDistinctEventPods; ++i) {
      auto s = shape((i * 7) % kPods, 300000 + i);
      s.node = "node-" + std::to_string(i % kNodes);  // pods move: index updates too
      lines.push_back(event_text(testing::realistic_pod_json(s), watch_protobuf));
    }
    generation += Clock::now() - t0;
    kube::WatchFramer splitter;
    std::string chunk;
    chunk.reserve(64 * 1024);
    for (long e = 0; e < kWatchEvents; ++e) {
      const auto& l = lines[static_cast<size_t>(e % kDistinctEventPods)];
      size_t pos = 0;
      while (pos < l.size()) {
        const size_t n = std::min(l.size() - pos, chunk.capacity() - chunk.size());
        chunk.append(l, pos, n);
        pos += n;
        if (chunk.size() == chunk.capacity()) {
          watch_bytes += chunk.size();
          if (!splitter.feed(chunk, on_line)) return kube::Unit{};
          chunk.clear();
        }
      }
      ++events_sent;
    }
    watch_bytes += chunk.size();
    splitter.feed(chunk, on_line);
    return kube::Unit{};
  }
  std::string describe() const override { return "memory"; }
};

}  // namespace

int main() {
  const size_t heap_before = heap_in_use();
  auto source = std::make_shared<MemorySource>();
  using PodInformer = kube::Informer<model::Pod, model::CodecFor<model::Pod>>;
  PodInformer informer(source, kube::real_clock(), {.page_size = kPageSize});
  informer.add_index(model::kPodsByNode, model::pod_node_index);
  informer.add_index(model::kPodsByOwner, model::pod_owner_index);
  informer.add_index(model::kByNamespace, model::namespace_index<model::Pod>);
  long handler_calls = 0;
  informer.add_handler({[&](const model::Pod&) { ++handler_calls; },
                        [&](const model::Pod&, const model::Pod&) { ++handler_calls; },
                        [&](const model::Pod&) { ++handler_calls; }});

  // ---- initial list (paged) ----
  const auto l0 = Clock::now();
  while (!informer.has_synced()) {
    if (!informer.step()) {
      std::fprintf(stderr, "list failed: %s\n", informer.last_error().c_str());
      return 1;
    }
  }
  const double list_s = seconds(Clock::now() - l0 - source->generation);
  const long rss_after_sync = peak_rss_mb();
  malloc_trim(0);
  const size_t heap_after = heap_in_use();
  if (informer.size() != static_cast<size_t>(kPods) || handler_calls != kPods) {
    std::fprintf(stderr, "cache has %zu pods, %ld handler calls\n", informer.size(), handler_calls);
    return 1;
  }

  // Decode alone (no cache), and cpprestsdk's DOM parse of the same page, for comparison.
  kube::ListOptions one_page{.limit = kPageSize};
  auto page = source->list(one_page).value();
  const size_t page_bytes = page.size();
  const int reps = 20;
  const auto d0 = Clock::now();
  for (int i = 0; i < reps; ++i) {
    std::string copy = page;
    auto r = model::CodecFor<model::Pod>::decode_list(copy);
    if (!r.ok() || r.value().items.size() != static_cast<size_t>(kPageSize)) return 1;
  }
  const double decode_only_s = seconds(Clock::now() - d0);
  const auto c0 = Clock::now();
  for (int i = 0; i < 3; ++i) {
    std::error_code ec;
    auto v = web::json::value::parse(page, ec);
    if (ec || v.at("items").size() != static_cast<size_t>(kPageSize)) return 1;
  }
  const double cpprest_s = seconds(Clock::now() - c0);

  // Decoding the watch events alone (no framing, no cache), in both encodings, for the split
  // between decode and cache update.
  auto decode_only_rate = [&](bool protobuf) {
    std::vector<std::string> events;
    for (int i = 0; i < kDistinctEventPods; ++i) {
      auto s = shape((i * 7) % kPods, 300000 + i);
      s.node = "node-" + std::to_string(i % kNodes);
      auto e = event_text(testing::realistic_pod_json(s), protobuf);
      events.push_back(protobuf ? e.substr(4) : e);  // what the framer hands on
    }
    constexpr long kDecodeOnlyEvents = 200'000;
    // The decoded pods are kept, as a cache keeps them: shared templates and label sets live
    // while a pod holds them, and are made again when none does.
    std::vector<std::shared_ptr<const model::Pod>> kept(kDistinctEventPods);
    const auto e0 = Clock::now();
    for (long e = 0; e < kDecodeOnlyEvents; ++e) {
      const auto i = static_cast<size_t>(e % kDistinctEventPods);
      auto ev = model::CodecFor<model::Pod>::decode_event(events[i]);
      if (!ev.ok() || !ev.value().object) {
        std::fprintf(stderr, "decode failed: %s\n", ev.ok() ? "no object" : ev.error().to_string().c_str());
        std::exit(1);
      }
      kept[i] = std::move(ev.value().object);
    }
    return static_cast<double>(kDecodeOnlyEvents) / seconds(Clock::now() - e0);
  };
  const double json_decode_only_rate = decode_only_rate(false);
  const double protobuf_decode_only_rate = decode_only_rate(true);

  // ---- watch ----
  source->generation = {};
  handler_calls = 0;
  const auto w0 = Clock::now();
  informer.step();  // one watch: the source streams every event, then ends it
  const double watch_s = seconds(Clock::now() - w0 - source->generation);
  if (handler_calls != kWatchEvents) {
    std::fprintf(stderr, "watch delivered %ld of %ld events: %s\n", handler_calls, kWatchEvents,
                 informer.last_error().c_str());
    return 1;
  }
  const size_t json_watch_bytes = source->watch_bytes;

  // The same million events again, in protobuf (--kube-api-content-type), into the same cache.
  source->generation = {};
  source->watch_bytes = 0;
  source->watch_protobuf = true;
  handler_calls = 0;
  const auto p0 = Clock::now();
  informer.step();
  const double protobuf_watch_s = seconds(Clock::now() - p0 - source->generation);
  if (handler_calls != kWatchEvents || informer.size() != static_cast<size_t>(kPods)) {
    std::fprintf(stderr, "protobuf watch delivered %ld of %ld events (cache %zu): %s\n", handler_calls, kWatchEvents,
                 informer.size(), informer.last_error().c_str());
    return 1;
  }

  const double mb = 1024.0 * 1024.0;
  std::printf("pods %d count\n", kPods);
  std::printf("list_bytes %.0f MB\n", static_cast<double>(source->list_bytes) / mb);
  std::printf("list_decode_mb_per_s %.0f MB/s\n", static_cast<double>(source->list_bytes) / mb / list_s);
  std::printf("list_decode_only_mb_per_s %.0f MB/s\n", static_cast<double>(page_bytes) * reps / mb / decode_only_s);
  std::printf("cpprest_dom_parse_mb_per_s %.0f MB/s\n", static_cast<double>(page_bytes) * 3 / mb / cpprest_s);
  std::printf("watch_events %ld count\n", kWatchEvents);
  std::printf("watch_events_per_s %.0f events/s\n", static_cast<double>(kWatchEvents) / watch_s);
  std::printf("watch_decode_only_events_per_s %.0f events/s\n", json_decode_only_rate);
  std::printf("watch_mb_per_s %.0f MB/s\n", static_cast<double>(json_watch_bytes) / mb / watch_s);
  std::printf("watch_protobuf_events_per_s %.0f events/s\n", static_cast<double>(kWatchEvents) / protobuf_watch_s);
  std::printf("watch_protobuf_decode_only_events_per_s %.0f events/s\n", protobuf_decode_only_rate);
  std::printf("watch_protobuf_bytes_per_event %.0f bytes\n", static_cast<double>(source->watch_bytes) / kWatchEvents);
  std::printf("watch_json_bytes_per_event %.0f bytes\n", static_cast<double>(json_watch_bytes) / kWatchEvents);
  // A measure that reads 0 is broken (a heap that did not grow while 10,000 pods were cached):
  // refuse to print it.
  if (heap_after <= heap_before) {
    std::fprintf(stderr, "cache_bytes_per_pod: the heap did not grow while the cache filled (%zu -> %zu bytes): the measure is broken\n",
                 heap_before, heap_after);
    return 1;
  }
  std::printf("cache_bytes_per_pod %.0f bytes\n",
              static_cast<double>(heap_after - heap_before) / kPods);
  std::printf("peak_rss_mb %ld MB\n", rss_after_sync);
  std::printf("peak_rss_after_watch_mb %ld MB\n", peak_rss_mb());
  std::printf("simd_kernel %s -\n", model::codec_simd_kernel());
  return 0;
}
