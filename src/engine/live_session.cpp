#include "quoter/engine/live_session.hpp"

#include "quoter/core/clock.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/engine/holdings_adoption.hpp"
#include "quoter/engine/live_feed.hpp"
#include "quoter/engine/session_services.hpp"
#include "quoter/exec/binance_holdings.hpp"
#include "quoter/portfolio/account.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>

namespace quoter::engine {

namespace {

/// The host of a URL ("testnet.binance.vision" of "wss://testnet.binance.vision:443/ws-api/v3"),
/// without its port: what tells one venue from another.
std::string_view url_host(std::string_view url) noexcept {
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
        url.remove_prefix(scheme + 3);
    }
    url = url.substr(0, url.find('/'));
    return url.substr(0, url.rfind(':') == std::string_view::npos ? url.size() : url.rfind(':'));
}

/// The state files' session of a live session: its market and its venue's host, so that a
/// testnet file is never restored into a mainnet session, nor a spot one into futures.
std::string live_state_session(const live_session_config& config) {
    if (config.futures_gateway) {
        return "live:futures:" + std::string(url_host(config.futures_gateway->rest_url));
    }
    return "live:spot:" + std::string(url_host(config.gateway.url));
}

[[nodiscard]] core::timestamp_ns wall_ns() noexcept {
    return core::wall_clock{}.now();
}

[[nodiscard]] std::size_t working_orders(const exec::quote_manager& quotes) noexcept {
    std::size_t count = 0;
    for (std::size_t level = 0; level < exec::max_quote_levels; ++level) {
        for (const core::side side : {core::side::buy, core::side::sell}) {
            if (quotes.order(side, level).status != exec::order_status::none) {
                ++count;
            }
        }
    }
    return count;
}

[[nodiscard]] live_gateway_stats gateway_stats(const exec::binance_gateway& gateway) {
    const exec::binance_gateway_counters& c = gateway.counters();
    live_gateway_stats out;
    out.connected = gateway.connected();
    out.sent = c.sent.load(std::memory_order_relaxed);
    out.answers = c.answers.load(std::memory_order_relaxed);
    out.api_errors = c.api_errors.load(std::memory_order_relaxed);
    out.timeouts = c.timeouts.load(std::memory_order_relaxed);
    out.unknowns = c.unknowns.load(std::memory_order_relaxed);
    out.status_queries = c.status_queries.load(std::memory_order_relaxed);
    out.trade_queries = c.trade_queries.load(std::memory_order_relaxed);
    out.connects = c.connects.load(std::memory_order_relaxed);
    out.disconnects = c.disconnects.load(std::memory_order_relaxed);
    out.reports_dropped = c.reports_dropped.load(std::memory_order_relaxed);
    out.replaces_sent = c.replaces_sent.load(std::memory_order_relaxed);
    out.reconciles = c.reconciles.load(std::memory_order_relaxed);
    out.foreign_fills = c.foreign_fills.load(std::memory_order_relaxed);
    out.unreadable_user_events = c.unreadable_user_events.load(std::memory_order_relaxed);
    out.rate_limited = c.rate_limited.load(std::memory_order_relaxed);
    out.backoffs = c.backoffs.load(std::memory_order_relaxed);
    out.bans = c.bans.load(std::memory_order_relaxed);
    out.request_table_full = c.request_table_full.load(std::memory_order_relaxed);
    return out;
}

live_status snapshot(const core_loop& loop, const exec::binance_gateway& gateway,
                     const live::market_data_service& service, const core::tick_latency& ticks,
                     core::timestamp_ns now, const ops::status_snapshot& published) {
    live_status status;
    status.mid = published.mid;
    status.quoted_bid = published.quoted_bid;
    status.quoted_ask = published.quoted_ask;
    status.inventory_base = published.inventory_base;
    status.tick_to_order = ticks.summary();
    status.now = now;
    status.state = loop.state();
    status.feed_paused = loop.feed_paused();
    status.loop = loop.stats();
    status.quotes = loop.quotes().counters();
    status.gateway = gateway_stats(gateway);
    status.working_orders = working_orders(loop.quotes());
    status.orders_sent = loop.gate().orders_sent(risk::order_intent::quote);
    status.flatten_orders_sent = loop.gate().orders_sent(risk::order_intent::flatten);
    status.risk_rejects = loop.gate().risk_rejects();
    status.position = loop.account().position();
    status.position_base = loop.account().position_base();
    status.equity = loop.account().equity();
    status.total_pnl = loop.account().total_pnl();
    status.fees = loop.account().fees();
    status.fee_asset_paid_e8 = loop.account().fee_asset_paid_e8();
    status.fee_asset_held_e8 = loop.account().fee_asset_held_e8();
    status.market_data = service.stats();
    status.kill_gave_up = gateway.counters().kill_gave_up.load(std::memory_order_relaxed);
    return status;
}

/// The gateway as /status and the metrics see it.
[[nodiscard]] venue_view live_venue(const core_loop& loop,
                                    const exec::binance_gateway& gateway) noexcept {
    return {.working_orders = working_orders(loop.quotes()),
            .connected = gateway.connected(),
            .api_errors = gateway.counters().api_errors.load(std::memory_order_relaxed)};
}

/// The first synced, valid, two-sided book of symbol: the feed is drained (its events reach no
/// loop) until the latest event of the symbol is such a book, which is returned, so the loop
/// that takes it next sees the events after it without a hole. nullopt when none came before
/// deadline (wall ns) or a stop.
template <class StopAsked>
[[nodiscard]] std::optional<md::md_event> first_book(live_feed& feed, std::uint32_t symbol,
                                                     core::timestamp_ns deadline,
                                                     StopAsked stop_asked) {
    md::md_event latest;
    bool seen = false;
    const auto book = [&] {
        return seen && latest.kind == md::md_event_kind::book && latest.tradable_top();
    };
    while (!stop_asked() && wall_ns() < deadline) {
        (void)feed.drain_routed(
            [&](const md::md_event& event) -> core_loop* {
                if (event.symbol == symbol) {
                    latest = event;
                    seen = true;
                }
                return nullptr;
            },
            wall_ns, [](core_loop*, const core::tick_stamps&) {});
        if (book()) {
            return latest;
        }
        feed.idle(core::ns_per_ms);
    }
    return std::nullopt;
}

/// What the venue says the account holds, adopted into the loop's account before its first
/// quote (spot: balances; futures: wallet and position).
struct starting_account {
    bool known = false;          ///< Holdings read from the venue (else the configured cash).
    double initial_cash = 0.0;   ///< Quote asset: cash plus the inventory at the first mid.
    core::qty position;          ///< Lots.
    std::int64_t cost_units = 0; ///< Cost basis of position, notional units.
    std::string description;     ///< For the log.
};

[[nodiscard]] std::string format_quote(double value) {
    return std::to_string(value);
}

/// The third fee asset (live_fee_asset) among spot balances, free + locked in 10^-8 units, when
/// it is listed and is neither of trading's two assets (then it is the position or the cash).
[[nodiscard]] std::optional<std::int64_t>
fee_asset_balance(std::span<const exec::asset_balance> balances, const core::symbol_spec& trading) {
    if (exec::fee_asset_of(live_fee_asset, trading) != exec::fee_asset::other) {
        return std::nullopt;
    }
    for (const exec::asset_balance& balance : balances) {
        if (balance.asset.view() == live_fee_asset) {
            return balance.free_e8 + balance.locked_e8;
        }
    }
    return std::nullopt;
}

/// The futures wallet of the fee asset (live_fee_asset), 10^-8 units, when it is listed: BNB
/// fees come out of it whatever the symbol, since a futures position holds no asset.
[[nodiscard]] std::optional<std::int64_t>
futures_fee_asset_balance(std::span<const exec::asset_balance> balances) {
    for (const exec::asset_balance& balance : balances) {
        if (balance.asset.view() == live_fee_asset) {
            return balance.free_e8; // the wallet balance
        }
    }
    return std::nullopt;
}

/// What the gateway's last reconciliation (and, on futures, the ACCOUNT_UPDATEs since) read of
/// the venue's holdings of the traded symbol (index 0 in the gateway's table).
[[nodiscard]] venue_holdings venue_holdings_of(const exec::binance_gateway& gateway,
                                               const core::symbol_spec& trading) {
    venue_holdings venue;
    venue.futures = gateway.futures();
    if (!venue.futures) {
        const std::vector<exec::asset_balance> balances = gateway.balances();
        const exec::spot_holdings held = exec::spot_holdings_of(balances, trading);
        if (const auto fee_asset = fee_asset_balance(balances, trading); fee_asset.has_value()) {
            venue.fee_asset_listed = true;
            venue.fee_asset_e8 = *fee_asset;
            venue.fee_asset = std::string(live_fee_asset);
        }
        venue.quote_listed = held.quote_listed;
        venue.base = held.base;
        venue.quote_units = held.quote_units;
        venue.balances_as_of_ms = held.as_of_ms;
        venue.base_asset = std::string(held.base_asset.view());
        venue.quote_asset = std::string(held.quote_asset.view());
        return venue;
    }
    // One read of both, so the wallet and the position are of one state.
    const exec::futures_account account = gateway.account();
    const exec::futures_wallet wallet = exec::futures_wallet_of(account.balances, trading);
    if (const auto fee_asset = futures_fee_asset_balance(account.balances); fee_asset.has_value()) {
        venue.fee_asset_listed = true;
        venue.fee_asset_e8 = *fee_asset;
        venue.fee_asset = std::string(live_fee_asset);
    }
    venue.wallet_listed = wallet.listed;
    venue.wallet_units = wallet.wallet_units;
    venue.wallet_as_of_ms = wallet.as_of_ms;
    for (const exec::futures_position& position : account.positions) {
        if (position.symbol == 0) {
            venue.position = position.amount;
            venue.entry_price = position.entry_price;
            venue.position_as_of_ms = position.update_time_ms;
        }
    }
    return venue;
}

/// Before the venue's holdings replace the account a state file restored: a rise of the equity
/// while the process was stopped is counted as capital (see core_loop::count_as_capital), as a
/// reconciliation counts a gain no report explains. Without it a deposit made meanwhile would
/// count as the day's profit and widen the loss the daily limit allows by as much. With the
/// position as saved, the equity moved by the cash alone, whatever the price; a fall counts as
/// a loss. A position that changed meanwhile (a fill of an order the stopped run left) is
/// valued at the first book's mid: a fill at the mid leaves the equity as it was, so what
/// remains is a deposit or a withdrawal, or what the fills made or lost against the mid, which
/// nothing tells apart. A rise is counted as capital (the limits then judge the day from the
/// higher equity: the strict side), a fall stays a loss. Without a book (none came in time)
/// nothing is counted, and the log says so.
void count_rise_as_capital(core_loop& loop, core::qty venue_position, std::int64_t venue_cash,
                           const std::optional<md::md_event>& book,
                           const std::function<void(const std::string&)>& log) {
    const portfolio::account& saved = loop.account();
    std::int64_t rise = venue_cash - saved.cash_units();
    std::string moved;
    if (saved.position() != venue_position) {
        if (!book) {
            log("account: the position moved while stopped (" +
                std::to_string(saved.position_base()) +
                " saved) and no book came to value it: a deposit made meanwhile cannot be told "
                "from profit, and would widen today's loss limit");
            return;
        }
        // At the mid, in whole units: the mean of the change valued at the bid and at the ask.
        const core::qty change{venue_position.lots() - saved.position().lots()};
        const core::symbol_spec& spec = saved.spec();
        rise += (spec.notional_units(book->best_bid().px, change) +
                 spec.notional_units(book->best_ask().px, change)) /
                2;
        moved = " with the position moved from " + std::to_string(saved.position_base()) +
                " (valued at the mid)";
    }
    if (rise > 0) {
        loop.count_as_capital(rise);
        log("account: the equity rose by " + format_quote(saved.units_to_quote(rise)) +
            " while stopped" + moved + "; counted as capital, not as today's profit");
    }
}

} // namespace

live_summary run_live_session(const live_session_config& config, const std::atomic<bool>& stop,
                              const live_status_callback& on_status,
                              ops::control_channel* control) {
    live_summary summary;
    const auto log = [&](const std::string& line) {
        if (config.log) {
            config.log(line);
        }
    };
    auto started = live_feed::start(config.market_data, config.idle, config.engine.symbol);
    if (!started.has_value()) {
        summary.error = started.error();
        return summary;
    }
    live_feed& feed = **started;
    const md::instrument& instrument = feed.instrument();
    if (instrument.status != md::symbol_status::trading) {
        // Binance rejects every order of a symbol in a break or halt; five rejects would kill
        // the session anyway, and an order sent when the status changes mid-flight is a risk
        // nobody configured.
        summary.error = std::string(instrument.trading_spec.name().view()) +
                        " is not open for trading: exchangeInfo gives its status as " +
                        std::string(md::to_string(instrument.status)) +
                        "; the session starts only when it is TRADING";
        return summary;
    }
    // The gateway's symbol table: index 0 is the traded symbol (quotes.symbol = 0).
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};

    // Journal, instance lock and state file, alert targets: before the gateway connects, so a
    // second engine on the same account and symbol never touches the venue.
    session_services_config services_config = services_config_of(config);
    services_config.state_session = live_state_session(config);
    auto opened =
        session_services::open(services_config, instrument.trading_spec, config.engine.symbol);
    if (!opened.has_value()) {
        summary.error = opened.error();
        return summary;
    }
    session_services& services = **opened;

    exec::binance_spot_gateway_config gateway_config = config.gateway;
    if (gateway_config.start_us == 0) {
        gateway_config.start_us = wall_ns() / 1'000;
    }
    std::optional<exec::binance_futures_gateway_config> futures_config = config.futures_gateway;
    if (futures_config && futures_config->start_us == 0) {
        futures_config->start_us = wall_ns() / 1'000;
    }
    exec::binance_gateway gateway = futures_config
                                        ? exec::binance_gateway(std::move(*futures_config), specs)
                                        : exec::binance_gateway(std::move(gateway_config), specs);
    gateway.start();
    const core::timestamp_ns connect_deadline =
        wall_ns() + config.connect_timeout_ms * core::ns_per_ms;
    // Connected and reconciled (open orders of earlier runs cancelled, balances read) before
    // the first quote.
    // A refused session.logon (Ed25519 key) is final for the connection: no waiting it out.
    const auto logon_refused = [&] { return gateway.counters().logon_failures.load() > 0; };
    // A USD-M account in hedge mode takes no order without a LONG or SHORT positionSide: the
    // gateway stops its reconciliation there, and waiting longer changes nothing.
    const auto hedge_mode = [&] {
        const exec::binance_futures_counters* futures = gateway.futures_counters();
        return futures != nullptr && futures->hedge_mode_answers.load() > 0;
    };
    // Before the loop takes the control channel's commands: a SIGTERM or `q` while connecting
    // ends the wait too.
    const auto stop_asked = [&] {
        return stop.load(std::memory_order_relaxed) ||
               (control != nullptr && control->stop_requested());
    };
    while (!gateway.ready() && !stop_asked() && wall_ns() < connect_deadline && !logon_refused() &&
           !hedge_mode()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!gateway.ready() && stop_asked()) {
        gateway.stop();
        feed.stop();
        summary.error = "stopped before the order gateway was ready: nothing was quoted";
        return summary;
    }
    if (!gateway.ready()) {
        const bool connected = gateway.connected();
        const bool refused = logon_refused();
        const bool hedged = hedge_mode();
        gateway.stop();
        feed.stop();
        if (hedged) {
            summary.error = "the USD-M futures account is in hedge mode (GET "
                            "/fapi/v1/positionSide/dual: dualSidePosition true): quoter trades "
                            "one net position a symbol; switch the account to one-way mode "
                            "(Binance's position mode setting) and start again";
        } else if (refused) {
            summary.error = "order gateway: logon_failed: " + gateway.url() +
                            " refused session.logon (is the Ed25519 key the one registered for "
                            "this API key?)";
        } else {
            summary.error =
                "order gateway: " +
                std::string(connected ? "no reconciliation with " : "no session with ") +
                gateway.url() + " within " + std::to_string(config.connect_timeout_ms) + " ms";
        }
        return summary;
    }
    const exec::binance_gateway_counters& counters = gateway.counters();
    log("gateway: connected to " + gateway.url() + "; reconciled: " +
        std::to_string(counters.reconcile_found.load()) + " open orders found, " +
        std::to_string(counters.reconcile_cancelled.load()) + " of earlier runs cancelled, " +
        std::to_string(counters.foreign_orders.load()) + " foreign left alone");
    for (const exec::asset_balance& balance : gateway.balances()) {
        log("balance: " + std::string(balance.asset.view()) +
            (config.futures_gateway ? " wallet " : " free ") +
            std::to_string(static_cast<double>(balance.free_e8) / 1e8) +
            (config.futures_gateway ? " cross wallet " : " locked ") +
            std::to_string(static_cast<double>(balance.locked_e8) / 1e8));
    }
    if (const ops::engine_state* restored = services.restored(); restored != nullptr) {
        // Checked against the venue: the orders the saved run left open were looked for by the
        // reconciliation above (and cancelled).
        log("state: " + std::to_string(restored->open_orders.size()) +
            " orders open at the last save; the venue held " +
            std::to_string(counters.reconcile_found.load()) + " open orders of earlier runs, " +
            std::to_string(counters.reconcile_cancelled.load()) + " cancelled");
    }

    if (std::string failed = pin_core_thread(config.engine.core_cpu); !failed.empty()) {
        summary.error = std::move(failed);
        return summary;
    }

    // The account starts from what the venue holds, so every limit (position, notional, loss)
    // holds from the first order and PnL counts nothing held at the start as a gain. Spot: the
    // base asset is the position, valued at the first mid of the synced book (its cost basis,
    // so it starts with no unrealized PnL), the quote asset the cash. Futures: the wallet
    // balance is the cash; the position is adopted at the venue's entry price (both of one
    // GET /fapi/v2/account).
    const core::symbol_spec& trading = instrument.trading_spec;
    starting_account start;
    std::optional<md::md_event> first_event;
    if (!config.futures_gateway) {
        const exec::spot_holdings held = exec::spot_holdings_of(gateway.balances(), trading);
        if (held.quote_listed) {
            portfolio::account valued(trading, {});
            valued.restore(held.base, 0, held.quote_units);
            if (held.base.lots() > 0) {
                first_event = first_book(feed, config.engine.symbol, connect_deadline, stop_asked);
                if (!first_event) {
                    gateway.stop();
                    feed.stop();
                    summary.error = stop_asked()
                                        ? "stopped before the first book: nothing was quoted"
                                        : "market data: no synced book of " +
                                              std::string(trading.name().view()) + " within " +
                                              std::to_string(config.connect_timeout_ms) +
                                              " ms to value the starting inventory";
                    return summary;
                }
                valued.mark(portfolio::mark_price::mid(first_event->best_bid().px,
                                                       first_event->best_ask().px));
            }
            start.known = true;
            start.position = held.base;
            start.cost_units = valued.inventory_value_units();
            start.initial_cash = valued.equity();
            start.description = std::string(held.base_asset.view()) + " " +
                                std::to_string(trading.to_double(held.base)) + " (valued " +
                                format_quote(valued.equity() - valued.cash()) + " at mid " +
                                std::to_string(valued.mark_value()) + "), " +
                                std::string(held.quote_asset.view()) + " " +
                                format_quote(valued.cash());
        } else {
            log("balance: neither asset of " + std::string(trading.name().view()) +
                " listed; the account starts from the configured cash with no inventory");
        }
    } else {
        const exec::futures_account account = gateway.account();
        const exec::futures_wallet wallet = exec::futures_wallet_of(account.balances, trading);
        if (wallet.listed) {
            portfolio::account valued(trading, {});
            valued.restore(core::qty{0}, 0, wallet.wallet_units);
            start.known = true;
            start.initial_cash = valued.cash();
            start.description =
                "wallet " + std::string(wallet.asset.view()) + " " + format_quote(valued.cash());
        } else {
            log("balance: no wallet balance in " + std::string(trading.name().view()) +
                "'s margin asset; the account starts from the configured cash");
        }
        for (const exec::futures_position& held : account.positions) {
            if (held.symbol == 0 && held.amount.lots() != 0) {
                start.position = held.amount;
                start.cost_units = trading.notional_units(held.entry_price, held.amount);
                log("position: adopted " + std::to_string(trading.to_double(held.amount)) +
                    " at entry " + std::to_string(trading.to_double(held.entry_price)));
            }
        }
    }

    core_loop_config loop_config = config.engine;
    loop_config.quotes.symbol = 0;
    if (start.known) {
        loop_config.account.initial_cash = start.initial_cash;
    }
    core_loop loop(loop_config, instrument, gateway, nullptr, services.journal(), control);
    loop.set_alert_sink(&services.alerts());
    services.restore_account(loop);
    services.restore_kill(loop, wall_ns());
    auto ticks = std::make_unique<core::tick_latency>();
    services.set_tick_latency(ticks.get());
    if (std::string failed = services.start(loop, control, feed.view(), live_venue(loop, gateway));
        !failed.empty()) {
        summary.error = std::move(failed);
        return summary;
    }
    summary.http_endpoint = services.http_endpoint();

    // The gateway's critical events, which the operators hear of at once (alert sinks and the
    // journal), not only in a counter: a kill's cancel-all the venue never confirmed (orders may
    // still rest), a 418 ban (nothing is sent until its retryAfter), a reconciliation given
    // up (nothing is quoted until the next connect), and order reports lost on the way to the
    // core (the position may be wrong). Each new occurrence raises one alert.
    std::uint64_t kill_gave_up_seen = 0;
    std::uint64_t bans_seen = 0;
    std::uint64_t reconcile_gave_up_seen = 0;
    std::uint64_t logon_failures_seen = 0;
    std::uint64_t reports_dropped_seen = 0;
    const auto raise_critical = [&](core::timestamp_ns now, risk::alert_kind kind, double value,
                                    double threshold) {
        risk::alert alert;
        alert.time = now;
        alert.kind = kind;
        alert.severity = risk::alert_severity::critical;
        alert.reason = loop.risk().switch_state().kill_reason();
        alert.value = value;
        alert.threshold = threshold;
        services.alerts().raise(alert);
        if (ops::journal* journal = services.journal(); journal != nullptr) {
            journal->append(alert);
        }
    };
    const auto check_gateway_alarms = [&](core::timestamp_ns now) {
        const auto changed = [](const std::atomic<std::uint64_t>& counter, std::uint64_t& seen) {
            const std::uint64_t value = counter.load(std::memory_order_relaxed);
            const bool grew = value != seen;
            seen = value;
            return grew;
        };
        if (changed(counters.kill_gave_up, kill_gave_up_seen)) {
            raise_critical(now, risk::alert_kind::cancel_gave_up,
                           static_cast<double>(working_orders(loop.quotes())),
                           static_cast<double>(config.gateway.kill_confirm_attempts));
        }
        if (changed(counters.bans, bans_seen)) {
            raise_critical(now, risk::alert_kind::venue_ban, static_cast<double>(bans_seen), 0.0);
        }
        if (changed(counters.reconcile_gave_up, reconcile_gave_up_seen)) {
            raise_critical(now, risk::alert_kind::reconcile_gave_up,
                           static_cast<double>(reconcile_gave_up_seen),
                           static_cast<double>(config.gateway.reconcile_max_retries));
        }
        if (changed(counters.logon_failures, logon_failures_seen)) {
            raise_critical(now, risk::alert_kind::logon_failed,
                           static_cast<double>(logon_failures_seen), 0.0);
        }
        if (changed(counters.reports_dropped, reports_dropped_seen)) {
            raise_critical(now, risk::alert_kind::reports_lost,
                           static_cast<double>(reports_dropped_seen), 0.0);
        }
    };
    // After any state file's account (restore_account): the venue's holdings are the truth.
    // cash = initial cash - cost basis, so nothing is realized and equity starts at the
    // initial cash (up to the valuation at the entry price on futures).
    if (start.known || start.position.lots() != 0) {
        const std::int64_t cash = loop.account().initial_cash_units() - start.cost_units;
        if (start.known && services.restored() != nullptr) {
            if (!first_event && loop.account().position() != start.position) {
                // The change of the position is valued at the mid; this book is then the
                // loop's first event too. A wait of its own: the connect may have used up
                // most of its time.
                first_event =
                    first_book(feed, config.engine.symbol,
                               wall_ns() + config.connect_timeout_ms * core::ns_per_ms, stop_asked);
            }
            count_rise_as_capital(loop, start.position, cash, first_event, log);
        }
        loop.restore(start.position, start.cost_units, cash, 0);
        if (start.known) {
            log("account: starting from the venue's balances: " + start.description);
        }
        // The PnL now counts from zero at the venue's equity: a trading day restored from the
        // state file keeps the loss made before the restart (its start-of-day equity against
        // the equity now), or a restart would reset the daily loss limit.
        loop.risk().rebase_day(0.0, loop_config.account.initial_cash);
    }
    // Fees paid in the third asset come out of it, apart from the money (no price for it):
    // on spot its balance, on futures its wallet.
    if (const auto held = config.futures_gateway
                              ? futures_fee_asset_balance(gateway.account().balances)
                              : fee_asset_balance(gateway.balances(), trading);
        held.has_value()) {
        loop.restore_fee_asset(*held);
        log("account: fees in " + std::string(live_fee_asset) + " come out of its " +
            (config.futures_gateway ? "wallet " : "balance ") +
            std::to_string(static_cast<double>(*held) * 1e-8) +
            ", apart from PnL (no price for it)");
    }

    // Every later reconciliation (a reconnect, a user stream or listenKey made anew) reads the
    // venue's holdings again, which are adopted where they differ from the account's
    // (engine/holdings_adoption.hpp). Off the order path: once per reconciliation, with the
    // gateway's lock.
    std::uint64_t reconciles_seen = counters.reconciles.load(std::memory_order_relaxed);
    const auto adopt_reconciled_holdings = [&](core::timestamp_ns now) {
        // ready() (acquire) follows the count and every report the reconciliation queued.
        if (!gateway.ready() ||
            counters.reconciles.load(std::memory_order_relaxed) == reconciles_seen) {
            return;
        }
        reconciles_seen = counters.reconciles.load(std::memory_order_relaxed);
        (void)loop.poll(now); // first every report the reconciliation's queries queued
        const holdings_adoption adoption =
            adopt_venue_holdings(loop, venue_holdings_of(gateway, trading));
        if (adoption.adopted) {
            log("account: reconciliation " + std::to_string(reconciles_seen) +
                ": the venue holds " + adoption.description + "; the account had position " +
                std::to_string(trading.to_double(adoption.had)) + ": adopted the venue's, with " +
                std::to_string(trading.to_double(adoption.booked_after)) +
                " booked since the reading, position " +
                std::to_string(trading.to_double(adoption.held)) +
                (adoption.capital_added > 0
                     ? "; equity up " +
                           std::to_string(loop.account().units_to_quote(adoption.capital_added)) +
                           " that no fill explains, counted as capital, not PnL"
                     : std::string{}));
        } else if (!adoption.not_adopted.empty()) {
            log("account: reconciliation " + std::to_string(reconciles_seen) +
                ": the venue holds " + adoption.description +
                "; not adopted: " + adoption.not_adopted);
        }
    };

    const core::duration_ns status_ns = config.status_interval_ms * core::ns_per_ms;
    core::timestamp_ns next_status = wall_ns() + status_ns;
    const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
    // A tick that sent an order waits (fixed table) for the gateway's I/O thread to stamp its
    // bytes written (core/tick_latency.hpp) before it is recorded.
    auto waiting = std::make_unique<core::pending_written>();
    std::array<exec::written_stamp, 32> written{};
    const core::tsc_clock& clock = core::tsc_clock::process();
    // A stamp not back within this long is not coming (request refused unsent, connection lost).
    constexpr core::duration_ns written_timeout_ns = 100 * core::ns_per_ms;
    const auto collect_written = [&](core::timestamp_ns expire_before) {
        for (std::size_t n = gateway.poll_written(written); n > 0;
             n = gateway.poll_written(written)) {
            for (std::size_t i = 0; i < n; ++i) {
                (void)waiting->on_written(written[i].request_id, written[i].at, *ticks);
            }
        }
        waiting->expire(expire_before, *ticks);
    };
    std::uint64_t first_request = 0;
    const auto tick_started = [&] { first_request = gateway.next_request_id(); };
    const auto tick_finished = [&](const core::tick_stamps& stamps) {
        if (stamps[core::tick_point::encoded] != 0 && gateway.next_request_id() != first_request) {
            waiting->add(first_request, stamps, *ticks);
        } else {
            ticks->record(stamps);
        }
        services.on_tick(stamps);
    };
    if (first_event) {
        // The book the starting inventory was valued at: the loop's first event, so the account
        // is marked at that mid before the first quote.
        loop.on_event(*first_event, wall_ns());
    }
    while (!stop.load(std::memory_order_relaxed)) {
        const bool any = feed.drain(loop, wall_ns, tick_started, tick_finished);
        collect_written(clock.now() - written_timeout_ns);
        const core::timestamp_ns now = wall_ns();
        if (!loop.poll(now)) {
            break;
        }
        check_gateway_alarms(now);
        adopt_reconciled_holdings(now);
        if (services.publish_due(loop, now)) {
            services.publish(loop, feed.view(), live_venue(loop, gateway));
        }
        if (on_status && now >= next_status) {
            next_status = now + status_ns;
            on_status(snapshot(loop, gateway, feed.service(), *ticks, now, services.last()));
        }
        if (!any) {
            feed.idle(max_block_ns);
        }
    }

    // Graceful stop: cancel everything on the venue and wait (bounded) for the confirmations:
    // of every order the quote manager tracks, and the venue's own, that none of this
    // instance's orders rests (the cancel-all's confirming query also sees an order of unknown
    // outcome the venue took late), and for the outcome of a flatten order in flight, whose
    // fill (told by the user stream after a spot ACK) the account and the state file need.
    const std::uint64_t confirmed_before = counters.kills_confirmed.load(std::memory_order_relaxed);
    const auto venue_confirmed = [&] {
        return counters.kills_confirmed.load(std::memory_order_relaxed) != confirmed_before;
    };
    loop.shutdown(wall_ns());
    const core::timestamp_ns deadline = wall_ns() + config.stop_timeout_ms * core::ns_per_ms;
    while ((working_orders(loop.quotes()) > 0 || loop.flatten_in_flight() || !venue_confirmed()) &&
           wall_ns() < deadline) {
        (void)loop.poll(wall_ns());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    services.close_intake(); // the last poll takes every command accepted
    (void)loop.poll(wall_ns());
    collect_written(std::numeric_limits<core::timestamp_ns>::max());
    check_gateway_alarms(wall_ns());
    summary.stopped_clean =
        working_orders(loop.quotes()) == 0 && !loop.flatten_in_flight() && venue_confirmed();
    if (loop.flatten_in_flight()) {
        log("stop: a flatten order's outcome did not come within " +
            std::to_string(config.stop_timeout_ms) + " ms: the position saved may miss its fill");
    }
    if (!summary.stopped_clean) {
        // Spot has no dead-man's switch: what rests stays until someone acts.
        raise_critical(wall_ns(), risk::alert_kind::stop_unconfirmed,
                       static_cast<double>(working_orders(loop.quotes())),
                       static_cast<double>(config.stop_timeout_ms));
    }
    if (working_orders(loop.quotes()) > 0) {
        log("stop: " + std::to_string(working_orders(loop.quotes())) +
            " orders not confirmed cancelled within " + std::to_string(config.stop_timeout_ms) +
            " ms");
    } else if (!venue_confirmed()) {
        log("stop: the venue did not confirm within " + std::to_string(config.stop_timeout_ms) +
            " ms that none of this instance's orders rests");
    }
    summary.last = snapshot(loop, gateway, feed.service(), *ticks, wall_ns(), services.last());
    services.stop(loop, feed.view(), live_venue(loop, gateway));
    gateway.stop();
    feed.stop();
    if (on_status) {
        on_status(summary.last);
    }
    summary.ok = true;
    return summary;
}

} // namespace quoter::engine
