#pragma once
// API failures are values. An ApiError carries what the server said (its metav1.Status) or
// what went wrong on the way (transport), and classifies once what the caller should do.
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nonevent::kube {

// What to do about a failure (Abseil-style vocabulary, mapped to Kubernetes codes).
enum class ErrorAction {
  kRetry,     // 429, 5xx, network: back off and call again (Unavailable)
  kRedo,      // 409 Conflict: re-read and redo the read-modify-write (Aborted)
  kRelist,    // 410 Gone/Expired: the resourceVersion is too old, list again
  kNotFound,  // 404: often fine (already deleted)
  kGiveUp,    // 400, 401, 403, 415, 422 and other 4xx: terminal, surface it in status
};

struct StatusCause {
  std::string reason;  // e.g. "FieldValueInvalid", "DisruptionBudget"
  std::string message;
  std::string field;
};

struct ApiError {
  int code = 0;             // HTTP status; 0 for transport failures (connect, TLS, timeout)
  std::string reason;       // metav1.StatusReason: NotFound, Conflict, Expired, TooManyRequests...
  std::string message;      // human-readable, from the server or the transport
  std::vector<StatusCause> causes;
  // metav1.StatusDetails' object identity: name, API group, and (despite its name) the
  // resource's plural, e.g. {"x", "apps", "deployments"} for a Deployment that already exists.
  std::string details_name, details_group, details_kind;
  std::optional<std::chrono::seconds> retry_after;  // details.retryAfterSeconds or Retry-After

  ErrorAction action() const;
  bool is_not_found() const { return code == 404; }
  bool is_conflict() const { return code == 409; }
  bool is_gone() const { return code == 410; }
  bool is_transport() const { return code == 0; }
  bool has_cause(std::string_view cause_reason) const;
  std::string to_string() const;

  // Builds an error from a response: the body is parsed as a metav1.Status when it is one;
  // otherwise the reason is derived from the code as the API server would.
  static ApiError from_response(int http_code, std::string_view body,
                                std::optional<std::chrono::seconds> retry_after_header = {});
  static ApiError transport(std::string message);
};

// Either a value or an ApiError. Deliberately small: ok(), value(), error().
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(ApiError error) : v_(std::move(error)) {}   // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const ApiError& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, ApiError> v_;
};

struct Unit {};
using Status = Result<Unit>;

// The reason string the API server uses for a code when the body says nothing.
std::string default_reason_for_code(int code);

}  // namespace nonevent::kube
