#include "quoter/engine/backtest.hpp"

#include "quoter/engine/kill_domain.hpp"
#include "quoter/md/replayer.hpp"
#include "quoter/ops/journal.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>

namespace quoter::engine {

namespace {

/// Our best resting price on a side (price 0: none); the exchange lists the best first.
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

backtest_summary run_replay_backtest(const md::symbol_registry& registry,
                                     const std::vector<std::string>& files,
                                     const core_loop_config& config,
                                     const replay_options& options) {
    backtest_summary summary;
    if (!registry.contains(config.symbol)) {
        summary.error = "symbol id not in the registry";
        return summary;
    }
    const md::instrument& instrument = registry.at(config.symbol);
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
    exec::sim_exchange exchange(config.exchange, specs);

    std::unique_ptr<ops::journal> journal;
    if (!config.journal_path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = config.journal_path;
        journal_config.fdatasync_interval_ms = -1;
        journal_config.symbols.assign(config.symbol + 1U, instrument.trading_spec);
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened.has_value()) {
            summary.error = "cannot open the journal " + config.journal_path;
            return summary;
        }
        journal = std::move(*opened);
    }

    core_loop_config loop_config = config;
    loop_config.quotes.symbol = 0;
    run_recorder recorder(exchange, instrument.trading_spec, options.keep);
    core_loop loop(loop_config, instrument, recorder, &exchange, journal.get());
    recorder.attach(&loop.account());
    loop.set_alert_sink(&recorder.alerts());
    md::capture_replayer replayer(registry, files);
    replayer.want_depth(true); // the simulated exchange takes the book's top levels
    const core::duration_ns interval = std::max<core::duration_ns>(options.record_interval_ns, 1);
    core::timestamp_ns next_sample = 0;
    const auto sample = [&](core::timestamp_ns at) {
        recorder.sample(at, best_resting(exchange, core::side::buy),
                        best_resting(exchange, core::side::sell));
    };

    const auto started = std::chrono::steady_clock::now();
    std::uint64_t since_drain = 0;
    // Each event is read where the replayer queued it: no copy.
    while (const md::md_event* next = replayer.next()) {
        const md::md_event& event = *next;
        if (event.local_ns >= options.end_ns) {
            break;
        }
        if (event.local_ns < options.start_ns) {
            continue; // warm-up: the replayer's books follow, the loop does not trade
        }
        if (summary.first_ns == 0) {
            summary.first_ns = event.local_ns;
        }
        summary.last_ns = event.local_ns;
        loop.on_event(event, replayer.depth(), event.local_ns);
        recorder.observe_mid(event.local_ns);
        // Sampling starts once the account has a mark: equity before it is not a price.
        if (event.local_ns >= next_sample && loop.account().current_mark().half_ticks > 0) {
            sample(event.local_ns);
            next_sample = event.local_ns + interval;
        }
        // The inline journal ring holds 8192 records: drain well before it can fill.
        if (journal && ++since_drain == 256) {
            since_drain = 0;
            (void)journal->drain();
        }
    }
    summary.final_state = loop.state();
    loop.shutdown(summary.last_ns);
    // Let the simulated cancels of the shutdown arrive.
    const core::timestamp_ns end = summary.last_ns + core::ns_per_s;
    (void)loop.poll(end);
    if (next_sample != 0) {
        sample(end);
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (journal) {
        journal->stop();
    }

    summary.wall_seconds = std::chrono::duration<double>(elapsed).count();
    summary.lines = replayer.lines();
    summary.bad_lines = replayer.bad_lines();
    summary.replay = replayer.stats();
    summary.messages_per_s = summary.wall_seconds > 0.0
                                 ? static_cast<double>(summary.lines) / summary.wall_seconds
                                 : 0.0;
    const md::book_sync_stats& sync = replayer.feed().sync(config.symbol).stats();
    summary.gaps = sync.gaps;
    summary.resyncs = sync.resyncs;
    summary.loop = loop.stats();
    summary.quotes = loop.quotes().counters();
    summary.gate = loop.gate().counts();
    summary.exchange = exchange.stats();
    const portfolio::account& account = loop.account();
    summary.position = account.position();
    summary.cash_units = account.cash_units();
    summary.inventory_value_units = account.inventory_value_units();
    summary.equity_units = account.equity_units();
    summary.initial_cash_units = account.initial_cash_units();
    summary.mark_half_ticks = account.current_mark().half_ticks;
    summary.equity = account.equity();
    summary.total_pnl = account.total_pnl();
    summary.fees = account.fees();
    summary.book_never_synced = summary.loop.book_events == 0;
    summary.activity = recorder.activity();
    summary.alerts = recorder.alerts();
    sim::metrics_config settings;
    settings.initial_capital = config.account.initial_cash;
    settings.soft_limit_pct = config.strategy.bands.soft_limit_pct;
    settings.hard_limit_pct = config.strategy.bands.hard_limit_pct;
    summary.metrics =
        sim::compute_metrics(recorder.pnl(), recorder.fills(), recorder.activity(), settings);
    sim::set_markouts(summary.metrics, recorder.markouts());
    set_rate_holds(summary.metrics, loop.quotes(), recorder, end);
    summary.pnl = recorder.take_pnl();
    summary.fills = recorder.take_fills();
    summary.orders = recorder.take_orders();
    if (replayer.error() != md::capture_error::none) {
        summary.error = replayer.error_message();
        return summary;
    }
    summary.ok = true;
    return summary;
}

namespace {

/// One symbol of a many-symbol replay: its recorder in front of the shared exchange and its
/// loop.
struct replay_lane {
    replay_lane(const core_loop_config& config, const md::instrument& instrument,
                exec::sim_exchange& exchange, const replay_options& options, ops::journal* journal)
        : recorder(exchange, instrument.trading_spec, options.keep),
          loop(config, instrument, recorder, &exchange, journal) {
        recorder.attach(&loop.account());
        loop.set_alert_sink(&recorder.alerts());
    }
    run_recorder recorder;
    core_loop loop;
    core::timestamp_ns next_sample = 0;
};

/// Routes the exchange's reports to the recorder of their symbol index.
class replay_router final : public exec::exec_report_sink {
public:
    explicit replay_router(std::vector<std::unique_ptr<replay_lane>>& lanes) noexcept
        : lanes_(lanes) {}
    void on_exec_report(const exec::exec_report& report) noexcept override {
        if (report.symbol < lanes_.size()) {
            lanes_[report.symbol]->recorder.report_input().on_exec_report(report);
        }
    }

private:
    std::vector<std::unique_ptr<replay_lane>>& lanes_;
};

core::price best_resting(const exec::sim_exchange& exchange, std::uint32_t symbol,
                         core::side side) noexcept {
    core::price best{0};
    bool found = false;
    exchange.for_each_open_order(symbol, side, [&](const exec::sim_order& order) {
        if (!found) {
            best = order.request.price;
            found = true;
        }
    });
    return best;
}

} // namespace

std::vector<backtest_summary> run_replay_backtest(const md::symbol_registry& registry,
                                                  const std::vector<std::string>& files,
                                                  std::span<const core_loop_config> configs,
                                                  const replay_options& options) {
    std::vector<backtest_summary> out(std::max<std::size_t>(configs.size(), 1));
    const std::size_t count = std::min(configs.size(), portfolio_exposure::max_symbols);
    // md symbol id -> lane index (count: not traded).
    std::vector<std::size_t> lane_of(registry.size(), count);
    std::vector<core::symbol_spec> specs;
    for (std::size_t i = 0; i < count; ++i) {
        const md::symbol_id id = configs[i].symbol;
        if (!registry.contains(id) || lane_of[id] != count) {
            out.front().error = "symbol id not in the registry, or named twice";
            return out;
        }
        lane_of[id] = i;
        specs.push_back(registry.at(id).trading_spec);
    }
    if (count == 0) {
        out.front().error = "no symbol to replay";
        return out;
    }
    exec::sim_exchange exchange(configs.front().exchange, specs);

    std::unique_ptr<ops::journal> journal;
    if (!configs.front().journal_path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = configs.front().journal_path;
        journal_config.fdatasync_interval_ms = -1;
        for (std::size_t i = 0; i < count; ++i) {
            const md::symbol_id id = configs[i].symbol;
            if (journal_config.symbols.size() <= id) {
                journal_config.symbols.resize(id + 1U, specs[i]);
            }
            journal_config.symbols[id] = specs[i];
        }
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened.has_value()) {
            out.front().error = "cannot open the journal " + configs.front().journal_path;
            return out;
        }
        journal = std::move(*opened);
    }

    std::vector<std::unique_ptr<replay_lane>> lanes;
    portfolio_exposure exposure;
    for (std::size_t i = 0; i < count; ++i) {
        core_loop_config config = configs[i];
        set_exchange_lane(config, i);
        lanes.push_back(std::make_unique<replay_lane>(config, registry.at(config.symbol), exchange,
                                                      options, journal.get()));
    }
    replay_router router(lanes);
    exchange.set_report_sink(&router); // after every recorder set itself
    for (std::size_t i = 0; count > 1 && i < count; ++i) {
        lanes[i]->loop.set_portfolio(&exposure, i);
    }
    // A kill of one symbol, by a limit of its own, stops them all (as in a live session).
    kill_domain kills(lanes);

    md::capture_replayer replayer(registry, files);
    replayer.want_depth(true); // the simulated exchange takes the books' top levels
    const core::duration_ns interval = std::max<core::duration_ns>(options.record_interval_ns, 1);
    const auto sample = [&](std::size_t i, core::timestamp_ns at) {
        lanes[i]->recorder.sample(
            at, best_resting(exchange, static_cast<std::uint32_t>(i), core::side::buy),
            best_resting(exchange, static_cast<std::uint32_t>(i), core::side::sell));
    };
    const auto started = std::chrono::steady_clock::now();
    core::timestamp_ns first_ns = 0;
    core::timestamp_ns last_ns = 0;
    std::uint64_t since_drain = 0;
    // Each event is read where the replayer queued it: no copy.
    while (const md::md_event* next = replayer.next()) {
        const md::md_event& event = *next;
        if (first_ns == 0) {
            first_ns = event.local_ns;
        }
        last_ns = event.local_ns;
        const std::size_t owner = event.symbol < lane_of.size() ? lane_of[event.symbol] : count;
        // The owner takes the event; the others poll, so that reports the exchange delivered
        // to them (their fills) are acted on at once, as in a synthetic run's step.
        for (std::size_t i = 0; i < count; ++i) {
            if (i == owner) {
                lanes[i]->loop.on_event(event, replayer.depth(), event.local_ns);
                lanes[i]->recorder.observe_mid(event.local_ns); // the fills' markouts
            } else {
                (void)lanes[i]->loop.poll(event.local_ns);
            }
        }
        kills.follow(lanes, event.local_ns);
        for (std::size_t i = 0; i < count; ++i) {
            replay_lane& l = *lanes[i];
            // Sampling starts once the account has a mark: equity before it is not a price.
            if (event.local_ns >= l.next_sample && l.loop.account().current_mark().half_ticks > 0) {
                sample(i, event.local_ns);
                l.next_sample = event.local_ns + interval;
            }
        }
        if (journal && ++since_drain == 256) {
            since_drain = 0;
            (void)journal->drain();
        }
    }
    std::vector<risk::trading_state> final_states;
    for (auto& l : lanes) {
        final_states.push_back(l->loop.state());
        l->loop.shutdown(last_ns);
    }
    const core::timestamp_ns end = last_ns + core::ns_per_s;
    for (auto& l : lanes) {
        (void)l->loop.poll(end);
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (lanes[i]->next_sample != 0) {
            sample(i, end);
        }
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (journal) {
        journal->stop();
    }

    const double wall_seconds = std::chrono::duration<double>(elapsed).count();
    for (std::size_t i = 0; i < count; ++i) {
        backtest_summary& summary = out[i];
        replay_lane& l = *lanes[i];
        const core_loop_config& config = configs[i];
        summary.first_ns = first_ns;
        summary.last_ns = last_ns;
        summary.final_state = final_states[i];
        summary.wall_seconds = wall_seconds;
        summary.lines = replayer.lines();
        summary.bad_lines = replayer.bad_lines();
        summary.replay = replayer.stats();
        summary.messages_per_s =
            wall_seconds > 0.0 ? static_cast<double>(summary.lines) / wall_seconds : 0.0;
        const md::book_sync_stats& sync = replayer.feed().sync(config.symbol).stats();
        summary.gaps = sync.gaps;
        summary.resyncs = sync.resyncs;
        summary.loop = l.loop.stats();
        summary.quotes = l.loop.quotes().counters();
        summary.gate = l.loop.gate().counts();
        summary.exchange = exchange.stats();
        const portfolio::account& account = l.loop.account();
        summary.position = account.position();
        summary.cash_units = account.cash_units();
        summary.inventory_value_units = account.inventory_value_units();
        summary.equity_units = account.equity_units();
        summary.initial_cash_units = account.initial_cash_units();
        summary.mark_half_ticks = account.current_mark().half_ticks;
        summary.equity = account.equity();
        summary.total_pnl = account.total_pnl();
        summary.fees = account.fees();
        summary.book_never_synced = summary.loop.book_events == 0;
        summary.activity = l.recorder.activity();
        summary.alerts = l.recorder.alerts();
        sim::metrics_config settings;
        settings.initial_capital = config.account.initial_cash;
        settings.soft_limit_pct = config.strategy.bands.soft_limit_pct;
        settings.hard_limit_pct = config.strategy.bands.hard_limit_pct;
        summary.metrics = sim::compute_metrics(l.recorder.pnl(), l.recorder.fills(),
                                               l.recorder.activity(), settings);
        sim::set_markouts(summary.metrics, l.recorder.markouts());
        set_rate_holds(summary.metrics, l.loop.quotes(), l.recorder, end);
        summary.pnl = l.recorder.take_pnl();
        summary.fills = l.recorder.take_fills();
        summary.orders = l.recorder.take_orders();
        if (replayer.error() != md::capture_error::none) {
            summary.error = replayer.error_message();
        } else {
            summary.ok = true;
        }
    }
    return out;
}

} // namespace quoter::engine
