// tick_latency: where the time of one market-data tick goes on its way to an order, hop by hop.
//
// Every point of the live path is stamped on one clock, tsc_clock::process() (nanoseconds on
// steady_clock's time line), whichever thread takes the stamp, so stamps of the md thread, the
// core thread and the order I/O thread subtract directly:
//
//   kernel_rx    (kernel)    the kernel received the frame's last bytes (SO_TIMESTAMPING)
//   received     md thread   the socket read (recvmsg) that brought them returned
//   socket_read  md thread   the frame's read completed (the I/O completion handler runs)
//   decoded      md thread   decoded, applied to the book, the event built
//   pushed       md thread   the event committed to the md -> core ring
//   popped       core thread the event taken from the ring
//   decided      core thread the strategy computed the quotes for it
//   risk_passed  core thread the first order of the tick passed the pre-trade checks
//   encoded      core thread that order left the gateway call (encoded and queued, or matched by
//                            an in-process exchange)
//   written      I/O thread  its bytes were written to the socket
//
// A tick need not reach every point (a trade print decides nothing, most books send no order):
// each hop is the time from the last point reached before it, and end_to_end runs from
// socket_read to the last order point reached (written, else encoded). Only ticks that produced
// an order have an end-to-end figure. The hops before socket_read are kept apart from it: kernel_rx
// -> received is the I/O thread's wake-up and the read system call, received -> socket_read the
// WebSocket/TLS unframing plus the wait of a frame behind the frames of the same read handled
// before it (queueing). Every hop is also kept for the ticks that sent an order alone
// (order_hop()), since those are the ticks the end to end counts.
//
// record() touches only fixed arrays: no allocation, no locks. Owned by one thread (the core
// thread, which completes a tick); readers take summaries() on that thread and hand the POD on.
#pragma once

#include "quoter/core/clock.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::core {

/// A point of the tick-to-order path, in path order.
enum class tick_point : std::uint8_t {
    kernel_rx,
    received,
    socket_read,
    decoded,
    pushed,
    popped,
    decided,
    risk_passed,
    encoded,
    written,
};

inline constexpr std::size_t tick_point_count = 10;

/// Short snake_case name of the hop ending at point (e.g. "decoded"), for tables and metrics.
[[nodiscard]] std::string_view to_string(tick_point point) noexcept;

/// The hop ending at point as a table row names it ("kernel -> recv", "recv -> frame", then the
/// point's name).
[[nodiscard]] std::string_view hop_label(tick_point point) noexcept;

/// The stamps of one tick in ns on tsc_clock::process(); 0 where the tick did not get there.
struct tick_stamps {
    std::array<timestamp_ns, tick_point_count> at{};

    [[nodiscard]] timestamp_ns& operator[](tick_point point) noexcept {
        return at[static_cast<std::size_t>(point)];
    }
    [[nodiscard]] timestamp_ns operator[](tick_point point) const noexcept {
        return at[static_cast<std::size_t>(point)];
    }
    /// kernel_rx to socket_read in ns; -1 without both stamps.
    [[nodiscard]] duration_ns kernel_to_read() const noexcept {
        const timestamp_ns kernel = (*this)[tick_point::kernel_rx];
        const timestamp_ns read = (*this)[tick_point::socket_read];
        if (kernel == 0 || read == 0) {
            return -1;
        }
        return read > kernel ? read - kernel : 0;
    }
    /// socket_read to the last order point reached (written, else encoded), in ns; -1 when the
    /// tick sent no order or has no read stamp.
    [[nodiscard]] duration_ns end_to_end() const noexcept {
        const timestamp_ns read = (*this)[tick_point::socket_read];
        const timestamp_ns out = (*this)[tick_point::written] != 0 ? (*this)[tick_point::written]
                                                                   : (*this)[tick_point::encoded];
        if (read == 0 || out == 0) {
            return -1;
        }
        return out > read ? out - read : 0;
    }
};

/// Stamps point on tsc_clock::process() unless stamps is null or the point is stamped already
/// (a tick's first order is the one measured). For the code along the path that only sometimes
/// runs on behalf of a tick (it is handed the tick's stamps while it does).
inline void mark_once(tick_stamps* stamps, tick_point point) noexcept {
    if (stamps != nullptr && (*stamps)[point] == 0) {
        (*stamps)[point] = tsc_clock::process().now();
    }
}

/// Percentiles of every hop and of the whole path, a plain copy for status lines and metrics.
struct tick_latency_summary {
    /// hops[i]: from the previous point reached to point i, every tick; hops[kernel_rx] stays
    /// empty.
    std::array<latency_summary, tick_point_count> hops{};
    /// The same hops over the ticks that sent an order (those with an end to end) alone.
    std::array<latency_summary, tick_point_count> order_hops{};
    /// socket_read to the last order point reached (written, else encoded).
    latency_summary end_to_end{};
    /// kernel_rx -> socket_read of every tick that carries the kernel's receive time (the two
    /// hops before the end to end together). Empty where the kernel gives no receive time.
    latency_summary kernel_to_read{};
    /// Ticks recorded, with and without an order.
    std::uint64_t ticks = 0;
};

class tick_latency {
public:
    /// Records one finished tick. Stamps of 0 are points not reached; a stamp earlier than the
    /// previous one reached (which a correct path never produces) counts as 0 ns. Owning thread.
    void record(const tick_stamps& stamps) noexcept;

    /// Forgets everything (e.g. after a warm-up). Owning thread.
    void reset() noexcept;

    /// The hop ending at point (empty for socket_read).
    [[nodiscard]] const latency_histogram& hop(tick_point point) const noexcept {
        return hops_[static_cast<std::size_t>(point)];
    }
    /// The hop ending at point over the ticks that sent an order alone.
    [[nodiscard]] const latency_histogram& order_hop(tick_point point) const noexcept {
        return order_hops_[static_cast<std::size_t>(point)];
    }
    [[nodiscard]] const latency_histogram& end_to_end() const noexcept { return end_to_end_; }
    /// kernel_rx -> socket_read of the ticks with both stamps.
    [[nodiscard]] const latency_histogram& kernel_to_read() const noexcept {
        return kernel_to_read_;
    }
    [[nodiscard]] std::uint64_t ticks() const noexcept { return ticks_; }

    /// Every hop's percentiles (one pass over each histogram: keep it off the hot path).
    [[nodiscard]] tick_latency_summary summary() const noexcept;

private:
    std::array<latency_histogram, tick_point_count> hops_{};
    std::array<latency_histogram, tick_point_count> order_hops_{};
    latency_histogram end_to_end_{};
    latency_histogram kernel_to_read_{};
    std::uint64_t ticks_ = 0;
};

/// Ticks whose first order went to a gateway with its own I/O thread, waiting for that order's
/// `written` stamp (the I/O thread takes it after the tick finished on the core thread). Keyed by
/// the gateway's request id. A tick whose stamp never comes (the request was refused unsent, the
/// connection dropped) is recorded without it by expire(), or when the table is full and a newer
/// tick needs its slot. Fixed storage, no allocation; owning (core) thread only.
class pending_written {
public:
    static constexpr std::size_t capacity = 64;

    /// A finished tick whose first order is request_id; recorded once its stamp arrives.
    void add(std::uint64_t request_id, const tick_stamps& stamps, tick_latency& sink) noexcept;
    /// The written stamp of request_id: the tick waiting for it (if any) is recorded with it.
    /// Returns whether a tick was waiting.
    bool on_written(std::uint64_t request_id, timestamp_ns at, tick_latency& sink) noexcept;
    /// Records without a written stamp the ticks encoded before `before` (tsc_clock ns).
    void expire(timestamp_ns before, tick_latency& sink) noexcept;
    /// Ticks waiting.
    [[nodiscard]] std::size_t size() const noexcept { return count_; }

private:
    struct entry {
        std::uint64_t request_id = 0; ///< 0: free.
        tick_stamps stamps;
    };
    std::array<entry, capacity> entries_{};
    std::size_t next_ = 0; ///< Slot the next add() takes (round robin: the oldest).
    std::size_t count_ = 0;
};

} // namespace quoter::core
