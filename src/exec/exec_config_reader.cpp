// Reading [sim_exchange] and [quotes]. Every key is declared once, with the struct's own
// default; docs/config.md lists them (the app tests compare). Declaration order is the order
// `quoter config check` lists the keys in.
#include "quoter/exec/exec_config_reader.hpp"

#include "quoter/config/config.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <string_view>

namespace quoter::exec {
namespace {

constexpr std::array<config::choice_option<latency_distribution>, 3> latency_shapes{{
    {"constant", latency_distribution::constant},
    {"uniform", latency_distribution::uniform},
    {"exponential", latency_distribution::exponential},
}};
constexpr std::array<config::choice_option<cross_fill_rule>, 3> cross_fill_rules{{
    {"on_touch", cross_fill_rule::on_touch},
    {"on_through", cross_fill_rule::on_through},
    {"never", cross_fill_rule::never},
}};

} // namespace

void read_sim_exchange_config(config::section s, sim_exchange_config& out) {
    out.maker_fee_bps = s.number("maker_fee_bps", out.maker_fee_bps, {.min = -100, .max = 1000},
                                 "Fee on resting (maker) fills, bps of notional; negative: rebate");
    out.taker_fee_bps = s.number("taker_fee_bps", out.taker_fee_bps, {.min = -100, .max = 1000},
                                 "Fee on crossing (taker) fills, bps of notional");
    const auto shape =
        s.choice("latency_distribution", out.order_entry_latency.distribution, latency_shapes,
                 "Latency jitter: constant (none), uniform (U[0, jitter]) or exponential (mean "
                 "jitter)");
    const auto read_latency = [&](std::string_view name, latency_config& latency,
                                  std::string_view what) {
        latency.distribution = shape;
        latency.fixed_ns =
            core::ns_per_us * s.integer<std::int64_t>(fmt::format("{}_latency_us", name),
                                                      latency.fixed_ns / core::ns_per_us,
                                                      {.min = 0, .max = 60'000'000},
                                                      fmt::format("Fixed delay of {}", what));
        latency.jitter_ns =
            core::ns_per_us * s.integer<std::int64_t>(fmt::format("{}_jitter_us", name),
                                                      latency.jitter_ns / core::ns_per_us,
                                                      {.min = 0, .max = 60'000'000},
                                                      fmt::format("Jitter of {} (see "
                                                                  "latency_distribution)",
                                                                  what));
    };
    read_latency("order_entry", out.order_entry_latency, "new orders, client to exchange");
    read_latency("cancel", out.cancel_latency, "cancels, client to exchange");
    read_latency("market_data", out.market_data_latency,
                 "reports and market data, exchange to "
                 "client");
    out.fifo_requests = s.boolean("fifo_requests", out.fifo_requests,
                                  "Requests arrive in the order sent (one connection); false: a "
                                  "cancel may overtake its order");
    out.cross_fill = s.choice("cross_fill", out.cross_fill, cross_fill_rules,
                              "When the opposite best price fills a resting order: on_touch, "
                              "on_through or never");
    out.match_book = s.boolean("match_book", out.match_book,
                               "An arriving order reaching the visible opposite best is "
                               "marketable (post-only rejected, else it takes); false: the "
                               "visible book never trades with it");
    out.max_open_orders =
        s.integer("max_open_orders", out.max_open_orders, {.min = 1, .max = 65536},
                  "Open orders the exchange accepts; more are rejected");
}

std::uint32_t read_quote_manager_config(config::section s, quote_manager_config& out) {
    const auto levels = s.integer<std::uint32_t>(
        "levels", 0, {.min = 0, .max = static_cast<std::int64_t>(max_quote_levels)},
        "Quote levels per side the manager keeps; 0: strategy.levels.count");
    out.refresh_tolerance_bps =
        s.number("refresh_tolerance_bps", out.refresh_tolerance_bps, {.min = 0, .max = 10000},
                 "Keep a working order while the desired price stays within this distance of "
                 "its price (and its size and age within their limits)");
    out.size_tolerance_pct =
        s.number("size_tolerance_pct", out.size_tolerance_pct, {.min = 0, .max = 1000},
                 "Keep a working order while the desired size stays within this share of its size");
    out.max_order_age_ms =
        s.duration_ms("max_order_age_ms", std::chrono::milliseconds(out.max_order_age_ms),
                      {.min = 0, .max = 86'400'000},
                      "Replace a working order once it is this old; 0: no age limit")
            .count();
    out.refresh_ms = s.duration_ms("refresh_ms", std::chrono::milliseconds(out.refresh_ms),
                                   {.min = 0, .max = 3'600'000},
                                   "Minimum time between two orders sent for one side and level")
                         .count();
    out.post_only = s.boolean("post_only", out.post_only,
                              "Send post-only orders (rejected rather than taking liquidity)");
    out.cancel_retry_ms =
        s.duration_ms("cancel_retry_ms", std::chrono::milliseconds(out.cancel_retry_ms),
                      {.min = 1, .max = 60'000},
                      "Minimum time between two cancel attempts of one order, and how long a "
                      "cancel may go unanswered before it is sent again")
            .count();
    out.max_cancel_attempts = s.integer<std::uint32_t>(
        "max_cancel_attempts", out.max_cancel_attempts, {.min = 1, .max = 10'000},
        "Cancel attempts per order before a critical cancel_gave_up alert; the manager then gives "
        "up on it, except after a kill, which goes on cancelling every 8 x cancel_retry_ms");
    return levels;
}

} // namespace quoter::exec
