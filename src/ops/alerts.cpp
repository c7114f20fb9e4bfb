#include "quoter/ops/alerts.hpp"

#include <array>
#include <cstdio>

namespace quoter::ops {

void stderr_alert_sink::raise(const risk::alert& a) noexcept {
    std::array<char, 256> line{};
    const std::string_view severity = risk::to_string(a.severity);
    const std::string_view kind = risk::to_string(a.kind);
    const std::string_view reason = risk::to_string(a.reason);
    const int length = std::snprintf(
        line.data(), line.size(),
        "quoter alert: %.*s %.*s reason=%.*s symbol_id=%u value=%g threshold=%g ts=%lld\n",
        static_cast<int>(severity.size()), severity.data(), static_cast<int>(kind.size()),
        kind.data(), static_cast<int>(reason.size()), reason.data(),
        static_cast<unsigned>(a.symbol_id), a.value, a.threshold, static_cast<long long>(a.time));
    if (length > 0) {
        const auto size = static_cast<std::size_t>(length) < line.size()
                              ? static_cast<std::size_t>(length)
                              : line.size() - 1;
        [[maybe_unused]] const ssize_t written = ::write(fd_, line.data(), size);
    }
}

} // namespace quoter::ops
