#include "orchestrator/pg/spi.hpp"

#include <exception>
#include <stdexcept>

namespace orchestrator::pg {

SpiConnection::SpiConnection() {
    pg_call([] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
    });
}

// SPI_finish fails only when not connected, which this object rules out.
SpiConnection::~SpiConnection() {
    release_.release([] { SPI_finish(); });
}

std::string_view text_of(Datum value) {
    const text* t = pg_call([value] { return DatumGetTextPP(value); });
    return {VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t))};
}

std::string Rows::get_text(std::uint64_t row, int column) const {
    return is_null(row, column) ? std::string() : std::string(text_of(datum(row, column)));
}

SqlParam null_param() { return {Datum(0), true}; }
SqlParam int32_param(std::int32_t v) { return {Int32GetDatum(v), false}; }
SqlParam int64_param(std::int64_t v) { return {Int64GetDatum(v), false}; }
SqlParam bool_param(bool v) { return {BoolGetDatum(v), false}; }
SqlParam float8_param(double v) { return {Float8GetDatum(v), false}; }
SqlParam timestamptz_param(TimestampTz v) { return {TimestampTzGetDatum(v), false}; }

SqlParam text_param(std::string_view v) {
    const char* data = v.data();
    const int length = static_cast<int>(v.size());
    return {pg_call([data, length] {
                return PointerGetDatum(cstring_to_text_with_len(data, length));
            }),
            false};
}

namespace {
template <typename T>
SqlParam array_param(const std::vector<T>& values, Oid element_type,
                     Datum (*to_datum)(const T&)) {
    const int n = static_cast<int>(values.size());
    Datum* datums = pg_call([n] { return static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1))); });
    for (int i = 0; i < n; ++i)
        datums[i] = to_datum(values[i]);
    return {pg_call([datums, n, element_type] {
                int16 length;
                bool by_value;
                char align;
                get_typlenbyvalalign(element_type, &length, &by_value, &align);
                return PointerGetDatum(
                    construct_array(datums, n, element_type, length, by_value, align));
            }),
            false};
}
Datum int64_datum(const std::int64_t& v) { return Int64GetDatum(v); }
Datum int32_datum(const std::int32_t& v) { return Int32GetDatum(v); }
Datum timestamptz_datum(const TimestampTz& v) { return TimestampTzGetDatum(v); }
Datum float8_datum(const double& v) { return Float8GetDatum(v); }
// By reference: construct_array copies the six bytes the Datum points to.
Datum tid_datum(const ItemPointerData& v) { return PointerGetDatum(&v); }
} // namespace

SqlParam int64_array_param(const std::vector<std::int64_t>& values) {
    return array_param(values, INT8OID, int64_datum);
}
SqlParam int32_array_param(const std::vector<std::int32_t>& values) {
    return array_param(values, INT4OID, int32_datum);
}
SqlParam timestamptz_array_param(const std::vector<TimestampTz>& values) {
    return array_param(values, TIMESTAMPTZOID, timestamptz_datum);
}
SqlParam float8_array_param(const std::vector<double>& values) {
    return array_param(values, FLOAT8OID, float8_datum);
}
SqlParam tid_array_param(const std::vector<ItemPointerData>& values) {
    return array_param(values, TIDOID, tid_datum);
}

SqlParam text_array_param(const std::vector<const char*>& values) {
    const int n = static_cast<int>(values.size());
    const char* const* items = values.data();
    return {pg_call([items, n] {
                Datum* datums = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
                bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * (n + 1)));
                for (int i = 0; i < n; ++i) {
                    nulls[i] = items[i] == nullptr;
                    datums[i] = nulls[i] ? Datum(0) : CStringGetTextDatum(items[i]);
                }
                int dims[1] = {n};
                int lbs[1] = {1};
                return PointerGetDatum(
                    construct_md_array(datums, nulls, 1, dims, lbs, TEXTOID, -1, false, 'i'));
            }),
            false};
}

bool Rows::is_null(std::uint64_t row, int column) const {
    bool null = false;
    SPI_getbinval(table_->vals[row], table_->tupdesc, column, &null);
    return null;
}

Datum Rows::datum(std::uint64_t row, int column) const {
    bool null = false;
    Datum value = SPI_getbinval(table_->vals[row], table_->tupdesc, column, &null);
    return null ? Datum(0) : value;
}

std::int64_t Rows::get_int64(std::uint64_t row, int column) const {
    return DatumGetInt64(datum(row, column));
}
std::int32_t Rows::get_int32(std::uint64_t row, int column) const {
    return DatumGetInt32(datum(row, column));
}
bool Rows::get_bool(std::uint64_t row, int column) const {
    return DatumGetBool(datum(row, column));
}
double Rows::get_float8(std::uint64_t row, int column) const {
    return DatumGetFloat8(datum(row, column));
}
TimestampTz Rows::get_timestamptz(std::uint64_t row, int column) const {
    return DatumGetTimestampTz(datum(row, column));
}

namespace {
// The element type's storage (length, by value, alignment) is given: these are fixed types, and
// looking it up in the catalog would cost a cache search on every callback.
template <typename T>
std::vector<T> elements_of(Datum value, Oid element_type, int16 length, bool by_value, char align,
                           T (*from_datum)(Datum)) {
    Datum* elements = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pg_call([value, element_type, length, by_value, align, &elements, &nulls, &count] {
        deconstruct_array(DatumGetArrayTypeP(value), element_type, length, by_value, align,
                          &elements, &nulls, &count);
    });
    std::vector<T> out;
    out.reserve(count);
    for (int i = 0; i < count; ++i)
        if (!nulls[i])
            out.push_back(from_datum(elements[i]));
    return out;
}
std::int64_t int64_of(Datum d) { return DatumGetInt64(d); }
ItemPointerData tid_of(Datum d) {
    return *reinterpret_cast<const ItemPointerData*>(DatumGetPointer(d));
}
} // namespace

std::vector<std::int64_t> int64_array_of(Datum value) {
    return elements_of(value, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, int64_of);
}

std::vector<ItemPointerData> tid_array_of(Datum value) {
    return elements_of(value, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT, tid_of);
}

std::vector<std::int64_t> Rows::get_int64_array(std::uint64_t row, int column) const {
    if (is_null(row, column))
        return {};
    return int64_array_of(datum(row, column));
}

Statement::Statement(const char* sql, std::initializer_list<Oid> argument_types)
    : sql_(sql), argument_types_(argument_types) {}

void Statement::prepare() {
    const char* sql = sql_;
    Oid* types = argument_types_.data();
    const int count = static_cast<int>(argument_types_.size());
    plan_ = pg_call([sql, types, count] {
        // Parse under a fixed search_path; the plan cache keeps it for every later re-plan.
        const int nest_level = NewGUCNestLevel();
        set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                          GUC_ACTION_SAVE, true, 0, false);
        // Always the generic plan: a custom plan would be planned again on every call.
        SPIPlanPtr plan = SPI_prepare_cursor(sql, count, types, CURSOR_OPT_GENERIC_PLAN);
        if (plan == nullptr)
            elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        AtEOXact_GUC(true, nest_level);
        SPI_keepplan(plan);
        return plan;
    });
}

Rows Statement::run(std::initializer_list<SqlParam> params, bool read_only, long limit) {
    if (plan_ == nullptr)
        prepare();
    constexpr std::size_t max_params = 32;
    if (params.size() != argument_types_.size() || params.size() > max_params)
        throw std::logic_error("a statement was run with the wrong number of parameters");
    Datum values[max_params];
    char nulls[max_params];
    int i = 0;
    for (const SqlParam& p : params) {
        values[i] = p.value;
        nulls[i] = p.is_null ? 'n' : ' ';
        ++i;
    }
    SPIPlanPtr plan = plan_;
    const int result = pg_call([plan, &values, &nulls, read_only, limit] {
        // Every statement here reaches its rows through an index. With sequential scans priced
        // out, a plan built (or rebuilt) while the statistics say the tables are tiny stays an
        // index plan as they grow, instead of scanning the whole table until the next ANALYZE.
        // The price put on a scan of a table without a usable index (the one-row configuration
        // tables) would make every such statement worth compiling with JIT, at each execution:
        // these statements are all short, so JIT is off for them.
        // An error skips the restore; the (sub)transaction abort undoes the settings then.
        const int nest_level = NewGUCNestLevel();
        set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                          true, 0, false);
        set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                          false);
        const int status = SPI_execute_plan(plan, values, nulls, read_only, limit);
        AtEOXact_GUC(true, nest_level);
        return status;
    });
    if (result < 0)
        throw std::runtime_error(SPI_result_code_string(result));
    return Rows(SPI_tuptable, SPI_processed);
}

} // namespace orchestrator::pg
