#include "kube/api_error.h"

#include <cpprest/json.h>

#include <algorithm>

namespace nonevent::kube {

ErrorAction ApiError::action() const {
  if (code == 0) return ErrorAction::kRetry;
  if (code == 404) return ErrorAction::kNotFound;
  if (code == 409) return ErrorAction::kRedo;
  if (code == 410) return ErrorAction::kRelist;
  if (code == 429 || code >= 500) return ErrorAction::kRetry;
  return ErrorAction::kGiveUp;
}

bool ApiError::has_cause(std::string_view cause_reason) const {
  return std::any_of(causes.begin(), causes.end(),
                     [&](const StatusCause& c) { return c.reason == cause_reason; });
}

std::string ApiError::to_string() const {
  std::string s = code == 0 ? std::string("transport error") : std::to_string(code);
  if (!reason.empty()) s += " " + reason;
  if (!message.empty()) s += ": " + message;
  for (const auto& c : causes) {
    s += " [" + c.reason;
    if (!c.field.empty()) s += " field=" + c.field;
    if (!c.message.empty()) s += " " + c.message;
    s += "]";
  }
  if (retry_after) s += " (retry after " + std::to_string(retry_after->count()) + "s)";
  return s;
}

std::string default_reason_for_code(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return code >= 500 ? "InternalError" : (code >= 400 ? "BadRequest" : "Unknown");
  }
}

namespace {
std::string str(const web::json::value& obj, const char* key) {
  if (!obj.is_object() || !obj.has_field(key)) return {};
  const auto& v = obj.at(key);
  return v.is_string() ? v.as_string() : std::string{};
}
}  // namespace

ApiError ApiError::from_response(int http_code, std::string_view body,
                                 std::optional<std::chrono::seconds> retry_after_header) {
  ApiError e;
  e.code = http_code;
  e.retry_after = retry_after_header;
  try {
    std::error_code ec;
    auto v = web::json::value::parse(std::string(body), ec);
    if (!ec && v.is_object() && str(v, "kind") == "Status") {
      e.reason = str(v, "reason");
      e.message = str(v, "message");
      if (v.has_field("code") && v.at("code").is_integer()) e.code = v.at("code").as_integer();
      // A Status can carry 200 in "code" inside an error body; trust the HTTP code then.
      if (e.code < 400) e.code = http_code;
      if (v.has_field("details") && v.at("details").is_object()) {
        const auto& d = v.at("details");
        if (d.has_field("causes") && d.at("causes").is_array()) {
          for (const auto& c : d.at("causes").as_array())
            e.causes.push_back({str(c, "reason"), str(c, "message"), str(c, "field")});
        }
        e.details_name = str(d, "name");
        e.details_group = str(d, "group");
        e.details_kind = str(d, "kind");
        if (d.has_field("retryAfterSeconds") && d.at("retryAfterSeconds").is_integer() &&
            !e.retry_after)
          e.retry_after = std::chrono::seconds(d.at("retryAfterSeconds").as_integer());
      }
    } else if (!body.empty()) {
      e.message = std::string(body.substr(0, 512));
    }
  } catch (const std::exception&) {
    e.message = std::string(body.substr(0, 512));
  }
  if (e.reason.empty()) e.reason = default_reason_for_code(e.code);
  return e;
}

ApiError ApiError::transport(std::string message) {
  ApiError e;
  e.code = 0;
  e.reason = "Transport";
  e.message = std::move(message);
  return e;
}

}  // namespace nonevent::kube
