#pragma once
// Reading the protobuf wire format by hand, for the one hot path that needs it: pods arriving
// in application/vnd.kubernetes.protobuf lists and watch streams (codecs_protobuf.cpp).
// Reflection (libprotobuf's DynamicMessage, which the embedded cluster uses for every kind)
// costs more than the JSON it would replace; a reader that walks tags and skips what it does
// not need by its length prefix costs a few nanoseconds a field. Field numbers come from the
// 1.32 generated.proto files (third_party/k8s-proto); a test checks them against those files.
#include <cstdint>
#include <string_view>

namespace nonevent::model::pb {

enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// One message's fields, in order. A malformed message (truncated varint or length past the
// end, a group wire type) sets failed() and ends the walk; callers check it once at the end.
class Reader {
 public:
  explicit Reader(std::string_view msg) : p_(msg.data()), end_(msg.data() + msg.size()) {}

  // Advances to the next field; false at the end or on an error.
  bool next() {
    if (p_ >= end_ || failed_) return false;
    field_start_ = p_;
    uint64_t tag;
    if (!varint(tag)) return fail();
    field_ = static_cast<uint32_t>(tag >> 3);
    wire_ = static_cast<WireType>(tag & 7);
    switch (wire_) {
      case kVarint:
        if (!varint(value_)) return fail();
        return true;
      case kLen: {
        uint64_t n;
        if (!varint(n) || n > static_cast<uint64_t>(end_ - p_)) return fail();
        bytes_ = {p_, static_cast<size_t>(n)};
        p_ += n;
        return true;
      }
      case kFixed64:
        if (end_ - p_ < 8) return fail();
        p_ += 8;
        return true;
      case kFixed32:
        if (end_ - p_ < 4) return fail();
        p_ += 4;
        return true;
      default:
        return fail();  // groups (3, 4) are not used by Kubernetes
    }
  }

  uint32_t field() const { return field_; }
  WireType wire() const { return wire_; }
  bool is(uint32_t f, WireType w) const { return field_ == f && wire_ == w; }
  // The current field's payload: a length-delimited field's bytes, a varint's value.
  std::string_view bytes() const { return bytes_; }
  uint64_t uvalue() const { return value_; }
  int64_t ivalue() const { return static_cast<int64_t>(value_); }
  // The whole current field as it lies in the message (tag, length and payload).
  std::string_view whole_field() const { return {field_start_, static_cast<size_t>(p_ - field_start_)}; }
  const char* position() const { return p_; }
  bool failed() const { return failed_; }

 private:
  bool varint(uint64_t& out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        out = v;
        return true;
      }
    }
    return false;
  }
  bool fail() {
    failed_ = true;
    return false;
  }

  const char* p_;
  const char* end_;
  const char* field_start_ = nullptr;
  uint32_t field_ = 0;
  WireType wire_ = kVarint;
  std::string_view bytes_;
  uint64_t value_ = 0;
  bool failed_ = false;
};

}  // namespace nonevent::model::pb
