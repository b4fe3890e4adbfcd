#pragma once
// Builds a jsonb array of objects directly in jsonb's stored form, laid out byte for byte as
// PostgreSQL lays out the same value (JsonbValueToJsonb), without its parse state: an object's
// keys are put in order by a sort of its own, and a nested document is copied as it is stored
// instead of being taken apart and put together again. The dispatch hands out its tasks so:
// [{task_id, payload, priority, attempt}, ...].
#include "orchestrator/pg/postgres.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orchestrator::pg {

class JsonbArrayBuilder {
public:
    // The next element, an object of the members added until end_object(), in any order; a
    // key names one member at most.
    void add_integer(std::string_view key, std::int64_t value);
    void add_document(std::string_view key, Datum jsonb);
    void end_object();

    // The array, palloc'd in the current memory context.
    Datum finish() const;

private:
    // A member's value as stored: its JEntry type and its bytes, which stay valid until the
    // object ends (palloc'd numerics, or the document's own bytes).
    struct Member {
        std::string_view key;
        std::uint32_t type;
        bool int_aligned; // numerics and containers start at a multiple of 4
        const char* data;
        std::uint32_t length;
    };

    std::vector<Member> members_;
    std::string elements_;               // the array's data, from an int-aligned start
    std::vector<std::uint32_t> entries_; // the array's JEntries
};

} // namespace orchestrator::pg
