// synthetic_feed: the synthetic market as a market-data source. Each step moves the mid and, when
// the visible top of book changed (or a heartbeat is due), writes an md_event like the one a
// bookTicker or a capture produces: synced, valid, one level a side. The core loop cannot tell
// it from a replayed or live feed; the market's order flow reaches the simulated exchange beside
// it (sim::order_flow), so fills come back as execution reports.
//
// Invariants: events carry the market's simulated time in local_ns and exchange_ns; the level
// sizes are a deep nominal display size (the synthetic market only moves prices); a book event is
// written at least every heartbeat_ns so that a quiet market never looks stale to the risk
// engine.
//
// Threading: one instance per path, on the path's thread. No allocation after construction.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/sim/synthetic_market.hpp"

#include <cstdint>

namespace quoter::sim {

struct synthetic_feed_config {
    /// Simulated time per market step, ns (> 0).
    core::duration_ns step_ns = 100 * core::ns_per_ms;
    /// Longest simulated time between two book events, ns (> 0).
    core::duration_ns heartbeat_ns = core::ns_per_s;
    /// Displayed size of each visible level, lots of the symbol: deep enough that a marketable
    /// order (a flatten) fills whole against it, small enough that notional values of it fit.
    core::qty display_qty{1'000'000'000};
};

class synthetic_feed {
public:
    /// The market config must pass validate(). symbol is the md symbol id the events carry.
    synthetic_feed(const market_config& market, const core::symbol_spec& spec, md::symbol_id symbol,
                   std::uint64_t seed, const synthetic_feed_config& config = {}) noexcept
        : market_(market, spec, seed), config_(config) {
        event_.kind = md::md_event_kind::book;
        event_.state = md::feed_state::synced;
        event_.flags = md::md_flags::book_valid | md::md_flags::from_ticker;
        event_.symbol = symbol;
        event_.bid_count = 1;
        event_.ask_count = 1;
        event_.top.bid.qty = config_.display_qty;
        event_.top.ask.qty = config_.display_qty;
        set_top(market_.top());
        // Quotes resting at time 0 face the order flow of the first step.
        market_.set_step_size(config_.step_ns);
    }

    /// The book at time 0, before the first step.
    [[nodiscard]] md::md_event& first() noexcept {
        last_event_ns_ = 0;
        return event_;
    }

    /// Moves the market one step. Returns true when `event()` holds a new book event (the top
    /// changed, a heartbeat is due, or `always` asks for one every step).
    [[nodiscard]] bool step(bool always = false) noexcept {
        market_.step(config_.step_ns);
        const visible_top top = market_.top();
        const core::timestamp_ns now = market_.now_ns();
        if (!always && top.bid == event_.top.bid.px && top.ask == event_.top.ask.px &&
            now - last_event_ns_ < config_.heartbeat_ns) {
            return false;
        }
        set_top(top);
        last_event_ns_ = now;
        return true;
    }

    /// The latest book event (valid after first() or a step() that returned true).
    [[nodiscard]] const md::md_event& event() const noexcept { return event_; }
    /// The same, for a publisher that stamps its sequence number before handing it on.
    [[nodiscard]] md::md_event& event() noexcept { return event_; }
    [[nodiscard]] core::timestamp_ns now() const noexcept { return market_.now_ns(); }
    [[nodiscard]] synthetic_market& market() noexcept { return market_; }
    [[nodiscard]] const synthetic_market& market() const noexcept { return market_; }

private:
    // The level sizes never change (set once above).
    void set_top(visible_top top) noexcept {
        const core::timestamp_ns now = market_.now_ns();
        event_.top.bid.px = top.bid;
        event_.top.ask.px = top.ask;
        event_.local_ns = now;
        event_.exchange_ns = now;
        ++event_.update_id;
    }

    synthetic_market market_;
    synthetic_feed_config config_;
    md::md_event event_{};
    core::timestamp_ns last_event_ns_ = 0;
};

} // namespace quoter::sim
