// Benchmark suite "sim": the synthetic market's per-step cost on one thread, against a baseline
// built from the standard library's generators and distributions (std::mt19937_64,
// std::normal_distribution, std::exponential_distribution, std::exp), which are what a first
// implementation would use. The goal for a whole backtest loop is at least 10 million steps per
// second per core, so the market's own share must stay a small part of 100 ns.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/sim/random.hpp"
#include "quoter/sim/synthetic_market.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <time.h>

namespace quoter::bench {

namespace {

// Keeps results alive so the optimiser cannot drop the measured work.
volatile double double_sink = 0;
volatile std::uint64_t integer_sink = 0;

// In CPU time of this thread: on a machine shared with other work, wall time would charge this
// benchmark for the time it spent descheduled.
template <class Body> double ns_per_op(std::uint64_t iterations, Body&& body) {
    const core::thread_cpu_clock cpu;
    const core::timestamp_ns start = cpu.now();
    body(iterations);
    return static_cast<double>(cpu.now() - start) / static_cast<double>(iterations);
}

core::symbol_spec bench_spec() {
    return *core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
}

sim::market_config bench_market(sim::price_process process) {
    sim::market_config config;
    config.process = process;
    config.initial_mid_price = 60000.0;
    config.gbm_sigma_per_sqrt_year = 0.6;
    config.walk_sigma_per_sqrt_s = 20.0;
    config.market_spread_ticks = 2.0;
    config.order_flow_a_per_s = 140.0;
    config.order_flow_k_per_price_unit = 1.5;
    config.fill_probability = sim::fill_probability_model::exponential;
    return config;
}

constexpr core::duration_ns step_ns = 100 * core::ns_per_ms;

// The same market built from standard-library parts: GBM with std::normal_distribution and
// std::exp, and Poisson arrivals with std::exponential_distribution (a quote is hit when the
// first arrival of rate lambda comes within dt, i.e. Exp(1) < lambda * dt).
class std_market {
public:
    std_market(const sim::market_config& config, const core::symbol_spec& spec, std::uint64_t seed)
        : config_(config), spec_(spec), rng_(seed), mid_(config.initial_mid_price) {
        const double dt_s = static_cast<double>(step_ns) * 1e-9;
        const double dt_years = dt_s / sim::seconds_per_year;
        const double sigma = config.gbm_sigma_per_sqrt_year;
        drift_ = (config.gbm_mu_per_year - 0.5 * sigma * sigma) * dt_years;
        vol_ = sigma * std::sqrt(dt_years);
        walk_step_ = config.walk_sigma_per_sqrt_s * std::sqrt(dt_s);
        a_dt_ = config.order_flow_a_per_s * dt_s;
    }

    void step() {
        if (config_.process == sim::price_process::geometric_brownian) {
            mid_ *= std::exp(drift_ + vol_ * normal_(rng_));
        } else {
            mid_ += coin_(rng_) ? walk_step_ : -walk_step_;
        }
    }

    std::size_t sample_fills(const core::quote_level& q, sim::level_fill& out) {
        const double lambda_dt_bid = a_dt_ * std::exp(-config_.order_flow_k_per_price_unit *
                                                      (mid_ - spec_.to_double(q.bid_price)));
        const double lambda_dt_ask = a_dt_ * std::exp(-config_.order_flow_k_per_price_unit *
                                                      (spec_.to_double(q.ask_price) - mid_));
        out = {};
        std::size_t filled = 0;
        if (exponential_(rng_) < lambda_dt_bid) {
            out.bid_filled = q.bid_size;
            ++filled;
        }
        if (exponential_(rng_) < lambda_dt_ask) {
            out.ask_filled = q.ask_size;
            ++filled;
        }
        return filled;
    }

    [[nodiscard]] double mid() const { return mid_; }

private:
    sim::market_config config_;
    core::symbol_spec spec_;
    std::mt19937_64 rng_;
    std::normal_distribution<double> normal_;
    std::exponential_distribution<double> exponential_;
    std::bernoulli_distribution coin_;
    double mid_;
    double drift_ = 0;
    double vol_ = 0;
    double walk_step_ = 0;
    double a_dt_ = 0;
};

// Quotes one tick-rounded level each side, 2 price units from the mid, as a strategy would; with
// A = 140/s and k = 1.5 a quote there is hit in about half of the 100 ms steps, so the fill
// branches are as unpredictable as they get.
core::quote_level quote_around(const core::symbol_spec& spec, double mid) {
    return {spec.round_bid(mid - 2.0), core::qty{100}, spec.round_ask(mid + 2.0), core::qty{100}};
}

struct row {
    const char* name;
    double quoter_ns;
    double baseline_ns;
};

void print_row(const row& r) {
    std::printf("%-44s %10.2f %12.2f %9.2fx %12.1f\n", r.name, r.quoter_ns, r.baseline_ns,
                r.baseline_ns / r.quoter_ns, 1e3 / r.quoter_ns);
    std::fflush(stdout);
}

} // namespace

int run_sim_bench(const bench_options& options) {
    const auto scaled = [&](double base) {
        return static_cast<std::uint64_t>(std::max(1.0, base * options.scale));
    };
    const auto spec = bench_spec();
    std::printf(
        "one path, one thread; dt = 100 ms; thread CPU ns per operation (lower is better)\n");
    std::printf("%-44s %10s %12s %10s %12s\n", "case", "quoter", "std baseline", "speed-up",
                "quoter M/s");

    {
        const auto n = scaled(200e6);
        sim::random_engine rng(1);
        std::mt19937_64 mt(1);
        print_row({"64-bit draw: xoshiro256** vs mt19937_64",
                   ns_per_op(n,
                             [&](std::uint64_t k) {
                                 std::uint64_t acc = 0;
                                 for (std::uint64_t i = 0; i < k; ++i) {
                                     acc += rng.next();
                                 }
                                 integer_sink = acc;
                             }),
                   ns_per_op(n, [&](std::uint64_t k) {
                       std::uint64_t acc = 0;
                       for (std::uint64_t i = 0; i < k; ++i) {
                           acc += mt();
                       }
                       integer_sink = acc;
                   })});
    }
    {
        const auto n = scaled(60e6);
        sim::random_engine rng(2);
        std::mt19937_64 mt(2);
        std::normal_distribution<double> normal;
        print_row({"normal: ziggurat vs std::normal_distribution",
                   ns_per_op(n,
                             [&](std::uint64_t k) {
                                 double acc = 0;
                                 for (std::uint64_t i = 0; i < k; ++i) {
                                     acc += rng.normal();
                                 }
                                 double_sink = acc;
                             }),
                   ns_per_op(n, [&](std::uint64_t k) {
                       double acc = 0;
                       for (std::uint64_t i = 0; i < k; ++i) {
                           acc += normal(mt);
                       }
                       double_sink = acc;
                   })});
    }
    {
        const auto n = scaled(60e6);
        print_row({"exp: portable::exp vs std::exp",
                   ns_per_op(n,
                             [&](std::uint64_t k) {
                                 double acc = 0;
                                 double x = -3.0;
                                 for (std::uint64_t i = 0; i < k; ++i) {
                                     acc += sim::portable::exp(x);
                                     x += 1e-8;
                                 }
                                 double_sink = acc;
                             }),
                   ns_per_op(n, [&](std::uint64_t k) {
                       double acc = 0;
                       double x = -3.0;
                       for (std::uint64_t i = 0; i < k; ++i) {
                           acc += std::exp(x);
                           x += 1e-8;
                       }
                       double_sink = acc;
                   })});
    }

    for (const auto process :
         {sim::price_process::geometric_brownian, sim::price_process::random_walk}) {
        const bool gbm = process == sim::price_process::geometric_brownian;
        const auto config = bench_market(process);
        {
            const auto n = scaled(gbm ? 40e6 : 60e6);
            auto market = sim::synthetic_market::create(config, spec, 3).value();
            std_market baseline(config, spec, 3);
            print_row({gbm ? "market step, GBM" : "market step, random walk",
                       ns_per_op(n,
                                 [&](std::uint64_t k) {
                                     for (std::uint64_t i = 0; i < k; ++i) {
                                         market.step(step_ns);
                                     }
                                     double_sink = market.mid();
                                 }),
                       ns_per_op(n, [&](std::uint64_t k) {
                           for (std::uint64_t i = 0; i < k; ++i) {
                               baseline.step();
                           }
                           double_sink = baseline.mid();
                       })});
        }
        {
            const auto n = scaled(20e6);
            auto market = sim::synthetic_market::create(config, spec, 4).value();
            std_market baseline(config, spec, 4);
            std::uint64_t quoter_fills = 0;
            std::uint64_t baseline_fills = 0;
            print_row({gbm ? "step + quote + fill sampling (2 quotes), GBM"
                           : "step + quote + fill sampling (2 quotes), RW",
                       ns_per_op(n,
                                 [&](std::uint64_t k) {
                                     std::array<sim::level_fill, 1> fills{};
                                     for (std::uint64_t i = 0; i < k; ++i) {
                                         market.step(step_ns);
                                         const std::array<core::quote_level, 1> quotes{
                                             quote_around(spec, market.mid())};
                                         quoter_fills += market.sample_fills(quotes, fills);
                                     }
                                     double_sink = market.mid();
                                 }),
                       ns_per_op(n, [&](std::uint64_t k) {
                           sim::level_fill fill{};
                           for (std::uint64_t i = 0; i < k; ++i) {
                               baseline.step();
                               baseline_fills +=
                                   baseline.sample_fills(quote_around(spec, baseline.mid()), fill);
                           }
                           double_sink = baseline.mid();
                       })});
            std::printf("%-44s %10.4f %12.4f\n", "  fills per step (same model, both sides)",
                        static_cast<double>(quoter_fills) / static_cast<double>(n),
                        static_cast<double>(baseline_fills) / static_cast<double>(n));
        }
    }
    return 0;
}

} // namespace quoter::bench
