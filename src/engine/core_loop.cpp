// core_loop's implementation (the contract is in core_loop.hpp). One piece, about 650 lines: it
// is one state machine on the core thread; events, requotes, reports, risk callbacks and control
// all read and write the same loop state, and its invariants are easier to check in one file.
#include "quoter/engine/core_loop.hpp"

#include "quoter/core/decimal.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <utility>

namespace quoter::engine {

namespace {

/// Quote asset per notional unit: 10^-(price decimals + quantity decimals).
[[nodiscard]] double notional_unit(const core::symbol_spec& spec) noexcept {
    double unit = 1.0;
    for (int i = 0; i < spec.price_decimals() + spec.qty_decimals(); ++i) {
        unit /= 10.0;
    }
    return unit;
}

[[nodiscard]] ops::cancel_cause cause_of(risk::trading_state state) noexcept {
    switch (state) {
    case risk::trading_state::killed:
        return ops::cancel_cause::kill;
    case risk::trading_state::paused:
        return ops::cancel_cause::pause;
    case risk::trading_state::running:
        break;
    }
    return ops::cancel_cause::strategy;
}

} // namespace

void set_exchange_lane(core_loop_config& config, std::size_t lane) noexcept {
    config.quotes.symbol = static_cast<std::uint32_t>(lane);
    config.quotes.id_tag = static_cast<std::uint8_t>(1 + lane);
}

core_loop::core_loop(const core_loop_config& config, const md::instrument& instrument,
                     exec::order_gateway& gateway, exec::sim_exchange* sim, ops::journal* journal,
                     ops::control_channel* control)
    : config_(config), instrument_(instrument), venue_(gateway), sim_(sim), journal_(journal),
      control_(control), account_(instrument.trading_spec, config.account),
      strategy_(config.strategy, instrument.trading_spec), risk_(config.risk, *this, *this, *this),
      gate_(gateway, risk_, instrument_.trading_spec, config.symbol, config.quotes.symbol),
      quotes_(config.quotes, gate_),
      flattener_({.slippage_ticks = config.risk.triggers.flatten_slippage_ticks,
                  .max_attempts = config.risk.triggers.flatten_max_attempts,
                  .id_tag = exec::flatten_id_tag(config.quotes.id_tag)},
                 instrument_.trading_spec, config.quotes.symbol),
      warmer_(config.warm_order_path_us, config.risk.limits) {
    const int extra = instrument.book_spec.qty_decimals() - instrument.trading_spec.qty_decimals();
    lot_ratio_ = extra > 0 ? core::pow10(extra) : 1;
    lot_inverse_ = 1.0 / static_cast<double>(lot_ratio_);
    quote_levels_ = quotes_.config().levels;
    gate_.set_report_sink(this);
    gate_.set_listener(this);
    day_start_equity_ = account_.equity();
    peak_equity_ = day_start_equity_;
    refresh_views();
}

void core_loop::restore(core::qty position, std::int64_t cost_basis_units, std::int64_t cash_units,
                        std::uint64_t last_order_sequence) noexcept {
    account_.restore(position, cost_basis_units, cash_units);
    quotes_.continue_sequence_after(last_order_sequence);
    peak_equity_ = std::max(peak_equity_, account_.equity());
    refresh_views();
    reopen_flatten();
}

void core_loop::restore_peak_equity(double peak) noexcept {
    // Replaces the peak this process started from (its configured cash, or the venue's equity
    // on a live start, which already holds a deposit made while stopped): the restored account
    // is the run's truth, and a deposit then counted as capital would raise the peak twice.
    peak_equity_ = std::max(peak, account_.equity());
    refresh_views();
}

void core_loop::add_capital(std::int64_t units) noexcept {
    account_.add_capital(units);
    count_as_capital(units);
}

void core_loop::count_as_capital(std::int64_t units) noexcept {
    const double added = account_.units_to_quote(units);
    peak_equity_ += added;
    day_start_equity_ += added;
    risk_.add_capital(added);
    refresh_views();
}

core::qty core_loop::to_trading_lots(core::qty book_lots) const noexcept {
    // Down: the simulated exchange must never see more size than the venue can trade, so a
    // level (or print) smaller than one trading lot shows as 0 and fills nothing.
    const std::int64_t lots = book_lots.lots();
    if (lots <= 0) {
        return core::qty{0};
    }
    if (lot_ratio_ == 1) {
        return book_lots;
    }
    // Every level of every book event passes here: a multiplication by the inverse, corrected
    // to the exact floor, instead of an integer division (exact below 2^52 lots).
    constexpr std::int64_t exact_limit = std::int64_t{1} << 52;
    if (lots >= exact_limit) {
        return core::qty{lots / lot_ratio_};
    }
    auto q = static_cast<std::int64_t>(static_cast<double>(lots) * lot_inverse_);
    if (q * lot_ratio_ > lots) {
        --q;
    } else if ((q + 1) * lot_ratio_ <= lots) {
        ++q;
    }
    return core::qty{q};
}

bool core_loop::check_sequence(const md::md_event& event, core::timestamp_ns now) noexcept {
    const std::uint64_t sequence = event.symbol_sequence;
    if (sequence == 0) {
        return false; // unnumbered (hand-made events)
    }
    const std::uint64_t expected = last_sequence_ + 1;
    last_sequence_ = sequence;
    if (expected == 1 || sequence == expected) {
        return false;
    }
    ++stats_.sequence_gaps;
    stats_.events_lost += sequence > expected ? sequence - expected : 0;
    // Whatever was lost (a resyncing or stale state, a book) the view of the symbol is
    // unknown: paused until the next synced, valid book.
    awaiting_valid_book_ = true;
    set_feed_paused(true, now);
    return true;
}

void core_loop::on_event(const md::md_event& event, const md::md_depth* depth,
                         core::timestamp_ns now) noexcept {
    if (event.symbol != config_.symbol) {
        return;
    }
    now_ = now;
    warmer_.note_activity(now);
    ++stats_.events;
    if (control_ != nullptr) {
        take_control(now);
    }
    (void)check_sequence(event, now);
    if (event.kind == md::md_event_kind::book && event.tradable_top()) [[likely]] {
        on_tradable_book(event, depth, now);
    } else if (event.kind == md::md_event_kind::state && event.state == md::feed_state::synced &&
               !awaiting_valid_book_ && event.tradable_top()) {
        // The book is back (a snapshot after a gap, fresh data after a stale spell) and this
        // event carries it: its top is the market from now on, as a book event's would be. A
        // requote it allows (after a fill in the gap) must not be priced against the book
        // before the gap. (After events lost on the way, the next book event resumes.)
        ++stats_.state_events;
        on_tradable_book(event, depth, now);
    } else {
        on_other_event(event, depth, now);
    }
    requote_after_fill(now);
    risk_.poll(now, oldest_unacked());
    if (flattener_.state() == exec::flatten_state::working) {
        work_flatten(now);
    }
    retry_cancels(now);
}

void core_loop::on_tradable_book(const md::md_event& event, const md::md_depth* depth,
                                 core::timestamp_ns now) noexcept {
    // Reports due before this event were received while the previous book was current: they
    // (and any order they trigger) are handled against it, as they were in time.
    if (sim_ != nullptr && sim_->next_event_time() < now) {
        (void)sim_->poll(now - 1);
    }
    // Then this event's book, before the reports due at its time are delivered (by the
    // simulated exchange as it takes the book, or by the gate's poll): an order they trigger
    // leaves now and meets the current book.
    const risk::market_view top{event.top.bid.px, event.top.ask.px};
    if (top.best_bid != market_.best_bid || top.best_ask != market_.best_ask) {
        market_ = top;
        account_.mark(portfolio::mark_price::mid(market_.best_bid, market_.best_ask));
        views_stale_ = true; // the valuation moved with the mark
    }
    refresh_views_if_stale();
    if (sim_ != nullptr) {
        feed_exchange_book(event, depth, now);
    }
    (void)gate_.poll(now);

    ++stats_.book_events;
    risk_.on_market_data(now);
    awaiting_valid_book_ = false;
    set_feed_paused(false, now);
    // The reports just delivered may have moved the working orders.
    refresh_views_if_stale();
    risk_.on_account(instrument_.trading_spec, config_.symbol, market_, account_view_, now);
    strategy_.on_book(now, market_.best_bid, market_.best_ask);
    requote(now);
}

void core_loop::on_other_event(const md::md_event& event, const md::md_depth* depth,
                               core::timestamp_ns now) noexcept {
    if (sim_ != nullptr) {
        feed_exchange(event, depth, now);
    }
    (void)gate_.poll(now);

    switch (event.kind) {
    case md::md_event_kind::state:
        ++stats_.state_events;
        if (event.state != md::feed_state::synced) {
            set_feed_paused(true, now);
        } else if (!awaiting_valid_book_) {
            set_feed_paused(false, now);
        }
        break;
    case md::md_event_kind::trade:
        ++stats_.trade_events;
        if (market_.best_bid.ticks() > 0) {
            strategy_.on_trade(now, event.trade.px);
        }
        break;
    case md::md_event_kind::book:
        ++stats_.book_events;
        ++stats_.invalid_books;
        // Not synced, crossed or a side empty: the touch the pre-trade checks and the quotes
        // were judged against is gone. Paused (the quotes pulled, nothing placed, not even
        // after a fill) until a valid book.
        awaiting_valid_book_ = true;
        set_feed_paused(true, now);
        break;
    }
}

void core_loop::requote_after_fill(core::timestamp_ns now) noexcept {
    if (!filled_since_quote_ || feed_paused_ || market_.best_bid.ticks() <= 0) {
        return;
    }
    refresh_views_if_stale();
    requote(now);
}

void core_loop::retry_cancels(core::timestamp_ns now) noexcept {
    const std::size_t gave_up = quotes_.retry_cancels(now);
    if (gave_up == 0) {
        return;
    }
    // Out of line: the alert's frame would otherwise be set up on every call.
    const auto alert = [this](core::timestamp_ns at, std::size_t count) __attribute__((noinline)) {
        stats_.cancel_give_ups += count;
        raise({.time = at,
               .kind = risk::alert_kind::cancel_gave_up,
               .severity = risk::alert_severity::critical,
               .symbol_id = config_.symbol,
               .value = static_cast<double>(quotes_.abandoned_orders()),
               .threshold = static_cast<double>(quotes_.config().max_cancel_attempts)});
    };
    alert(now, gave_up);
}

void core_loop::feed_exchange(const md::md_event& event, const md::md_depth* depth,
                              core::timestamp_ns now) noexcept {
    if (event.kind == md::md_event_kind::trade) {
        sim_->on_trade(config_.quotes.symbol, event.trade.px, to_trading_lots(event.trade.qty),
                       event.trade.aggressor, now);
        return;
    }
    if (event.kind == md::md_event_kind::book && event.book_valid()) {
        feed_exchange_book(event, depth, now);
    }
}

void core_loop::feed_exchange_book(const md::md_event& event, const md::md_depth* depth,
                                   core::timestamp_ns now) noexcept {
    // One book lot per trading lot: every size but a negative one (0 in trading lots) converts
    // to itself, so a top of book without one goes to the exchange as it is.
    if (depth == nullptr && lot_ratio_ == 1 && event.top.bid.qty.lots() >= 0 &&
        event.top.ask.qty.lots() >= 0) [[likely]] {
        sim_->on_book(config_.quotes.symbol, {&event.top.bid, event.bid_count != 0 ? 1U : 0U},
                      {&event.top.ask, event.ask_count != 0 ? 1U : 0U}, now);
        return;
    }
    feed_book(event, depth, now);
}

void core_loop::feed_book(const md::md_event& event, const md::md_depth* depth,
                          core::timestamp_ns now) noexcept {
    const auto convert = [&](core::side side, const core::book_level* levels,
                             std::size_t count) -> std::span<const core::book_level> {
        if (lot_ratio_ == 1 && std::none_of(levels, levels + count, [](const core::book_level& l) {
                return l.qty.lots() < 0;
            })) {
            return {levels, count}; // as above
        }
        fed_side& fed = fed_[side == core::side::buy ? 0 : 1];
        // The conversion is a function of the level alone: a level equal to the one fed last
        // time keeps its converted value.
        for (std::size_t i = 0; i < count; ++i) {
            if (levels[i] != fed.book[i]) {
                fed.book[i] = levels[i];
                fed.trading[i] = {levels[i].px, to_trading_lots(levels[i].qty)};
            }
        }
        return {fed.trading.data(), count};
    };
    // Both sides in one call (the same as the bid side, then the ask side): the record's top-K
    // levels when the event came with one, else its top of book.
    const std::uint32_t symbol = config_.quotes.symbol;
    if (depth != nullptr) {
        sim_->on_book(symbol, convert(core::side::buy, depth->bids.data(), depth->bid_count),
                      convert(core::side::sell, depth->asks.data(), depth->ask_count), now);
        return;
    }
    sim_->on_book(symbol, convert(core::side::buy, &event.top.bid, event.bid_count != 0 ? 1 : 0),
                  convert(core::side::sell, &event.top.ask, event.ask_count != 0 ? 1 : 0), now);
}

void core_loop::set_feed_paused(bool paused, core::timestamp_ns now) noexcept {
    if (paused == feed_paused_) {
        return;
    }
    feed_paused_ = paused;
    if (paused) {
        ++stats_.pauses;
    } else {
        ++stats_.resumes;
    }
    risk_.on_resync(paused, now);
}

void core_loop::refresh_views() noexcept {
    // What only fills, a restore or added capital move; refresh_views_if_stale() relies on it
    // staying as set here until the next call.
    account_view_.position = account_.position();
    const portfolio::account_values values = account_.values();
    account_view_.day_start_equity = day_start_equity_;
    account_view_.realized_pnl_today = values.realized_pnl - values.fees;
    count_working_orders(); // and the whole views pushed
    push_views({.equity = values.equity, .unrealized_pnl = values.unrealized_pnl});
}

void core_loop::count_working_orders() noexcept {
    orders_stale_ = false;
    counts_pushed_ = false;
    std::int64_t buys = 0;
    std::int64_t sells = 0;
    core::timestamp_ns oldest = risk::no_pending_ack;
    // An order whose placement's outcome is unknown has no acknowledgement either: the ack
    // clock runs for it as for one still in flight, and for a replacement sent in one request.
    const auto unacked = [&oldest](const exec::working_order& order) {
        if (order.status == exec::order_status::pending_new ||
            order.status == exec::order_status::unknown) {
            oldest = std::min(oldest, order.sent_ts);
        }
    };
    const auto count = [&unacked](const exec::working_order& order, std::int64_t& open) {
        if (order.status != exec::order_status::none) {
            open += (order.qty - order.cum_qty).lots();
        }
        unacked(order);
    };
    // Slots beyond the configured levels never hold an order.
    for (std::size_t level = 0; level < quote_levels_; ++level) {
        count(quotes_.order(core::side::buy, level), buys);
        count(quotes_.order(core::side::sell, level), sells);
        unacked(quotes_.incoming(core::side::buy, level));
        unacked(quotes_.incoming(core::side::sell, level));
    }
    account_view_.open_buy_qty = core::qty{buys};
    account_view_.open_sell_qty = core::qty{sells};
    oldest_unacked_ = oldest;
}

void core_loop::push_views(const portfolio::mark_values& marked) noexcept {
    views_stale_ = false;
    if (gate_.in_portfolio()) {
        // Only the portfolio exposure values a position without a book.
        account_view_.position_price = account_.current_mark().known()
                                           ? account_.mark_value()
                                           : account_.average_entry_price();
    }
    peak_equity_ = std::max(peak_equity_, marked.equity);
    account_view_.equity = marked.equity;
    account_view_.peak_equity = peak_equity_;
    account_view_.unrealized_pnl = marked.unrealized_pnl;
    if (counts_pushed_) {
        gate_.set_revalued_views(market_, account_view_); // see refresh_views_if_stale()
    } else {
        gate_.set_views(market_, account_view_);
        counts_pushed_ = true;
    }
}

void core_loop::refresh_views_if_stale() noexcept {
    if (!views_stale_) {
        return;
    }
    // Every fill, restore and capital added refreshed the views at once (refresh_views), so the
    // position and the day's figures in them are the account's: only the working orders and
    // the valuation at the mark can have moved since. Unless the working orders were counted
    // again, the gate holds the rest of the views as they are here, and takes the valuation
    // alone.
    if (orders_stale_) {
        count_working_orders();
    }
    push_views(account_.marked_values());
}

void core_loop::set_portfolio(portfolio_exposure* exposure, std::size_t slot) noexcept {
    if (exposure != nullptr && slot >= portfolio_exposure::max_symbols) {
        return;
    }
    gate_.set_portfolio(exposure, slot);
    refresh_views();
}

void core_loop::desired_from(const strategy::quote_set& set, std::size_t levels,
                             exec::desired_quotes& out) noexcept {
    // A side the set leaves out, and every level past its level_count, is all zero (see
    // strategy::quote_set): each side goes over as it is, an empty one as the empty quote.
    static_assert(exec::max_quote_levels <= strategy::max_quote_levels);
    for (std::size_t i = 0; i < levels; ++i) {
        const core::quote_level& level = set.levels[i];
        out.bids[i] = {level.bid_price, level.bid_size};
        out.asks[i] = {level.ask_price, level.ask_size};
    }
}

void core_loop::requote(core::timestamp_ns now) noexcept {
    filled_since_quote_ = false;
    risk_.follow_shared_cancels(now); // another symbol's cancels may have paused this one
    if (!orders_enabled_ || risk_.state() != risk::trading_state::running) {
        return;
    }
    refresh_views_if_stale();
    if (risk_.reducing() != spread_widened_) [[unlikely]] {
        // Reduce mode (soft drawdown) began or ended: the quotes widen, or narrow again.
        spread_widened_ = risk_.reducing();
        strategy_.set_spread_multiplier(
            spread_widened_ ? config_.risk.limits.reduce_spread_multiplier : 1.0);
    }
    // The views follow the account (refreshed above): its equity without valuing it again.
    strategy_.quote(now, account_.position(), account_view_.equity, quote_set_);
    const strategy::quote_set& set = quote_set_;
    if (set.status != strategy::quote_status::ok) {
        return;
    }
    core::mark_once(stamps_, core::tick_point::decided);
    if (journal_ != nullptr) {
        last_model_ = set.model; // for the journal's order intents alone
    }
    // Only the levels the quote manager reads are rewritten; the others stay empty.
    desired_from(set, quote_levels_, desired_);
    if (set.mode == strategy::quote_mode::flatten) [[unlikely]] {
        // The strategy asks for the whole deviation in one order; beyond the per-order limits
        // the risk gate would refuse it on every requote and the inventory would stay. Reduce
        // it in the largest pieces the limits allow instead (each still checked by the gate).
        const auto clip = [&](exec::side_quote& quote) {
            if (quote.qty.lots() <= 0) {
                return;
            }
            const std::optional<core::qty> cap = risk::largest_order_qty(
                instrument_.trading_spec, risk_.config().limits, quote.price, account_view_.equity);
            if (cap && cap->lots() < quote.qty.lots()) {
                quote.qty = *cap;
            }
        };
        const std::size_t count = std::min<std::size_t>(set.level_count, quote_levels_);
        for (std::size_t i = 0; i < count; ++i) {
            clip(desired_.bids[i]);
            clip(desired_.asks[i]);
        }
    }
    ++stats_.quote_updates;
    quotes_.update(desired_, now);
}

bool core_loop::poll(core::timestamp_ns now) noexcept {
    now_ = std::max(now_, now);
    if (control_ != nullptr) {
        take_control(now_);
    }
    (void)gate_.poll(now_);
    requote_after_fill(now_);
    risk_.poll(now_, oldest_unacked());
    if (flattener_.state() == exec::flatten_state::working) {
        work_flatten(now_);
    }
    retry_cancels(now_);
    if (warmer_.due(now_) && !stop_) {
        warm_order_path(now_); // idle: keep the order path warm (order_path_warmer.cpp)
    }
    return !stop_;
}

void core_loop::work_flatten(core::timestamp_ns now) noexcept {
    if (flattener_.state() != exec::flatten_state::working || flattener_.in_flight()) {
        return;
    }
    const auto request =
        next_flatten_order(flattener_, instrument_.trading_spec, config_.risk.limits,
                           gate_.account(), market_, config_.symbol, *this, now);
    if (!request) {
        return;
    }
    refresh_views();
    const std::uint64_t refused_before = gate_.risk_rejects();
    const exec::gateway_error sent = gate_.submit_flatten(*request, now);
    if (sent != exec::gateway_error::none) {
        // Nothing reached the venue: a full queue, its request limits or no connection, all of
        // which time clears.
        flattener_.on_held(now, now);
        return;
    }
    if (gate_.risk_rejects() != refused_before && risk::clears_with_time(gate_.last_reason())) {
        // An order-rate window is full (its refusal is reported as usual): the next order goes
        // when it has room, without spending an attempt.
        flattener_.on_held(now, gate_.new_orders_held_until());
        return;
    }
    // Sent, or refused by a check that waiting does not clear (its reject report frees the
    // flattener's slot): an attempt either way.
    flattener_.on_sent(true, now);
    ++stats_.flatten_orders;
}

void core_loop::flatten_by_operator(core::timestamp_ns now) noexcept {
    const bool engaged = risk_.trigger_kill_switch(risk::halt_reason::manual_kill, now);
    // A kill already latched does not run the kill actions again: start the flattener here; a
    // fresh one with flatten_on_kill started it through flatten_positions.
    if (!engaged && config_.risk.triggers.flatten_on_kill &&
        flattener_.state() != exec::flatten_state::working) {
        restored_flatten_attempts_ = 0; // the operator's own flatten: a new budget
        flatten_positions(risk::halt_reason::manual_kill);
    }
}

void core_loop::take_control(core::timestamp_ns now) noexcept {
    if (control_ == nullptr) {
        return;
    }
    // An operator's flatten: the kill switch engages (cancel-all) and the flattener closes the
    // position, as a kill with flatten_on_kill does. Reducing flatten orders pass the killed
    // gate only when risk.triggers.flatten_on_kill is set, so without it this is a kill.
    const auto flatten = [&](ops::command_source source) {
        ++stats_.kills;
        ++stats_.flatten_requests;
        if (journal_ != nullptr) {
            journal_->append(now, ops::command_entry{ops::control_command::flatten, source});
        }
        flatten_by_operator(now);
    };
    if (control_->kill_requested()) {
        if (const auto source = control_->take_kill_request()) {
            ++stats_.kills;
            if (journal_ != nullptr) {
                journal_->append(now, ops::command_entry{ops::control_command::kill, *source});
            }
            (void)risk_.trigger_kill_switch(risk::halt_reason::manual_kill, now);
        }
    }
    if (control_->flatten_requested()) {
        if (const auto source = control_->take_flatten_request()) {
            flatten(*source);
        }
    }
    if (control_->pause_toggle_requested()) {
        if (const auto source = control_->take_pause_toggle()) {
            // SIGUSR2: resume what the operator paused, pause anything else (a kill stays
            // latched). Not the state: paused by a stale feed, a toggle taken for a resume would
            // be refused, and trading would start again with the feed.
            const bool paused =
                risk_.switch_state().condition_active(risk::halt_reason::manual_pause);
            const ops::control_command command =
                paused ? ops::control_command::resume : ops::control_command::pause;
            if (journal_ != nullptr) {
                journal_->append(now, ops::command_entry{command, *source});
            }
            if (paused) {
                ++stats_.resume_requests;
                (void)resume(now);
            } else {
                risk_.pause(now);
            }
        }
    }
    control_->drain([&](const ops::control_message& message) {
        if (message.command == ops::control_command::flatten) {
            flatten(message.source);
            return;
        }
        if (journal_ != nullptr) {
            journal_->append(now, ops::command_entry{message.command, message.source});
        }
        switch (message.command) {
        case ops::control_command::kill:
            ++stats_.kills;
            (void)risk_.trigger_kill_switch(risk::halt_reason::manual_kill, now);
            break;
        case ops::control_command::pause:
            risk_.pause(now);
            break;
        case ops::control_command::resume:
            ++stats_.resume_requests;
            (void)resume(now);
            break;
        case ops::control_command::quit:
            note_stop();
            break;
        case ops::control_command::flatten:
            break;
        }
    });
    if (!stop_ && control_->stop_requested()) {
        note_stop();
    }
}

void core_loop::note_stop() noexcept {
    // From the moment the stop is asked, nothing new goes out: the events the session handles
    // before it calls shutdown() (the rest of the ring, the one that carried the stop) would
    // otherwise still quote, and those orders would meet the venue's trouble that may be the
    // reason for the stop. What rests stays until shutdown() cancels it.
    stop_ = true;
    shut_down_ = true;
    orders_enabled_ = false;
}

risk::resume_result core_loop::resume(core::timestamp_ns now) noexcept {
    // Asked afresh at every resume: the venue's confirmation may have come since the last. A
    // kill condition, it keeps a kill latched and names itself in the refusal (outside a kill
    // the risk engine ignores it). A cancel-all still waiting to leave the process has not even
    // reached the gateway.
    risk_.set_kill_unconfirmed(
        quotes_.cancel_all_unsent() || gate_.kill_unconfirmed(config_.quotes.symbol), now);
    return risk_.resume(now);
}

void core_loop::shutdown(core::timestamp_ns now) noexcept {
    now_ = std::max(now_, now);
    shut_down_ = true;
    orders_enabled_ = false;
    // A kill's flattening sends nothing more: a stop does not liquidate, and the latched kill
    // (saved with its flatten attempts) takes it up again at the next start. A flatten order
    // in flight still gets its reports (flatten_in_flight()).
    if (flattener_.state() == exec::flatten_state::working) {
        flattener_.stop();
    }
    cancel_all_orders(risk::halt_reason::none);
    (void)gate_.poll(now_);
}

core::timestamp_ns core_loop::oldest_unacked() noexcept {
    if (orders_stale_) {
        count_working_orders(); // the views take the counts at their next push
    }
    return oldest_unacked_;
}

// The fee a venue charged for a fill, when it told (a live venue's commission): in the quote
// asset it is the fee, in the base asset its value at the fill price (and on spot the base it took
// leaves the position: portfolio::account), in a third asset (BNB) it is kept apart in that
// asset. Untold (simulated venues), the account's rates apply.
void core_loop::charge_commission(const exec::exec_report& report,
                                  portfolio::fill& f) const noexcept {
    __extension__ using wide = __int128;
    const core::symbol_spec& spec = instrument_.trading_spec;
    const auto pow10 = [](int exponent) {
        wide out = 1;
        for (int i = 0; i < exponent; ++i) {
            out *= 10;
        }
        return out;
    };
    constexpr wide e8 = 100'000'000;
    switch (report.commission_asset) {
    case exec::fee_asset::none:
        return;
    case exec::fee_asset::quote: {
        // 10^-8 of the quote asset to notional units (10^-(price + qty decimals)), rounded up.
        const int decimals = spec.price_decimals() + spec.qty_decimals();
        const wide scaled = wide{report.commission_e8} * pow10(decimals);
        f.fee_given = true;
        f.fee_units = static_cast<std::int64_t>(scaled / e8 + (scaled % e8 > 0 ? 1 : 0));
        return;
    }
    case exec::fee_asset::base: {
        // Worth commission * price: 10^-8 of the base asset at the fill price, rounded up.
        const wide scaled = wide{report.commission_e8} * pow10(spec.qty_decimals()) *
                            report.price.ticks() * spec.tick_units();
        f.fee_given = true;
        f.fee_units = static_cast<std::int64_t>(scaled / e8 + (scaled % e8 > 0 ? 1 : 0));
        // A spot buy pays out of the base bought; a futures position never pays (BNB fees on
        // BNBUSDT come out of the BNB wallet).
        if (instrument_.venue == md::market::spot) {
            f.base_fee_e8 = report.commission_e8;
        }
        return;
    }
    case exec::fee_asset::other:
        f.fee_given = true;
        f.fee_units = 0;
        f.other_fee_e8 = report.commission_e8;
        return;
    }
}

void core_loop::on_exec_report(const exec::exec_report& report) noexcept {
    take_gate_report(report);
}

void core_loop::take_venue_report(const exec::exec_report& report) noexcept {
    gate_.deliver(report,
                  [this](const exec::exec_report& admitted) { take_gate_report(admitted); });
}

void core_loop::take_gate_report(const exec::exec_report& report) noexcept {
    quotes_.on_exec_report(report);
    const core::timestamp_ns at = report.local_ts;
    // The quote manager has just moved its working orders.
    views_stale_ = true;
    orders_stale_ = true;
    if (flattener_.owns(report.client_id)) { // it ignores every other order's report
        (void)flattener_.on_exec_report(report);
    }
    core::timestamp_ns sent = at;
    switch (report.kind) {
    case exec::exec_kind::ack: {
        ++stats_.acks;
        const std::size_t slot = report.client_id.value & 0xffU;
        sent = slot < sent_ts_.size() ? sent_ts_[slot] : at;
        risk_.on_ack(sent, at);
        if (exec_listener_ != nullptr) {
            exec_listener_->on_round_trip(at - sent);
        }
        break;
    }
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill:
        book_fill(report); // journals it too
        return;
    case exec::exec_kind::reject:
        if (report.reason != exec::reject_reason::risk_refused) {
            // A request the gateway's limiter held back never reached the venue.
            stats_.exchange_rejects += report.reason != exec::reject_reason::held_back ? 1 : 0;
            if (exec_listener_ != nullptr) {
                exec_listener_->on_venue_reject(report.reason);
            }
        }
        break;
    case exec::exec_kind::cancelled:
        ++stats_.cancels_confirmed;
        break;
    case exec::exec_kind::cancel_reject:
        if (exec_listener_ != nullptr) {
            exec_listener_->on_venue_reject(report.reason);
        }
        break;
    case exec::exec_kind::unknown:
        break;
    }
    if (journal_ != nullptr) {
        journal_report(report, sent);
    }
}

void core_loop::journal_report(const exec::exec_report& report, core::timestamp_ns sent) noexcept {
    const core::timestamp_ns at = report.local_ts;
    switch (report.kind) {
    case exec::exec_kind::ack:
        journal_->append(at, ops::ack_entry{report.client_id.value, report.exchange_id, at - sent,
                                            config_.symbol});
        break;
    case exec::exec_kind::reject:
        // The order had an order_intent line: its end is a cancel by the exchange.
        if (report.reason != exec::reject_reason::risk_refused) {
            journal_->append(at, ops::cancel_entry{report.client_id.value, config_.symbol,
                                                   ops::cancel_cause::exchange,
                                                   ops::cancel_stage::confirmed});
        }
        break;
    case exec::exec_kind::cancelled:
        journal_->append(at, ops::cancel_entry{report.client_id.value, config_.symbol,
                                               report.reason == exec::reject_reason::expired
                                                   ? ops::cancel_cause::expired
                                                   : cause_of(risk_.state()),
                                               ops::cancel_stage::confirmed});
        break;
    case exec::exec_kind::cancel_reject:
        journal_->append(at, ops::cancel_entry{report.client_id.value, config_.symbol,
                                               ops::cancel_cause::exchange,
                                               ops::cancel_stage::rejected});
        break;
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill: // book_fill's
    case exec::exec_kind::unknown:
        break;
    }
}

void core_loop::book_fill(const exec::exec_report& report) noexcept {
    const core::timestamp_ns at = report.local_ts;
    ++stats_.fills;
    for (const std::int64_t word : {at, static_cast<std::int64_t>(report.side),
                                    report.price.ticks(), report.fill_qty.lots()}) {
        stats_.fill_digest ^= static_cast<std::uint64_t>(word);
        stats_.fill_digest *= 1099511628211ULL;
    }
    portfolio::fill f;
    f.time = at;
    f.side = report.side;
    f.price = report.price;
    f.quantity = report.fill_qty;
    f.role = report.liquidity == exec::liquidity_role::taker ? portfolio::liquidity::taker
                                                             : portfolio::liquidity::maker;
    f.mid = account_.current_mark();
    charge_commission(report, f);
    portfolio::fill_result booked;
    if (booked_fills_.holds(report.venue_time_ms)) {
        ++stats_.fills_held;
        booked = account_.count_held(f);
    } else {
        const core::qty position = account_.position();
        const std::int64_t cash = account_.cash_units();
        const std::int64_t cost = account_.cost_basis_units();
        const std::int64_t fee_asset = account_.fee_asset_held_e8();
        booked = account_.apply(f);
        booked_fills_.record(report.venue_time_ms,
                             {.position = account_.position() - position,
                              .cash_units = account_.cash_units() - cash,
                              .cost_units = account_.cost_basis_units() - cost,
                              .fee_asset_e8 = account_.fee_asset_held_e8() - fee_asset});
    }
    if (journal_ != nullptr) {
        journal_->append(at,
                         ops::fill_entry{.client_order_id = report.client_id.value,
                                         .price = report.price,
                                         .qty = report.fill_qty,
                                         .position_after = booked.position,
                                         .fee = static_cast<double>(booked.fee_units) *
                                                notional_unit(instrument_.trading_spec),
                                         .symbol_id = config_.symbol,
                                         .side = report.side,
                                         .maker = report.liquidity != exec::liquidity_role::taker});
    }
    // The risk views follow the account at once, before anything else can send; the
    // quote manager places nothing until the loop requotes for the new position.
    refresh_views();
    // The loss, drawdown and inventory limits judge the fill now, not at the next book: a venue
    // tells fills when they happen, and the book may stay quiet a while after one (the stale
    // data trigger waits seconds), with every other order resting meanwhile.
    if (market_.best_bid.ticks() > 0 && market_.best_ask > market_.best_bid) {
        risk_.on_account(instrument_.trading_spec, config_.symbol, market_, account_view_, now_);
    }
    filled_since_quote_ = true;
    reopen_flatten();
}

void core_loop::reopen_flatten() noexcept {
    // A kill's flattening that had ended flat goes on when a position comes back while the kill
    // holds: an order that filled before its cancel reached the venue, or the venue's position
    // adopted after a restart. The next event or poll sends its order.
    if (flattener_.state() == exec::flatten_state::done &&
        risk_.state() == risk::trading_state::killed && account_.position().lots() != 0)
        [[unlikely]] {
        flattener_.reopen();
    }
}

void core_loop::cancel_all_orders(risk::halt_reason reason) noexcept {
    std::uint32_t open = 0;
    const ops::cancel_cause cause =
        reason == risk::halt_reason::none
            ? ops::cancel_cause::shutdown
            : (risk::is_kill_reason(reason) ? ops::cancel_cause::kill : ops::cancel_cause::pause);
    for (std::size_t level = 0; level < exec::max_quote_levels; ++level) {
        for (const core::side side : {core::side::buy, core::side::sell}) {
            const exec::working_order& order = quotes_.order(side, level);
            if (order.status == exec::order_status::none) {
                continue;
            }
            ++open;
            if (journal_ != nullptr) {
                journal_->append(now_, ops::cancel_entry{order.id.value, config_.symbol, cause,
                                                         ops::cancel_stage::requested});
            }
        }
    }
    quotes_.cancel_all(now_);
    risk_.on_cancels_sent(now_, open);
}

void core_loop::flatten_positions(risk::halt_reason) noexcept {
    if (shut_down_) {
        return; // a kill while the stop waits for its cancels: the process does not liquidate
    }
    flattener_.start(std::exchange(restored_flatten_attempts_, 0));
    work_flatten(now_);
}

void core_loop::set_new_orders_enabled(bool enabled) noexcept {
    // A stop is final: a resume or a pause that clears while the stop waits for its cancels
    // must not quote again, or the process exits with orders it placed after the cancel-all.
    orders_enabled_ = enabled && !shut_down_;
    if (orders_enabled_) {
        restored_flatten_attempts_ = 0;
        flattener_.stop();
        quotes_.resume();
    }
}

void core_loop::on_state_change(const risk::state_change& change) noexcept {
    if (journal_ != nullptr) {
        journal_->append(change);
    }
    if (change.event == risk::state_event::kill) {
        gate_.note_kill();
    }
}

void core_loop::on_rejection(const risk::rejection_record& record) noexcept {
    if (journal_ != nullptr) {
        journal_->append(record);
    }
}

void core_loop::raise(const risk::alert& raised) noexcept {
    // The risk engine and kill switch know no symbol; this loop trades exactly one. Naming it
    // tells several loops' alerts apart (and keeps a dispatcher from merging them as repeats).
    risk::alert a = raised;
    a.symbol_id = config_.symbol;
    if (journal_ != nullptr) {
        journal_->append(a);
    }
    if (alert_forward_ != nullptr) {
        alert_forward_->raise(a);
    }
}

void core_loop::on_order_sent(const exec::order_request& request, risk::order_intent intent,
                              core::timestamp_ns now) noexcept {
    // One more working order once the quote manager records it.
    views_stale_ = true;
    orders_stale_ = true;
    if (const std::size_t slot = request.id.value & 0xffU; slot < sent_ts_.size()) {
        sent_ts_[slot] = now;
    }
    if (journal_ == nullptr) {
        return;
    }
    const strategy::quote_input input =
        strategy_.make_input(now, account_.position(), account_.equity());
    ops::order_intent_entry entry{.client_order_id = request.id.value,
                                  .symbol_id = config_.symbol,
                                  .side = request.side,
                                  .post_only = request.post_only,
                                  .reduce_only = request.reduce_only,
                                  .intent = intent,
                                  .price = request.price,
                                  .qty = request.qty,
                                  .best_bid = market_.best_bid,
                                  .best_ask = market_.best_ask,
                                  .inventory = account_.position(),
                                  .mid = input.mid};
    if (intent == risk::order_intent::quote) { // a flatten order has no model behind it
        entry.volatility = input.volatility_per_sqrt_s;
        entry.reservation_price = last_model_.center_price;
        entry.half_spread = last_model_.half_spread;
        entry.skew = last_model_.center_price - input.mid;
    }
    journal_->append(now, entry);
}

void core_loop::on_cancel_sent(exec::client_order_id id, core::timestamp_ns now) noexcept {
    views_stale_ = true;
    orders_stale_ = true;
    if (journal_ != nullptr) {
        journal_->append(now, ops::cancel_entry{id.value, config_.symbol, cause_of(risk_.state()),
                                                ops::cancel_stage::requested});
    }
}

} // namespace quoter::engine
