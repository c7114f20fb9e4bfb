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
