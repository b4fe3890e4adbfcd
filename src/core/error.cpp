#include "orchestrator/core/error.hpp"

#include <algorithm>

namespace orchestrator::core {

Error::Error(std::string_view sqlstate, const std::string& message, std::string detail,
             std::string hint)
    : std::runtime_error(message), detail_(std::move(detail)), hint_(std::move(hint)) {
    std::copy_n(sqlstate.begin(), std::min<std::size_t>(sqlstate.size(), 5), sqlstate_.begin());
}

} // namespace orchestrator::core
