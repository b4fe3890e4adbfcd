#pragma once
// Reading and checking SQL function arguments. A missing or malformed argument raises a
// core::Error naming the argument, before anything is changed.
#include "orchestrator/core/time.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace orchestrator::pg {

class Args {
public:
    explicit Args(FunctionCallInfo fcinfo) : fcinfo_(fcinfo) {}

    bool is_null(int n) const;

    // Text that must be present, not blank, and at most max_bytes long.
    std::string_view required_text(int n, const char* name, int max_bytes) const;
    std::optional<std::string_view> optional_text(int n, const char* name, int max_bytes) const;
    std::int32_t int32_in_range(int n, const char* name, std::int32_t low, std::int32_t high) const;
    std::optional<std::int64_t> optional_int64(int n) const;
    std::int64_t required_int64(int n, const char* name) const;
    bool boolean(int n, const char* name) const;
    std::optional<TimestampTz> optional_timestamptz(int n) const;
    std::optional<core::Duration> optional_interval(int n, const char* name) const;
    // numeric, as a Datum (NULL -> nothing), refused when negative
    std::optional<Datum> optional_nonnegative_numeric(int n, const char* name) const;
    // jsonb, detoasted; refused when larger than max_bytes (by default
    // orchestrator.max_payload_bytes)
    std::optional<Datum> optional_jsonb(int n, const char* name, int max_bytes = -1) const;
    Datum required_jsonb(int n, const char* name, int max_bytes = -1) const;
    // bigint[] and float8[] that must be present, with no NULL element and none below zero (or
    // NaN); at most max_elements of them
    std::vector<std::int64_t> nonnegative_int64_array(int n, const char* name,
                                                      int max_elements) const;
    std::vector<double> nonnegative_float8_array(int n, const char* name, int max_elements) const;
    // a float8 that must be present and not NaN
    double float8(int n, const char* name) const;

private:
    FunctionCallInfo fcinfo_;
};

} // namespace orchestrator::pg
