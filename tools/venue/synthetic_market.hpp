// Synthetic market: a random-walk book per symbol that publishes, at a fixed rate, a depth diff
// (spot: a gap-free U/u chain, U == previous u + 1; futures: "pu" == previous u, with U skipping
// ids past it as Binance's futures ids do), a bookTicker consistent with the book (futures:
// sent before the diff, as the real-time ticker overtakes the batched depth stream), and from
// time to time a trade and aggTrade at the touch. Deterministic for a seed.
#pragma once

#include "market.hpp"

#include "quoter/net/io_loop.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace quoter::venue {

struct synthetic_options {
    std::vector<std::string> symbols; ///< Upper-case names.
    double updates_per_s = 10.0;      ///< Depth diffs per symbol per second.
    double trade_probability = 0.3;   ///< Chance of a trade per update.
    std::size_t depth_levels = 20;    ///< Levels kept per side.
    std::uint64_t seed = 1;
    /// Adds "vts": wall-clock ns at generation to every message, for latency measurements.
    bool stamp = false;
};

class synthetic_market {
public:
    synthetic_market(net::io_loop& loop, market_state& market, market_sink& sink,
                     synthetic_options options);
    void start();

private:
    struct generator {
        std::int64_t mid_ticks = 0;
        std::int64_t trade_id = 0;
    };

    void tick();
    void update_symbol(std::size_t index);

    net::io_loop& loop_;
    market_state& market_;
    market_sink& sink_;
    synthetic_options options_;
    net::timer timer_;
    std::mt19937_64 random_;
    std::vector<generator> generators_;
    std::int64_t period_us_ = 100'000;
    std::int64_t next_due_us_ = 0;
    std::string scratch_;
};

} // namespace quoter::venue
