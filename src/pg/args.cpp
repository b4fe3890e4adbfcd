#include "orchestrator/pg/args.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/clock.hpp"
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/settings.hpp"

#include <cmath>
#include <fmt/format.h>

namespace orchestrator::pg {

namespace sqlstate = core::sqlstate;

namespace {
[[noreturn]] void refuse_null(const char* name) {
    throw core::Error(sqlstate::null_value_not_allowed, fmt::format("{} must not be null", name));
}

// The elements of a one-dimensional array argument of an 8-byte by-value type: at most
// max_elements, none null.
std::vector<Datum> checked_elements(Datum raw, Oid type, const char* name, int max_elements) {
    Datum* elements = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pg_call([raw, type, &elements, &nulls, &count] {
        deconstruct_array(DatumGetArrayTypeP(raw), type, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
                          &elements, &nulls, &count);
    });
    if (count > max_elements)
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} has too many elements", name),
                          fmt::format("The limit is {}; it has {}.", max_elements, count));
    for (int i = 0; i < count; ++i)
        if (nulls[i])
            throw core::Error(sqlstate::null_value_not_allowed,
                              fmt::format("{} must not contain nulls", name));
    return std::vector<Datum>(elements, elements + count);
}

bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}
} // namespace

bool Args::is_null(int n) const { return fcinfo_->args[n].isnull; }

std::optional<std::string_view> Args::optional_text(int n, const char* name, int max_bytes) const {
    if (is_null(n))
        return std::nullopt;
    const Datum raw = fcinfo_->args[n].value;
    text* value = pg_call([raw] { return DatumGetTextPP(raw); });
    std::string_view s(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
    if (is_blank(s))
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} must not be empty or blank", name));
    if (s.size() > static_cast<std::size_t>(max_bytes))
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} is too long", name),
                          fmt::format("The limit is {} bytes; this one has {}.", max_bytes,
                                      s.size()));
    return s;
}

std::string_view Args::required_text(int n, const char* name, int max_bytes) const {
    auto s = optional_text(n, name, max_bytes);
    if (!s)
        refuse_null(name);
    return *s;
}

std::int32_t Args::int32_in_range(int n, const char* name, std::int32_t low,
                                  std::int32_t high) const {
    if (is_null(n))
        refuse_null(name);
    const std::int32_t v = DatumGetInt32(fcinfo_->args[n].value);
    if (v < low || v > high)
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} must be between {} and {}", name, low, high),
                          fmt::format("The value given was {}.", v));
    return v;
}

std::optional<std::int64_t> Args::optional_int64(int n) const {
    if (is_null(n))
        return std::nullopt;
    return DatumGetInt64(fcinfo_->args[n].value);
}

std::int64_t Args::required_int64(int n, const char* name) const {
    auto v = optional_int64(n);
    if (!v)
        refuse_null(name);
    return *v;
}

bool Args::boolean(int n, const char* name) const {
    if (is_null(n))
        refuse_null(name);
    return DatumGetBool(fcinfo_->args[n].value);
}

std::optional<TimestampTz> Args::optional_timestamptz(int n) const {
    if (is_null(n))
        return std::nullopt;
    const TimestampTz v = DatumGetTimestampTz(fcinfo_->args[n].value);
    if (TIMESTAMP_NOT_FINITE(v))
        throw core::Error(sqlstate::invalid_parameter_value, "timestamps must be finite");
    return v;
}

std::optional<core::Duration> Args::optional_interval(int n, const char* name) const {
    if (is_null(n))
        return std::nullopt;
    const Interval* v = DatumGetIntervalP(fcinfo_->args[n].value);
    const core::Duration d = from_interval(*v);
    if (d <= core::Duration::zero())
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} must be a positive interval", name));
    return d;
}

std::optional<Datum> Args::optional_nonnegative_numeric(int n, const char* name) const {
    if (is_null(n))
        return std::nullopt;
    const Datum v = fcinfo_->args[n].value;
    const bool negative = pg_call([v] {
        return DatumGetBool(DirectFunctionCall2(numeric_lt, v,
                                                DirectFunctionCall1(int4_numeric, Int32GetDatum(0))));
    });
    const bool not_a_number = pg_call([v] { return numeric_is_nan(DatumGetNumeric(v)); });
    if (negative || not_a_number)
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} must be a number of at least 0", name));
    return v;
}

std::optional<Datum> Args::optional_jsonb(int n, const char* name, int max_bytes) const {
    if (is_null(n))
        return std::nullopt;
    const Datum raw = fcinfo_->args[n].value;
    Jsonb* value = pg_call([raw] { return DatumGetJsonbP(raw); });
    const std::size_t size = VARSIZE(value);
    const bool payload_limit = max_bytes < 0;
    const std::size_t limit =
        static_cast<std::size_t>(payload_limit ? settings::max_payload_bytes : max_bytes);
    if (size > limit)
        throw core::Error(sqlstate::program_limit_exceeded, fmt::format("{} is too large", name),
                          fmt::format("The limit{} is {} bytes; this one has {}.",
                                      payload_limit ? " (orchestrator.max_payload_bytes)" : "",
                                      limit, size));
    return PointerGetDatum(value);
}

Datum Args::required_jsonb(int n, const char* name, int max_bytes) const {
    auto v = optional_jsonb(n, name, max_bytes);
    if (!v)
        refuse_null(name);
    return *v;
}

std::vector<std::int64_t> Args::nonnegative_int64_array(int n, const char* name,
                                                       int max_elements) const {
    if (is_null(n))
        refuse_null(name);
    const std::vector<Datum> elements =
        checked_elements(fcinfo_->args[n].value, INT8OID, name, max_elements);
    std::vector<std::int64_t> out;
    out.reserve(elements.size());
    for (Datum e : elements) {
        out.push_back(DatumGetInt64(e));
        if (out.back() < 0)
            throw core::Error(sqlstate::invalid_parameter_value,
                              fmt::format("{} must not contain negative values", name));
    }
    return out;
}

std::vector<double> Args::nonnegative_float8_array(int n, const char* name,
                                                   int max_elements) const {
    if (is_null(n))
        refuse_null(name);
    const std::vector<Datum> elements =
        checked_elements(fcinfo_->args[n].value, FLOAT8OID, name, max_elements);
    std::vector<double> out;
    out.reserve(elements.size());
    for (Datum e : elements) {
        out.push_back(DatumGetFloat8(e));
        if (!(out.back() >= 0) || std::isinf(out.back()))
            throw core::Error(sqlstate::invalid_parameter_value,
                              fmt::format("{} must hold finite values of at least 0", name));
    }
    return out;
}

double Args::float8(int n, const char* name) const {
    if (is_null(n))
        refuse_null(name);
    const double v = DatumGetFloat8(fcinfo_->args[n].value);
    if (std::isnan(v))
        throw core::Error(sqlstate::invalid_parameter_value,
                          fmt::format("{} must be a number", name));
    return v;
}

} // namespace orchestrator::pg
