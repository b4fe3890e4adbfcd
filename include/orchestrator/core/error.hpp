#pragma once
#include "orchestrator/core/pure.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace orchestrator::core {

// SQLSTATE codes the orchestrator raises. The custom class "OR" marks refusals that are ours alone.
namespace sqlstate {
inline constexpr std::string_view invalid_parameter_value = "22023";
inline constexpr std::string_view null_value_not_allowed = "22004";
inline constexpr std::string_view invalid_text_representation = "22P02";
inline constexpr std::string_view program_limit_exceeded = "54000";
inline constexpr std::string_view no_data_found = "P0002";
inline constexpr std::string_view object_not_in_prerequisite_state = "55000";
inline constexpr std::string_view object_in_use = "55006";
inline constexpr std::string_view out_of_memory = "53200";
inline constexpr std::string_view internal_error = "XX000";
inline constexpr std::string_view serialization_failure = "40001";
inline constexpr std::string_view feature_not_supported = "0A000";
// A callback for an execution whose lease has passed: the execution id is a fencing token.
inline constexpr std::string_view lease_expired = "OR001";
// A callback for an execution that already completed or failed.
inline constexpr std::string_view execution_finished = "OR002";
} // namespace sqlstate

// An error meant for the client: it carries the SQLSTATE PostgreSQL will report.
class Error : public std::runtime_error {
public:
    Error(std::string_view sqlstate, const std::string& message, std::string detail = {},
          std::string hint = {});

    const char* sqlstate() const noexcept { return sqlstate_.data(); }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    std::array<char, 6> sqlstate_{};
    std::string detail_;
    std::string hint_;
};

} // namespace orchestrator::core
