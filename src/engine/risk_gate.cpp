#include "quoter/engine/risk_gate.hpp"

namespace quoter::engine {

risk::order_request to_risk_order(const exec::order_request& request, std::uint16_t symbol_id,
                                  risk::order_intent intent) noexcept {
    risk::order_request order;
    order.client_order_id = request.id.value;
    order.symbol_id = symbol_id;
    order.side = request.side;
    order.price = request.price;
    order.qty = request.qty;
    order.post_only = request.post_only;
    order.reduce_only = request.reduce_only;
    order.intent = intent;
    return order;
}

risk::fill_report to_risk_fill(const exec::exec_report& report, std::uint16_t symbol_id,
                               core::timestamp_ns received) noexcept {
    return {.exchange_time = report.exchange_ts,
            .received_time = received,
            .symbol_id = symbol_id,
            .side = report.side,
            .price = report.price,
            .expected_price = report.price,
            .qty = report.fill_qty};
}

std::optional<exec::order_request>
next_flatten_order(exec::flattener& flattener, const core::symbol_spec& spec,
                   const risk::risk_limits& limits, core::qty position,
                   const risk::market_view& market, double equity, std::uint16_t symbol_id,
                   risk::alert_sink& alerts, core::timestamp_ns now) noexcept {
    const core::price touch = position.lots() > 0 ? market.best_bid : market.best_ask;
    auto request = flattener.next_order(position, market.best_bid, market.best_ask,
                                        risk::largest_order_qty(spec, limits, touch, equity));
    if (!request && flattener.state() == exec::flatten_state::gave_up) {
        alerts.raise({.time = now,
                      .kind = risk::alert_kind::flatten_gave_up,
                      .severity = risk::alert_severity::critical,
                      .symbol_id = symbol_id,
                      .value = spec.to_double(position),
                      .threshold = static_cast<double>(flattener.config().max_attempts)});
        flattener.stop();
    }
    return request;
}

risk_gate::risk_gate(exec::order_gateway& inner, risk::risk_engine& risk,
                     const core::symbol_spec& spec, std::uint16_t symbol_id) noexcept
    : inner_(inner), risk_(risk), spec_(spec), symbol_id_(symbol_id) {}

void risk_gate::set_report_sink(exec::exec_report_sink* sink) noexcept {
    sink_ = sink;
    inner_.set_report_sink(sink);
}

exec::gateway_error risk_gate::submit(const exec::order_request& request,
                                      core::timestamp_ns now) noexcept {
    return submit_checked(request, now, risk::order_intent::quote);
}

exec::gateway_error risk_gate::submit_checked(const exec::order_request& request,
                                              core::timestamp_ns now,
                                              risk::order_intent intent) noexcept {
    const risk::reject_reason reason = risk_.check_order(
        spec_, to_risk_order(request, symbol_id_, intent), market_, account_, now);
    if (reason == risk::reject_reason::none) {
        const exec::gateway_error error = inner_.submit(request, now);
        if (error == exec::gateway_error::none) {
            ++passed_;
            if (listener_ != nullptr) {
                listener_->on_order_sent(request, intent, now);
            }
        }
        return error;
    }
    if (reject_count_ == reject_queue_capacity) {
        return exec::gateway_error::queue_full;
    }
    ++risk_rejects_;
    ++by_reason_[static_cast<std::size_t>(reason)];
    last_reason_ = reason;
    exec::exec_report report;
    report.client_id = request.id;
    report.kind = exec::exec_kind::reject;
    report.reason = exec::reject_reason::risk_refused;
    report.price = request.price;
    report.exchange_ts = now;
    report.local_ts = now;
    report.symbol = request.symbol;
    report.side = request.side;
    report.level = request.level;
    rejects_[reject_count_++] = report;
    return exec::gateway_error::none;
}

exec::gateway_error risk_gate::cancel(std::uint32_t symbol, exec::client_order_id id,
                                      core::timestamp_ns now) noexcept {
    const exec::gateway_error error = inner_.cancel(symbol, id, now);
    if (error == exec::gateway_error::none) {
        risk_.on_cancels_sent(now, 1);
        if (listener_ != nullptr) {
            listener_->on_cancel_sent(id, now);
        }
    }
    return error;
}

exec::gateway_error risk_gate::cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept {
    return inner_.cancel_all(symbol, now);
}

std::size_t risk_gate::poll(core::timestamp_ns now) noexcept {
    std::size_t delivered = 0;
    // A report handler may submit again and queue a new refusal: deliver in a few rounds, each
    // over a copy of what was queued before it; what is left waits for the next poll.
    for (int round = 0; round < 4 && reject_count_ > 0; ++round) {
        std::array<exec::exec_report, reject_queue_capacity> batch = rejects_;
        const std::size_t count = reject_count_;
        reject_count_ = 0;
        for (std::size_t i = 0; i < count; ++i) {
            batch[i].local_ts = now;
            if (sink_ != nullptr) {
                sink_->on_exec_report(batch[i]);
            }
            ++delivered;
        }
    }
    return delivered + inner_.poll(now);
}

} // namespace quoter::engine
