#include "orchestrator/pg/jsonb_builder.hpp"

#include "orchestrator/core/error.hpp"
#include "orchestrator/pg/guard.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

extern "C" {
#include "utils/jsonb.h"
#include "utils/numeric.h"
}

namespace orchestrator::pg {

namespace {

void append_entry(std::string& buffer, std::uint32_t entry) {
    buffer.append(reinterpret_cast<const char*>(&entry), sizeof entry);
}

void write_entry(std::string& buffer, std::size_t at, std::uint32_t entry) {
    std::memcpy(buffer.data() + at, &entry, sizeof entry);
}

// Pads to a multiple of 4, as jsonb does before a numeric or a container; returns the padding.
std::uint32_t pad_to_int(std::string& buffer) {
    const std::size_t padding = (4 - buffer.size() % 4) % 4;
    buffer.append(padding, '\0');
    return static_cast<std::uint32_t>(padding);
}

void check_length(std::size_t length) {
    if (length > JENTRY_OFFLENMASK)
        throw core::Error(core::sqlstate::program_limit_exceeded,
                          fmt::format("total size of jsonb array elements exceeds the maximum "
                                      "of {} bytes",
                                      JENTRY_OFFLENMASK));
}

// Every JB_OFFSET_STRIDE'th child stores the end offset of its data, the others its length.
std::uint32_t child_entry(std::size_t index, std::uint32_t type, std::uint32_t length,
                          std::size_t end_offset) {
    if (index % JB_OFFSET_STRIDE == 0)
        return type | static_cast<std::uint32_t>(end_offset) | JENTRY_HAS_OFF;
    return type | length;
}

// jsonb's key order: shorter first, then bytewise.
bool key_before(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return a.size() < b.size();
    return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

} // namespace

void JsonbArrayBuilder::add_integer(std::string_view key, std::int64_t value) {
    const Numeric number = pg_call([value] { return int64_to_numeric(value); });
    members_.push_back({key, JENTRY_ISNUMERIC, true, reinterpret_cast<const char*>(number),
                        static_cast<std::uint32_t>(VARSIZE_ANY(number))});
}

// A document whose root is a container goes in as that container; one that is a bare scalar
// (stored as a one-element array marked scalar) goes in as the scalar.
void JsonbArrayBuilder::add_document(std::string_view key, Datum jsonb) {
    const Jsonb* document = pg_call([jsonb] { return DatumGetJsonbP(jsonb); });
    if (!JB_ROOT_IS_SCALAR(document)) {
        members_.push_back({key, JENTRY_ISCONTAINER, true,
                            reinterpret_cast<const char*>(&document->root),
                            static_cast<std::uint32_t>(VARSIZE(document) - VARHDRSZ)});
        return;
    }
    JsonbValue scalar;
    pg_call([document, &scalar] {
        JsonbExtractScalar(const_cast<JsonbContainer*>(&document->root), &scalar);
    });
    switch (scalar.type) {
    case jbvString:
        members_.push_back({key, JENTRY_ISSTRING, false, scalar.val.string.val,
                            static_cast<std::uint32_t>(scalar.val.string.len)});
        return;
    case jbvNumeric:
        members_.push_back({key, JENTRY_ISNUMERIC, true,
                            reinterpret_cast<const char*>(scalar.val.numeric),
                            static_cast<std::uint32_t>(VARSIZE_ANY(scalar.val.numeric))});
        return;
    case jbvBool:
        members_.push_back({key,
                            static_cast<std::uint32_t>(scalar.val.boolean ? JENTRY_ISBOOL_TRUE
                                                                          : JENTRY_ISBOOL_FALSE),
                            false, "", 0});
        return;
    case jbvNull:
        members_.push_back({key, JENTRY_ISNULL, false, "", 0});
        return;
    default:
        throw core::Error(core::sqlstate::internal_error,
                          fmt::format("unexpected jsonb scalar type {}",
                                      static_cast<int>(scalar.type)));
    }
}

// The object's container: its header, the JEntries of its keys and then of its values, the
// keys' bytes, the values' bytes. Its JEntry in the array counts the padding before it.
void JsonbArrayBuilder::end_object() {
    std::sort(members_.begin(), members_.end(),
              [](const Member& a, const Member& b) { return key_before(a.key, b.key); });
    for (std::size_t i = 1; i < members_.size(); ++i)
        if (members_[i - 1].key == members_[i].key)
            throw core::Error(core::sqlstate::internal_error,
                              fmt::format("jsonb key \"{}\" added twice", members_[i].key));
    const std::size_t start = elements_.size();
    pad_to_int(elements_);
    const std::size_t n = members_.size();
    append_entry(elements_, static_cast<std::uint32_t>(n) | JB_FOBJECT);
    const std::size_t entries_at = elements_.size();
    elements_.append(2 * n * sizeof(std::uint32_t), '\0');
    const std::size_t data_start = elements_.size();
    for (std::size_t i = 0; i < n; ++i) {
        const Member& m = members_[i];
        elements_.append(m.key.data(), m.key.size());
        write_entry(elements_, entries_at + 4 * i,
                    child_entry(i, JENTRY_ISSTRING, static_cast<std::uint32_t>(m.key.size()),
                                elements_.size() - data_start));
    }
    for (std::size_t i = 0; i < n; ++i) {
        const Member& m = members_[i];
        const std::uint32_t padding = m.int_aligned ? pad_to_int(elements_) : 0;
        elements_.append(m.data, m.length);
        check_length(elements_.size() - data_start);
        write_entry(elements_, entries_at + 4 * (n + i),
                    child_entry(n + i, m.type, padding + m.length, elements_.size() - data_start));
    }
    members_.clear();
    check_length(elements_.size());
    entries_.push_back(child_entry(entries_.size(), JENTRY_ISCONTAINER,
                                   static_cast<std::uint32_t>(elements_.size() - start),
                                   elements_.size()));
}

Datum JsonbArrayBuilder::finish() const {
    const std::size_t n = entries_.size();
    const std::size_t size = VARHDRSZ + sizeof(std::uint32_t) * (1 + n) + elements_.size();
    return pg_call([this, n, size] {
        char* out = static_cast<char*>(palloc(size));
        SET_VARSIZE(out, size);
        char* at = out + VARHDRSZ;
        const std::uint32_t header = static_cast<std::uint32_t>(n) | JB_FARRAY;
        std::memcpy(at, &header, sizeof header);
        at += sizeof header;
        std::memcpy(at, entries_.data(), n * sizeof(std::uint32_t));
        at += n * sizeof(std::uint32_t);
        std::memcpy(at, elements_.data(), elements_.size());
        return PointerGetDatum(out);
    });
}

} // namespace orchestrator::pg
