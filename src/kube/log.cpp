#include "kube/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

namespace nonevent::logging {

namespace {

std::atomic<Format> g_format{Format::kText};

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

const char* name_of(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

std::shared_ptr<spdlog::logger> make_logger() {
  auto l = std::make_shared<spdlog::logger>("nonevent", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  l->set_pattern("%v");  // the line is built below (time, level and fields, in either format)
  l->set_level(spdlog::level::info);
  l->flush_on(spdlog::level::trace);  // every line out at once: a crash must not eat the last decisions
  return l;
}

spdlog::logger& logger() {
  static auto l = make_logger();
  return *l;
}

// Text values are quoted when they hold a space, a quote or an equals sign.
void append_text_value(std::string& out, std::string_view v) {
  const bool quote = v.empty() || v.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

void append_json_string(std::string& out, std::string_view v) {
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  for (auto l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff})
    if (text == name_of(l)) {
      out = l;
      return true;
    }
  if (text == "warning") {
    out = Level::kWarn;
    return true;
  }
  return false;
}

void configure(Level level, Format format) {
  logger().set_level(to_spdlog(level));
  g_format = format;
}

bool enabled(Level level) { return level != Level::kOff && logger().should_log(to_spdlog(level)); }

void write(Level level, std::string_view source, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(160);
  if (g_format.load() == Format::kJson) {
    line += "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + name_of(level) + "\",\"logger\":";
    append_json_string(line, source);
    line += ",\"msg\":";
    append_json_string(line, msg);
    for (const auto& [k, v] : fields) {
      line += ',';
      append_json_string(line, k);
      line += ':';
      append_json_string(line, v);
    }
    line += '}';
  } else {
    line += timestamp() + " level=" + name_of(level) + " logger=";
    line += source;
    line += " msg=";
    append_text_value(line, msg);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      append_text_value(line, v);
    }
  }
  logger().log(to_spdlog(level), "{}", line);
}

}  // namespace nonevent::logging
