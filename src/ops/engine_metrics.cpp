// The engine's metric names, help texts and reason labels.
#include "quoter/ops/engine_metrics.hpp"

#include <string>
#include <vector>

namespace quoter::ops {

std::string_view label_of(exec::reject_reason reason) noexcept {
    switch (reason) {
    case exec::reject_reason::none:
        return "none";
    case exec::reject_reason::post_only_would_cross:
        return "post_only_would_cross";
    case exec::reject_reason::invalid_client_id:
        return "invalid_client_id";
    case exec::reject_reason::duplicate_client_id:
        return "duplicate_client_id";
    case exec::reject_reason::too_many_open_orders:
        return "too_many_open_orders";
    case exec::reject_reason::invalid_price:
        return "invalid_price";
    case exec::reject_reason::invalid_qty:
        return "invalid_qty";
    case exec::reject_reason::unknown_symbol:
        return "unknown_symbol";
    case exec::reject_reason::reduce_only_would_increase:
        return "reduce_only_would_increase";
    case exec::reject_reason::unknown_order:
        return "unknown_order";
    case exec::reject_reason::expired:
        return "expired";
    case exec::reject_reason::user_cancel:
        return "user_cancel";
    case exec::reject_reason::risk_refused:
        return "risk_refused";
    case exec::reject_reason::rate_limited:
        return "rate_limited";
    case exec::reject_reason::held_back:
        return "held_back";
    case exec::reject_reason::venue_refused:
        return "venue_refused";
    }
    return "unknown";
}

engine_metrics::engine_metrics(metrics_registry& r)
    : md_messages(r.counter("quoter_md_messages_total", "Market-data messages decoded")),
      md_gaps(r.counter("quoter_md_gaps_total", "Sequence gaps detected in depth streams")),
      md_resyncs(r.counter("quoter_md_resyncs_total", "Order book resynchronisations started")),
      last_md_seconds(r.gauge("quoter_md_last_update_timestamp_seconds",
                              "Wall-clock time of the last market-data update, Unix seconds")),
      working_orders(r.gauge("quoter_working_orders", "Orders open at the venue")),
      gateway_connected(
          r.gauge("quoter_gateway_connected", "1 when the order gateway is connected, else 0")),
      api_errors(r.counter("quoter_api_errors_total", "Venue API errors (5xx, timeouts, unknown)")),
      tick_to_order(r.histogram("quoter_tick_to_order_seconds",
                                "Market-data receipt to order send, seconds",
                                default_latency_buckets_ns())),
      kernel_to_read(r.histogram("quoter_kernel_to_read_seconds",
                                 "Kernel receive (SO_TIMESTAMPING) to the socket read of a "
                                 "market-data frame, per tick, seconds",
                                 default_latency_buckets_ns())),
      order_round_trip(r.histogram("quoter_order_round_trip_seconds",
                                   "Order send to venue acknowledgement, seconds",
                                   default_latency_buckets_ns())) {
    for (std::size_t i = 0; i < order_rejects.size(); ++i) {
        const auto reason = static_cast<exec::reject_reason>(i);
        order_rejects[i] = &r.counter("quoter_order_rejects_total",
                                      "Orders and cancels the venue rejected, by reason",
                                      {{"reason", std::string(label_of(reason))}});
    }
}

namespace {

/// The symbol label, and any others after it.
std::vector<metric_label> of_symbol(std::string_view symbol, std::vector<metric_label> more = {}) {
    std::vector<metric_label> labels{{"symbol", std::string(symbol)}};
    labels.insert(labels.end(), more.begin(), more.end());
    return labels;
}

} // namespace

symbol_metrics::symbol_metrics(metrics_registry& r, std::string_view symbol)
    : book_synced(r.gauge("quoter_book_synced", "1 when the order book is synced, else 0",
                          of_symbol(symbol))),
      orders_sent(
          r.counter("quoter_orders_sent_total", "New orders sent to the venue", of_symbol(symbol))),
      cancels_sent(r.counter("quoter_cancels_sent_total", "Cancel requests sent to the venue",
                             of_symbol(symbol))),
      fills(r.counter("quoter_fills_total", "Fills received", of_symbol(symbol))),
      last_fill_seconds(r.gauge("quoter_last_fill_timestamp_seconds",
                                "Wall-clock time of the last fill, Unix seconds; 0 before any",
                                of_symbol(symbol))),
      quote_rate_holds(r.counter("quoter_quote_rate_holds_total",
                                 "Times new orders were held until the order-rate limits had "
                                 "room, after one was refused",
                                 of_symbol(symbol))),
      quote_rate_held(r.seconds_counter("quoter_quote_rate_held_seconds_total",
                                        "Time new orders were held by the order-rate limits, "
                                        "seconds",
                                        of_symbol(symbol))),
      pnl_total(r.gauge("quoter_pnl_quote", "Total PnL (realized + unrealized - fees), quote asset",
                        of_symbol(symbol))),
      pnl_realized(r.gauge("quoter_pnl_realized_quote", "Realized PnL after fees, quote asset",
                           of_symbol(symbol))),
      inventory(r.gauge("quoter_inventory_base", "Net position, base asset", of_symbol(symbol))),
      kill_engaged(r.gauge("quoter_kill_engaged", "1 while the kill switch is latched, else 0",
                           of_symbol(symbol))),
      paused(r.gauge("quoter_paused", "1 while trading is paused, else 0", of_symbol(symbol))),
      kills(r.counter("quoter_kills_total", "Kill switch engagements", of_symbol(symbol))) {
    for (std::size_t i = 0; i < risk_refusals.size(); ++i) {
        const auto reason = static_cast<risk::reject_reason>(i);
        risk_refusals[i] = &r.counter(
            "quoter_risk_refusals_total", "Orders the pre-trade risk checks refused, by reason",
            of_symbol(symbol, {{"reason", std::string(risk::to_string(reason))}}));
    }
}

} // namespace quoter::ops
