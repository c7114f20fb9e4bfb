#include "quoter/ops/alerts.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/utc_time.hpp"

#include "quoter/ops/control.hpp"

#include <array>
#include <cstdio>

namespace quoter::ops {

stderr_alert_sink::stderr_alert_sink(int fd) noexcept : fd_(fd), terminal_(::isatty(fd) == 1) {}

void stderr_alert_sink::raise(const risk::alert& a) noexcept {
    std::array<char, 320> line{};
    const std::string_view severity = risk::to_string(a.severity);
    const std::string_view kind = risk::to_string(a.kind);
    const std::string_view reason = risk::to_string(a.reason);
    // ts is the engine's clock (simulated time in a backtest); utc is when it was written.
    const core::timestamp_ns wall = core::wall_clock{}.now();
    const core::utc_text utc = core::format_utc(wall, core::utc_precision::millis);
    // On a terminal the status line is drawn with \r and no newline: clear it first so the
    // alert starts at column 0 on a clean line (the next status tick redraws it below).
    const int length = std::snprintf(
        line.data(), line.size(),
        "%squoter alert: %.*s %.*s reason=%.*s symbol_id=%u value=%g threshold=%g "
        "utc=%.*s ts=%lld\n",
        terminal_ ? "\r\033[K" : "", static_cast<int>(severity.size()), severity.data(),
        static_cast<int>(kind.size()), kind.data(), static_cast<int>(reason.size()), reason.data(),
        static_cast<unsigned>(a.symbol_id), a.value, a.threshold, static_cast<int>(utc.size()),
        utc.data(), static_cast<long long>(a.time));
    if (length > 0) {
        const auto size = static_cast<std::size_t>(length) < line.size()
                              ? static_cast<std::size_t>(length)
                              : line.size() - 1;
        [[maybe_unused]] const ssize_t written = ::write(fd_, line.data(), size);
    }
}

} // namespace quoter::ops
