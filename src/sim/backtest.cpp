#include "quoter/sim/backtest.hpp"

#include "quoter/sim/random.hpp"

#include <algorithm>
#include <cassert>
#include <memory>
#include <optional>
#include <utility>

namespace quoter::sim {

namespace {

// Stream tag of the exchange's latency generator, so that it is unrelated to the market's
// streams derived from the same seed.
constexpr std::uint64_t exchange_stream = 0x65786368616e6765ULL; // "exchange"

// Enough samples for most runs without reallocation; longer runs grow the vector.
constexpr std::size_t max_reserved_samples = std::size_t{1} << 20;

exec::sim_exchange_config exchange_config_for(const backtest_config& config, std::uint64_t seed) {
    exec::sim_exchange_config exchange = config.exchange;
    exchange.seed = mix64(seed ^ exchange_stream);
    return exchange;
}

strategy::strategy_config strategy_config_for(const backtest_config& config) {
    strategy::strategy_config out = config.strategy;
    auto& horizon = out.avellaneda_stoikov;
    if (horizon.horizon == strategy::horizon_kind::finite && horizon.terminal_time_ns <= 0) {
        horizon.terminal_time_ns = config.duration_ns; // the run ends at T
    }
    return out;
}

portfolio::account_config account_config_for(const backtest_config& config) {
    return {.initial_cash = config.initial_cash,
            .maker_fee_bps = config.exchange.maker_fee_bps,
            .taker_fee_bps = config.exchange.taker_fee_bps};
}

core::price best_resting(const exec::sim_exchange& exchange, core::side side) noexcept {
    core::price best{0};
    bool found = false;
    exchange.for_each_open_order(0, side, [&](const exec::sim_order& order) {
        if (!found) {
            best = order.request.price;
            found = true;
        }
    });
    return best;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Gateway in front of the exchange: pre-trade check, then the order log.

exec::gateway_error backtest_engine::checked_gateway::submit(const exec::order_request& request,
                                                             core::timestamp_ns now) noexcept {
    if (engine_.risk_ != nullptr) {
        const exec::gateway_error verdict = engine_.risk_->check_order(request, now);
        if (verdict != exec::gateway_error::none) {
            ++engine_.counters_.risk_refusals;
            return verdict;
        }
    }
    engine_.sync_exchange(); // the order must meet the book of its time
    const exec::gateway_error sent = exchange_.submit(request, now);
    if (sent == exec::gateway_error::none) {
        const std::size_t slot = request.id.value & 0xffU;
        if (slot < slot_count) {
            tracked_order& order = engine_.tracked_[slot];
            order = tracked_order{.id = request.id,
                                  .side = request.side,
                                  .level = request.level,
                                  .price = request.price,
                                  .qty = request.qty,
                                  .cum = core::qty{0},
                                  .live = true,
                                  .filled = false};
            engine_.record_order(now, order, order_event::submitted, core::qty{0});
        }
        ++engine_.activity_.orders_submitted;
    }
    return sent;
}

exec::gateway_error backtest_engine::checked_gateway::cancel(std::uint32_t symbol,
                                                             exec::client_order_id id,
                                                             core::timestamp_ns now) noexcept {
    engine_.sync_exchange();
    const exec::gateway_error sent = exchange_.cancel(symbol, id, now);
    const std::size_t slot = id.value & 0xffU;
    if (sent == exec::gateway_error::none && slot < slot_count && engine_.tracked_[slot].id == id) {
        const tracked_order& order = engine_.tracked_[slot];
        engine_.record_order(now, order, order_event::cancel_requested, order.cum);
    }
    return sent;
}

exec::gateway_error backtest_engine::checked_gateway::cancel_all(std::uint32_t symbol,
                                                                 core::timestamp_ns now) noexcept {
    engine_.sync_exchange();
    const exec::gateway_error sent = exchange_.cancel_all(symbol, now);
    if (sent == exec::gateway_error::none) {
        for (const tracked_order& order : engine_.tracked_) {
            if (order.live) {
                engine_.record_order(now, order, order_event::cancel_requested, order.cum);
            }
        }
    }
    return sent;
}

// ---------------------------------------------------------------------------------------------
// Engine

backtest_engine::backtest_engine(const backtest_config& config, const core::symbol_spec& spec,
                                 std::uint64_t seed, record_options keep, risk_hook* risk)
    : config_(config), spec_(spec), seed_(seed), keep_(keep),
      notional_unit_(1.0 /
                     static_cast<double>(core::pow10(spec.price_decimals() + spec.qty_decimals()))),
      market_(config.market, spec, seed), exchange_(exchange_config_for(config, seed), {&spec_, 1}),
      gateway_(*this, exchange_), strategy_(strategy_config_for(config), spec),
      account_(spec, account_config_for(config)), manager_(config.quotes, gateway_), risk_(risk) {
    config_.step_ns = std::max<core::duration_ns>(config_.step_ns, 1);
    config_.record_interval_ns = std::max<core::duration_ns>(config_.record_interval_ns, 1);
    gateway_.set_report_sink(this);
    manager_refresh_ns_ = std::max<std::int64_t>(config_.quotes.refresh_ms, 0) * core::ns_per_ms;
    // Outputs that move with time alone must be recomputed on every step.
    const auto& s = config_.strategy;
    requote_every_step_ = (s.model == strategy::model_kind::avellaneda_stoikov &&
                           s.avellaneda_stoikov.horizon == strategy::horizon_kind::finite) ||
                          (s.model != strategy::model_kind::linear && s.intensity.use_estimate);
    if (keep_.pnl) {
        const auto expected = static_cast<std::size_t>(
            std::max<core::duration_ns>(config_.duration_ns, 0) / config_.record_interval_ns + 2);
        pnl_.reserve(std::min(expected, max_reserved_samples));
    }
    // Time 0: the first book, the first quotes, the first sample; the market has not moved.
    react();
    simulate_order_flow();
}

double backtest_engine::mid() const noexcept {
    return 0.5 * static_cast<double>(best_bid_.ticks() + best_ask_.ticks()) * spec_.tick_size();
}

core::price backtest_engine::working_bid() const noexcept {
    return best_resting(exchange_, core::side::buy);
}

core::price backtest_engine::working_ask() const noexcept {
    return best_resting(exchange_, core::side::sell);
}

void backtest_engine::advance_market() noexcept {
    market_.step(config_.step_ns);
    now_ = market_.now_ns();
    ++counters_.steps;
}

void backtest_engine::on_book(core::price bid, core::price ask) noexcept {
    best_bid_ = bid;
    best_ask_ = ask;
    book_changed_ = true;
    mid_history_[mid_history_count_++ & (mid_history_size - 1)] = {
        now_, portfolio::mark_price::mid(bid, ask)};
    strategy_.on_book(now_, bid, ask);
    if (risk_ != nullptr) {
        risk_->on_book(bid, ask, now_);
    }
}

void backtest_engine::sync_exchange() noexcept {
    // Never from inside a report handler: the exchange must not be called back into. Every
    // call that delivers reports is made with the book already handed over (or, for the sync
    // itself, while it is being handed over), so the orders those handlers send meet it.
    if (syncing_ || in_report_) {
        assert(exchange_bid_ == best_bid_ && exchange_ask_ == best_ask_);
        return;
    }
    if (exchange_bid_ == best_bid_ && exchange_ask_ == best_ask_ && exchange_.now() >= now_) {
        return;
    }
    syncing_ = true;
    exchange_bid_ = best_bid_;
    exchange_ask_ = best_ask_;
    exchange_.on_top_of_book(
        0, exec::top_of_book{.bid = best_bid_, .bid_qty = {}, .ask = best_ask_, .ask_qty = {}},
        now_);
    syncing_ = false;
    resting_dirty_ = true;
}

void backtest_engine::refresh_resting() noexcept {
    resting_dirty_ = false;
    const std::size_t levels = manager_.config().levels;
    std::fill_n(resting_.begin(), levels, quote_level{});
    resting_bid_ = core::price{0};
    resting_ask_ = core::price{0};
    any_resting_ = false;
    for (const core::side side : {core::side::buy, core::side::sell}) {
        bool best = true; // resting lists are best first
        exchange_.for_each_open_order(0, side, [&](const exec::sim_order& order) {
            if (best) {
                (side == core::side::buy ? resting_bid_ : resting_ask_) = order.request.price;
                best = false;
            }
            const std::size_t level = order.request.level;
            if (level >= levels) {
                return;
            }
            quote_level& q = resting_[level];
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
}

void backtest_engine::react() noexcept {
    const visible_top top = market_.top();
    if (top.bid != best_bid_ || top.ask != best_ask_ || mid_history_count_ == 0) {
        on_book(top.bid, top.ask);
    }
    if (exchange_.pending_events() != 0) {
        // Requests and reports in flight: the exchange follows every book, as it would live.
        sync_exchange();
    } else {
        if (resting_dirty_) {
            refresh_resting();
        }
        // On touch is the widest cross-fill rule; the exchange applies its own.
        const bool reached = (resting_bid_.ticks() > 0 && resting_bid_ >= best_ask_) ||
                             (resting_ask_.ticks() > 0 && resting_ask_ <= best_bid_);
        if (reached) {
            sync_exchange();
        }
    }
    account_.mark(portfolio::mark_price::mid(best_bid_, best_ask_));
    poll_risk();
    if (!halted_) {
        quote_and_manage();
    }
    book_changed_ = false;
}

void backtest_engine::quote_and_manage() noexcept {
    const core::qty position = account_.position();
    const std::int64_t cash = account_.cash_units();
    bool desired_changed = false;
    if (book_changed_ || requote_every_step_ || position != quoted_position_ ||
        cash != quoted_cash_ || counters_.quote_updates == 0) {
        quoted_position_ = position;
        quoted_cash_ = cash;
        const strategy::quote_set quotes = strategy_.quote(now_, position, account_.equity());
        ++counters_.quote_updates;
        quote_mode_ = quotes.mode;
        quote_status_ = quotes.status;
        if (risk_ != nullptr && quotes.status == strategy::quote_status::ok) {
            risk_->on_model(quotes.model);
        }
        const std::size_t levels = manager_.config().levels;
        const bool ok = quotes.status == strategy::quote_status::ok;
        const std::size_t count = ok ? std::min<std::size_t>(quotes.level_count, levels) : 0;
        for (std::size_t i = 0; i < levels; ++i) {
            exec::quote_level bid{};
            exec::quote_level ask{};
            if (i < count) {
                const strategy::quote_level& level = quotes.levels[i];
                bid = {level.bid_price, level.bid_size};
                ask = {level.ask_price, level.ask_size};
            }
            if (bid.price != last_desired_.bids[i].price || bid.qty != last_desired_.bids[i].qty ||
                ask.price != last_desired_.asks[i].price || ask.qty != last_desired_.asks[i].qty) {
                last_desired_.bids[i] = bid;
                last_desired_.asks[i] = ask;
                desired_changed = true;
            }
        }
    }
    if (desired_changed || reports_since_update_ || now_ >= manager_due_) {
        manager_.update(last_desired_, now_);
        ++counters_.manager_updates;
        reports_since_update_ = false;
        manager_due_ = now_ + manager_refresh_ns_;
    }
}

void backtest_engine::simulate_order_flow() noexcept {
    if (resting_dirty_) {
        refresh_resting();
    }
    if (any_resting_) {
        const std::size_t levels = manager_.config().levels;
        if (market_.sample_fills({resting_.data(), levels}, {hits_.data(), levels}) != 0) {
            // A hit first delivers the reports due by now, whose handlers may send orders: the
            // exchange must hold the current book before, never be handed it from inside.
            sync_exchange();
            for (std::size_t i = 0; i < levels; ++i) {
                const auto level = static_cast<std::uint8_t>(i);
                if (hits_[i].bid_filled.lots() > 0) {
                    (void)exchange_.hit_order(0, core::side::buy, level, hits_[i].bid_filled, now_);
                }
                if (hits_[i].ask_filled.lots() > 0) {
                    (void)exchange_.hit_order(0, core::side::sell, level, hits_[i].ask_filled,
                                              now_);
                }
            }
            resting_dirty_ = true;
        }
    }
    if (now_ >= next_record_) [[unlikely]] {
        record_sample(now_);
        do {
            next_record_ += config_.record_interval_ns;
        } while (next_record_ <= now_);
    }
}

void backtest_engine::run_until(core::timestamp_ns end) noexcept {
    while (now_ < end) {
        step();
    }
}

void backtest_engine::run() noexcept {
    run_until(config_.duration_ns);
    if (keep_.pnl && (pnl_.empty() || pnl_.back().time_ns < now_)) {
        record_sample(now_);
    }
}

void backtest_engine::poll_risk() noexcept {
    if (risk_ == nullptr) {
        return;
    }
    const bool halt = risk_->kill_switch(account_, now_);
    if (halt && !halted_) {
        halted_ = true;
        counters_.killed = true;
        ++counters_.halts;
        manager_.cancel_all(now_);
    } else if (!halt && halted_) {
        halted_ = false;
        manager_.resume();
        // The desired quotes were forgotten by the cancel-all: recompute them.
        book_changed_ = true;
    }
    if (halted_) {
        if (const auto order = risk_->flatten_order(account_, now_)) {
            sync_exchange(); // the order must meet the book of its time
            const bool accepted = exchange_.submit(*order, now_) == exec::gateway_error::none;
            if (accepted) {
                ++counters_.flatten_orders;
                ++activity_.orders_submitted;
            }
            risk_->on_flatten_sent(*order, accepted, now_);
        }
    }
}

void backtest_engine::stop() noexcept {
    if (!manager_.halted()) {
        manager_.cancel_all(now_);
    }
    // Only the exchange's clock moves: the cancels arrive and their reports come back. Bounded,
    // since every round trip of a cancel-all may still meet orders that were in flight.
    for (int round = 0; round < 256 && exchange_.pending_events() != 0; ++round) {
        exchange_.advance_to(exchange_.next_event_time());
    }
    resting_dirty_ = true;
    account_.mark(portfolio::mark_price::mid(best_bid_, best_ask_));
    const core::timestamp_ns end = std::max(now_, exchange_.now());
    if (keep_.pnl && (pnl_.empty() || pnl_.back().time_ns < end)) {
        record_sample(end);
    }
}

// ---------------------------------------------------------------------------------------------
// Reports from the exchange and records

void backtest_engine::on_exec_report(const exec::exec_report& report) noexcept {
    in_report_ = true;
    reports_since_update_ = true;
    const std::size_t slot = report.client_id.value & 0xffU;
    tracked_order* const order =
        slot < slot_count && tracked_[slot].id == report.client_id ? &tracked_[slot] : nullptr;
    switch (report.kind) {
    case exec::exec_kind::ack:
        if (order != nullptr) {
            record_order(report.local_ts, *order, order_event::acknowledged, report.cum_qty);
        }
        break;
    case exec::exec_kind::reject:
        ++activity_.rejects;
        if (order != nullptr) {
            order->live = false;
            record_order(report.local_ts, *order, order_event::rejected, core::qty{0});
        }
        break;
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill: {
        const portfolio::mark_price fill_mid = mid_at(report.exchange_ts);
        const portfolio::fill_result booked = account_.apply(portfolio::fill{
            .time = report.exchange_ts,
            .side = report.side,
            .price = report.price,
            .quantity = report.fill_qty,
            .role = report.liquidity == exec::liquidity_role::taker ? portfolio::liquidity::taker
                                                                    : portfolio::liquidity::maker,
            .mid = fill_mid});
        if (keep_.fills) {
            fills_.push_back(fill_record{
                .time_ns = report.exchange_ts,
                .order_id = report.client_id.value,
                .side = report.side,
                .level = report.level,
                .role = report.liquidity == exec::liquidity_role::taker ? liquidity::taker
                                                                        : liquidity::maker,
                .price = quote_value(report.price),
                .quantity = base(report.fill_qty),
                .fee = static_cast<double>(booked.fee_units) * notional_unit_,
                .mid = 0.5 * static_cast<double>(fill_mid.half_ticks) * spec_.tick_size(),
                .realized_pnl = static_cast<double>(booked.realized_units) * notional_unit_,
                .inventory_after = base(booked.position)});
        }
        if (order != nullptr) {
            if (!order->filled) {
                order->filled = true;
                ++activity_.orders_filled;
            }
            order->cum = report.cum_qty;
            const bool done = report.kind == exec::exec_kind::fill;
            order->live = !done;
            record_order(report.local_ts, *order,
                         done ? order_event::filled : order_event::partially_filled,
                         report.cum_qty);
        }
        break;
    }
    case exec::exec_kind::cancelled:
        ++activity_.cancels;
        if (order != nullptr) {
            order->live = false;
            record_order(report.local_ts, *order, order_event::cancelled, report.cum_qty);
        }
        break;
    case exec::exec_kind::cancel_reject:
    case exec::exec_kind::unknown:
        break;
    }
    if (risk_ != nullptr) {
        risk_->on_exec_report(report);
    }
    manager_.on_exec_report(report); // last: it may send the slot's next order
    in_report_ = false;
}

void backtest_engine::record_order(core::timestamp_ns time, const tracked_order& order,
                                   order_event event, core::qty cum) noexcept {
    if (!keep_.orders) {
        return;
    }
    orders_.push_back(order_record{.time_ns = time,
                                   .order_id = order.id.value,
                                   .event = event,
                                   .side = order.side,
                                   .level = order.level,
                                   .price = quote_value(order.price),
                                   .quantity = base(order.qty),
                                   .filled_quantity = base(cum)});
}

void backtest_engine::record_sample(core::timestamp_ns time) {
    if (!keep_.pnl) {
        return;
    }
    const core::price bid = working_bid();
    const core::price ask = working_ask();
    pnl_.push_back(pnl_sample{.time_ns = time,
                              .mid = account_.mark_value(),
                              .bid_quote = bid.ticks() > 0 ? quote_value(bid) : no_quote,
                              .ask_quote = ask.ticks() > 0 ? quote_value(ask) : no_quote,
                              .inventory = account_.position_base(),
                              .cash = account_.cash(),
                              .equity = account_.equity(),
                              .realized_pnl = account_.realized_pnl(),
                              .unrealized_pnl = account_.unrealized_pnl(),
                              .fees = account_.fees()});
}

portfolio::mark_price backtest_engine::mid_at(core::timestamp_ns time) const noexcept {
    const std::uint64_t count = std::min<std::uint64_t>(mid_history_count_, mid_history_size);
    for (std::uint64_t i = 0; i < count; ++i) {
        const mid_point& point =
            mid_history_[(mid_history_count_ - 1 - i) & (mid_history_size - 1)];
        if (point.time <= time || i + 1 == count) {
            return point.mid; // the oldest known mid stands in for anything older
        }
    }
    return account_.current_mark();
}

metrics_config backtest_engine::metrics_settings() const noexcept {
    metrics_config settings;
    settings.initial_capital = config_.initial_cash;
    settings.return_period_s = config_.return_period_s;
    settings.soft_limit_pct = config_.strategy.bands.soft_limit_pct;
    settings.hard_limit_pct = config_.strategy.bands.hard_limit_pct;
    return settings;
}

run_metrics backtest_engine::metrics() const {
    return compute_metrics(pnl_, fills_, activity_, metrics_settings());
}

// ---------------------------------------------------------------------------------------------
// Whole runs

namespace {

backtest_result collect(backtest_engine& engine, const run_metrics& metrics) {
    backtest_result result;
    result.seed = engine.seed();
    result.counters = engine.counters();
    result.quotes = engine.quote_manager().counters();
    result.exchange = engine.exchange().stats();
    result.metrics = metrics;
    result.pnl = engine.take_pnl();
    result.fills = engine.take_fills();
    result.orders = engine.take_orders();
    return result;
}

struct path_outcome {
    path_summary summary;
    std::uint64_t steps = 0;
};

} // namespace

backtest_result run_backtest(const backtest_config& config, const core::symbol_spec& spec,
                             std::uint64_t seed, const progress_callback& progress,
                             const risk_hook_factory& risk) {
    const std::shared_ptr<risk_hook> hook = risk ? risk() : nullptr;
    const auto engine =
        std::make_unique<backtest_engine>(config, spec, seed, record_options{}, hook.get());
    if (progress) {
        constexpr core::timestamp_ns slices = 256;
        const core::timestamp_ns end = config.duration_ns;
        const core::duration_ns slice = std::max<core::duration_ns>(end / slices, 1);
        while (engine->now() < end) {
            engine->run_until(std::min(engine->now() + slice, end));
            progress(engine->now(), end);
        }
    }
    engine->run();
    const run_metrics metrics = engine->metrics();
    return collect(*engine, metrics);
}

multi_path_result run_backtest_paths(const backtest_config& config, const core::symbol_spec& spec,
                                     std::uint64_t base_seed, std::size_t path_count,
                                     path_runner& runner, const risk_hook_factory& risk) {
    std::optional<backtest_result> example;
    const auto outcomes = runner.run(path_count, base_seed, [&](const path_context& path) {
        const bool is_example = path.index == 0;
        const std::shared_ptr<risk_hook> hook = risk ? risk() : nullptr;
        const auto engine = std::make_unique<backtest_engine>(
            config, spec, path.seed,
            record_options{.pnl = true, .fills = true, .orders = is_example}, hook.get());
        engine->run();
        const run_metrics metrics = engine->metrics();
        if (is_example) {
            example.emplace(collect(*engine, metrics)); // only path 0 writes it
        }
        return path_outcome{summarize_path(path.index, path.seed, metrics),
                            engine->counters().steps};
    });
    multi_path_result result;
    result.paths.reserve(outcomes.size());
    for (const auto& outcome : outcomes) {
        result.paths.push_back(outcome.summary);
        result.total_steps += outcome.steps;
    }
    result.metrics = aggregate_paths(result.paths);
    if (example) {
        result.example = std::move(*example);
    }
    return result;
}

report_format report_format_for(const core::symbol_spec& spec) noexcept {
    report_format format;
    format.price_decimals = spec.price_decimals();
    // A book mid lies on a half tick: one more decimal writes it exactly.
    format.mid_decimals = spec.price_decimals() + 1;
    format.quantity_decimals = spec.qty_decimals();
    format.value_decimals = std::min(spec.price_decimals() + spec.qty_decimals(), 10);
    return format;
}

run_report make_run_report(const backtest_result& result, const core::symbol_spec& spec,
                           std::string title, std::vector<report_parameter> parameters) {
    run_report report;
    report.title = std::move(title);
    report.pnl = result.pnl;
    report.fills = result.fills;
    report.orders = result.orders;
    report.metrics = result.metrics;
    report.parameters = std::move(parameters);
    report.format = report_format_for(spec);
    return report;
}

} // namespace quoter::sim
