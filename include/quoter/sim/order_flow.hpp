// order_flow: the synthetic market's order flow against the simulated exchange. Once per market
// step it reads the orders resting on the exchange (per quote level, re-read only when the
// exchange's resting set changed), lets the market decide which of them market orders hit
// during the step (intensity A * exp(-k * delta) from the mid, synthetic_market::sample_fills)
// and fills those on the exchange with hit_order(), so the fills reach the trading loop as
// execution reports after the exchange's report latency, as any venue fill would. A side hit
// in a step may have been an informed order (market_config::informed_share): then the mid moves
// against the filled quotes before the next step (adverse selection).
//
// Threading: one instance per path, on the path's thread. No allocation.
#pragma once

#include "quoter/core/quote_level.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/sim/synthetic_market.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace quoter::sim {

class order_flow {
public:
    /// symbol: the exchange's symbol index; levels: quote levels sampled (<= max_quote_levels).
    order_flow(std::uint32_t symbol, std::size_t levels) noexcept
        : symbol_(symbol), levels_(std::min(levels, exec::max_quote_levels)) {}

    /// One step of order flow at time now: samples hits on the resting orders and fills them.
    /// Returns the number of sides hit. Call after the loop reacted to the step's book.
    std::size_t step(synthetic_market& market, exec::sim_exchange& exchange,
                     core::timestamp_ns now) noexcept {
        if (exchange.resting_version() != seen_version_) {
            refresh(market, exchange);
        }
        ++steps_since_refresh_;
        if (!any_resting_) {
            return 0;
        }
        const std::size_t hit = market.sample_fills(
            {resting_.data(), levels_}, {prices_.data(), levels_}, {hits_.data(), levels_});
        if (hit == 0) {
            return 0;
        }
        bool bid_hit = false;
        bool ask_hit = false;
        for (std::size_t i = 0; i < levels_; ++i) {
            const auto level = static_cast<std::uint8_t>(i);
            if (hits_[i].bid_filled.lots() > 0) {
                (void)exchange.hit_order(symbol_, core::side::buy, level, hits_[i].bid_filled, now);
                bid_hit = true;
            }
            if (hits_[i].ask_filled.lots() > 0) {
                (void)exchange.hit_order(symbol_, core::side::sell, level, hits_[i].ask_filled,
                                         now);
                ask_hit = true;
            }
        }
        // One market order per side and step (sample_fills), so at most one informed move each.
        if (bid_hit) {
            (void)market.after_hit(core::side::buy);
        }
        if (ask_hit) {
            (void)market.after_hit(core::side::sell);
        }
        return hit;
    }

    /// Best resting bid and ask as of the last step (price 0: none).
    [[nodiscard]] core::price resting_bid() const noexcept { return resting_bid_; }
    [[nodiscard]] core::price resting_ask() const noexcept { return resting_ask_; }
    /// Steps whose order flow met a bid and an ask of ours, and the sum of their quoted spreads
    /// (best ask - best bid, ticks) at those draws: the average quoted spread of a run.
    [[nodiscard]] std::uint64_t two_sided_steps() const noexcept {
        return two_sided_steps_ + (two_sided() ? steps_since_refresh_ : 0);
    }
    [[nodiscard]] std::int64_t quoted_spread_ticks() const noexcept {
        return quoted_spread_ticks_ +
               (two_sided() ? quoted_spread() * static_cast<std::int64_t>(steps_since_refresh_)
                            : 0);
    }

private:
    [[nodiscard]] bool two_sided() const noexcept {
        return resting_bid_.ticks() > 0 && resting_ask_.ticks() > 0;
    }
    [[nodiscard]] std::int64_t quoted_spread() const noexcept {
        return resting_ask_.ticks() - resting_bid_.ticks();
    }

    void refresh(const synthetic_market& market, const exec::sim_exchange& exchange) noexcept {
        // The spread statistics of the steps since the last refresh, which all met the same
        // best bid and ask, are added up here rather than on every step.
        two_sided_steps_ = two_sided_steps();
        quoted_spread_ticks_ = quoted_spread_ticks();
        steps_since_refresh_ = 0;
        seen_version_ = exchange.resting_version();
        std::fill_n(resting_.begin(), levels_, core::quote_level{});
        resting_bid_ = core::price{0};
        resting_ask_ = core::price{0};
        any_resting_ = false;
        for (const core::side side : {core::side::buy, core::side::sell}) {
            bool best = true; // resting lists are best first
            exchange.for_each_open_order(symbol_, side, [&](const exec::sim_order& order) {
                if (best) {
                    (side == core::side::buy ? resting_bid_ : resting_ask_) = order.request.price;
                    best = false;
                }
                const std::size_t level = order.request.level;
                if (level >= levels_) {
                    return;
                }
                core::quote_level& q = resting_[level];
                if (side == core::side::buy) {
                    q.bid_price = order.request.price;
                    q.bid_size = order.leaves;
                } else {
                    q.ask_price = order.request.price;
                    q.ask_size = order.leaves;
                }
                any_resting_ = true;
            });
        }
        for (std::size_t level = 0; level < levels_; ++level) {
            prices_[level] = market.prices_of(resting_[level]);
        }
    }

    std::uint32_t symbol_;
    std::size_t levels_;
    std::uint64_t seen_version_ = std::numeric_limits<std::uint64_t>::max();
    std::array<core::quote_level, exec::max_quote_levels> resting_{};
    std::array<level_prices, exec::max_quote_levels> prices_{}; // prices_of(resting_[i])
    std::array<level_fill, exec::max_quote_levels> hits_{};
    core::price resting_bid_;
    core::price resting_ask_;
    bool any_resting_ = false;
    std::int64_t quoted_spread_ticks_ = 0;  // up to the last refresh
    std::uint64_t two_sided_steps_ = 0;     // up to the last refresh
    std::uint64_t steps_since_refresh_ = 0; // each met resting_bid_ and resting_ask_
};

} // namespace quoter::sim
