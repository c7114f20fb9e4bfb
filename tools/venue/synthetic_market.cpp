// Synthetic market generator.
//
// Prices are integer ticks of 0.01, quantities integer lots of 0.001. Bids sit strictly below
// the mid tick and asks strictly above it, so the book is never crossed; when the mid moves,
// the level it moves onto is removed in the same diff.
#include "synthetic_market.hpp"

#include "quoter/core/decimal.hpp"
#include "quoter/core/time.hpp"

#include <array>
#include <chrono>
#include <map>

namespace quoter::venue {

namespace {

constexpr std::int64_t tick_e8 = 1'000'000; // 0.01
constexpr std::int64_t lot_e8 = 100'000;    // 0.001

std::string decimal_text(std::int64_t units, std::int64_t unit_e8) {
    std::array<char, 48> buffer{};
    return std::string(core::format_decimal(units * unit_e8, 8, buffer));
}

std::int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

synthetic_market::synthetic_market(net::io_loop& loop, market_state& market, market_sink& sink,
                                   synthetic_options options)
    : loop_(loop), market_(market), sink_(sink), options_(std::move(options)), timer_(loop),
      random_(options_.seed) {
    period_us_ = std::max<std::int64_t>(
        1'000, static_cast<std::int64_t>(1'000'000.0 / std::max(options_.updates_per_s, 0.01)));
    for (std::size_t i = 0; i < options_.symbols.size(); ++i) {
        const std::size_t index = market_.add_symbol(options_.symbols[i]);
        symbol_state& symbol = market_.at(index);
        symbol.tick_size = "0.01000000";
        symbol.step_size = "0.00100000";
        symbol.min_notional = "5.00000000";
        symbol.last_update_id = 1'000'000 * static_cast<std::int64_t>(i + 1);
        symbol.seeded = true;

        generator state;
        state.mid_ticks = 100'000 + 1'000 * static_cast<std::int64_t>(i);
        state.trade_id = 1'000 * static_cast<std::int64_t>(i + 1);
        std::uniform_int_distribution<std::int64_t> quantity(1, 1'000);
        for (std::size_t level = 1; level <= options_.depth_levels; ++level) {
            const auto distance = static_cast<std::int64_t>(level);
            symbol.book.bids.set(decimal_text(state.mid_ticks - distance, tick_e8),
                                 decimal_text(quantity(random_), lot_e8));
            symbol.book.asks.set(decimal_text(state.mid_ticks + distance, tick_e8),
                                 decimal_text(quantity(random_), lot_e8));
        }
        if (index >= generators_.size()) {
            generators_.resize(index + 1);
        }
        generators_[index] = state;
    }
}

void synthetic_market::start() {
    next_due_us_ = steady_us() + period_us_;
    timer_.start(std::chrono::milliseconds(period_us_ / 1'000), [this] { tick(); });
}

void synthetic_market::tick() {
    for (std::size_t index = 0; index < generators_.size(); ++index) {
        update_symbol(index);
    }
    // Fixed-rate schedule that does not drift with processing time.
    next_due_us_ += period_us_;
    const std::int64_t now = steady_us();
    if (next_due_us_ < now) {
        next_due_us_ = now;
    }
    timer_.start(std::chrono::milliseconds((next_due_us_ - now) / 1'000), [this] { tick(); });
}

void synthetic_market::update_symbol(std::size_t index) {
    symbol_state& symbol = market_.at(index);
    generator& state = generators_[index];
    std::uniform_int_distribution<std::int64_t> quantity(1, 1'000);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto depth = static_cast<std::int64_t>(options_.depth_levels);

    // ticks -> lots (0 removes); the maps keep each price once per diff.
    std::map<std::int64_t, std::int64_t> bid_changes;
    std::map<std::int64_t, std::int64_t> ask_changes;

    const double move = unit(random_);
    if (move < 0.15) {
        ++state.mid_ticks; // the old best ask becomes the mid: remove it, add a bid below mid
        ask_changes[state.mid_ticks] = 0;
        bid_changes[state.mid_ticks - 1] = quantity(random_);
        ask_changes[state.mid_ticks + depth] = quantity(random_);
        bid_changes[state.mid_ticks - depth - 1] = 0;
    } else if (move < 0.30) {
        --state.mid_ticks;
        bid_changes[state.mid_ticks] = 0;
        ask_changes[state.mid_ticks + 1] = quantity(random_);
        bid_changes[state.mid_ticks - depth] = quantity(random_);
        ask_changes[state.mid_ticks + depth + 1] = 0;
    }
    std::uniform_int_distribution<std::int64_t> distance(1, depth);
    const int updates = 1 + static_cast<int>(random_() % 3);
    for (int i = 0; i < updates; ++i) {
        const std::int64_t lots = unit(random_) < 0.1 ? 0 : quantity(random_);
        if (random_() % 2 == 0) {
            bid_changes[state.mid_ticks - distance(random_)] = lots;
        } else {
            ask_changes[state.mid_ticks + distance(random_)] = lots;
        }
    }

    level_list bid_updates;
    level_list ask_updates;
    for (auto it = bid_changes.rbegin(); it != bid_changes.rend(); ++it) {
        bid_updates.emplace_back(decimal_text(it->first, tick_e8),
                                 decimal_text(it->second, lot_e8));
    }
    for (const auto& [ticks, lots] : ask_changes) {
        ask_updates.emplace_back(decimal_text(ticks, tick_e8), decimal_text(lots, lot_e8));
    }
    symbol.book.apply(bid_updates, ask_updates);

    // USD-M futures ids are not contiguous across diffs (Binance's own example has pu 149,
    // U 157): only "pu" chains them, which this skip makes a client rely on.
    const std::int64_t skipped =
        market_.futures ? static_cast<std::int64_t>(random_() % 3) : std::int64_t{0};
    const std::int64_t first_id = symbol.last_update_id + 1 + skipped;
    const std::int64_t last_id = first_id + static_cast<std::int64_t>(random_() % 3);
    const std::int64_t previous_u = symbol.last_update_id;
    symbol.last_update_id = last_id;

    const std::int64_t now_ns = wall_ns();
    const std::int64_t now_ms = now_ns / core::ns_per_ms;
    const std::string stamp = options_.stamp ? ",\"vts\":" + std::to_string(now_ns) : "";

    const auto send_depth = [&] {
        if (!market_.take_depth_send_permission(index)) {
            return;
        }
        std::string& out = scratch_;
        out = "{\"e\":\"depthUpdate\",\"E\":" + std::to_string(now_ms);
        if (market_.futures) {
            out += ",\"T\":" + std::to_string(now_ms);
        }
        out += ",\"s\":\"" + symbol.name + "\",\"U\":" + std::to_string(first_id) +
               ",\"u\":" + std::to_string(last_id);
        if (market_.futures) {
            out += ",\"pu\":" + std::to_string(previous_u);
        }
        out += ",\"b\":";
        append_levels(out, bid_updates);
        out += ",\"a\":";
        append_levels(out, ask_updates);
        out += stamp + "}";
        sink_.publish(index, channel::depth, out);
    };

    const level_list best_bid = symbol.book.bids.best(1, true);
    const level_list best_ask = symbol.book.asks.best(1, false);
    const bool has_top = !best_bid.empty() && !best_ask.empty();
    const auto send_ticker = [&] {
        if (!has_top) {
            return;
        }
        std::string& out = scratch_;
        out = market_.futures ? "{\"e\":\"bookTicker\",\"u\":" : "{\"u\":";
        out += std::to_string(last_id) + ",\"s\":\"" + symbol.name + "\",\"b\":\"" +
               best_bid[0].first + "\",\"B\":\"" + best_bid[0].second + "\",\"a\":\"" +
               best_ask[0].first + "\",\"A\":\"" + best_ask[0].second + "\"";
        if (market_.futures) {
            out += ",\"T\":" + std::to_string(now_ms) + ",\"E\":" + std::to_string(now_ms);
        }
        out += stamp + "}";
        sink_.publish(index, channel::book_ticker, out);
    };

    // Futures: the real-time bookTicker overtakes the batched (@100ms) depth diff carrying the
    // same update, so a client sees tickers newer than its book, as on Binance.
    if (market_.futures) {
        send_ticker();
        send_depth();
    } else {
        send_depth();
        send_ticker();
    }
    if (!has_top) {
        return;
    }

    if (unit(random_) < options_.trade_probability) {
        const bool buyer_is_maker = random_() % 2 == 0; // a sell hits the bid
        const auto& level = buyer_is_maker ? best_bid[0] : best_ask[0];
        const std::string size =
            decimal_text(1 + static_cast<std::int64_t>(random_() % 50), lot_e8);
        const std::int64_t id = ++state.trade_id;
        const std::string maker = buyer_is_maker ? "true" : "false";
        std::string& out = scratch_;
        out = "{\"e\":\"trade\",\"E\":" + std::to_string(now_ms) + ",\"s\":\"" + symbol.name +
              "\",\"t\":" + std::to_string(id) + ",\"p\":\"" + level.first + "\",\"q\":\"" + size +
              "\",\"T\":" + std::to_string(now_ms) + ",\"m\":" + maker + ",\"M\":true" + stamp +
              "}";
        sink_.publish(index, channel::trade, out);
        out = "{\"e\":\"aggTrade\",\"E\":" + std::to_string(now_ms) + ",\"s\":\"" + symbol.name +
              "\",\"a\":" + std::to_string(id) + ",\"p\":\"" + level.first + "\",\"q\":\"" + size +
              "\",\"f\":" + std::to_string(id) + ",\"l\":" + std::to_string(id) +
              ",\"T\":" + std::to_string(now_ms) + ",\"m\":" + maker + stamp + "}";
        sink_.publish(index, channel::agg_trade, out);
    }
}

} // namespace quoter::venue
