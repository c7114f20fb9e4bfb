#include "quoter/engine/live_session.hpp"

#include "quoter/core/clock.hpp"
#include "quoter/core/cpu.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/ops/alerts.hpp"
#include "quoter/ops/journal.hpp"

#include <array>
#include <chrono>
#include <limits>
#include <memory>
#include <thread>

namespace quoter::engine {

namespace {

[[nodiscard]] core::timestamp_ns wall_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
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

[[nodiscard]] live_gateway_stats gateway_stats(const exec::binance_spot_gateway& gateway) {
    const exec::binance_gateway_counters& c = gateway.counters();
    live_gateway_stats out;
    out.connected = gateway.connected();
    out.sent = c.sent.load(std::memory_order_relaxed);
    out.answers = c.answers.load(std::memory_order_relaxed);
    out.api_errors = c.api_errors.load(std::memory_order_relaxed);
    out.timeouts = c.timeouts.load(std::memory_order_relaxed);
    out.unknowns = c.unknowns.load(std::memory_order_relaxed);
    out.status_queries = c.status_queries.load(std::memory_order_relaxed);
    out.connects = c.connects.load(std::memory_order_relaxed);
    out.disconnects = c.disconnects.load(std::memory_order_relaxed);
    out.reports_dropped = c.reports_dropped.load(std::memory_order_relaxed);
    return out;
}

live_status snapshot(const core_loop& loop, const exec::binance_spot_gateway& gateway,
                     const live::market_data_service& service, const core::tick_latency& ticks,
                     core::timestamp_ns now) {
    live_status status;
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
    status.equity = loop.account().equity();
    status.total_pnl = loop.account().total_pnl();
    status.market_data = service.stats();
    return status;
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
    auto ring = std::make_unique<live::md_ring>();
    auto wakeup = std::make_unique<core::wakeup>();
    live::service_config market_data = config.market_data;
    market_data.wakeup = config.idle == core::idle_policy::block ? wakeup.get() : nullptr;
    live::market_data_service service(market_data, *ring);
    const auto started = service.start();
    if (!started.has_value()) {
        summary.error = std::string("market data: ") + std::string(live::describe(started.error()));
        return summary;
    }
    const md::symbol_registry& registry = service.registry();
    if (!registry.contains(config.engine.symbol)) {
        summary.error = "engine.symbol is not one of the subscribed symbols";
        return summary;
    }
    const md::instrument& instrument = registry.at(config.engine.symbol);
    // The gateway's symbol table: index 0 is the traded symbol (quotes.symbol = 0).
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};

    exec::binance_spot_gateway_config gateway_config = config.gateway;
    if (gateway_config.start_us == 0) {
        gateway_config.start_us = wall_ns() / 1'000;
    }
    exec::binance_spot_gateway gateway(std::move(gateway_config), specs);
    gateway.start();
    const core::timestamp_ns connect_deadline =
        wall_ns() + config.connect_timeout_ms * core::ns_per_ms;
    // Connected and reconciled (open orders of earlier runs cancelled, balances read) before
    // the first quote.
    while (!gateway.ready() && !stop.load(std::memory_order_relaxed) &&
           wall_ns() < connect_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!gateway.ready()) {
        const bool connected = gateway.connected();
        gateway.stop();
        service.stop();
        summary.error = "order gateway: " +
                        std::string(connected ? "no reconciliation with " : "no session with ") +
                        config.gateway.url + " within " +
                        std::to_string(config.connect_timeout_ms) + " ms";
        return summary;
    }
    const exec::binance_gateway_counters& counters = gateway.counters();
    log("gateway: connected to " + config.gateway.url + "; reconciled: " +
        std::to_string(counters.reconcile_found.load()) + " open orders found, " +
        std::to_string(counters.reconcile_cancelled.load()) + " of earlier runs cancelled, " +
        std::to_string(counters.foreign_orders.load()) + " foreign left alone");
    for (const exec::asset_balance& balance : gateway.balances()) {
        log("balance: " + std::string(balance.asset.view()) + " free " +
            std::to_string(static_cast<double>(balance.free_e8) / 1e8) + " locked " +
            std::to_string(static_cast<double>(balance.locked_e8) / 1e8));
    }

    if (config.engine.core_cpu >= 0) {
        const auto pinned = core::pin_current_thread(config.engine.core_cpu);
        if (!pinned.has_value()) {
            summary.error =
                "cannot pin the core thread: " + std::string(core::describe(pinned.error()));
            return summary;
        }
    }

    std::unique_ptr<ops::journal> journal;
    if (!config.engine.journal_path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = config.engine.journal_path;
        journal_config.fdatasync_interval_ms = config.engine.journal_flush_interval_ms;
        journal_config.stamp_wall_clock = true;
        journal_config.symbols.assign(config.engine.symbol + 1U, instrument.trading_spec);
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened.has_value() || !(*opened)->start()) {
            summary.error = "cannot open the journal " + config.engine.journal_path;
            return summary;
        }
        journal = std::move(*opened);
    }

    ops::stderr_alert_sink alerts;
    core_loop_config loop_config = config.engine;
    loop_config.quotes.symbol = 0;
    core_loop loop(loop_config, instrument, gateway, nullptr, journal.get(), control);
    loop.set_alert_sink(&alerts);

    const core::duration_ns status_ns = config.status_interval_ms * core::ns_per_ms;
    core::timestamp_ns next_status = wall_ns() + status_ns;
    core::idle_waiter waiter(config.idle, wakeup.get());
    const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
    // Hop histograms as in the paper session; a tick that sent an order waits (fixed table) for
    // the gateway's I/O thread to stamp its bytes written (core/tick_latency.hpp).
    auto ticks = std::make_unique<core::tick_latency>();
    auto waiting = std::make_unique<core::pending_written>();
    std::array<exec::written_stamp, 32> written{};
    const core::tsc_clock& clock = core::tsc_clock::process();
    // A stamp not back within this long is not coming (request refused unsent, connection lost).
    constexpr core::duration_ns written_timeout_ns = 100 * core::ns_per_ms;
    while (!stop.load(std::memory_order_relaxed)) {
        bool any = false;
        // Read in place: the slot stays the core's until pop().
        while (const md::md_event* event = ring->front()) {
            any = true;
            core::tick_stamps stamps;
            stamps[core::tick_point::socket_read] = event->read_ns;
            stamps[core::tick_point::decoded] = event->decoded_ns;
            stamps[core::tick_point::pushed] = event->pushed_ns;
            stamps[core::tick_point::popped] = clock.now();
            const std::uint64_t first_request = gateway.next_request_id();
            loop.set_tick_stamps(&stamps);
            loop.on_event(*event, wall_ns());
            loop.set_tick_stamps(nullptr);
            ring->pop();
            if (stamps[core::tick_point::encoded] != 0 &&
                gateway.next_request_id() != first_request) {
                waiting->add(first_request, stamps, *ticks);
            } else {
                ticks->record(stamps);
            }
        }
        for (std::size_t n = gateway.poll_written(written); n > 0;
             n = gateway.poll_written(written)) {
            for (std::size_t i = 0; i < n; ++i) {
                (void)waiting->on_written(written[i].request_id, written[i].at, *ticks);
            }
        }
        waiting->expire(clock.now() - written_timeout_ns, *ticks);
        const core::timestamp_ns now = wall_ns();
        if (!loop.poll(now)) {
            break;
        }
        if (on_status && now >= next_status) {
            next_status = now + status_ns;
            on_status(snapshot(loop, gateway, service, *ticks, now));
        }
        if (!any) {
            waiter.idle([&] { return ring->front() != nullptr; }, max_block_ns);
        }
    }

    // Graceful stop: cancel everything on the venue and wait (bounded) for the confirmations.
    loop.shutdown(wall_ns());
    const core::timestamp_ns deadline = wall_ns() + config.stop_timeout_ms * core::ns_per_ms;
    while (working_orders(loop.quotes()) > 0 && wall_ns() < deadline) {
        (void)loop.poll(wall_ns());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (void)loop.poll(wall_ns());
    for (std::size_t n = gateway.poll_written(written); n > 0; n = gateway.poll_written(written)) {
        for (std::size_t i = 0; i < n; ++i) {
            (void)waiting->on_written(written[i].request_id, written[i].at, *ticks);
        }
    }
    waiting->expire(std::numeric_limits<core::timestamp_ns>::max(), *ticks);
    summary.stopped_clean = working_orders(loop.quotes()) == 0;
    if (!summary.stopped_clean) {
        log("stop: " + std::to_string(working_orders(loop.quotes())) +
            " orders not confirmed cancelled within " + std::to_string(config.stop_timeout_ms) +
            " ms");
    }
    summary.last = snapshot(loop, gateway, service, *ticks, wall_ns());
    gateway.stop();
    service.stop();
    if (on_status) {
        on_status(summary.last);
    }
    if (journal) {
        journal->stop();
    }
    summary.ok = true;
    return summary;
}

} // namespace quoter::engine
