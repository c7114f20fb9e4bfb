#include "request_checks.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace quoter::venue {

bool same_hex(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

timestamp_check check_timestamp(const std::string& timestamp, const std::string* recv_window,
                                std::int64_t venue_ms) {
    std::int64_t window = 5000;
    if (recv_window != nullptr) {
        window = std::atoll(recv_window->c_str());
        if (window > 60'000 || window <= 0) {
            return timestamp_check::bad_window;
        }
    }
    const std::int64_t sent_ms = std::atoll(timestamp.c_str());
    if (sent_ms > venue_ms + 1000 || venue_ms - sent_ms > window) {
        return timestamp_check::outside;
    }
    return timestamp_check::ok;
}

rate_limit_windows::verdict rate_limit_windows::check(std::int64_t venue_ms,
                                                      std::uint64_t& answers_429,
                                                      std::uint64_t& answers_418,
                                                      std::uint64_t& requests_in_backoff) {
    if (venue_ms < banned_until_ms) {
        ++answers_418;
        return {418, banned_until_ms};
    }
    if (venue_ms < limited_until_ms) {
        if (answered_429 && venue_ms < in_flight_until_ms) {
            ++answers_429; // sent before the client could have seen the 429
            return {429, limited_until_ms};
        }
        if (answered_429) {
            // Told to back off and did not: banned.
            ++requests_in_backoff;
            ++answers_418;
            banned_until_ms = venue_ms + ban_ms;
            return {418, banned_until_ms};
        }
        answered_429 = true;
        ++answers_429;
        return {429, limited_until_ms};
    }
    return {};
}

usage_counter::usage_counter(std::int64_t weight_per_minute, std::int64_t orders_per_10s,
                             std::int64_t orders_per_long_window, std::int64_t long_window_ms,
                             bool enforce)
    : weight_{60'000, weight_per_minute}, orders_10s_{10'000, orders_per_10s},
      orders_long_{long_window_ms, orders_per_long_window}, enforce_(enforce) {}

void usage_counter::window::roll(std::int64_t venue_ms) {
    const std::int64_t start = venue_ms - venue_ms % length_ms;
    if (start != start_ms) {
        start_ms = start;
        count = 0;
    }
}

void usage_counter::window::add(std::int64_t amount) {
    count += amount;
    peak = std::max(peak, count);
}

usage_counter::verdict usage_counter::admit(std::int64_t venue_ms, std::int64_t weight,
                                            bool new_order) {
    weight_.roll(venue_ms);
    orders_10s_.roll(venue_ms);
    orders_long_.roll(venue_ms);
    if (enforce_ && weight_.count + weight > weight_.limit) {
        ++weight_refusals_;
        return {-1003, weight_.end_ms(), weight_.limit};
    }
    weight_.add(weight);
    if (!new_order) {
        return {};
    }
    for (const window* full : {&orders_10s_, &orders_long_}) {
        if (enforce_ && full->count + 1 > full->limit) {
            ++order_refusals_;
            return {-1015, full->end_ms(), full->limit};
        }
    }
    orders_10s_.add(1);
    orders_long_.add(1);
    return {};
}

bool apply_report(tracked_order& order, const exec::exec_report& report) {
    switch (report.kind) {
    case exec::exec_kind::ack:
        order.exchange_id = report.exchange_id;
        return true;
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill: {
        order.executed = report.cum_qty;
        const bool done = report.kind == exec::exec_kind::fill;
        order.status = done ? "FILLED" : "PARTIALLY_FILLED";
        order.open = !done;
        return true;
    }
    case exec::exec_kind::cancelled:
        order.status = report.reason == exec::reject_reason::expired ? "EXPIRED" : "CANCELED";
        order.open = false;
        return true;
    case exec::exec_kind::reject:
        order.status = "REJECTED";
        order.open = false;
        return false; // refused placements answer with an error, no event
    case exec::exec_kind::cancel_reject:
    case exec::exec_kind::unknown:
        return false;
    }
    return false;
}

} // namespace quoter::venue
