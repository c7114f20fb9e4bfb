#include "quoter/engine/risk_gate.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <new>

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

bool is_taker(const exec::order_request& request, const risk::market_view& market,
              risk::order_intent intent) noexcept {
    if (intent == risk::order_intent::flatten || request.tif != exec::time_in_force::gtc) {
        return true;
    }
    if (request.post_only) {
        return false;
    }
    return request.side == core::side::buy
               ? market.best_ask.ticks() > 0 && request.price >= market.best_ask
               : market.best_bid.ticks() > 0 && request.price <= market.best_bid;
}

core::price expected_fill_price(const exec::order_request& request, const risk::market_view& market,
                                risk::order_intent intent) noexcept {
    if (!is_taker(request, market, intent)) {
        return request.price;
    }
    const core::price touch = request.side == core::side::buy ? market.best_ask : market.best_bid;
    return touch.ticks() > 0 ? touch : request.price;
}

risk::api_outcome classify_venue_error(const exec::exec_report& report) noexcept {
    switch (report.reason) {
    case exec::reject_reason::post_only_would_cross: // the book moved while the order flew
    case exec::reject_reason::unknown_order:         // the cancel raced a fill or an expiry
    case exec::reject_reason::none:
    case exec::reject_reason::expired:
    case exec::reject_reason::user_cancel:
    case exec::reject_reason::risk_refused:
    case exec::reject_reason::held_back: // own throttling: nothing reached the venue
        return risk::api_outcome::client_error;
    case exec::reject_reason::too_many_open_orders:
    case exec::reject_reason::rate_limited:
        return risk::api_outcome::rate_limited;
    case exec::reject_reason::invalid_client_id:
    case exec::reject_reason::duplicate_client_id:
    case exec::reject_reason::invalid_price:
    case exec::reject_reason::invalid_qty:
    case exec::reject_reason::unknown_symbol:
    case exec::reject_reason::reduce_only_would_increase:
    case exec::reject_reason::venue_refused:
        return risk::api_outcome::venue_reject;
    }
    return risk::api_outcome::venue_reject;
}

risk::fill_report to_risk_fill(const exec::exec_report& report, std::uint16_t symbol_id,
                               core::timestamp_ns received, core::price expected_price) noexcept {
    return {.exchange_time = report.exchange_ts,
            .received_time = received,
            .symbol_id = symbol_id,
            .side = report.side,
            .price = report.price,
            .expected_price = expected_price,
            .qty = report.fill_qty};
}

std::optional<exec::order_request>
next_flatten_order(exec::flattener& flattener, const core::symbol_spec& spec,
                   const risk::risk_limits& limits, const risk::account_view& account,
                   const risk::market_view& market, std::uint16_t symbol_id,
                   risk::alert_sink& alerts, core::timestamp_ns now) noexcept {
    const core::qty position = account.position;
    const bool long_position = position.lots() > 0;
    const core::price touch = long_position ? market.best_bid : market.best_ask;
    // Sized at the price it is sent at (through the touch), as the notional check judges it.
    const core::price limit =
        flattener.limit_price(long_position ? core::side::sell : core::side::buy, touch);
    std::optional<core::qty> cap = risk::largest_order_qty(spec, limits, limit, account.equity);
    if (flattener.state() == exec::flatten_state::working && position.lots() != 0) {
        // Close only what the working orders on the closing side leave open, so that the
        // position cannot cross zero if they fill too. None left, or too little for the
        // minimum notional while the whole position has enough: wait for them to end. An order
        // the notional check would refuse would spend an attempt, and the budget would run out
        // while a kill's cancels are on their way.
        const std::int64_t working =
            long_position ? account.open_sell_qty.lots() : account.open_buy_qty.lots();
        const std::int64_t held = long_position ? position.lots() : -position.lots();
        const std::int64_t left = held - working;
        // Flatten orders are reduce-only: a venue that waives the minimum for them never waits.
        constexpr bool reduce_only = true;
        if (left <= 0 ||
            (working > 0 && !spec.meets_min_notional(limit, core::qty{left}, reduce_only) &&
             spec.meets_min_notional(limit, core::qty{held}, reduce_only))) {
            return std::nullopt;
        }
        cap = core::qty{cap ? std::min(cap->lots(), left) : left};
    }
    auto request = flattener.next_order(position, market.best_bid, market.best_ask, cap, now);
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

double portfolio_exposure::symbol_exposure::worst_net() const noexcept {
    return std::max(std::abs(position + open_buys), std::abs(position - open_sells));
}

double portfolio_exposure::others_worst_net(std::size_t self) const noexcept {
    double sum = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        sum += i == self ? 0.0 : symbols[i].worst_net();
    }
    return sum;
}

double portfolio_exposure::equity() const noexcept {
    double sum = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        sum += symbols[i].equity;
    }
    return sum;
}

gate_counts& gate_counts::operator+=(const gate_counts& other) noexcept {
    quote_orders_sent += other.quote_orders_sent;
    flatten_orders_sent += other.flatten_orders_sent;
    risk_refusals += other.risk_refusals;
    for (std::size_t r = 0; r < refusals_by_reason.size(); ++r) {
        refusals_by_reason[r] += other.refusals_by_reason[r];
    }
    return *this;
}

gate_counts risk_gate::counts() const noexcept {
    gate_counts out;
    out.quote_orders_sent = orders_sent(risk::order_intent::quote);
    out.flatten_orders_sent = orders_sent(risk::order_intent::flatten);
    out.risk_refusals = risk_rejects_;
    out.refusals_by_reason = by_reason_;
    return out;
}

risk_gate::risk_gate(exec::order_gateway& inner, risk::risk_engine& risk,
                     const core::symbol_spec& spec, std::uint16_t symbol_id,
                     std::uint32_t venue_symbol) noexcept
    : inner_(inner), risk_(risk), spec_(spec), symbol_id_(symbol_id), venue_symbol_(venue_symbol) {}

void risk_gate::set_report_sink(exec::exec_report_sink* sink) noexcept {
    sink_ = sink;
    inner_.set_report_sink(this);
}

risk::account_view risk_gate::own_account() const noexcept {
    risk::account_view view = account_;
    view.position = core::qty{account_.position.lots() + fills_since_views_};
    view.open_buy_qty = core::qty{std::max(account_.open_buy_qty.lots(), working_lots_[0])};
    view.open_sell_qty = core::qty{std::max(account_.open_sell_qty.lots(), working_lots_[1])};
    return view;
}

risk::account_view risk_gate::account() const noexcept {
    risk::account_view view = own_account();
    if (exposure_ != nullptr) {
        view.other_symbols_net_notional = exposure_->others_worst_net(exposure_slot_);
        view.portfolio_equity = exposure_->equity();
        view.in_portfolio = true;
    }
    return view;
}

void risk_gate::set_portfolio(portfolio_exposure* exposure, std::size_t slot) noexcept {
    if (exposure != nullptr && slot >= portfolio_exposure::max_symbols) {
        exposure = nullptr; // beyond the table: trades alone rather than writing past it
    }
    exposure_ = exposure;
    exposure_slot_ = slot;
    risk_.share_order_rates(exposure_ != nullptr ? &exposure_->new_orders : nullptr);
    if (exposure_ != nullptr) {
        exposure_->count = std::max(exposure_->count, slot + 1);
        write_exposure();
    }
}

void risk_gate::write_exposure() noexcept {
    if (market_.best_bid.ticks() > 0 && market_.best_ask.ticks() > 0) {
        const double mid =
            (spec_.to_double(market_.best_bid) + spec_.to_double(market_.best_ask)) / 2.0;
        lot_value_ = spec_.to_double(core::qty{1}) * mid;
    } else if (lot_value_ == 0.0) {
        // No book yet (a restart): a restored position counts at its own mark or entry price
        // rather than as nothing in the other symbols' checks.
        lot_value_ = spec_.to_double(core::qty{1}) * std::abs(account_.position_price);
    }
    const auto value = [&](core::qty q) { return static_cast<double>(q.lots()) * lot_value_; };
    const risk::account_view own = own_account();
    portfolio_exposure::symbol_exposure& mine = exposure_->symbols[exposure_slot_];
    mine.position = value(own.position);
    mine.open_buys = value(own.open_buy_qty);
    mine.open_sells = value(own.open_sell_qty);
    mine.equity = own.equity;
}

void risk_gate::note_send_error(exec::gateway_error error, core::timestamp_ns now) noexcept {
    // The gateway's own limiter holding a request back is throttling, not a failing venue: it
    // must not count toward the API error storm, or wanting more orders than the limits allow
    // would kill instead of slowing down. Nor must a new order held while the gateway
    // reconciles (after a reconnect, or a foreign order's fill), which takes a round trip.
    if (error != exec::gateway_error::rate_limited && error != exec::gateway_error::reconciling) {
        risk_.on_api_response(risk::api_outcome::send_failed, now);
    }
}

exec::gateway_error risk_gate::submit(const exec::order_request& request,
                                      core::timestamp_ns now) noexcept {
    return submit_checked(request, now, risk::order_intent::quote);
}

risk::reject_reason risk_gate::check_new_order(const exec::order_request& request,
                                               risk::order_intent intent,
                                               core::timestamp_ns now) noexcept {
    // Another symbol's kill, not carried to this one yet, stops this one's quoting as its own
    // would: the symbols are one kill domain.
    if (intent != risk::order_intent::flatten && domain_kill_ != nullptr && *domain_kill_)
        [[unlikely]] {
        return risk::reject_reason::killed;
    }
    return risk_.check_order(spec_, to_risk_order(request, symbol_id_, intent), market_, account(),
                             now);
}

exec::gateway_error risk_gate::submit_checked(const exec::order_request& request,
                                              core::timestamp_ns now,
                                              risk::order_intent intent) noexcept {
    if (working_count_ == working_capacity) {
        return exec::gateway_error::queue_full;
    }
    const risk::reject_reason reason = check_new_order(request, intent, now);
    if (reason == risk::reject_reason::none) {
        core::mark_once(stamps_, core::tick_point::risk_passed);
        // The expected price is the touch as decided now, before the venue can move it.
        const core::price expected = expected_fill_price(request, market_, intent);
        const exec::gateway_error error = inner_.submit(request, now);
        if (error != exec::gateway_error::none) {
            note_send_error(error, now);
            return error;
        }
        core::mark_once(stamps_, core::tick_point::encoded);
        record_sent(request, intent, expected, now);
        return exec::gateway_error::none;
    }
    return refuse(request, reason, now);
}

void risk_gate::record_sent(const exec::order_request& request, risk::order_intent intent,
                            core::price expected, core::timestamp_ns now) noexcept {
    working_[working_count_++] = {.id = request.id.value,
                                  .leaves = request.qty.lots(),
                                  .expected = expected,
                                  .side = request.side};
    working_lots_[request.side == core::side::buy ? 0 : 1] += request.qty.lots();
    publish_exposure();
    ++passed_;
    ++sent_[static_cast<std::size_t>(intent)];
    if (listener_ != nullptr) {
        listener_->on_order_sent(request, intent, now);
    }
}

exec::gateway_error risk_gate::refuse(const exec::order_request& request,
                                      risk::reject_reason reason, core::timestamp_ns now) noexcept {
    ++risk_rejects_;
    ++by_reason_[static_cast<std::size_t>(reason)];
    last_reason_ = reason;
    if (reject_count_ == reject_queue_capacity) {
        return exec::gateway_error::queue_full;
    }
    exec::exec_report& report = rejects_[reject_count_++];
    report = exec::exec_report{};
    report.client_id = request.id;
    report.kind = exec::exec_kind::reject;
    report.reason = exec::reject_reason::risk_refused;
    report.price = request.price;
    report.exchange_ts = now;
    report.local_ts = now;
    report.symbol = request.symbol;
    report.side = request.side;
    report.level = request.level;
    return exec::gateway_error::none;
}

exec::gateway_error risk_gate::cancel(std::uint32_t symbol, exec::client_order_id id,
                                      core::timestamp_ns now) noexcept {
    // Never refused by the risk layer; counted once it is out (a rate above the limit pauses).
    const exec::gateway_error error = inner_.cancel(symbol, id, now);
    if (error != exec::gateway_error::none) {
        note_send_error(error, now);
        return error;
    }
    if (listener_ != nullptr) {
        listener_->on_cancel_sent(id, now);
    }
    (void)risk_.on_cancel(now);
    return error;
}

exec::gateway_error risk_gate::replace(std::uint32_t symbol, exec::client_order_id old_id,
                                       const exec::order_request& request,
                                       core::timestamp_ns now) noexcept {
    if (working_count_ == working_capacity) {
        return exec::gateway_error::queue_full;
    }
    constexpr risk::order_intent intent = risk::order_intent::quote;
    // account() still counts the old order as working: it is until its terminal report.
    const risk::reject_reason reason = check_new_order(request, intent, now);
    if (reason != risk::reject_reason::none) {
        const exec::gateway_error error = cancel(symbol, old_id, now);
        if (error != exec::gateway_error::none) {
            return error;
        }
        return refuse(request, reason, now);
    }
    core::mark_once(stamps_, core::tick_point::risk_passed);
    const core::price expected = expected_fill_price(request, market_, intent);
    const exec::gateway_error error = inner_.replace(symbol, old_id, request, now);
    if (error != exec::gateway_error::none) {
        note_send_error(error, now);
        return error;
    }
    core::mark_once(stamps_, core::tick_point::encoded);
    record_sent(request, intent, expected, now);
    if (listener_ != nullptr) {
        listener_->on_cancel_sent(old_id, now);
    }
    (void)risk_.on_cancel(now);
    return exec::gateway_error::none;
}

exec::gateway_error risk_gate::cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept {
    const exec::gateway_error error = inner_.cancel_all(symbol, now);
    if (error != exec::gateway_error::none) {
        note_send_error(error, now);
    }
    return error;
}

void risk_gate::on_exec_report(const exec::exec_report& report) noexcept {
    deliver(report, [this](const exec::exec_report& admitted) {
        if (sink_ != nullptr) {
            sink_->on_exec_report(admitted);
        }
    });
}

void risk_gate::on_venue_failures(std::uint32_t count, core::timestamp_ns now) noexcept {
    // Past the storm's count more errors at one time change nothing: the window slides past
    // them all together.
    const std::uint32_t storm =
        std::max<std::uint32_t>(risk_.config().triggers.api_error_storm_count, 1);
    for (std::uint32_t i = 0; i < std::min(count, storm); ++i) {
        risk_.on_api_response(risk::api_outcome::server_error, now);
    }
}

risk_gate::admission risk_gate::admit_report(const exec::exec_report& report) noexcept {
    if ((report.kind == exec::exec_kind::fill || report.kind == exec::exec_kind::partial_fill) &&
        report.symbol == venue_symbol_ && trade_ids_.seen_before(report.trade_id, report.side))
        [[unlikely]] {
        // The same trade told again (two sources, one not de-duplicated upstream): a position
        // that counted it twice would be judged against the limits wrongly.
        ++duplicate_fills_;
        return {.ended = nullptr, .deliver = false};
    }
    const core::timestamp_ns at = report.local_ts;
    const std::uint64_t id = report.client_id.value;
    working_order* order = find(id);
    switch (report.kind) {
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill: {
        const std::int64_t lots = report.fill_qty.lots();
        fills_since_views_ += report.side == core::side::buy ? lots : -lots;
        if (order != nullptr) {
            set_leaves(*order, std::max<std::int64_t>(order->leaves - lots, 0));
        }
        // Before the owner sees it, so that a slippage kill precedes any replacement.
        risk_.on_fill(to_risk_fill(report, symbol_id_, at,
                                   order != nullptr ? order->expected : report.price));
        break;
    }
    case exec::exec_kind::reject:
    case exec::exec_kind::cancel_reject:
        if (report.reason != exec::reject_reason::risk_refused) {
            risk_.on_api_response(classify_venue_error(report), at);
        }
        break;
    case exec::exec_kind::ack:
        if (order == nullptr && report.leaves_qty.lots() > 0 && working_count_ < working_capacity) {
            // An order the venue took after it was reported never taken (a late placement of
            // unknown outcome): working again, so the checks count it until its terminal report.
            working_[working_count_++] = {
                .id = id, .leaves = 0, .expected = report.price, .side = report.side};
            order = &working_[working_count_ - 1];
            set_leaves(*order, report.leaves_qty.lots());
        }
        break;
    case exec::exec_kind::cancelled:
    // Still working: counted until a terminal report. The failure that made it unknown reached
    // the risk engine as a venue failure (on_venue_failures).
    case exec::exec_kind::unknown:
        break;
    }
    const bool ends = report.is_terminal() && order != nullptr;
    if (ends) {
        set_leaves(*order, 0); // no longer working, even for a replacement sent from the owner
    }
    publish_exposure();
    return {.ended = ends ? order : nullptr, .deliver = true};
}

std::size_t risk_gate::deliver_refusals(core::timestamp_ns now) noexcept {
    std::size_t delivered = 0;
    // A report handler may submit again and queue a new refusal: deliver in a few rounds, each
    // over a copy of what was queued before it; what is left waits for the next poll. The copy
    // takes only the queued reports (usually one or two), in storage left uninitialised.
    alignas(exec::exec_report)
        std::array<std::byte, sizeof(exec::exec_report) * reject_queue_capacity>
            storage;
    for (int round = 0; round < 4 && reject_count_ > 0; ++round) {
        const std::size_t count = reject_count_;
        std::uninitialized_copy_n(rejects_.begin(), count,
                                  reinterpret_cast<exec::exec_report*>(storage.data()));
        exec::exec_report* const batch =
            std::launder(reinterpret_cast<exec::exec_report*>(storage.data()));
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

// Dry run (order_path_warmer): the checks and the encoding of submit_checked, recording nothing.
risk_gate::rehearsal risk_gate::rehearse(const exec::order_request& request, core::timestamp_ns now,
                                         risk::pre_trade_checker& scratch,
                                         exec::client_order_id replaces) const noexcept {
    rehearsal out;
    out.reason =
        risk_.rehearse_order(spec_, to_risk_order(request, symbol_id_, risk::order_intent::quote),
                             market_, account(), now, scratch);
    out.encoded = replaces.valid() ? inner_.rehearse_replace(request.symbol, replaces, request, now)
                                   : inner_.rehearse_submit(request, now);
    return out;
}

} // namespace quoter::engine
