#include "quoter/core/tick_latency.hpp"

namespace quoter::core {

std::string_view to_string(tick_point point) noexcept {
    switch (point) {
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

void tick_latency::record(const tick_stamps& stamps) noexcept {
    ++ticks_;
    timestamp_ns previous = 0;
    for (std::size_t i = 0; i < tick_point_count; ++i) {
        const timestamp_ns at = stamps.at[i];
        if (at == 0) {
            continue;
        }
        if (previous != 0) {
            hops_[i].record(at - previous);
        }
        previous = at;
    }
    const timestamp_ns read = stamps[tick_point::socket_read];
    timestamp_ns out = stamps[tick_point::written];
    if (out == 0) {
        out = stamps[tick_point::encoded];
    }
    if (read != 0 && out != 0) {
        end_to_end_.record(out - read);
    }
}

void tick_latency::reset() noexcept {
    for (latency_histogram& h : hops_) {
        h.reset();
    }
    end_to_end_.reset();
    ticks_ = 0;
}

tick_latency_summary tick_latency::summary() const noexcept {
    tick_latency_summary out;
    for (std::size_t i = 0; i < tick_point_count; ++i) {
        out.hops[i] = hops_[i].summary();
    }
    out.end_to_end = end_to_end_.summary();
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
