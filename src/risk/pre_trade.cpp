#include "quoter/risk/pre_trade.hpp"

#include "quoter/core/notional.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

namespace quoter::risk {
namespace {

constexpr double bps_per_unit = 10'000.0;

[[nodiscard]] double pct_of(double equity, double pct) noexcept {
    return equity * pct / 100.0;
}

[[nodiscard]] core::duration_ns window_ns(std::int64_t ms) noexcept {
    return ms > 0 ? ms * core::ns_per_ms : core::ns_per_ms;
}

/// Exact notional units to the quote asset, for records only.
[[nodiscard]] double notional_to_quote(const core::symbol_spec& spec, std::int64_t units) noexcept {
    return static_cast<double>(units) /
           static_cast<double>(core::pow10(spec.price_decimals() + spec.qty_decimals()));
}

/// Where the rejections of a dry run (pre_trade_checker::rehearse) go: they describe no order.
struct discard_rejections final : rejection_sink {
    void on_rejection(const rejection_record& /*record*/) noexcept override {}
};
constinit discard_rejections dry_run_rejections;

} // namespace

pre_trade_checker::pre_trade_checker(const risk_limits& limits, rejection_sink& sink) noexcept
    : limits_(limits), sink_(&sink), ratio_cancels_(window_ns(limits.cancel_trade_window_ms)),
      ratio_fills_(window_ns(limits.cancel_trade_window_ms)) {}

reject_reason pre_trade_checker::reject(reject_reason reason, double limit_value,
                                        double actual_value, const order_request& order,
                                        core::timestamp_ns now) noexcept {
    ++rejections_[static_cast<std::size_t>(reason)];
    rejection_record record;
    record.time = now;
    record.limit_value = limit_value;
    record.actual_value = actual_value;
    record.client_order_id = order.client_order_id;
    record.price = order.price;
    record.qty = order.qty;
    record.symbol_id = order.symbol_id;
    record.reason = reason;
    record.side = order.side;
    record.post_only = order.post_only;
    record.reduce_only = order.reduce_only;
    record.intent = order.intent;
    sink_->on_rejection(record);
    return reason;
}

std::optional<core::qty> largest_order_qty(const core::symbol_spec& spec, const risk_limits& limits,
                                           core::price price, double equity) noexcept {
    std::optional<core::qty> cap;
    const auto tighten = [&](std::int64_t lots) {
        lots = std::max<std::int64_t>(lots, 0);
        cap = core::qty{cap ? std::min(cap->lots(), lots) : lots};
    };
    if (limits.max_order_qty_base > 0.0) {
        tighten(spec.round_qty_down(limits.max_order_qty_base).lots());
    }
    // The venue's own maximums: a flatten of a larger position goes in orders it takes.
    if (spec.max_qty().lots() > 0) {
        tighten(spec.max_qty().lots());
    }
    if (const std::int64_t lot_units = spec.notional_units(price, core::qty{1});
        spec.max_notional_units() > 0 && lot_units > 0) {
        tighten(spec.max_notional_units() / lot_units);
    }
    const double lot_notional = spec.to_double(price) * spec.step_size();
    if (limits.order_notional_pct > 0.0 && lot_notional > 0.0) {
        auto lots =
            static_cast<std::int64_t>(pct_of(equity, limits.order_notional_pct) / lot_notional);
        // The check compares in doubles too: step down until it passes, as it will.
        while (lots > 0 && exceeds_pct(static_cast<double>(lots) * lot_notional, equity,
                                       limits.order_notional_pct)) {
            --lots;
        }
        tighten(lots);
    }
    return cap;
}

reject_reason pre_trade_checker::check(const core::symbol_spec& spec, const order_request& order,
                                       const market_view& market, const account_view& account,
                                       core::timestamp_ns now) noexcept {
    const risk_limits& lim = limits_;
    const bool flatten = order.intent == order_intent::flatten;
    const bool reducing = reduces_position(order.side, order.qty, account);
    // What an order on this side could still close, net of the side's working orders (base asset,
    // for the records of refused reducing orders).
    const auto reducible_base = [&] {
        const std::int64_t position = account.position.lots();
        const std::int64_t working = order.side == core::side::buy ? account.open_buy_qty.lots()
                                                                   : account.open_sell_qty.lots();
        const std::int64_t closable = order.side == core::side::buy ? -position : position;
        return static_cast<double>(std::max<std::int64_t>(closable - working, 0)) *
               spec.step_size();
    };

    // Trading state. A kill still lets reducing flatten orders out when flatten_on_kill is set.
    if (gate_ != order_gate::open &&
        !(gate_ == order_gate::killed && flatten_on_kill_ && flatten && reducing)) {
        return reject(gate_ == order_gate::killed ? reject_reason::killed : reject_reason::paused,
                      0.0, 0.0, order, now);
    }
    if (flatten && !reducing) {
        return reject(reject_reason::flatten_not_reducing, reducible_base(),
                      spec.to_double(order.qty), order, now);
    }

    // Exchange filters.
    if (order.price.ticks() <= 0) {
        return reject(reject_reason::invalid_price, 1.0, static_cast<double>(order.price.ticks()),
                      order, now);
    }
    if (order.qty.lots() <= 0) {
        return reject(reject_reason::invalid_qty, 1.0, static_cast<double>(order.qty.lots()), order,
                      now);
    }
    const std::int64_t order_notional_units =
        core::exact_notional_units(spec, order.price, order.qty);
    if (order_notional_units < spec.min_notional_units() &&
        !(order.reduce_only && spec.reduce_only_waives_min_notional())) {
        return reject(reject_reason::below_min_notional,
                      notional_to_quote(spec, spec.min_notional_units()),
                      notional_to_quote(spec, order_notional_units), order, now);
    }
    if (spec.max_qty().lots() > 0 && order.qty.lots() > spec.max_qty().lots()) {
        return reject(reject_reason::venue_max_qty, spec.to_double(spec.max_qty()),
                      spec.to_double(order.qty), order, now);
    }
    if (spec.max_notional_units() > 0 && order_notional_units > spec.max_notional_units()) {
        return reject(reject_reason::venue_max_notional,
                      notional_to_quote(spec, spec.max_notional_units()),
                      notional_to_quote(spec, order_notional_units), order, now);
    }

    // Order size, in lots: 30000 lots of 0.00001 are 0.30000000000000004 as a double, which
    // would refuse an order of exactly max_order_qty_base = 0.3. Both size checks judge an order
    // in the arithmetic largest_order_qty sizes it with, so the largest order it allows passes.
    const double order_qty = spec.to_double(order.qty);
    if (lim.max_order_qty_base > 0.0 &&
        order.qty.lots() > spec.round_qty_down(lim.max_order_qty_base).lots()) {
        return reject(reject_reason::max_order_qty, lim.max_order_qty_base, order_qty, order, now);
    }
    const double order_notional =
        static_cast<double>(order.qty.lots()) * (spec.to_double(order.price) * spec.step_size());
    if (exceeds_pct(order_notional, account.equity, lim.order_notional_pct)) {
        return reject(reject_reason::max_order_notional,
                      pct_of(account.equity, lim.order_notional_pct), order_notional, order, now);
    }

    // Price band, in exact tick arithmetic scaled by 10^4 (bps).
    const std::int64_t bid = market.best_bid.ticks();
    const std::int64_t ask = market.best_ask.ticks();
    if (bid <= 0 || ask <= 0) {
        return reject(reject_reason::no_market, 0.0, 0.0, order, now);
    }
    const std::int64_t px = order.price.ticks();
    const double band = lim.price_band_bps;
    if (order.side == core::side::buy) {
        if (order.post_only && px >= ask) {
            return reject(reject_reason::post_only_would_cross, spec.to_double(market.best_ask),
                          spec.to_double(order.price), order, now);
        }
        const auto bid_d = static_cast<double>(bid);
        const auto ask_d = static_cast<double>(ask);
        if (static_cast<double>(bid - px) * bps_per_unit > band * bid_d) {
            return reject(reject_reason::price_band, band,
                          static_cast<double>(bid - px) * bps_per_unit / bid_d, order, now);
        }
        if (static_cast<double>(px - ask) * bps_per_unit > band * ask_d) {
            return reject(reject_reason::price_through_market, band,
                          static_cast<double>(px - ask) * bps_per_unit / ask_d, order, now);
        }
    } else {
        if (order.post_only && px <= bid) {
            return reject(reject_reason::post_only_would_cross, spec.to_double(market.best_bid),
                          spec.to_double(order.price), order, now);
        }
        const auto bid_d = static_cast<double>(bid);
        const auto ask_d = static_cast<double>(ask);
        if (static_cast<double>(px - ask) * bps_per_unit > band * ask_d) {
            return reject(reject_reason::price_band, band,
                          static_cast<double>(px - ask) * bps_per_unit / ask_d, order, now);
        }
        if (static_cast<double>(bid - px) * bps_per_unit > band * bid_d) {
            return reject(reject_reason::price_through_market, band,
                          static_cast<double>(bid - px) * bps_per_unit / bid_d, order, now);
        }
    }

    // Loss limits and modes. Flatten orders reduce risk and skip them.
    const double mid = static_cast<double>(bid + ask) * 0.5 * spec.tick_size();
    const double step_value = spec.step_size() * mid; // notional of one lot
    if (!flatten) {
        const exposure e = measure(spec, market, account);
        if (e.daily_loss_above(lim.daily_loss_pct)) {
            return reject(reject_reason::daily_loss, pct_of(e.loss_reference, lim.daily_loss_pct),
                          e.daily_loss, order, now);
        }
        if (e.drawdown_above(lim.drawdown_hard_pct)) {
            return reject(reject_reason::drawdown_hard, lim.drawdown_hard_pct, e.drawdown_pct(),
                          order, now);
        }
        if (e.inventory_above(lim.inventory_kill_pct)) {
            return reject(reject_reason::inventory_kill,
                          pct_of(account.equity, lim.inventory_kill_pct), e.position_notional,
                          order, now);
        }
        if (!reducing) {
            if (e.inventory_above(lim.inventory_flatten_pct)) {
                return reject(reject_reason::flatten_mode,
                              pct_of(account.equity, lim.inventory_flatten_pct),
                              e.position_notional, order, now);
            }
            if (e.drawdown_above(lim.drawdown_soft_pct)) {
                return reject(reject_reason::reduce_mode, lim.drawdown_soft_pct, e.drawdown_pct(),
                              order, now);
            }
        }
    }
    if (order.reduce_only && !reducing) {
        return reject(reject_reason::reduce_only_would_increase, reducible_base(), order_qty, order,
                      now);
    }

    // Position limits: the exposure if this order and every resting order on its side fill.
    if (!reducing) {
        const std::int64_t same_side_open = order.side == core::side::buy
                                                ? account.open_buy_qty.lots()
                                                : account.open_sell_qty.lots();
        const std::int64_t worst_net =
            account.position.lots() + core::sign(order.side) * (same_side_open + order.qty.lots());
        const double net_notional = static_cast<double>(std::llabs(worst_net)) * step_value;
        if (exceeds_pct(net_notional, account.equity, lim.symbol_net_notional_pct)) {
            return reject(reject_reason::symbol_net_notional,
                          pct_of(account.equity, lim.symbol_net_notional_pct), net_notional, order,
                          now);
        }
        const std::int64_t gross = std::llabs(account.position.lots()) +
                                   account.open_buy_qty.lots() + account.open_sell_qty.lots() +
                                   order.qty.lots();
        const double gross_notional = static_cast<double>(gross) * step_value;
        if (exceeds_pct(gross_notional, account.equity, lim.symbol_gross_notional_pct)) {
            return reject(reject_reason::symbol_gross_notional,
                          pct_of(account.equity, lim.symbol_gross_notional_pct), gross_notional,
                          order, now);
        }
        const double total = account.other_symbols_net_notional + net_notional;
        const double portfolio_equity =
            account.in_portfolio ? account.portfolio_equity : account.equity;
        if (exceeds_pct(total, portfolio_equity, lim.portfolio_net_notional_pct)) {
            return reject(reject_reason::portfolio_net_notional,
                          pct_of(portfolio_equity, lim.portfolio_net_notional_pct), total, order,
                          now);
        }
    }

    // Cancel/trade ratio block, then rate limits; counters move only once everything passed.
    if (lim.cancel_trade_ratio_block > 0.0) {
        const double ratio = cancel_trade_ratio(now);
        if (ratio > lim.cancel_trade_ratio_block) {
            return reject(reject_reason::cancel_trade_ratio, lim.cancel_trade_ratio_block, ratio,
                          order, now);
        }
    }
    order_rate_windows& counted = counted_orders();
    const std::uint64_t in_second = counted.per_s.count(now) + 1;
    if (lim.max_new_orders_per_s != 0 && in_second > lim.max_new_orders_per_s) {
        return reject(reject_reason::new_orders_per_s, lim.max_new_orders_per_s,
                      static_cast<double>(in_second), order, now);
    }
    const std::uint64_t in_minute = counted.per_min.count(now) + 1;
    if (lim.max_new_orders_per_min != 0 && in_minute > lim.max_new_orders_per_min) {
        return reject(reject_reason::new_orders_per_min, lim.max_new_orders_per_min,
                      static_cast<double>(in_minute), order, now);
    }
    const std::uint64_t in_day = counted.per_day.count(now) + 1;
    if (lim.max_orders_per_day != 0 && in_day > lim.max_orders_per_day) {
        return reject(reject_reason::orders_per_day, lim.max_orders_per_day,
                      static_cast<double>(in_day), order, now);
    }
    // The counts above moved the windows the limits read to now.
    counted.add_counted();
    if (shared_orders_ != nullptr) {
        orders_.add(now);
    }
    ++passed_;
    return reject_reason::none;
}

reject_reason pre_trade_checker::rehearse(const core::symbol_spec& spec, const order_request& order,
                                          const market_view& market, const account_view& account,
                                          core::timestamp_ns now,
                                          pre_trade_checker& scratch) const noexcept {
    scratch = *this;
    scratch.sink_ = &dry_run_rejections;
    if (shared_orders_ != nullptr) {
        // The rehearsal counts on a copy of what the limits read, never on the shared windows.
        scratch.orders_ = *shared_orders_;
        scratch.shared_orders_ = nullptr;
    }
    return scratch.check(spec, order, market, account, now);
}

bool pre_trade_checker::cancel_rate_exceeded(core::timestamp_ns now) noexcept {
    return cancel_rate_above(counted_orders().cancels_per_s.count(now));
}

void pre_trade_checker::note_cancels(core::timestamp_ns now, std::uint32_t count) noexcept {
    ratio_cancels_.add(now, count);
}

void pre_trade_checker::note_fill(core::timestamp_ns now) noexcept {
    ratio_fills_.add(now);
}

double pre_trade_checker::cancel_trade_ratio(core::timestamp_ns now) noexcept {
    const std::uint64_t cancels = ratio_cancels_.count(now);
    if (cancels < limits_.cancel_trade_min_cancels || cancels == 0) {
        return 0.0;
    }
    const std::uint64_t fills = ratio_fills_.count(now);
    return static_cast<double>(cancels) / static_cast<double>(fills > 0 ? fills : 1);
}

trading_mode pre_trade_checker::mode(const core::symbol_spec& spec, const market_view& market,
                                     const account_view& account) const noexcept {
    const exposure e = measure(spec, market, account);
    if (e.inventory_above(limits_.inventory_flatten_pct)) {
        return trading_mode::flatten;
    }
    if (e.drawdown_above(limits_.drawdown_soft_pct)) {
        return trading_mode::reduce;
    }
    return trading_mode::normal;
}

std::uint64_t pre_trade_checker::total_rejections() const noexcept {
    std::uint64_t total = 0;
    for (const auto n : rejections_) {
        total += n;
    }
    return total;
}

std::string_view to_string(rate_window window) noexcept {
    switch (window) {
    case rate_window::orders_per_s:
        return "orders_per_s";
    case rate_window::orders_per_min:
        return "orders_per_min";
    case rate_window::orders_per_day:
        return "orders_per_day";
    case rate_window::cancels_per_s:
        return "cancels_per_s";
    case rate_window::ratio_cancels:
        return "ratio_cancels";
    case rate_window::ratio_fills:
        return "ratio_fills";
    }
    return "unknown";
}

std::optional<rate_window> rate_window_from(std::string_view name) noexcept {
    for (std::size_t i = 0; i < rate_window_count; ++i) {
        const auto window = static_cast<rate_window>(i);
        if (to_string(window) == name) {
            return window;
        }
    }
    return std::nullopt;
}

std::uint32_t most_new_orders_within(const risk_limits& limits, core::duration_ns span) noexcept {
    const auto windows_in_span = [span](core::duration_ns window) {
        return static_cast<std::uint64_t>(std::max<core::duration_ns>(span, 0) / window) + 1;
    };
    std::uint64_t most = std::numeric_limits<std::uint32_t>::max();
    bool limited = false;
    for (const auto& [limit, window] :
         {std::pair{limits.max_new_orders_per_s, order_rate_windows::second},
          std::pair{limits.max_new_orders_per_min, order_rate_windows::minute},
          std::pair{limits.max_orders_per_day, order_rate_windows::day}}) {
        if (limit != 0) {
            limited = true;
            most = std::min(most, std::uint64_t{limit} * windows_in_span(window));
        }
    }
    return limited ? static_cast<std::uint32_t>(most) : 0;
}

core::timestamp_ns pre_trade_checker::new_orders_admitted_at() const noexcept {
    // check() lets an order through while each window, with it, stays within its limit: while
    // it counts at most limit - 1.
    core::timestamp_ns at = std::numeric_limits<core::timestamp_ns>::min();
    const auto room = [&](const auto& window, std::uint64_t limit) {
        if (limit != 0) {
            at = std::max(at, window.earliest_count_at_most(limit - 1));
        }
    };
    const order_rate_windows& counted = counted_orders();
    room(counted.per_s, limits_.max_new_orders_per_s);
    room(counted.per_min, limits_.max_new_orders_per_min);
    room(counted.per_day, limits_.max_orders_per_day);
    return at;
}

void pre_trade_checker::share_order_rates(order_rate_windows* shared) noexcept {
    if (shared == shared_orders_) {
        return;
    }
    if (shared != nullptr) {
        shared->absorb(orders_);
    }
    shared_orders_ = shared;
}

rate_memory pre_trade_checker::remembered_rates() const noexcept {
    rate_memory memory;
    const auto keep = [&](rate_window window, const auto& counter) {
        counter.for_each_bucket([&](core::timestamp_ns start, std::uint32_t events) {
            if (memory.count < memory.buckets.size()) {
                memory.buckets[memory.count++] = {start, events, window};
            }
        });
    };
    keep(rate_window::orders_per_s, orders_.per_s);
    keep(rate_window::orders_per_min, orders_.per_min);
    keep(rate_window::orders_per_day, orders_.per_day);
    keep(rate_window::cancels_per_s, orders_.cancels_per_s);
    keep(rate_window::ratio_cancels, ratio_cancels_);
    keep(rate_window::ratio_fills, ratio_fills_);
    return memory;
}

void pre_trade_checker::restore_rates(const rate_memory& memory) noexcept {
    order_rate_windows restored;
    const std::size_t count = std::min(memory.count, memory.buckets.size());
    for (std::size_t i = 0; i < count; ++i) {
        const rate_memory::bucket& b = memory.buckets[i];
        switch (b.window) {
        case rate_window::orders_per_s:
            restored.per_s.add(b.start, b.events);
            break;
        case rate_window::orders_per_min:
            restored.per_min.add(b.start, b.events);
            break;
        case rate_window::orders_per_day:
            restored.per_day.add(b.start, b.events);
            break;
        case rate_window::cancels_per_s:
            restored.cancels_per_s.add(b.start, b.events);
            break;
        case rate_window::ratio_cancels:
            ratio_cancels_.add(b.start, b.events);
            break;
        case rate_window::ratio_fills:
            ratio_fills_.add(b.start, b.events);
            break;
        }
    }
    orders_.absorb(restored);
    if (shared_orders_ != nullptr) {
        shared_orders_->absorb(restored);
    }
}

} // namespace quoter::risk
