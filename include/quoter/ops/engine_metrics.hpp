// engine_metrics and symbol_metrics: the engine's standard metric set, registered once in a
// metrics_registry (the session's series, then one set per traded symbol) and updated by the
// core thread through plain references (no lookup, no allocation, no lock).
//
// The names are the contract with docs/operations.md, the alert rules and
// docs/grafana-dashboard.json; a test checks that everything those use is exported.
// Thread ownership: every member is written by the core thread only; the registry's exposition
// is read by the HTTP thread.
#pragma once

#include "quoter/exec/order_types.hpp"
#include "quoter/ops/metrics.hpp"
#include "quoter/risk/reasons.hpp"

#include <array>
#include <cstddef>
#include <string_view>

namespace quoter::ops {

/// Venue reject reasons (exec::reject_reason) that label quoter_order_rejects_total.
inline constexpr std::size_t exec_reject_reason_count =
    static_cast<std::size_t>(exec::reject_reason::venue_refused) + 1;

/// Stable snake_case label value of a venue reject reason ("post_only_would_cross").
[[nodiscard]] std::string_view label_of(exec::reject_reason reason) noexcept;

/// The session's series: its market data, its venue and its latencies, for every symbol it
/// trades together.
struct engine_metrics {
    /// Registers every metric in registry, which must outlive this object.
    explicit engine_metrics(metrics_registry& registry);

    // Market data.
    counter_metric& md_messages;   ///< quoter_md_messages_total
    counter_metric& md_gaps;       ///< quoter_md_gaps_total
    counter_metric& md_resyncs;    ///< quoter_md_resyncs_total
    gauge_metric& last_md_seconds; ///< quoter_md_last_update_timestamp_seconds (wall clock)
    // The venue.
    gauge_metric& working_orders;    ///< quoter_working_orders
    gauge_metric& gateway_connected; ///< quoter_gateway_connected
    std::array<counter_metric*, exec_reject_reason_count> order_rejects{}; ///< by reason
    counter_metric& api_errors; ///< quoter_api_errors_total
    // Latency.
    histogram_metric& tick_to_order;    ///< quoter_tick_to_order_seconds
    histogram_metric& kernel_to_read;   ///< quoter_kernel_to_read_seconds
    histogram_metric& order_round_trip; ///< quoter_order_round_trip_seconds

    void count_reject(exec::reject_reason reason) noexcept {
        const auto i = static_cast<std::size_t>(reason);
        if (i < order_rejects.size()) {
            order_rejects[i]->add();
        }
    }
};

/// One traded symbol's series, labelled symbol="BTCUSDT": what its trading loop counts and
/// holds. A session of several symbols registers one set per symbol; sum() over the label gives
/// the session's totals (the PnL in the quote asset they share).
struct symbol_metrics {
    /// Registers the symbol's series in registry, which must outlive this object.
    symbol_metrics(metrics_registry& registry, std::string_view symbol);

    gauge_metric& book_synced;       ///< quoter_book_synced (1 synced, 0 not)
    counter_metric& orders_sent;     ///< quoter_orders_sent_total
    counter_metric& cancels_sent;    ///< quoter_cancels_sent_total
    counter_metric& fills;           ///< quoter_fills_total
    gauge_metric& last_fill_seconds; ///< quoter_last_fill_timestamp_seconds (wall clock)
    std::array<counter_metric*, risk::reject_reason_count> risk_refusals{}; ///< by reason
    /// quoter_quote_rate_holds_total: new orders held after an order-rate refusal.
    counter_metric& quote_rate_holds;
    /// quoter_quote_rate_held_seconds_total: time they were held, counted in ns.
    counter_metric& quote_rate_held;
    // Position and PnL (quote asset, base asset).
    gauge_metric& pnl_total;    ///< quoter_pnl_quote
    gauge_metric& pnl_realized; ///< quoter_pnl_realized_quote
    gauge_metric& inventory;    ///< quoter_inventory_base
    // Risk state.
    gauge_metric& kill_engaged; ///< quoter_kill_engaged (1 while the kill switch is latched)
    gauge_metric& paused;       ///< quoter_paused
    counter_metric& kills;      ///< quoter_kills_total

    void count_refusal(risk::reject_reason reason) noexcept {
        const auto i = static_cast<std::size_t>(reason);
        if (i < risk_refusals.size()) {
            risk_refusals[i]->add();
        }
    }
};

} // namespace quoter::ops
