#include "quoter/engine/paper_session.hpp"

#include "quoter/core/cpu.hpp"
#include "quoter/ops/journal.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <thread>

namespace quoter::engine {

namespace {

[[nodiscard]] core::timestamp_ns steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

paper_status snapshot(const core_loop& loop, const exec::sim_exchange& exchange,
                      const live::market_data_service& service, core::timestamp_ns now) {
    paper_status status;
    status.now = now;
    status.state = loop.state();
    status.feed_paused = loop.feed_paused();
    status.loop = loop.stats();
    status.quotes = loop.quotes().counters();
    status.exchange = exchange.stats();
    status.open_orders = exchange.open_order_count();
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

paper_summary run_paper_session(const paper_session_config& config, const std::atomic<bool>& stop,
                                const paper_status_callback& on_status,
                                ops::control_channel* control) {
    paper_summary summary;
    auto ring = std::make_unique<live::md_ring>();
    live::market_data_service service(config.market_data, *ring);
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
    if (config.engine.core_cpu >= 0) {
        const auto pinned = core::pin_current_thread(config.engine.core_cpu);
        if (!pinned.has_value()) {
            summary.error =
                "cannot pin the core thread: " + std::string(core::describe(pinned.error()));
            return summary;
        }
    }
    const md::instrument& instrument = registry.at(config.engine.symbol);
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
    exec::sim_exchange exchange(config.engine.exchange, specs);

    std::unique_ptr<ops::journal> journal;
    if (!config.engine.journal_path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = config.engine.journal_path;
        journal_config.fdatasync_interval_ms = config.engine.journal_flush_interval_ms;
        // "ts" is the engine's monotonic clock; wall_ns dates the lines.
        journal_config.stamp_wall_clock = true;
        journal_config.symbols.assign(config.engine.symbol + 1U, instrument.trading_spec);
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened.has_value() || !(*opened)->start()) {
            summary.error = "cannot open the journal " + config.engine.journal_path;
            return summary;
        }
        journal = std::move(*opened);
    }

    core_loop_config loop_config = config.engine;
    loop_config.quotes.symbol = 0;
    core_loop loop(loop_config, instrument, exchange, &exchange, journal.get(), control);

    const core::duration_ns status_ns = config.status_interval_ms * core::ns_per_ms;
    core::timestamp_ns next_status = steady_ns() + status_ns;
    md::md_event event;
    while (!stop.load(std::memory_order_relaxed)) {
        bool any = false;
        while (ring->try_pop(event)) {
            any = true;
            loop.on_event(event, steady_ns());
        }
        const core::timestamp_ns now = steady_ns();
        if (!loop.poll(now)) {
            break;
        }
        if (on_status && now >= next_status) {
            next_status = now + status_ns;
            on_status(snapshot(loop, exchange, service, now));
        }
        if (!any) {
            if (config.idle_sleep_us > 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(config.idle_sleep_us));
            } else {
                core::cpu_relax();
            }
        }
    }

    // Graceful stop: cancel everything and give the simulated cancels time to come back.
    loop.shutdown(steady_ns());
    const core::timestamp_ns deadline = steady_ns() + 100 * core::ns_per_ms;
    while (exchange.open_order_count() > 0 && steady_ns() < deadline) {
        (void)loop.poll(steady_ns());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (void)loop.poll(steady_ns());
    service.stop();
    summary.last = snapshot(loop, exchange, service, steady_ns());
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
