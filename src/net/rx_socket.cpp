// The process-wide CLOCK_REALTIME -> tick clock offset of rx_socket's kernel receive stamps.
#include "rx_socket.hpp"

namespace quoter::net::detail {

realtime_offset& realtime_offset::process() noexcept {
    static realtime_offset offset;
    return offset;
}

void realtime_offset::calibrate() noexcept {
    const core::tsc_clock& clock = core::tsc_clock::process();
    // The narrowest bracket of a few tries: a preemption between the reads widens one try only.
    core::duration_ns best_width = -1;
    core::duration_ns best_offset = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        const core::timestamp_ns before = clock.now();
        timespec ts{};
        ::clock_gettime(CLOCK_REALTIME, &ts);
        const core::timestamp_ns after = clock.now();
        const core::timestamp_ns realtime =
            static_cast<core::timestamp_ns>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
        const core::duration_ns width = after - before;
        if (best_width < 0 || width < best_width) {
            best_width = width;
            best_offset = realtime - (before + width / 2);
        }
    }
    offset_.store(best_offset, std::memory_order_relaxed);
}

} // namespace quoter::net::detail
