// The /status JSON document: numbers as JSON numbers (non-finite ones as null), text quoted with
// the project's one escaper, times both as raw nanoseconds and as readable UTC.
#include "quoter/ops/status.hpp"

#include "quoter/core/quoted_string.hpp"
#include "quoter/core/utc_time.hpp"

#include <fmt/format.h>

#include <cmath>

namespace quoter::ops {

std::string_view to_string(trading_state state) noexcept {
    switch (state) {
    case trading_state::starting:
        return "starting";
    case trading_state::running:
        return "running";
    case trading_state::paused:
        return "paused";
    case trading_state::killed:
        return "killed";
    case trading_state::stopped:
        return "stopped";
    }
    return "unknown";
}

namespace {

void key(std::string& out, std::string_view name) {
    if (out.size() > 1) {
        out += ',';
    }
    core::append_quoted(out, name);
    out += ':';
}

void number(std::string& out, std::string_view name, double value) {
    key(out, name);
    if (std::isfinite(value)) {
        fmt::format_to(std::back_inserter(out), "{}", value);
    } else {
        out += "null";
    }
}

void integer(std::string& out, std::string_view name, std::int64_t value) {
    key(out, name);
    fmt::format_to(std::back_inserter(out), "{}", value);
}

void text(std::string& out, std::string_view name, std::string_view value) {
    key(out, name);
    core::append_quoted(out, value);
}

void boolean(std::string& out, std::string_view name, bool value) {
    key(out, name);
    out += value ? "true" : "false";
}

/// "2026-12-04T18:46:51.123Z"; "" for 0.
std::string utc(core::timestamp_ns ns) {
    if (ns <= 0) {
        return {};
    }
    return std::string(core::format_utc(ns, core::utc_precision::millis).view());
}

} // namespace

std::string status_json(const status_snapshot& s) {
    std::string out = "{";
    text(out, "mode", s.mode.view());
    text(out, "symbol", s.symbol.view());
    text(out, "state", to_string(s.state));
    text(out, "halt_reason", s.halt_reason.view());
    boolean(out, "ready", s.ready());
    boolean(out, "book_synced", s.book_synced);
    boolean(out, "gateway_connected", s.gateway_connected);
    number(out, "best_bid", s.best_bid);
    number(out, "best_ask", s.best_ask);
    number(out, "mid", s.mid);
    number(out, "spread_bps", s.spread_bps);
    number(out, "quoted_bid", s.quoted_bid);
    number(out, "quoted_ask", s.quoted_ask);
    integer(out, "working_orders", s.working_orders);
    integer(out, "working_bids", s.working_bids);
    integer(out, "working_asks", s.working_asks);
    number(out, "inventory_base", s.inventory_base);
    number(out, "pnl_total_quote", s.pnl_total_quote);
    number(out, "pnl_realized_quote", s.pnl_realized_quote);
    integer(out, "fills", static_cast<std::int64_t>(s.fills));
    integer(out, "orders_sent", static_cast<std::int64_t>(s.orders_sent));
    integer(out, "tick_to_order_p50_ns", s.tick_to_order_p50_ns);
    integer(out, "tick_to_order_p99_ns", s.tick_to_order_p99_ns);
    integer(out, "round_trip_p50_ns", s.round_trip_p50_ns);
    integer(out, "round_trip_p99_ns", s.round_trip_p99_ns);
    integer(out, "published_ns", s.published_ns);
    text(out, "published_utc", utc(s.published_ns));
    integer(out, "started_ns", s.started_ns);
    text(out, "started_utc", utc(s.started_ns));
    key(out, "symbols");
    out += '[';
    for (std::size_t i = 0; i < s.listed_symbols(); ++i) {
        const symbol_status& symbol = s.symbols[i];
        std::string entry = "{";
        text(entry, "symbol", symbol.symbol.view());
        text(entry, "state", to_string(symbol.state));
        text(entry, "halt_reason", symbol.halt_reason.view());
        boolean(entry, "book_synced", symbol.book_synced);
        number(entry, "mid", symbol.mid);
        number(entry, "quoted_bid", symbol.quoted_bid);
        number(entry, "quoted_ask", symbol.quoted_ask);
        number(entry, "inventory_base", symbol.inventory_base);
        number(entry, "pnl_total_quote", symbol.pnl_total_quote);
        number(entry, "pnl_realized_quote", symbol.pnl_realized_quote);
        integer(entry, "fills", static_cast<std::int64_t>(symbol.fills));
        integer(entry, "orders_sent", static_cast<std::int64_t>(symbol.orders_sent));
        entry += '}';
        out += i == 0 ? "" : ",";
        out += entry;
    }
    out += "]}";
    return out;
}

} // namespace quoter::ops
