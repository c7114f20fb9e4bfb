// Strategy benchmark: the per-update cost of the volatility estimators and of each quoting
// model, against a naive baseline that recomputes the realized volatility over the whole
// 30-minute window on every update (what a straightforward implementation does).
//
// The market is a synthetic random walk with a book update every 100 ms and a trade print on
// about a third of them; the estimators are warmed up with a full window before timing, so the
// ring holds its steady-state 1800 samples. Timings are taken per batch of 256 updates because a
// clock read costs tens of nanoseconds on virtual machines; p50/p99 are over those batches, and
// the speedup compares medians, which a busy machine disturbs far less than means.
#include "quoter/bench/suite.hpp"
#include "quoter/strategy/quoting.hpp"
#include "quoter/strategy/quoting_strategy.hpp"
#include "quoter/strategy/volatility.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace quoter::bench {
namespace {

struct book_event {
    core::timestamp_ns time;
    core::price bid;
    core::price ask;
    core::qty inventory;
    core::price trade_price;
    bool has_trade;
};

constexpr core::duration_ns update_interval_ns = 100 * core::ns_per_ms;

std::vector<book_event> make_path(std::size_t count, std::uint64_t seed) {
    std::vector<book_event> path(count);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> shock(0.0, 1.5);
    std::normal_distribution<double> inventory_step(0.0, 40.0);
    std::exponential_distribution<double> depth(0.4);
    std::bernoulli_distribution trade(0.3);
    std::bernoulli_distribution buy(0.5);
    double mid_ticks = 6'000'000.0; // 60'000.00 with a 0.01 tick
    double inventory = 0.0;
    core::timestamp_ns time = 1'700'000'000 * core::ns_per_s;
    for (auto& event : path) {
        time += update_interval_ns;
        mid_ticks += shock(rng);
        inventory = std::clamp(inventory + inventory_step(rng), -3'000.0, 3'000.0);
        const auto bid = static_cast<std::int64_t>(std::floor(mid_ticks));
        event.time = time;
        event.bid = core::price{bid};
        event.ask = core::price{bid + 1};
        event.inventory = core::qty{static_cast<std::int64_t>(inventory)};
        event.has_trade = trade(rng);
        const auto distance = static_cast<std::int64_t>(depth(rng));
        event.trade_price = buy(rng) ? event.ask + distance : event.bid - distance;
    }
    return path;
}

// The baseline: the same samples, but the variance is re-summed over the window each time.
class naive_realized_volatility {
public:
    explicit naive_realized_volatility(const strategy::realized_volatility_config& config)
        : config_(config) {
        samples_.reserve(static_cast<std::size_t>(config.window_ns / config.sample_interval_ns) +
                         2);
    }

    void update(core::timestamp_ns time, double mid) {
        if (!has_last_) {
            has_last_ = true;
            last_time_ = time;
            last_mid_ = mid;
            return;
        }
        if (time - last_time_ >= config_.sample_interval_ns) {
            const double r = std::log(mid / last_mid_);
            if (samples_.size() == samples_.capacity()) {
                samples_.erase(samples_.begin());
            }
            samples_.push_back({time, time - last_time_, r});
            last_time_ = time;
            last_mid_ = mid;
        }
    }

    [[nodiscard]] double volatility_per_sqrt_s(core::timestamp_ns now) const {
        double squared = 0.0;
        core::duration_ns covered = 0;
        for (const auto& s : samples_) {
            if (s.time > now - config_.window_ns) {
                squared += s.log_return * s.log_return;
                covered += s.elapsed;
            }
        }
        return covered > 0 ? std::sqrt(squared / (static_cast<double>(covered) * 1e-9)) : 0.0;
    }

private:
    struct sample {
        core::timestamp_ns time;
        core::duration_ns elapsed;
        double log_return;
    };
    strategy::realized_volatility_config config_;
    std::vector<sample> samples_;
    core::timestamp_ns last_time_ = 0;
    double last_mid_ = 0.0;
    bool has_last_ = false;
};

struct measurement {
    std::string name;
    std::size_t updates = 0;
    double mean_ns = 0.0;
    double p50_ns = 0.0;
    double p99_ns = 0.0;
};

// Runs step(i) for i in [0, updates), timing batches of 256.
template <class Step> measurement measure(std::string name, std::size_t updates, Step&& step) {
    using clock = std::chrono::steady_clock;
    constexpr std::size_t batch = 256;
    std::vector<double> per_update;
    per_update.reserve(updates / batch + 1);
    double total_ns = 0.0;
    for (std::size_t begin = 0; begin < updates; begin += batch) {
        const std::size_t end = std::min(begin + batch, updates);
        const auto start = clock::now();
        for (std::size_t i = begin; i < end; ++i) {
            step(i);
        }
        const double elapsed = static_cast<double>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count());
        total_ns += elapsed;
        per_update.push_back(elapsed / static_cast<double>(end - begin));
    }
    const auto percentile = [&](double p) {
        const auto index = static_cast<std::size_t>(p * static_cast<double>(per_update.size() - 1));
        std::nth_element(per_update.begin(),
                         per_update.begin() + static_cast<std::ptrdiff_t>(index), per_update.end());
        return per_update[index];
    };
    measurement m;
    m.name = std::move(name);
    m.updates = updates;
    m.mean_ns = total_ns / static_cast<double>(updates);
    m.p50_ns = percentile(0.50);
    m.p99_ns = percentile(0.99);
    return m;
}

void print_row(const measurement& m, const measurement& baseline) {
    fmt::print("  {:<52} {:>10} {:>9.1f} {:>8.1f} {:>8.1f} {:>10.1f}x\n", m.name, m.updates,
               m.mean_ns, m.p50_ns, m.p99_ns, baseline.p50_ns / m.p50_ns);
}

void print_header() {
    fmt::print("  {:<52} {:>10} {:>9} {:>8} {:>8} {:>11}\n", "case", "updates", "mean ns", "p50 ns",
               "p99 ns", "p50 speedup");
}

} // namespace

int run_strategy_bench(const bench_options& options) {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    if (!spec) {
        fmt::print(stderr, "strategy bench: bad symbol spec\n");
        return 1;
    }
    const auto updates = static_cast<std::size_t>(std::max(20'000.0, 4'000'000.0 * options.scale));
    const std::size_t naive_updates = std::max<std::size_t>(updates / 20, 2'000);
    const strategy::realized_volatility_config vol_config; // 30 min window, 1 s samples
    const std::size_t warmup =
        static_cast<std::size_t>(vol_config.window_ns / update_interval_ns) + 10;
    const auto path = make_path(warmup + updates, 20240611);
    const auto* events = path.data() + warmup;
    const double tick = spec->tick_size();
    const double equity = 100'000.0;
    const auto mid_of = [&](const book_event& e) {
        return 0.5 * static_cast<double>(e.bid.ticks() + e.ask.ticks()) * tick;
    };

    std::int64_t sink = 0;
    double fsink = 0.0;

    fmt::print("strategy: {} book updates 100 ms apart, 30-minute realized-vol window "
               "(1800 one-second samples); times per update\n",
               updates);

    // Volatility estimators.
    naive_realized_volatility naive(vol_config);
    strategy::realized_volatility ring(vol_config);
    strategy::ewma_volatility ewma;
    for (std::size_t i = 0; i < warmup; ++i) {
        naive.update(path[i].time, mid_of(path[i]));
        ring.update(path[i].time, mid_of(path[i]));
        ewma.update(path[i].time, mid_of(path[i]));
    }
    const auto naive_vol =
        measure("realized vol, re-sum the window (baseline)", naive_updates, [&](std::size_t i) {
            naive.update(events[i].time, mid_of(events[i]));
            fsink += naive.volatility_per_sqrt_s(events[i].time);
        });
    const auto ring_vol = measure("realized vol, O(1) ring", updates, [&](std::size_t i) {
        ring.update(events[i].time, mid_of(events[i]));
        fsink += ring.volatility_per_sqrt_s();
    });
    const auto ewma_vol = measure("EWMA vol", updates, [&](std::size_t i) {
        ewma.update(events[i].time, mid_of(events[i]));
        fsink += ewma.volatility_per_sqrt_s();
    });
    fmt::print("volatility estimators:\n");
    print_header();
    print_row(naive_vol, naive_vol);
    print_row(ring_vol, naive_vol);
    print_row(ewma_vol, naive_vol);

    // Models alone: compute_quotes on a prepared input.
    const auto model_config = [&](strategy::model_kind model) {
        strategy::strategy_config config;
        config.model = model;
        config.linear.price_impact = 50.0;
        config.linear.vol_spread_factor = 0.5;
        config.levels.count = 3;
        config.levels.size_multiplier = 1.5;
        return config;
    };
    std::vector<measurement> model_rows;
    for (const auto& [model, levels] :
         {std::pair{strategy::model_kind::linear, 1U}, std::pair{strategy::model_kind::linear, 3U},
          std::pair{strategy::model_kind::avellaneda_stoikov, 3U},
          std::pair{strategy::model_kind::glft, 3U}}) {
        auto config = model_config(model);
        config.levels.count = levels;
        model_rows.push_back(measure(
            fmt::format("compute_quotes {} ({} level{})", to_string(model), levels,
                        levels == 1 ? "" : "s"),
            updates, [&](std::size_t i) {
                auto in = strategy::make_quote_input(*spec, events[i].time, events[i].bid,
                                                     events[i].ask, events[i].inventory, equity);
                in.volatility_per_sqrt_s = 1e-4;
                const auto quotes = strategy::compute_quotes(in, config, *spec);
                sink += quotes.levels[0].bid_price.ticks();
            }));
    }

    // Whole update: estimator + model, against the naive estimator + linear model.
    const auto linear_config = model_config(strategy::model_kind::linear);
    naive_realized_volatility naive_full(vol_config);
    for (std::size_t i = 0; i < warmup; ++i) {
        naive_full.update(path[i].time, mid_of(path[i]));
    }
    const auto naive_full_row =
        measure("linear + re-summed realized vol (baseline)", naive_updates, [&](std::size_t i) {
            naive_full.update(events[i].time, mid_of(events[i]));
            auto in = strategy::make_quote_input(*spec, events[i].time, events[i].bid,
                                                 events[i].ask, events[i].inventory, equity);
            in.volatility_per_sqrt_s = naive_full.volatility_per_sqrt_s(events[i].time);
            sink += strategy::compute_quotes(in, linear_config, *spec).levels[0].bid_price.ticks();
        });

    std::vector<measurement> full_rows;
    const auto run_strategy = [&](std::string name, strategy::strategy_config config,
                                  bool with_trades) {
        strategy::quoting_strategy strat(config, *spec);
        for (std::size_t i = 0; i < warmup; ++i) {
            strat.on_book(path[i].time, path[i].bid, path[i].ask);
            if (with_trades && path[i].has_trade) {
                strat.on_trade(path[i].time, path[i].trade_price);
            }
        }
        full_rows.push_back(measure(std::move(name), updates, [&](std::size_t i) {
            if (with_trades && events[i].has_trade) {
                strat.on_trade(events[i].time, events[i].trade_price);
            }
            const auto quotes = strat.on_book_update(events[i].time, events[i].bid, events[i].ask,
                                                     events[i].inventory, equity);
            sink += quotes.levels[0].ask_price.ticks();
        }));
    };
    run_strategy("quoting_strategy linear (realized vol + quotes)", linear_config, false);
    auto ewma_config = linear_config;
    ewma_config.estimators.volatility = strategy::volatility_kind::ewma;
    run_strategy("quoting_strategy linear (EWMA vol + quotes)", ewma_config, false);
    run_strategy("quoting_strategy avellaneda_stoikov",
                 model_config(strategy::model_kind::avellaneda_stoikov), false);
    run_strategy("quoting_strategy glft", model_config(strategy::model_kind::glft), false);
    auto online = model_config(strategy::model_kind::glft);
    online.intensity.use_estimate = true;
    run_strategy("quoting_strategy glft + online A,k (30% trades)", online, true);

    fmt::print("quoting models and whole updates (baseline: linear model fed by the re-summed "
               "realized vol):\n");
    print_header();
    print_row(naive_full_row, naive_full_row);
    for (const auto& row : model_rows) {
        print_row(row, naive_full_row);
    }
    for (const auto& row : full_rows) {
        print_row(row, naive_full_row);
    }
    fmt::print("  (checksum {} {:.3g})\n", sink % 1000, fsink);
    return 0;
}

} // namespace quoter::bench
