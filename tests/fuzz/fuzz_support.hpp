// Shared pieces of the libFuzzer targets: the instruments the market-data targets decode, the
// strict-JSON oracle, and the checks every target applies beyond "no crash".
//
// A property that fails calls fuzz::violation(), which prints what was broken and aborts: libFuzzer
// then saves the input as a crash file, and tools/test fails. Nothing here is on a hot path; the
// targets allocate freely.
#pragma once

#include "quoter/md/book_sync.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/md/order_book.hpp"
#include "quoter/md/publisher.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::fuzz {

/// Reports a broken property and aborts, so that libFuzzer keeps the input that broke it.
[[noreturn]] inline void violation(std::string_view what, std::string_view input) {
    constexpr std::size_t shown = 400;
    std::fprintf(stderr, "\nPROPERTY VIOLATED: %.*s\ninput (%zu bytes): %.*s%s\n",
                 static_cast<int>(what.size()), what.data(), input.size(),
                 static_cast<int>(std::min(input.size(), shown)), input.data(),
                 input.size() > shown ? " ..." : "");
    std::abort();
}

inline void expect(bool holds, std::string_view what, std::string_view input) {
    if (!holds) {
        violation(what, input);
    }
}

/// The strictness oracle: simdjson's DOM parser, which validates the whole document (structure,
/// literals, numbers, string escapes, UTF-8) and rejects anything after it.
class strict_json {
public:
    [[nodiscard]] bool accepts(std::string_view text) {
        const simdjson::padded_string padded(text);
        return parser_.parse(padded).error() == simdjson::SUCCESS;
    }

private:
    simdjson::dom::parser parser_;
};

/// Instruments on one Binance market, named as Binance sends them: BTCUSDT (spot tick 0.01,
/// futures tick 0.10) and ETHUSDT (tick 0.01), both with book quantities in 1e-8 lots.
inline md::symbol_registry make_registry(md::market venue) {
    md::symbol_registry registry;
    const auto add = [&](std::string_view name, std::string_view tick, std::string_view step) {
        const auto book = md::make_book_spec(name, tick, 8);
        const auto trading = core::symbol_spec::from_text(
            {.name = name, .tick_size = tick, .step_size = step, .min_notional = "5"});
        if (!book || !trading ||
            registry.add({.book_spec = *book, .trading_spec = *trading, .venue = venue}) ==
                md::invalid_symbol) {
            std::fprintf(stderr, "fuzz: cannot build the instrument %.*s\n",
                         static_cast<int>(name.size()), name.data());
            std::abort();
        }
    };
    const bool spot = venue == md::market::spot;
    add("BTCUSDT", spot ? "0.01" : "0.10", spot ? "0.00001" : "0.001");
    add("ETHUSDT", "0.01", spot ? "0.0001" : "0.001");
    return registry;
}

/// Small books and buffers, so that building a feed per input stays cheap; large enough that
/// every seed fits.
inline md::book_sync_config small_sync_config() {
    md::book_sync_config config;
    config.max_levels_per_side = 256;
    config.window_ticks = md::order_book::min_window_ticks;
    config.max_buffered_diffs = 16;
    config.max_buffered_levels = 1024;
    return config;
}

/// Everything observable about one symbol's synchronisation: what a message that is not valid
/// JSON must leave exactly as it was.
struct sync_view {
    md::feed_state state = md::feed_state::connecting;
    bool valid = false;
    bool snapshot_wanted = false;
    std::uint64_t update_id = 0;
    std::uint64_t last_diff_update_id = 0;
    core::timestamp_ns exchange_ns = 0;
    core::timestamp_ns snapshot_not_before = 0;
    std::size_t buffered_diffs = 0;
    std::vector<core::book_level> bids;
    std::vector<core::book_level> asks;
    md::book_sync_stats stats;

    friend bool operator==(const sync_view& a, const sync_view& b) {
        const auto& x = a.stats;
        const auto& y = b.stats;
        const bool same_stats =
            x.diffs_applied == y.diffs_applied && x.diffs_buffered == y.diffs_buffered &&
            x.diffs_dropped_by_snapshot == y.diffs_dropped_by_snapshot &&
            x.diffs_dropped_overflow == y.diffs_dropped_overflow &&
            x.diffs_duplicate == y.diffs_duplicate && x.gaps == y.gaps && x.resyncs == y.resyncs &&
            x.snapshots_applied == y.snapshots_applied &&
            x.snapshots_too_old == y.snapshots_too_old &&
            x.snapshots_ignored == y.snapshots_ignored &&
            x.snapshot_failures == y.snapshot_failures && x.tickers_applied == y.tickers_applied &&
            x.tickers_stale == y.tickers_stale && x.crossed_updates == y.crossed_updates &&
            x.stale_transitions == y.stale_transitions;
        return same_stats && a.state == b.state && a.valid == b.valid &&
               a.snapshot_wanted == b.snapshot_wanted && a.update_id == b.update_id &&
               a.last_diff_update_id == b.last_diff_update_id && a.exchange_ns == b.exchange_ns &&
               a.snapshot_not_before == b.snapshot_not_before &&
               a.buffered_diffs == b.buffered_diffs && a.bids == b.bids && a.asks == b.asks;
    }
};

inline std::vector<core::book_level> levels_of(const md::order_book& book, core::side s) {
    std::vector<core::book_level> levels(book.depth(s));
    levels.resize(book.top(s, levels));
    return levels;
}

inline sync_view view_of(const md::book_sync& sync) {
    sync_view view;
    view.state = sync.state();
    view.valid = sync.book_valid();
    view.snapshot_wanted = sync.snapshot_wanted();
    view.update_id = sync.update_id();
    view.last_diff_update_id = sync.last_diff_update_id();
    view.exchange_ns = sync.exchange_ns();
    view.snapshot_not_before = sync.snapshot_not_before();
    view.buffered_diffs = sync.buffered_diffs();
    view.bids = levels_of(sync.book(), core::side::buy);
    view.asks = levels_of(sync.book(), core::side::sell);
    view.stats = sync.stats();
    return view;
}

/// The order book's documented invariants, read through its public interface: levels best first
/// with strictly monotone prices and positive quantities, depth within capacity, best() and
/// qty_at() agreeing with the walk, crossed() meaning what it says; and book_valid() only for a
/// synced, uncrossed book.
inline void check_sync(const md::book_sync& sync, std::string_view input) {
    const md::order_book& book = sync.book();
    for (const core::side s : {core::side::buy, core::side::sell}) {
        const std::vector<core::book_level> levels = levels_of(book, s);
        expect(levels.size() == book.depth(s), "top() copies depth() levels", input);
        expect(book.depth(s) <= book.capacity(), "a side stays within its capacity", input);
        expect(book.window_depth(s) <= book.depth(s), "window levels are part of the side", input);
        for (std::size_t i = 0; i < levels.size(); ++i) {
            expect(levels[i].qty.lots() > 0, "every stored quantity is positive", input);
            expect(book.qty_at(s, levels[i].px) == levels[i].qty, "qty_at() agrees with top()",
                   input);
            if (i > 0) {
                const bool better = s == core::side::buy ? levels[i - 1].px > levels[i].px
                                                         : levels[i - 1].px < levels[i].px;
                expect(better, "levels are best first with distinct prices", input);
            }
        }
        expect(book.best(s) == (levels.empty() ? core::book_level{} : levels.front()),
               "best() is the first level", input);
    }
    const bool crossed = !book.empty(core::side::buy) && !book.empty(core::side::sell) &&
                         book.best_bid().px >= book.best_ask().px;
    expect(book.crossed() == crossed, "crossed() is best bid >= best ask", input);
    expect(sync.book_valid() == (sync.state() == md::feed_state::synced && !crossed),
           "book_valid() is exactly synced and not crossed", input);
}

/// Records published events (asking for depth) and checks md_event's and md_depth's invariants
/// on each: consecutive sequence numbers, counts within top_levels, a depth record exactly with
/// the events of a valid book, carrying the event's sequence, counts and top, levels best first
/// with positive quantities, the unused levels zero, `book_valid` only for a synced and
/// uncrossed top.
class checking_sink final : public md::md_event_sink {
public:
    checking_sink() noexcept { want_depth(true); }

    void on_event(const md::md_event& event) noexcept override {
        expect(!event.has_depth() && !event.book_valid(),
               "events of a valid book come with their depth record", input_);
        check(event, md::md_depth{});
    }
    void on_event_depth(const md::md_event& event, const md::md_depth& depth) noexcept override {
        expect(event.has_depth() && event.book_valid() && event.kind != md::md_event_kind::trade,
               "only events of a valid book come with a depth record", input_);
        expect(depth.sequence == event.sequence && depth.symbol == event.symbol &&
                   depth.bid_count == event.bid_count && depth.ask_count == event.ask_count,
               "the depth record carries its event's sequence, symbol and counts", input_);
        expect(event.best_bid() == (depth.bid_count == 0 ? core::book_level{} : depth.bids[0]) &&
                   event.best_ask() == (depth.ask_count == 0 ? core::book_level{} : depth.asks[0]),
               "the event's top is the depth record's first level", input_);
        check(event, depth);
    }

private:
    void check(const md::md_event& event, const md::md_depth& depth) noexcept {
        const std::string_view input = input_;
        expect(!any_ || event.sequence == last_sequence_ + 1, "event sequence numbers step by 1",
               input);
        any_ = true;
        last_sequence_ = event.sequence;
        ++events_;
        if (event.kind != md::md_event_kind::trade && event.symbol < last_book_.size()) {
            last_book_[event.symbol] = event;
            last_depth_[event.symbol] = depth;
            published_[event.symbol] = true;
        }
        expect(event.bid_count <= md::md_top_levels && event.ask_count <= md::md_top_levels,
               "event level counts within top_levels", input);
        check_side(depth.bids, depth.bid_count, core::side::buy, input);
        check_side(depth.asks, depth.ask_count, core::side::sell, input);
        if (event.book_valid()) {
            expect(event.state == md::feed_state::synced, "book_valid only when synced", input);
            expect(event.bid_count == 0 || event.ask_count == 0 ||
                       event.top.bid.px < event.top.ask.px,
                   "book_valid only when not crossed", input);
        }
        if (event.kind == md::md_event_kind::state) {
            expect(event.book_valid() || (event.bid_count == 0 && event.ask_count == 0),
                   "a state event without a valid book carries no levels", input);
        }
        if (event.kind != md::md_event_kind::trade) {
            expect(event.book_valid() || (event.bid_count == 0 && event.ask_count == 0),
                   "levels are copied only from a valid book", input);
        }
    }

public:
    /// The input the next events belong to, for the report of a violation; forgets which
    /// books the previous input published.
    void set_input(std::string_view input) noexcept {
        input_ = input;
        published_.fill(false);
    }
    [[nodiscard]] std::uint64_t events() const noexcept { return events_; }

    /// For each symbol whose book or state the current input published: the last such event
    /// carries exactly the book's current top levels when the book is valid (the publisher
    /// reuses levels between events, and a reused level must never be out of date).
    void check_tops(const md::feed_handler& feed) const {
        for (std::size_t symbol = 0; symbol < feed.symbols(); ++symbol) {
            if (symbol >= published_.size() || !published_[symbol]) {
                continue;
            }
            const md::md_event& event = last_book_[symbol];
            const md::md_depth& depth = last_depth_[symbol];
            const md::book_sync& sync = feed.sync(static_cast<md::symbol_id>(symbol));
            expect(event.book_valid() == sync.book_valid(),
                   "the last event has the book's validity", input_);
            expect(event.update_id == sync.update_id(), "the last event has the book's update id",
                   input_);
            if (!event.book_valid()) {
                continue;
            }
            std::array<core::book_level, md::md_top_levels> bids{};
            std::array<core::book_level, md::md_top_levels> asks{};
            const std::size_t bid_count = sync.book().top(core::side::buy, bids);
            const std::size_t ask_count = sync.book().top(core::side::sell, asks);
            expect(event.bid_count == bid_count && event.ask_count == ask_count &&
                       depth.bids == bids && depth.asks == asks,
                   "the last event's depth record carries the book's current top levels", input_);
        }
    }

private:
    static void check_side(const std::array<core::book_level, md::md_top_levels>& levels,
                           std::size_t count, core::side s, std::string_view input) {
        for (std::size_t i = 0; i < md::md_top_levels; ++i) {
            if (i >= count) {
                expect(levels[i] == core::book_level{}, "unused event levels are zero", input);
                continue;
            }
            expect(levels[i].qty.lots() > 0, "event quantities are positive", input);
            if (i > 0) {
                const bool better = s == core::side::buy ? levels[i - 1].px > levels[i].px
                                                         : levels[i - 1].px < levels[i].px;
                expect(better, "event levels are best first", input);
            }
        }
    }

    static constexpr std::size_t max_symbols = 4;

    std::string_view input_;
    std::array<md::md_event, max_symbols> last_book_{};
    std::array<md::md_depth, max_symbols> last_depth_{};
    std::array<bool, max_symbols> published_{};
    std::uint64_t events_ = 0;
    std::uint64_t last_sequence_ = 0;
    bool any_ = false;
};

} // namespace quoter::fuzz
