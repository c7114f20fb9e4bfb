#include "quoter/engine/paper_session.hpp"

#include "quoter/core/clock.hpp"
#include "quoter/engine/kill_domain.hpp"
#include "quoter/engine/live_feed.hpp"
#include "quoter/engine/session_services.hpp"
#include "quoter/ops/journal.hpp"

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

/// One traded symbol: its recorder in front of the shared simulated exchange, and its loop.
struct paper_lane {
    paper_lane(const core_loop_config& config, const md::instrument& instrument,
               exec::sim_exchange& exchange, record_options keep, ops::journal* journal,
               ops::control_channel* control)
        : recorder(exchange, instrument.trading_spec, keep),
          loop(config, instrument, recorder, &exchange, journal, control),
          initial_cash(config.account.initial_cash) {
        recorder.attach(&loop.account());
        loop.set_alert_sink(&recorder.alerts());
    }
    run_recorder recorder;
    core_loop loop;
    double initial_cash = 0.0;
};

using lane_list = std::vector<std::unique_ptr<paper_lane>>;

/// Routes the exchange's reports to the recorder of their symbol index (lane index).
class lane_router final : public exec::exec_report_sink {
public:
    explicit lane_router(lane_list& lanes) noexcept : lanes_(lanes) {}
    void on_exec_report(const exec::exec_report& report) noexcept override {
        if (report.symbol < lanes_.size()) {
            lanes_[report.symbol]->recorder.report_input().on_exec_report(report);
        }
    }

private:
    lane_list& lanes_;
};

/// Orders open on the simulated exchange for one symbol index.
std::size_t open_orders_of(const exec::sim_exchange& exchange, std::uint32_t symbol) {
    std::size_t count = 0;
    for (const core::side side : {core::side::buy, core::side::sell}) {
        exchange.for_each_open_order(symbol, side, [&](const exec::sim_order&) { ++count; });
    }
    return count;
}

paper_status snapshot(const lane_list& lanes, const std::vector<std::uint32_t>& ids,
                      const exec::sim_exchange& exchange, const live::market_data_service& service,
                      const core::tick_latency& ticks, core::timestamp_ns now,
                      const ops::status_snapshot& published) {
    const core_loop& loop = lanes.front()->loop;
    paper_status status;
    status.mid = published.mid;
    status.quoted_bid = published.quoted_bid;
    status.quoted_ask = published.quoted_ask;
    status.inventory_base = published.inventory_base;
    status.round_trip_p50_ns = published.round_trip_p50_ns;
    status.round_trip_p99_ns = published.round_trip_p99_ns;
    status.now = now;
    status.tick_to_order = ticks.summary();
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
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        const core_loop& l = lanes[i]->loop;
        status.portfolio_pnl += l.account().total_pnl();
        if (lanes.size() > 1) {
            status.symbols.push_back(
                {.symbol = ids[i],
                 .state = l.state(),
                 .loop = l.stats(),
                 .open_orders = open_orders_of(exchange, static_cast<std::uint32_t>(i)),
                 .orders_sent = l.gate().orders_sent(risk::order_intent::quote),
                 .risk_rejects = l.gate().risk_rejects(),
                 .position = l.account().position(),
                 .equity = l.account().equity(),
                 .total_pnl = l.account().total_pnl()});
        }
    }
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
    std::vector<core_loop_config> configs = config.symbols;
    if (configs.empty()) {
        configs.push_back(config.engine);
    }
    if (configs.size() > portfolio_exposure::max_symbols) {
        summary.error = "a session trades at most " +
                        std::to_string(portfolio_exposure::max_symbols) + " symbols";
        return summary;
    }
    // The simulated exchange takes the book's top levels (queue positions, fills): ask for depth.
    auto started = live_feed::start(config.market_data, config.idle, configs.front().symbol,
                                    /*with_depth=*/true);
    if (!started.has_value()) {
        summary.error = started.error();
        return summary;
    }
    live_feed& feed = **started;
    if (std::string failed = pin_core_thread(config.engine.core_cpu); !failed.empty()) {
        summary.error = std::move(failed);
        return summary;
    }
    const md::symbol_registry& registry = feed.service().registry();
    // md symbol id -> lane index (configs.size(): not traded).
    std::vector<std::size_t> lane_of(registry.size(), configs.size());
    std::vector<std::uint32_t> ids;
    std::vector<core::symbol_spec> specs;
    for (std::size_t i = 0; i < configs.size(); ++i) {
        const std::uint32_t id = configs[i].symbol;
        if (!registry.contains(id) || lane_of[id] != configs.size()) {
            summary.error = "symbol " + std::to_string(id) +
                            " is not one of the subscribed symbols, or is named twice";
            return summary;
        }
        lane_of[id] = i;
        ids.push_back(id);
        specs.push_back(registry.at(id).trading_spec);
    }
    const bool several = configs.size() > 1;
    exec::sim_exchange exchange(config.engine.exchange, specs);

    // Journal, instance locks and state files (one of each per symbol), alert targets: before
    // any order can be sent. With several symbols the session keeps its own journal of every
    // symbol's lines.
    session_services_config services_config = services_config_of(config);
    std::unique_ptr<ops::journal> own_journal;
    if (several && !services_config.journal_path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = services_config.journal_path;
        journal_config.fdatasync_interval_ms = services_config.journal_flush_interval_ms;
        journal_config.stamp_wall_clock = true;
        for (std::size_t i = 0; i < configs.size(); ++i) {
            if (journal_config.symbols.size() <= ids[i]) {
                journal_config.symbols.resize(ids[i] + 1U, specs[i]);
            }
            journal_config.symbols[ids[i]] = specs[i];
        }
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened.has_value() || !(*opened)->start()) {
            summary.error = "cannot open the journal " + services_config.journal_path;
            return summary;
        }
        own_journal = std::move(*opened);
        services_config.journal_path.clear();
    }
    auto opened = session_services::open(services_config, specs, configs.front().symbol);
    if (!opened.has_value()) {
        summary.error = opened.error();
        return summary;
    }
    session_services& services = **opened;
    ops::journal* journal = several ? own_journal.get() : services.journal();

    // Each recorder sees the orders that passed its loop's risk gate and every report, for the
    // report at exit; its alert tally forwards to the operators' sinks.
    const bool keep = config.keep_report;
    const record_options records{.pnl = keep, .fills = keep, .orders = keep};
    lane_list lanes;
    portfolio_exposure exposure;
    for (std::size_t i = 0; i < configs.size(); ++i) {
        core_loop_config loop_config = configs[i];
        set_exchange_lane(loop_config, i);
        lanes.push_back(std::make_unique<paper_lane>(loop_config, registry.at(ids[i]), exchange,
                                                     records, journal, i == 0 ? control : nullptr));
        lanes.back()->recorder.alerts().set_next(&services.alerts());
    }
    lane_router router(lanes);
    exchange.set_report_sink(&router); // after every recorder set itself
    for (std::size_t i = 0; several && i < lanes.size(); ++i) {
        lanes[i]->loop.set_portfolio(&exposure, i);
    }
    core_loop& lead = lanes.front()->loop;
    // The symbols are one kill domain; the first loop takes the control channel's commands.
    kill_domain kills(lanes);

    core::timestamp_ns next_sample = 0;
    const auto sample = [&](core::timestamp_ns at) {
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            if (lanes[i]->loop.account().current_mark().half_ticks <= 0) {
                continue; // equity before a mark is not a price
            }
            core::price best[2]{core::price{0}, core::price{0}};
            for (const core::side side : {core::side::buy, core::side::sell}) {
                bool found = false;
                exchange.for_each_open_order(
                    static_cast<std::uint32_t>(i), side, [&](const exec::sim_order& order) {
                        if (!found) {
                            best[side == core::side::buy ? 0 : 1] = order.request.price;
                            found = true;
                        }
                    });
            }
            lanes[i]->recorder.sample(at, best[0], best[1]);
        }
    };
    const auto any_marked = [&] {
        return std::any_of(lanes.begin(), lanes.end(), [](const auto& l) {
            return l->loop.account().current_mark().half_ticks > 0;
        });
    };

    // Each symbol's loop gets back what its own state file kept: account, trading day, rate
    // windows, order sequence. A kill any file kept halts the whole session.
    std::vector<core_loop*> loops;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        core_loop& loop = lanes[i]->loop;
        loops.push_back(&loop);
        services.restore_account(loop, i);
        exchange.restore_position(static_cast<std::uint32_t>(i), loop.account().position());
        const ops::engine_state* restored = services.restored(i);
        if (restored == nullptr || restored->open_orders.empty() || !config.log) {
            continue;
        }
        // The simulated exchange went down with the process: orders it held are gone.
        std::string gone;
        for (const ops::state_order& order : restored->open_orders) {
            gone += (gone.empty() ? "" : " ") + order.client_id;
        }
        const std::string whose = several ? restored->symbol + ": " : std::string{};
        config.log("state: " + whose + std::to_string(restored->open_orders.size()) +
                   " orders open before the restart are gone with the simulated exchange "
                   "(cancelled, not restored): " +
                   gone);
    }
    services.restore_kill(lead, steady_ns());
    kills.follow(lanes, steady_ns());

    // Hop histograms (about 340 KB) for the status line, /metrics and the exit report.
    auto ticks = std::make_unique<core::tick_latency>();
    services.set_tick_latency(ticks.get());
    if (std::string failed = services.start(loops, control, feed.view(), paper_venue(exchange));
        !failed.empty()) {
        summary.error = std::move(failed);
        return summary;
    }
    summary.http_endpoint = services.http_endpoint();

    const core::duration_ns status_ns = config.status_interval_ms * core::ns_per_ms;
    core::timestamp_ns next_status = steady_ns() + status_ns;
    const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
    std::size_t routed = lanes.size(); // the lane of the event being drained
    const auto route = [&](const md::md_event& event) -> core_loop* {
        routed = event.symbol < lane_of.size() ? lane_of[event.symbol] : lanes.size();
        return routed < lanes.size() ? &lanes[routed]->loop : nullptr;
    };
    const auto status_now = [&](core::timestamp_ns now) {
        return snapshot(lanes, ids, exchange, feed.service(), *ticks, now, services.last());
    };
    bool running = true;
    while (running && !stop.load(std::memory_order_relaxed)) {
        // After each event the recorder sees the mark its loop took, for the fills' markouts,
        // and a kill that event brought reaches every symbol before the next event: a drain
        // may hold thousands of events after a stall, as a replay's kill follows every event.
        const bool any =
            feed.drain_routed(route, steady_ns, [&](core_loop*, const core::tick_stamps& stamps) {
                ticks->record(stamps);
                services.on_tick(stamps);
                if (keep && routed < lanes.size()) {
                    lanes[routed]->recorder.observe_mid(steady_ns());
                }
                if (several) {
                    kills.follow(lanes, steady_ns());
                }
            });
        const core::timestamp_ns now = steady_ns();
        for (auto& lane : lanes) {
            // The first loop takes the control channel: its quit stops the session.
            running = lane->loop.poll(now) && running;
        }
        kills.follow(lanes, now);
        if (keep && now >= next_sample && any_marked()) {
            sample(now);
            next_sample = now + core::ns_per_s;
        }
        if (services.publish_due(lead, now)) {
            services.publish(lead, feed.view(), paper_venue(exchange));
        }
        if (on_status && now >= next_status) {
            next_status = now + status_ns;
            on_status(status_now(now));
        }
        if (!any) {
            feed.idle(max_block_ns);
        }
    }

    // Graceful stop: cancel everything and wait for the cancels to come back. The bound only
    // guards against a venue that never answers; a loaded machine can take far longer than the
    // simulated latency, and leaving before the confirmations would report orders still open.
    for (auto& lane : lanes) {
        lane->loop.shutdown(steady_ns());
    }
    const core::timestamp_ns deadline = steady_ns() + 5'000 * core::ns_per_ms;
    const auto flatten_in_flight = [&] {
        return std::any_of(lanes.begin(), lanes.end(),
                           [](const auto& lane) { return lane->loop.flatten_in_flight(); });
    };
    while ((exchange.open_order_count() > 0 || flatten_in_flight()) && steady_ns() < deadline) {
        for (auto& lane : lanes) {
            (void)lane->loop.poll(steady_ns());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    services.close_intake(); // the last poll takes every command accepted
    for (auto& lane : lanes) {
        (void)lane->loop.poll(steady_ns());
    }
    if (const std::size_t left = exchange.open_order_count(); left > 0 && config.log) {
        config.log("stop: " + std::to_string(left) + " orders still open after 5 s of cancelling");
    }
    services.stop(lead, feed.view(), paper_venue(exchange));
    feed.stop();
    if (own_journal) {
        own_journal->stop();
    }
    summary.last = status_now(steady_ns());
    if (keep) {
        if (next_sample != 0) {
            sample(steady_ns());
        }
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            run_recorder& recorder = lanes[i]->recorder;
            const core_loop_config& c = configs[i];
            sim::metrics_config settings;
            settings.initial_capital = c.account.initial_cash;
            settings.soft_limit_pct = c.strategy.bands.soft_limit_pct;
            settings.hard_limit_pct = c.strategy.bands.hard_limit_pct;
            paper_report report;
            report.metrics = sim::compute_metrics(recorder.pnl(), recorder.fills(),
                                                  recorder.activity(), settings);
            sim::set_markouts(report.metrics, recorder.markouts());
            set_rate_holds(report.metrics, lanes[i]->loop.quotes(), recorder, steady_ns());
            report.activity = recorder.activity();
            report.pnl = recorder.take_pnl();
            report.fills = recorder.take_fills();
            report.orders = recorder.take_orders();
            report.alerts = recorder.alerts();
            report.gate = lanes[i]->loop.gate().counts();
            report.initial_cash = c.account.initial_cash;
            summary.reports.push_back(std::move(report));
        }
    }
    if (on_status) {
        on_status(summary.last);
    }
    summary.ok = true;
    return summary;
}

} // namespace quoter::engine
