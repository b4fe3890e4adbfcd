#pragma once
// SPI with prepared plans kept across calls. Every call that can raise goes through pg_call.
#include "orchestrator/pg/guard.hpp"
#include "orchestrator/pg/postgres.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator::pg {

// One SPI connection for the extent of a C++ scope. On the way out through an exception it
// leaves the connection to transaction abort, which cleans it up.
class SpiConnection {
public:
    SpiConnection();
    ~SpiConnection();
    SpiConnection(const SpiConnection&) = delete;
    SpiConnection& operator=(const SpiConnection&) = delete;

private:
    ScopedRelease release_;
};

struct SqlParam {
    Datum value = 0;
    bool is_null = false;
};

// The characters of a text Datum (detoasted if needed); valid while the Datum's memory is.
std::string_view text_of(Datum value);
// The elements of a bigint[] Datum that are not NULL, in order.
std::vector<std::int64_t> int64_array_of(Datum value);
// The elements of a tid[] Datum that are not NULL, in order.
std::vector<ItemPointerData> tid_array_of(Datum value);

SqlParam null_param();
SqlParam int32_param(std::int32_t v);
SqlParam int64_param(std::int64_t v);
SqlParam bool_param(bool v);
SqlParam float8_param(double v);
SqlParam timestamptz_param(TimestampTz v);
SqlParam text_param(std::string_view v); // palloc'd copy
SqlParam int64_array_param(const std::vector<std::int64_t>& values);
SqlParam int32_array_param(const std::vector<std::int32_t>& values);
SqlParam timestamptz_array_param(const std::vector<TimestampTz>& values);
SqlParam float8_array_param(const std::vector<double>& values);
SqlParam tid_array_param(const std::vector<ItemPointerData>& values);
SqlParam text_array_param(const std::vector<const char*>& values); // nullptr elements are NULL

// The rows of the last statement run (SPI_tuptable), read by row and 1-based column.
class Rows {
public:
    std::uint64_t size() const { return count_; }
    bool is_null(std::uint64_t row, int column) const;
    Datum datum(std::uint64_t row, int column) const; // NULL reads as 0
    std::int64_t get_int64(std::uint64_t row, int column) const;
    std::int32_t get_int32(std::uint64_t row, int column) const;
    bool get_bool(std::uint64_t row, int column) const;
    double get_float8(std::uint64_t row, int column) const;
    TimestampTz get_timestamptz(std::uint64_t row, int column) const;
    std::vector<std::int64_t> get_int64_array(std::uint64_t row, int column) const;
    std::string get_text(std::uint64_t row, int column) const; // NULL reads as ""

    TupleDesc descriptor() const { return table_->tupdesc; }
    HeapTuple tuple(std::uint64_t row) const { return table_->vals[row]; }

private:
    friend class Statement;
    Rows(SPITupleTable* table, std::uint64_t count) : table_(table), count_(count) {}
    SPITupleTable* table_;
    std::uint64_t count_;
};

// A statement prepared on first use and kept for the life of the backend. The text must qualify
// every name; it is parsed with search_path = pg_catalog, pg_temp whatever the caller's is.
class Statement {
public:
    Statement(const char* sql, std::initializer_list<Oid> argument_types);
    Rows run(std::initializer_list<SqlParam> params, bool read_only = false, long limit = 0);

private:
    void prepare();
    const char* sql_;
    std::vector<Oid> argument_types_;
    SPIPlanPtr plan_ = nullptr;
};

} // namespace orchestrator::pg
