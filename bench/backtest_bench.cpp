// Benchmark suite "backtest": simulated steps per second of one path through the whole trading
// loop (synthetic market as an md_event source, engine::core_loop with its risk gate, risk
// engine, strategy, quote manager and account, the simulated exchange with the market's order
// flow, records), and the per-event cost of the parts inside it.
//
// Baseline: the strategy, quote manager, exchange and account wired the straightforward way with
// no risk checks, every module called on every step. The core loop does more per book event
// (pre-trade checks, risk triggers, account views, the journal hooks); the table shows what that
// costs. Both loops do the same trading (their fill counts are printed for comparison; they
// differ because the loop draws its exchange latencies from a stream derived from the seed and
// its risk checks refuse some orders).
//
// Markets: the shipped config/sim.toml set-up (BTCUSDT at 60000, 50% volatility, 100 ms steps:
// the book moves on nearly every step), without and with its informed order flow, and a
// fine-grained random walk (10 ms steps of a fifth of a tick: the book moves on a few steps in
// a hundred).
//
// Timing is thread CPU time over whole runs, so time spent descheduled on a shared machine is
// not charged; goal for the linear model: 10 M steps/s per core (100 ns per step).
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/portfolio/account.hpp"
#include "quoter/sim/synthetic_market.hpp"
#include "quoter/strategy/quoting_strategy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace quoter::bench {

namespace {

volatile double double_sink = 0;

/// Rows are timed in the thread's CPU time: time descheduled on a shared machine is not charged.
constexpr core::thread_cpu_clock cpu_clock{};

core::symbol_spec btc_spec() {
    return *core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
}

/// config/sim.toml's values.
engine::backtest_config sim_toml_config() {
    engine::backtest_config c; // risk: the defaults, which are config/sim.toml's [risk]
    c.strategy.model = strategy::model_kind::linear;
    c.strategy.order_size_pct = 1.0;
    c.strategy.linear = {.spread_bps = 10.0,
                         .inventory_skew_strength = 1.0,
                         .price_impact = 200.0,
                         .vol_spread_factor = 0.5,
                         .normal_vol_per_sqrt_s = 1e-4};
    c.strategy.volatility.sigma_per_sqrt_s = 9e-5;
    c.market.process = sim::price_process::geometric_brownian;
    c.market.initial_mid_price = 60000.0;
    c.market.gbm_sigma_per_sqrt_year = 0.5;
    c.market.market_spread_ticks = 2.0;
    c.market.order_flow_a_per_s = 5.0;
    c.market.order_flow_k_per_price_unit = 0.1;
    c.exchange.maker_fee_bps = 1.0;
    c.exchange.taker_fee_bps = 4.0;
    const auto uniform = [](core::duration_ns fixed, core::duration_ns jitter) {
        return exec::latency_config{exec::latency_distribution::uniform, fixed, jitter};
    };
    c.exchange.order_entry_latency = uniform(2 * core::ns_per_ms, core::ns_per_ms);
    c.exchange.cancel_latency = uniform(2 * core::ns_per_ms, core::ns_per_ms);
    c.exchange.market_data_latency = uniform(core::ns_per_ms, core::ns_per_ms / 2);
    c.quotes.refresh_tolerance_bps = 1.0;
    c.quotes.refresh_ms = 100;
    c.step_ns = 100 * core::ns_per_ms;
    c.initial_cash = 100'000.0;
    c.record_interval_ns = core::ns_per_s;
    return c;
}

/// config/sim.toml as shipped: 70% of the hits informed, each moving the mid 30 bps against the
/// filled quote (what `quoter backtest` and `quoter sweep` run on it).
engine::backtest_config informed_config() {
    engine::backtest_config c = sim_toml_config();
    c.market.informed_share = 0.7;
    c.market.informed_impact_bps = 30.0;
    return c;
}

/// A quiet random walk on a fine time grid: the mid moves a fifth of a tick per 10 ms step.
engine::backtest_config fine_walk_config() {
    engine::backtest_config c = sim_toml_config();
    c.market.process = sim::price_process::random_walk;
    c.market.walk_sigma_per_sqrt_s = 0.02;
    c.step_ns = 10 * core::ns_per_ms;
    return c;
}

/// The baseline: the modules wired without change detection.
class naive_loop final : private exec::exec_report_sink {
public:
    naive_loop(const engine::backtest_config& config, const core::symbol_spec& spec,
               std::uint64_t seed)
        : config_(config), spec_(spec), market_(config.market, spec, seed),
          exchange_(config.exchange, {&spec_, 1}), strategy_(config.strategy, spec),
          account_(spec, {config.initial_cash, config.exchange.maker_fee_bps,
                          config.exchange.taker_fee_bps}),
          manager_(config.quotes, exchange_) {
        exchange_.set_report_sink(this);
        samples_.reserve(1 << 16);
    }

    void step() noexcept {
        market_.step(config_.step_ns);
        const core::timestamp_ns now = market_.now_ns();
        const core::price bid = market_.best_bid();
        const core::price ask = market_.best_ask();
        exchange_.on_top_of_book(0, {bid, {}, ask, {}}, now);
        mid_ = portfolio::mark_price::mid(bid, ask);
        account_.mark(mid_);
        const strategy::quote_set quotes =
            strategy_.on_book_update(now, bid, ask, account_.position(), account_.equity());
        exec::desired_quotes desired{};
        for (std::size_t i = 0; i < quotes.level_count; ++i) {
            desired.bids[i] = {quotes.levels[i].bid_price, quotes.levels[i].bid_size};
            desired.asks[i] = {quotes.levels[i].ask_price, quotes.levels[i].ask_size};
        }
        manager_.update(desired, now);
        std::array<core::quote_level, 1> resting{};
        exchange_.for_each_open_order(0, core::side::buy, [&](const exec::sim_order& o) {
            resting[0].bid_price = o.request.price;
            resting[0].bid_size = o.leaves;
        });
        exchange_.for_each_open_order(0, core::side::sell, [&](const exec::sim_order& o) {
            resting[0].ask_price = o.request.price;
            resting[0].ask_size = o.leaves;
        });
        std::array<sim::level_fill, 1> hits{};
        if (market_.sample_fills(resting, hits) != 0) {
            if (hits[0].bid_filled.lots() > 0) {
                (void)exchange_.hit_order(0, core::side::buy, 0, hits[0].bid_filled, now);
            }
            if (hits[0].ask_filled.lots() > 0) {
                (void)exchange_.hit_order(0, core::side::sell, 0, hits[0].ask_filled, now);
            }
        }
        if (now >= next_record_) {
            samples_.push_back(account_.equity());
            next_record_ += config_.record_interval_ns;
        }
    }

    [[nodiscard]] std::uint64_t fills() const noexcept { return account_.fill_count(); }

private:
    void on_exec_report(const exec::exec_report& report) noexcept override {
        if (report.kind == exec::exec_kind::fill || report.kind == exec::exec_kind::partial_fill) {
            (void)account_.apply({.time = report.exchange_ts,
                                  .side = report.side,
                                  .price = report.price,
                                  .quantity = report.fill_qty,
                                  .role = portfolio::liquidity::maker,
                                  .mid = mid_});
        }
        manager_.on_exec_report(report);
    }

    engine::backtest_config config_;
    core::symbol_spec spec_;
    sim::synthetic_market market_;
    exec::sim_exchange exchange_;
    strategy::quoting_strategy strategy_;
    portfolio::account account_;
    exec::quote_manager manager_;
    portfolio::mark_price mid_;
    core::timestamp_ns next_record_ = 0;
    std::vector<double> samples_;
};

struct loop_result {
    double ns_per_step = 0;
    std::uint64_t fills = 0;
    std::uint64_t quote_updates = 0;
    std::uint64_t manager_updates = 0;
};

loop_result time_engine(engine::backtest_config config, const core::symbol_spec& spec,
                        std::uint64_t steps) {
    // As long as the steps timed, as `quoter backtest` sets it: the run reserves its samples
    // for that long up front instead of growing them as it goes.
    config.duration_ns = static_cast<core::duration_ns>(steps) * config.step_ns;
    auto run = std::make_unique<engine::synthetic_run>(
        config, spec, 7, engine::record_options{.pnl = true, .fills = true, .orders = false});
    const core::timestamp_ns start = cpu_clock.now();
    run->run_until(static_cast<core::timestamp_ns>(steps) * config.step_ns);
    const auto elapsed = static_cast<double>(cpu_clock.now() - start);
    double_sink = run->account().equity();
    return {elapsed / static_cast<double>(steps), run->account().fill_count(),
            run->counters().book_events, run->loop().stats().quote_updates};
}

loop_result time_naive(const engine::backtest_config& config, const core::symbol_spec& spec,
                       std::uint64_t steps) {
    auto loop = std::make_unique<naive_loop>(config, spec, 7);
    const core::timestamp_ns start = cpu_clock.now();
    for (std::uint64_t i = 0; i < steps; ++i) {
        loop->step();
    }
    const auto elapsed = static_cast<double>(cpu_clock.now() - start);
    return {elapsed / static_cast<double>(steps), loop->fills(), steps, steps};
}

/// Book events of the configured market, for the per-event costs.
struct book_event {
    core::timestamp_ns time;
    core::price bid;
    core::price ask;
};

std::vector<book_event> book_path(const engine::backtest_config& config,
                                  const core::symbol_spec& spec, std::size_t count) {
    sim::synthetic_market market(config.market, spec, 11);
    std::vector<book_event> path;
    path.reserve(count);
    while (path.size() < count) {
        market.step(config.step_ns);
        const core::price bid = market.best_bid();
        const core::price ask = market.best_ask();
        if (path.empty() || path.back().bid != bid || path.back().ask != ask) {
            path.push_back({market.now_ns(), bid, ask});
        }
    }
    return path;
}

void print_header(const char* title) {
    std::printf("%s\n%-46s %11s %11s %9s %10s %10s\n", title, "case", "quoter ns", "naive ns",
                "speed-up", "quoter M/s", "naive M/s");
}

void print_row(const char* name, double quoter_ns, double naive_ns) {
    std::printf("%-46s %11.1f %11.1f %8.2fx %10.2f %10.2f\n", name, quoter_ns, naive_ns,
                naive_ns / quoter_ns, 1e3 / quoter_ns, 1e3 / naive_ns);
    std::fflush(stdout);
}

} // namespace

int run_backtest_bench(const bench_options& options) {
    const auto scaled = [&](double base) {
        return static_cast<std::uint64_t>(std::max(1000.0, base * options.scale));
    };
    const core::symbol_spec spec = btc_spec();

    print_header("whole loop, one path, one thread, linear model, 1 level; thread CPU ns per step");
    for (const auto& [name, config] :
         {std::pair{"config/sim.toml market (GBM, 100 ms steps)", sim_toml_config()},
          std::pair{"sim.toml with its informed flow (as swept)", informed_config()},
          std::pair{"fine random walk (10 ms steps, 0.2 tick)", fine_walk_config()}}) {
        const std::uint64_t steps = scaled(4e6);
        // Best of three: the shared machine only ever adds time.
        loop_result engine{1e300};
        loop_result naive{1e300};
        for (int round = 0; round < 3; ++round) {
            const auto e = time_engine(config, spec, steps);
            const auto n = time_naive(config, spec, steps);
            engine = e.ns_per_step < engine.ns_per_step ? e : engine;
            naive = n.ns_per_step < naive.ns_per_step ? n : naive;
        }
        print_row(name, engine.ns_per_step, naive.ns_per_step);
        std::printf(
            "  %llu steps; fills %llu vs %llu; the loop gets a book event on %.1f%% of steps and "
            "updates the quote manager on %.1f%%\n",
            static_cast<unsigned long long>(steps), static_cast<unsigned long long>(engine.fills),
            static_cast<unsigned long long>(naive.fills),
            100.0 * static_cast<double>(engine.quote_updates) / static_cast<double>(steps),
            100.0 * static_cast<double>(engine.manager_updates) / static_cast<double>(steps));
    }

    // Per book event (every event changes the book), the parts of a step that react to it.
    const auto config = sim_toml_config();
    const std::size_t events = scaled(2e6);
    const auto path = book_path(config, spec, events);
    std::printf("per book event (every event moves the book), %zu events of the sim.toml market; "
                "thread CPU ns per event\n",
                path.size());
    std::printf("%-46s %11s %10s\n", "case", "quoter ns", "quoter M/s");
    const auto per_event = [&](const char* name, auto&& body) {
        double best = 1e300;
        for (int round = 0; round < 3; ++round) {
            const core::timestamp_ns start = cpu_clock.now();
            body();
            best = std::min(best, static_cast<double>(cpu_clock.now() - start) /
                                      static_cast<double>(path.size()));
        }
        std::printf("%-46s %11.1f %10.2f\n", name, best, 1e3 / best);
        std::fflush(stdout);
    };
    per_event("strategy: on_book + quote", [&] {
        strategy::quoting_strategy strategy(config.strategy, spec);
        double sum = 0;
        for (const auto& e : path) {
            const auto quotes =
                strategy.on_book_update(e.time, e.bid, e.ask, core::qty{0}, config.initial_cash);
            sum += static_cast<double>(quotes.levels[0].bid_price.ticks());
        }
        double_sink = sum;
    });
    per_event("strategy + quote manager (+ exchange acks)", [&] {
        strategy::quoting_strategy strategy(config.strategy, spec);
        const auto exchange = std::make_unique<exec::sim_exchange>(
            config.exchange, std::span<const core::symbol_spec>(&spec, 1));
        exec::quote_manager manager(config.quotes, *exchange);
        exchange->set_report_sink(&manager);
        for (const auto& e : path) {
            exchange->on_top_of_book(0, {e.bid, {}, e.ask, {}}, e.time);
            const auto quotes =
                strategy.on_book_update(e.time, e.bid, e.ask, core::qty{0}, config.initial_cash);
            exec::desired_quotes desired{};
            desired.bids[0] = {quotes.levels[0].bid_price, quotes.levels[0].bid_size};
            desired.asks[0] = {quotes.levels[0].ask_price, quotes.levels[0].ask_size};
            manager.update(desired, e.time);
        }
        double_sink = static_cast<double>(manager.counters().orders_sent);
    });
    per_event("core loop: on_event (risk, strategy, quotes, exchange)", [&] {
        const md::instrument instrument{.book_spec = spec, .trading_spec = spec};
        engine::core_loop_config loop_config;
        loop_config.strategy = config.strategy;
        loop_config.quotes = config.quotes;
        loop_config.exchange = config.exchange;
        loop_config.risk = config.risk;
        loop_config.account = {.initial_cash = config.initial_cash,
                               .maker_fee_bps = config.exchange.maker_fee_bps,
                               .taker_fee_bps = config.exchange.taker_fee_bps};
        const auto exchange = std::make_unique<exec::sim_exchange>(
            config.exchange, std::span<const core::symbol_spec>(&spec, 1));
        const auto loop =
            std::make_unique<engine::core_loop>(loop_config, instrument, *exchange, exchange.get());
        md::md_event event;
        event.kind = md::md_event_kind::book;
        event.state = md::feed_state::synced;
        event.flags = md::md_flags::book_valid;
        event.symbol = 0;
        event.bid_count = 1;
        event.ask_count = 1;
        for (const auto& e : path) {
            event.top = {.bid = {e.bid, core::qty{1}}, .ask = {e.ask, core::qty{1}}};
            ++event.sequence;
            loop->on_event(event, e.time);
        }
        double_sink = static_cast<double>(loop->stats().quote_updates);
    });
    per_event("market step alone (GBM)", [&] {
        sim::synthetic_market market(config.market, spec, 3);
        for (std::size_t i = 0; i < path.size(); ++i) {
            market.step(config.step_ns);
        }
        double_sink = market.mid();
    });
    per_event("market step + visible book (best bid/ask)", [&] {
        sim::synthetic_market market(config.market, spec, 3);
        std::int64_t sum = 0;
        for (std::size_t i = 0; i < path.size(); ++i) {
            market.step(config.step_ns);
            sum += market.best_bid().ticks() + market.best_ask().ticks();
        }
        double_sink = static_cast<double>(sum);
    });
    return 0;
}

} // namespace quoter::bench
