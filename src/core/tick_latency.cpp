#include "quoter/core/tick_latency.hpp"

namespace quoter::core {

std::string_view to_string(tick_point point) noexcept {
    switch (point) {
    case tick_point::kernel_rx:
        return "kernel_rx";
    case tick_point::received:
        return "received";
    case tick_point::socket_read:
        return "socket_read";
    case tick_point::decoded:
        return "decoded";
    case tick_point::pushed:
        return "pushed";
    case tick_point::popped:
        return "popped";
    case tick_point::decided:
        return "decided";
    case tick_point::risk_passed:
        return "risk_passed";
    case tick_point::encoded:
        return "encoded";
    case tick_point::written:
        return "written";
    }
    return "unknown";
}

std::string_view hop_label(tick_point point) noexcept {
    switch (point) {
    case tick_point::received:
        return "kernel -> recv";
    case tick_point::socket_read:
        return "recv -> frame";
    default:
        return to_string(point);
    }
}

void tick_latency::record(const tick_stamps& stamps) noexcept {
    ++ticks_;
    const duration_ns e2e = stamps.end_to_end();
    timestamp_ns previous = 0;
    for (std::size_t i = 0; i < tick_point_count; ++i) {
        const timestamp_ns at = stamps.at[i];
        if (at == 0) {
            continue;
        }
        if (previous != 0) {
            hops_[i].record(at - previous);
            if (e2e >= 0) {
                order_hops_[i].record(at - previous);
            }
        }
        previous = at;
    }
    if (e2e >= 0) {
        end_to_end_.record(e2e);
    }
    if (const duration_ns kernel = stamps.kernel_to_read(); kernel >= 0) {
        kernel_to_read_.record(kernel);
    }
}

void tick_latency::reset() noexcept {
    for (latency_histogram& h : hops_) {
        h.reset();
    }
    for (latency_histogram& h : order_hops_) {
        h.reset();
    }
    end_to_end_.reset();
    kernel_to_read_.reset();
    ticks_ = 0;
}

tick_latency_summary tick_latency::summary() const noexcept {
    tick_latency_summary out;
    for (std::size_t i = 0; i < tick_point_count; ++i) {
        out.hops[i] = hops_[i].summary();
        out.order_hops[i] = order_hops_[i].summary();
    }
    out.end_to_end = end_to_end_.summary();
    out.kernel_to_read = kernel_to_read_.summary();
    out.ticks = ticks_;
    return out;
}

void pending_written::add(std::uint64_t request_id, const tick_stamps& stamps,
                          tick_latency& sink) noexcept {
    entry& slot = entries_[next_];
    next_ = (next_ + 1) % capacity;
    if (slot.request_id != 0) {
        sink.record(slot.stamps); // its stamp is overdue: recorded without it
        --count_;
    }
    slot.request_id = request_id;
    slot.stamps = stamps;
    ++count_;
}

bool pending_written::on_written(std::uint64_t request_id, timestamp_ns at,
                                 tick_latency& sink) noexcept {
    if (request_id == 0 || count_ == 0) {
        return false;
    }
    for (entry& e : entries_) {
        if (e.request_id == request_id) {
            e.stamps[tick_point::written] = at;
            sink.record(e.stamps);
            e.request_id = 0;
            --count_;
            return true;
        }
    }
    return false;
}

void pending_written::expire(timestamp_ns before, tick_latency& sink) noexcept {
    if (count_ == 0) {
        return;
    }
    for (entry& e : entries_) {
        if (e.request_id != 0 && e.stamps[tick_point::encoded] < before) {
            sink.record(e.stamps);
            e.request_id = 0;
            --count_;
        }
    }
}

} // namespace quoter::core
