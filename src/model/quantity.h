#pragma once
// resource.Quantity ("100m", "1.5", "128Mi", "1G", "1e3") as integers: CPU in millicores,
// everything else in base units.
#include <cstdint>
#include <optional>
#include <string_view>

namespace nonevent::model {

// Value × 1000, rounded up (the API server rounds up to the nearest milli-unit).
std::optional<int64_t> parse_quantity_milli(std::string_view s);
// Value in base units, rounded up.
std::optional<int64_t> parse_quantity(std::string_view s);

}  // namespace nonevent::model
