// Shared fixtures of the engine tests: a BTCUSDT-like instrument, md_event builders and a venue
// gateway that replaces in one request.
#pragma once

#include "quoter/engine/core_loop.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/ops/journal.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace quoter::engine::testing {

/// A spot symbol's filters: tick 0.01, the given trading step, book lots 1e-8, min notional 5.
inline md::instrument spot_instrument(const char* name, const char* step_size) {
    const auto book = md::make_book_spec(name, "0.01", 8);
    REQUIRE(book.has_value());
    const auto trading = core::symbol_spec::from_text(
        {.name = name, .tick_size = "0.01", .step_size = step_size, .min_notional = "5"});
    REQUIRE(trading.has_value());
    return {.book_spec = *book, .trading_spec = *trading, .venue = md::market::spot};
}

/// Spot BTCUSDT: trading step 0.00001.
inline md::instrument btcusdt() {
    return spot_instrument("BTCUSDT", "0.00001");
}

/// Spot ETHUSDT: trading step 0.0001.
inline md::instrument ethusdt() {
    return spot_instrument("ETHUSDT", "0.0001");
}

/// A synced, valid book: one level a side, sizes in whole BTC (book lots of 1e-8).
inline md::md_event book(std::int64_t bid_ticks, std::int64_t ask_ticks, std::int64_t bid_btc = 1,
                         std::int64_t ask_btc = 1) {
    md::md_event e;
    e.kind = md::md_event_kind::book;
    e.state = md::feed_state::synced;
    e.flags = md::md_flags::book_valid;
    e.symbol = 0;
    e.bid_count = 1;
    e.ask_count = 1;
    e.top.bid = {core::price{bid_ticks}, core::qty{bid_btc * 100'000'000}};
    e.top.ask = {core::price{ask_ticks}, core::qty{ask_btc * 100'000'000}};
    return e;
}

/// The depth record of a book event holding its top alone; flags the event as having one. Add
/// levels below with with_level().
inline md::md_depth depth_of(md::md_event& e) {
    e.flags |= md::md_flags::has_depth;
    md::md_depth d;
    d.sequence = e.sequence;
    d.symbol = e.symbol;
    d.bid_count = e.bid_count;
    d.ask_count = e.ask_count;
    d.bids[0] = e.top.bid;
    d.asks[0] = e.top.ask;
    return d;
}

/// Appends a level to one side of a book event's depth record (and counts it in the event).
inline void with_level(md::md_event& e, md::md_depth& d, core::side side, core::book_level level) {
    if (side == core::side::buy) {
        d.bids[d.bid_count] = level;
        e.bid_count = ++d.bid_count;
    } else {
        d.asks[d.ask_count] = level;
        e.ask_count = ++d.ask_count;
    }
}

inline md::md_event trade(std::int64_t px_ticks, std::int64_t book_lots, core::side aggressor) {
    md::md_event e;
    e.kind = md::md_event_kind::trade;
    e.state = md::feed_state::synced;
    e.flags = md::md_flags::book_valid;
    e.symbol = 0;
    e.trade.px = core::price{px_ticks};
    e.trade.qty = core::qty{book_lots};
    e.trade.aggressor = aggressor;
    return e;
}

inline md::md_event state(md::feed_state s) {
    md::md_event e;
    e.kind = md::md_event_kind::state;
    e.state = s;
    e.symbol = 0;
    return e;
}

/// A journal of a test's own, "quoter-<name>-<pid>.jsonl" in the temp directory, without
/// fdatasync: the test drains it, stops it and reads the file, which goes with the object.
struct scratch_journal {
    explicit scratch_journal(const std::string& name)
        : path(std::filesystem::temp_directory_path() /
               ("quoter-" + name + "-" + std::to_string(::getpid()) + ".jsonl")) {
        std::filesystem::remove(path);
        ops::journal_config config;
        config.path = path.string();
        config.fdatasync_interval_ms = -1;
        auto opened = ops::journal::open(config);
        REQUIRE(opened.has_value());
        journal = std::move(*opened);
    }
    scratch_journal(const scratch_journal&) = delete;
    scratch_journal& operator=(const scratch_journal&) = delete;
    ~scratch_journal() {
        journal.reset();
        std::filesystem::remove(path);
    }

    std::filesystem::path path;
    std::unique_ptr<ops::journal> journal;
};

/// A venue gateway that replaces in one request. Records requests; reports only what the test
/// queues, on the next poll.
struct replacing_venue final : exec::order_gateway {
    void set_report_sink(exec::exec_report_sink* s) noexcept override { sink = s; }
    exec::gateway_error submit(const exec::order_request& request,
                               core::timestamp_ns /*now*/) noexcept override {
        submitted.push_back(request);
        return exec::gateway_error::none;
    }
    exec::gateway_error cancel(std::uint32_t /*symbol*/, exec::client_order_id id,
                               core::timestamp_ns /*now*/) noexcept override {
        cancelled.push_back(id);
        return exec::gateway_error::none;
    }
    exec::gateway_error cancel_all(std::uint32_t /*symbol*/,
                                   core::timestamp_ns /*now*/) noexcept override {
        return exec::gateway_error::none;
    }
    bool replaces_in_one_request() const noexcept override { return true; }
    exec::gateway_error replace(std::uint32_t /*symbol*/, exec::client_order_id old_id,
                                const exec::order_request& request,
                                core::timestamp_ns /*now*/) noexcept override {
        replaced.push_back(old_id);
        submitted.push_back(request);
        return exec::gateway_error::none;
    }
    std::size_t poll(core::timestamp_ns now) noexcept override {
        std::vector<exec::exec_report> due;
        due.swap(queued);
        for (exec::exec_report& report : due) {
            report.local_ts = now;
            sink->on_exec_report(report);
        }
        return due.size();
    }
    void answer(exec::client_order_id id, core::side side, exec::exec_kind kind) {
        exec::exec_report report;
        report.client_id = id;
        report.kind = kind;
        report.side = side;
        queued.push_back(report);
    }

    exec::exec_report_sink* sink = nullptr;
    std::vector<exec::order_request> submitted;
    std::vector<exec::client_order_id> cancelled;
    std::vector<exec::client_order_id> replaced;
    std::vector<exec::exec_report> queued;
};

} // namespace quoter::engine::testing
