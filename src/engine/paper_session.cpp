#include "quoter/engine/paper_session.hpp"

#include "quoter/core/clock.hpp"
#include "quoter/engine/live_feed.hpp"
#include "quoter/engine/session_services.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <thread>

namespace quoter::engine {

namespace {

/// The core's clock: monotonic (steady) but counted from the Unix epoch, read once at start,
/// so the risk engine's trading day (daily_reset_utc_minute) turns at the UTC time it is set
/// for and the trading day saved in the state file means the same day after a restart. A raw
/// steady clock counts from boot: its "days" turned at an arbitrary hour.
[[nodiscard]] core::timestamp_ns steady_ns() noexcept {
    static const core::duration_ns epoch_offset =
        core::wall_clock{}.now() - core::monotonic_clock{}.now();
    return epoch_offset + core::monotonic_clock{}.now();
}

paper_status snapshot(const core_loop& loop, const exec::sim_exchange& exchange,
                      const live::market_data_service& service, const core::tick_latency& ticks,
                      core::timestamp_ns now, const ops::status_snapshot& published) {
    paper_status status;
    status.mid = published.mid;
    status.quoted_bid = published.quoted_bid;
    status.quoted_ask = published.quoted_ask;
    status.inventory_base = published.inventory_base;
    status.round_trip_p50_ns = published.round_trip_p50_ns;
    status.round_trip_p99_ns = published.round_trip_p99_ns;
    status.now = now;
    status.tick_to_order = ticks.summary();
    status.tick_to_order.kernel_to_read = service.stats().kernel_to_read;
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

/// The simulated exchange as /status sees it: in process, so always connected.
[[nodiscard]] venue_view paper_venue(const exec::sim_exchange& exchange) noexcept {
    return {.working_orders = exchange.open_order_count(), .connected = true, .api_errors = 0};
}

} // namespace

paper_summary run_paper_session(const paper_session_config& config, const std::atomic<bool>& stop,
                                const paper_status_callback& on_status,
                                ops::control_channel* control) {
    paper_summary summary;
    auto started = live_feed::start(config.market_data, config.idle, config.engine.symbol);
    if (!started.has_value()) {
        summary.error = started.error();
        return summary;
    }
    live_feed& feed = **started;
    if (std::string failed = pin_core_thread(config.engine.core_cpu); !failed.empty()) {
        summary.error = std::move(failed);
        return summary;
    }
    const md::instrument& instrument = feed.instrument();
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
    exec::sim_exchange exchange(config.engine.exchange, specs);

    // Journal, instance lock and state file, alert targets: before any order can be sent.
    auto opened = session_services::open(services_config_of(config), instrument.trading_spec,
                                         config.engine.symbol);
    if (!opened.has_value()) {
        summary.error = opened.error();
        return summary;
    }
    session_services& services = **opened;

    core_loop_config loop_config = config.engine;
    loop_config.quotes.symbol = 0;
    // The recorder sees the orders that passed the risk gate and every report, for the report
    // at exit; its alert tally forwards to the operators' sinks.
    const bool keep = config.keep_report;
    run_recorder recorder(exchange, instrument.trading_spec,
                          record_options{.pnl = keep, .fills = keep, .orders = keep});
    core_loop loop(loop_config, instrument, recorder, &exchange, services.journal(), control);
    recorder.attach(&loop.account());
    recorder.alerts().set_next(&services.alerts());
    loop.set_alert_sink(&recorder.alerts());
    core::timestamp_ns next_sample = 0;
    const auto sample = [&](core::timestamp_ns at) {
        core::price best[2]{core::price{0}, core::price{0}};
        for (const core::side side : {core::side::buy, core::side::sell}) {
            bool found = false;
            exchange.for_each_open_order(0, side, [&](const exec::sim_order& order) {
                if (!found) {
                    best[side == core::side::buy ? 0 : 1] = order.request.price;
                    found = true;
                }
            });
        }
        recorder.sample(at, best[0], best[1]);
    };

    services.restore_account(loop);
    if (const ops::engine_state* restored = services.restored();
        restored != nullptr && !restored->open_orders.empty()) {
        // The simulated exchange went down with the process: orders it held are gone.
        std::string ids;
        for (const ops::state_order& order : restored->open_orders) {
            ids += (ids.empty() ? "" : " ") + order.client_id;
        }
        if (config.log) {
            config.log("state: " + std::to_string(restored->open_orders.size()) +
                       " orders open before the restart are gone with the simulated exchange "
                       "(cancelled, not restored): " +
                       ids);
        }
    }
    services.restore_kill(loop, steady_ns());

    // Hop histograms (about 340 KB) for the status line, /metrics and the exit report.
    auto ticks = std::make_unique<core::tick_latency>();
    services.set_tick_latency(ticks.get());
    if (std::string failed = services.start(loop, control, feed.view(), paper_venue(exchange));
        !failed.empty()) {
        summary.error = std::move(failed);
        return summary;
    }
    summary.http_endpoint = services.http_endpoint();

    const core::duration_ns status_ns = config.status_interval_ms * core::ns_per_ms;
    core::timestamp_ns next_status = steady_ns() + status_ns;
    const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
    while (!stop.load(std::memory_order_relaxed)) {
        const bool any = feed.drain(loop, *ticks, services, steady_ns);
        const core::timestamp_ns now = steady_ns();
        if (!loop.poll(now)) {
            break;
        }
        if (keep && now >= next_sample && loop.account().current_mark().half_ticks > 0) {
            sample(now);
            next_sample = now + core::ns_per_s;
        }
        if (services.publish_due(loop, now)) {
            services.publish(loop, feed.view(), paper_venue(exchange));
        }
        if (on_status && now >= next_status) {
            next_status = now + status_ns;
            on_status(snapshot(loop, exchange, feed.service(), *ticks, now, services.last()));
        }
        if (!any) {
            feed.idle(max_block_ns);
        }
    }

    // Graceful stop: cancel everything and wait for the cancels to come back. The bound only
    // guards against a venue that never answers; a loaded machine can take far longer than the
    // simulated latency, and leaving before the confirmations would report orders still open.
    loop.shutdown(steady_ns());
    const core::timestamp_ns deadline = steady_ns() + 5'000 * core::ns_per_ms;
    while (exchange.open_order_count() > 0 && steady_ns() < deadline) {
        (void)loop.poll(steady_ns());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (void)loop.poll(steady_ns());
    if (const std::size_t left = exchange.open_order_count(); left > 0 && config.log) {
        config.log("stop: " + std::to_string(left) + " orders still open after 5 s of cancelling");
    }
    services.stop(loop, feed.view(), paper_venue(exchange));
    feed.stop();
    summary.last = snapshot(loop, exchange, feed.service(), *ticks, steady_ns(), services.last());
    if (keep) {
        if (next_sample != 0) {
            sample(steady_ns());
        }
        sim::metrics_config settings;
        settings.initial_capital = config.engine.account.initial_cash;
        settings.soft_limit_pct = config.engine.strategy.bands.soft_limit_pct;
        settings.hard_limit_pct = config.engine.strategy.bands.hard_limit_pct;
        summary.report.metrics =
            sim::compute_metrics(recorder.pnl(), recorder.fills(), recorder.activity(), settings);
        summary.report.pnl = recorder.take_pnl();
        summary.report.fills = recorder.take_fills();
        summary.report.orders = recorder.take_orders();
        summary.report.alerts = recorder.alerts();
    }
    if (on_status) {
        on_status(summary.last);
    }
    summary.ok = true;
    return summary;
}

} // namespace quoter::engine
