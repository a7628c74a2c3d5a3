#pragma once
// The operator's logs (design 5): one line per decision or failure, levelled, as key=value
// text or JSON, on stderr, so an SRE can follow a drain from the log alone. spdlog
// (Debian's libspdlog-dev) does the levels, timestamps, locking and sink; each line is a
// message plus fields, as controller-runtime's zap logger writes them.
//
//   2026-12-01T02:00:03.120Z level=info logger=maintenancewindow msg="claimed and cordoned" node=n-a-0 claim=MaintenanceWindow/w
//   {"ts":"2026-12-01T02:00:03.120Z","level":"info","logger":"maintenancewindow","msg":"claimed and cordoned","node":"n-a-0",...}
//
// Thread-safe. Before configure() the level is info and the format text.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace nonevent::logging {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

// "debug" | "info" | "warn" | "error" | "off"; nullopt-like false for anything else.
bool parse_level(std::string_view text, Level& out);
void configure(Level level, Format format);
bool enabled(Level level);

using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;
void write(Level level, std::string_view logger, std::string_view msg, Fields fields = {});

inline void debug(std::string_view logger, std::string_view msg, Fields f = {}) { write(Level::kDebug, logger, msg, f); }
inline void info(std::string_view logger, std::string_view msg, Fields f = {}) { write(Level::kInfo, logger, msg, f); }
inline void warn(std::string_view logger, std::string_view msg, Fields f = {}) { write(Level::kWarn, logger, msg, f); }
inline void error(std::string_view logger, std::string_view msg, Fields f = {}) { write(Level::kError, logger, msg, f); }

}  // namespace nonevent::logging
