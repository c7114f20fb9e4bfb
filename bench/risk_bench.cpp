// Benchmark suite "risk": the cost of one full pre-trade check, and the latency from SIGUSR1 to an
// engaged kill switch.
//
// Check cost: quoter's pre_trade_checker (window counters, one straight-line function) against a
// naive checker built the obvious way (a chain of virtually dispatched check objects, exact
// sliding windows kept as std::deque timestamps, counters in a std::map), on the same inputs in
// the same run. Two scenarios: `pass`, where every order passes every check (the longest path),
// and `mixed`, random orders of which some are refused at various stages.
//
// Kill path: a thread spinning like the core loop checks control_channel::kill_requested on every
// iteration; the main thread sends SIGUSR1 to the process and measures until the kill switch has
// engaged.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/risk/risk_engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

namespace quoter::bench {
namespace {

using core::ns_per_ms;
using core::ns_per_s;
using risk::reject_reason;

// ---------------------------------------------------------------------------------------------
// Inputs.

struct check_input {
    risk::order_request order;
    risk::market_view market;
    risk::account_view account;
    core::duration_ns advance = 0; ///< Time step before this order.
};

core::symbol_spec btcusdt() {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    return spec.value_or(core::symbol_spec{});
}

/// Limits for the benchmark: the defaults, with the daily order cap out of reach so that a long
/// `pass` run never hits it.
risk::risk_limits bench_limits() {
    risk::risk_limits limits;
    limits.max_orders_per_day = 1'000'000'000;
    limits.cancel_trade_ratio_block = 50.0;
    return limits;
}

/// `pass`: quotes a few ticks from a 60000 book, 4 orders per second, well inside every limit.
/// `mixed`: wider prices and sizes, varying losses and positions, bursts that hit rate limits.
std::vector<check_input> make_inputs(bool mixed, std::size_t count) {
    std::mt19937_64 rng(mixed ? 2 : 1);
    const auto pick = [&](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    std::vector<check_input> inputs(count);
    for (std::size_t i = 0; i < count; ++i) {
        check_input& in = inputs[i];
        const std::int64_t bid = 6'000'000 + pick(-5'000, 5'000);
        in.market = {.best_bid = core::price{bid}, .best_ask = core::price{bid + pick(1, 3)}};
        in.order.client_order_id = i;
        in.order.side = pick(0, 1) == 0 ? core::side::buy : core::side::sell;
        in.order.post_only = true;
        in.account.equity = 100'000.0;
        in.account.day_start_equity = 100'000.0;
        in.account.peak_equity = 102'000.0;
        in.account.realized_pnl_today = -100.0;
        in.account.unrealized_pnl = 20.0;
        in.account.other_symbols_net_notional = 5'000.0;
        in.account.position = core::qty{pick(-5'000, 5'000)};
        in.account.open_buy_qty = core::qty{pick(0, 2'000)};
        in.account.open_sell_qty = core::qty{pick(0, 2'000)};
        const std::int64_t offset = pick(0, 20);
        in.order.qty = core::qty{pick(100, 2'000)};
        in.advance = 250 * ns_per_ms;
        if (mixed) {
            const std::int64_t roll = pick(0, 99);
            if (roll < 8) {
                in.order.qty = core::qty{pick(20'000, 40'000)}; // above the notional cap
            } else if (roll < 16) {
                in.market.best_ask = core::price{0}; // no market
            } else if (roll < 24) {
                in.account.realized_pnl_today = -1'500.0; // daily loss
            } else if (roll < 30) {
                in.order.qty = core::qty{1}; // below min notional
            }
            in.advance = pick(0, 1) == 0 ? pick(0, 20) * ns_per_ms : 300 * ns_per_ms;
        }
        const std::int64_t px = in.order.side == core::side::buy
                                    ? in.market.best_bid.ticks() - offset
                                    : in.market.best_bid.ticks() + 3 + offset;
        in.order.price = core::price{px};
    }
    return inputs;
}

// ---------------------------------------------------------------------------------------------
// The naive baseline: the checks as separate objects behind virtual calls, exact sliding
// windows as deques of timestamps, a map of counters, a std::function sink.

namespace naive {

struct context {
    const core::symbol_spec& spec;
    const risk::order_request& order;
    const risk::market_view& market;
    const risk::account_view& account;
    const risk::risk_limits& limits;
    core::timestamp_ns now;
};

class check {
public:
    virtual ~check() = default;
    virtual reject_reason run(const context& c) = 0;
};

class filter_check final : public check {
public:
    reject_reason run(const context& c) override {
        if (c.order.price.ticks() <= 0) {
            return reject_reason::invalid_price;
        }
        if (c.order.qty.lots() <= 0) {
            return reject_reason::invalid_qty;
        }
        if (!c.spec.meets_min_notional(c.order.price, c.order.qty)) {
            return reject_reason::below_min_notional;
        }
        return reject_reason::none;
    }
};

class size_check final : public check {
public:
    reject_reason run(const context& c) override {
        const double qty = c.spec.to_double(c.order.qty);
        if (c.limits.max_order_qty_base > 0.0 && qty > c.limits.max_order_qty_base) {
            return reject_reason::max_order_qty;
        }
        if (c.spec.notional(c.order.price, c.order.qty) >
            c.account.equity * c.limits.order_notional_pct / 100.0) {
            return reject_reason::max_order_notional;
        }
        return reject_reason::none;
    }
};

class band_check final : public check {
public:
    reject_reason run(const context& c) override {
        if (c.market.best_bid.ticks() <= 0 || c.market.best_ask.ticks() <= 0) {
            return reject_reason::no_market;
        }
        const double px = c.spec.to_double(c.order.price);
        const double bid = c.spec.to_double(c.market.best_bid);
        const double ask = c.spec.to_double(c.market.best_ask);
        const double band = c.limits.price_band_bps / 10'000.0;
        if (c.order.side == core::side::buy) {
            if (c.order.post_only && px >= ask) {
                return reject_reason::post_only_would_cross;
            }
            if (px < bid * (1.0 - band)) {
                return reject_reason::price_band;
            }
            if (px > ask * (1.0 + band)) {
                return reject_reason::price_through_market;
            }
        } else {
            if (c.order.post_only && px <= bid) {
                return reject_reason::post_only_would_cross;
            }
            if (px > ask * (1.0 + band)) {
                return reject_reason::price_band;
            }
            if (px < bid * (1.0 - band)) {
                return reject_reason::price_through_market;
            }
        }
        return reject_reason::none;
    }
};

class loss_check final : public check {
public:
    reject_reason run(const context& c) override {
        const auto e = risk::measure(c.spec, c.market, c.account);
        const bool reducing = risk::reduces_position(c.order.side, c.order.qty, c.account);
        const double reference =
            c.account.day_start_equity > 0.0 ? c.account.day_start_equity : c.account.equity;
        if (e.daily_loss > reference * c.limits.daily_loss_pct / 100.0) {
            return reject_reason::daily_loss;
        }
        const double drawdown_pct = e.drawdown_pct();
        if (drawdown_pct > c.limits.drawdown_hard_pct) {
            return reject_reason::drawdown_hard;
        }
        if (e.position_notional > c.account.equity * c.limits.inventory_kill_pct / 100.0) {
            return reject_reason::inventory_kill;
        }
        if (!reducing &&
            e.position_notional > c.account.equity * c.limits.inventory_flatten_pct / 100.0) {
            return reject_reason::flatten_mode;
        }
        if (!reducing && drawdown_pct > c.limits.drawdown_soft_pct) {
            return reject_reason::reduce_mode;
        }
        return reject_reason::none;
    }
};

class position_check final : public check {
public:
    reject_reason run(const context& c) override {
        if (risk::reduces_position(c.order.side, c.order.qty, c.account)) {
            return reject_reason::none;
        }
        const auto e = risk::measure(c.spec, c.market, c.account);
        const double lot = c.spec.step_size() * e.mid;
        const std::int64_t same = c.order.side == core::side::buy ? c.account.open_buy_qty.lots()
                                                                  : c.account.open_sell_qty.lots();
        const std::int64_t net =
            c.account.position.lots() + core::sign(c.order.side) * (same + c.order.qty.lots());
        const double net_notional = static_cast<double>(std::llabs(net)) * lot;
        if (net_notional > c.account.equity * c.limits.symbol_net_notional_pct / 100.0) {
            return reject_reason::symbol_net_notional;
        }
        const double gross =
            static_cast<double>(std::llabs(c.account.position.lots()) +
                                c.account.open_buy_qty.lots() + c.account.open_sell_qty.lots() +
                                c.order.qty.lots()) *
            lot;
        if (gross > c.account.equity * c.limits.symbol_gross_notional_pct / 100.0) {
            return reject_reason::symbol_gross_notional;
        }
        if (c.account.other_symbols_net_notional + net_notional >
            c.account.equity * c.limits.portfolio_net_notional_pct / 100.0) {
            return reject_reason::portfolio_net_notional;
        }
        return reject_reason::none;
    }
};

/// Exact sliding window: every timestamp kept until it leaves the window.
class rate_check final : public check {
public:
    rate_check(core::duration_ns window, std::uint32_t limit, reject_reason reason)
        : window_(window), limit_(limit), reason_(reason) {}
    reject_reason run(const context& c) override {
        while (!times_.empty() && times_.front() <= c.now - window_) {
            times_.pop_front();
        }
        return times_.size() + 1 > limit_ ? reason_ : reject_reason::none;
    }
    void commit(core::timestamp_ns now) { times_.push_back(now); }

private:
    std::deque<core::timestamp_ns> times_;
    core::duration_ns window_;
    std::uint32_t limit_;
    reject_reason reason_;
};

class ratio_check final : public check {
public:
    reject_reason run(const context& c) override {
        while (!cancels_.empty() && cancels_.front() <= c.now - window_) {
            cancels_.pop_front();
        }
        while (!fills_.empty() && fills_.front() <= c.now - window_) {
            fills_.pop_front();
        }
        if (c.limits.cancel_trade_ratio_block > 0.0 &&
            cancels_.size() >= c.limits.cancel_trade_min_cancels &&
            static_cast<double>(cancels_.size()) /
                    static_cast<double>(std::max<std::size_t>(fills_.size(), 1)) >
                c.limits.cancel_trade_ratio_block) {
            return reject_reason::cancel_trade_ratio;
        }
        return reject_reason::none;
    }

private:
    std::deque<core::timestamp_ns> cancels_;
    std::deque<core::timestamp_ns> fills_;
    core::duration_ns window_ = 3'600 * ns_per_s;
};

class checker {
public:
    checker(const risk::risk_limits& limits,
            std::function<void(const risk::rejection_record&)> sink)
        : limits_(limits), sink_(std::move(sink)) {
        chain_.push_back(std::make_unique<filter_check>());
        chain_.push_back(std::make_unique<size_check>());
        chain_.push_back(std::make_unique<band_check>());
        chain_.push_back(std::make_unique<loss_check>());
        chain_.push_back(std::make_unique<position_check>());
        chain_.push_back(std::make_unique<ratio_check>());
        rates_.push_back(std::make_unique<rate_check>(ns_per_s, limits.max_new_orders_per_s,
                                                      reject_reason::new_orders_per_s));
        rates_.push_back(std::make_unique<rate_check>(60 * ns_per_s, limits.max_new_orders_per_min,
                                                      reject_reason::new_orders_per_min));
        rates_.push_back(std::make_unique<rate_check>(86'400 * ns_per_s, limits.max_orders_per_day,
                                                      reject_reason::orders_per_day));
    }

    reject_reason check_order(const core::symbol_spec& spec, const risk::order_request& order,
                              const risk::market_view& market, const risk::account_view& account,
                              core::timestamp_ns now) {
        const context c{spec, order, market, account, limits_, now};
        for (const auto& step : chain_) {
            if (const auto r = step->run(c); r != reject_reason::none) {
                return refuse(r, order, now);
            }
        }
        for (const auto& rate : rates_) {
            if (const auto r = rate->run(c); r != reject_reason::none) {
                return refuse(r, order, now);
            }
        }
        for (const auto& rate : rates_) {
            rate->commit(now);
        }
        return reject_reason::none;
    }

private:
    reject_reason refuse(reject_reason r, const risk::order_request& order,
                         core::timestamp_ns now) {
        ++counts_[r];
        risk::rejection_record record;
        record.time = now;
        record.reason = r;
        record.client_order_id = order.client_order_id;
        record.price = order.price;
        record.qty = order.qty;
        sink_(record);
        return r;
    }

    risk::risk_limits limits_;
    std::function<void(const risk::rejection_record&)> sink_;
    std::vector<std::unique_ptr<check>> chain_;
    std::vector<std::unique_ptr<rate_check>> rates_;
    std::map<reject_reason, std::uint64_t> counts_;
};

} // namespace naive

// ---------------------------------------------------------------------------------------------
// Measurement.

struct counting_sink final : risk::rejection_sink {
    std::uint64_t records = 0;
    void on_rejection(const risk::rejection_record& /*record*/) noexcept override { ++records; }
};

struct run_result {
    double wall_ns_per_check = 0.0;
    double cpu_ns_per_check = 0.0; ///< Thread CPU time: unaffected by being descheduled.
    std::uint64_t passed = 0;
};

template <class Check>
run_result time_checks(const std::vector<check_input>& inputs, std::size_t checks, Check&& check) {
    core::timestamp_ns now = 1'700'000'000 * ns_per_s;
    std::uint64_t passed = 0;
    const std::size_t mask = inputs.size() - 1;
    const auto wall_begin = std::chrono::steady_clock::now();
    const core::thread_cpu_clock cpu_clock;
    const std::int64_t cpu_begin = cpu_clock.now();
    for (std::size_t i = 0; i < checks; ++i) {
        const check_input& in = inputs[i & mask];
        now += in.advance;
        passed += check(in, now) == reject_reason::none ? 1 : 0;
    }
    const std::int64_t cpu = cpu_clock.now() - cpu_begin;
    const auto wall = std::chrono::steady_clock::now() - wall_begin;
    const auto n = static_cast<double>(checks);
    return {
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()) / n,
        static_cast<double>(cpu) / n, passed};
}

/// Best of several runs, by CPU time.
run_result best_of(int repeats, const std::function<run_result()>& once) {
    run_result best{1e300, 1e300, 0};
    for (int r = 0; r < repeats; ++r) {
        const run_result result = once();
        if (result.cpu_ns_per_check < best.cpu_ns_per_check) {
            best = result;
        }
    }
    return best;
}

void check_table(const bench_options& options) {
    const core::symbol_spec spec = btcusdt();
    const risk::risk_limits limits = bench_limits();
    const auto checks = static_cast<std::size_t>(12'000'000 * options.scale) + 1;
    constexpr int repeats = 3;

    std::printf("\npre-trade check of one order (best of %d runs of %zu checks; cpu = thread CPU "
                "time, wall includes time descheduled)\n",
                repeats, checks);
    std::printf("%-8s %-32s %12s %12s %14s %9s %8s\n", "scenario", "implementation", "cpu ns/check",
                "wall ns", "checks/s (cpu)", "passed %", "speedup");
    for (const bool mixed : {false, true}) {
        const auto inputs = make_inputs(mixed, 256);
        const char* scenario = mixed ? "mixed" : "pass";

        const run_result quoter_result = best_of(repeats, [&] {
            counting_sink sink;
            risk::pre_trade_checker checker(limits, sink);
            return time_checks(inputs, checks, [&](const check_input& in, core::timestamp_ns now) {
                return checker.check(spec, in.order, in.market, in.account, now);
            });
        });
        const run_result naive_result = best_of(repeats, [&] {
            std::uint64_t records = 0;
            naive::checker checker(limits, [&](const risk::rejection_record&) { ++records; });
            return time_checks(inputs, checks, [&](const check_input& in, core::timestamp_ns now) {
                return checker.check_order(spec, in.order, in.market, in.account, now);
            });
        });
        const auto row = [&](const char* name, const run_result& r, double speedup) {
            std::printf("%-8s %-32s %12.1f %12.1f %14.0f %9.1f %7.1fx\n", scenario, name,
                        r.cpu_ns_per_check, r.wall_ns_per_check, 1e9 / r.cpu_ns_per_check,
                        100.0 * static_cast<double>(r.passed) / static_cast<double>(checks),
                        speedup);
        };
        row("quoter pre_trade_checker", quoter_result,
            naive_result.cpu_ns_per_check / quoter_result.cpu_ns_per_check);
        row("naive (virtual chain + deques)", naive_result, 1.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Kill path: SIGUSR1 -> signal handler -> atomic flag -> core loop -> kill switch engaged.

struct quiet_actions final : risk::engine_actions {
    void cancel_all_orders(risk::halt_reason /*reason*/) noexcept override {}
    void flatten_positions(risk::halt_reason /*reason*/) noexcept override {}
    void set_new_orders_enabled(bool /*enabled*/) noexcept override {}
    void on_state_change(const risk::state_change& /*change*/) noexcept override {}
};

/// Pins the calling thread to cpu (ignored when cpu < 0 or out of range); returns whether it did.
bool pin_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= static_cast<int>(std::thread::hardware_concurrency())) {
        return false;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

void kill_path_table(const bench_options& options) {
    const int rounds = std::max(10, static_cast<int>(2'000 * options.scale));
    ops::control_channel channel;
    if (!ops::install_signal_handlers(channel)) {
        std::printf("kill path: cannot install signal handlers\n");
        return;
    }
    quiet_actions actions;
    risk::null_alert_sink alerts;
    counting_sink rejections;
    risk::risk_engine engine(risk::risk_config{}, actions, alerts, rejections);

    // Sender and core on their own CPUs, as in production where the core thread is pinned.
    cpu_set_t original_affinity;
    const bool restore_affinity =
        pthread_getaffinity_np(pthread_self(), sizeof original_affinity, &original_affinity) == 0;
    const bool sender_pinned = pin_to_cpu(options.producer_cpu);
    std::atomic<bool> core_pinned{false};

    std::atomic<bool> running{true};
    std::atomic<std::int64_t> engaged_at{0};
    std::thread core([&] {
        core_pinned.store(pin_to_cpu(options.consumer_cpu));
        while (running.load(std::memory_order_relaxed)) {
            if (channel.kill_requested() && channel.take_kill_request()) {
                const std::int64_t now = core::monotonic_clock{}.now();
                engine.trigger_kill_switch(risk::halt_reason::manual_kill, now);
                engaged_at.store(now, std::memory_order_release);
                (void)engine.resume(now); // re-arm for the next round, on the owning thread
            }
        }
    });

    std::vector<double> latencies_us;
    latencies_us.reserve(static_cast<std::size_t>(rounds));
    for (int i = 0; i < rounds; ++i) {
        engaged_at.store(0, std::memory_order_relaxed);
        const std::int64_t sent = core::monotonic_clock{}.now();
        ::kill(::getpid(), SIGUSR1);
        const std::int64_t deadline = sent + ns_per_s;
        std::int64_t engaged = 0;
        // Both timestamps are taken by the threads involved; this thread only needs to know when
        // to send the next signal, so it naps instead of competing with the spinning core.
        while ((engaged = engaged_at.load(std::memory_order_acquire)) == 0 &&
               core::monotonic_clock{}.now() < deadline) {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        if (engaged != 0) {
            latencies_us.push_back(static_cast<double>(engaged - sent) / 1'000.0);
        }
    }
    running.store(false);
    core.join();
    ops::remove_signal_handlers();
    if (restore_affinity) {
        pthread_setaffinity_np(pthread_self(), sizeof original_affinity, &original_affinity);
    }

    std::sort(latencies_us.begin(), latencies_us.end());
    const auto at = [&](double q) {
        return latencies_us.empty() ? 0.0
                                    : latencies_us[static_cast<std::size_t>(
                                          q * static_cast<double>(latencies_us.size() - 1))];
    };
    std::printf("\nkill path: SIGUSR1 -> handler -> flag -> core loop -> kill switch engaged "
                "(sender cpu %d%s, core cpu %d%s)\n",
                options.producer_cpu, sender_pinned ? "" : " unpinned", options.consumer_cpu,
                core_pinned.load() ? "" : " unpinned");
    std::printf("%-10s %10s %10s %10s %10s %10s\n", "rounds", "p50 us", "p90 us", "p99 us",
                "max us", "missed");
    std::printf("%-10zu %10.1f %10.1f %10.1f %10.1f %10d\n", latencies_us.size(), at(0.5), at(0.9),
                at(0.99), at(1.0), rounds - static_cast<int>(latencies_us.size()));
}

} // namespace

int run_risk_bench(const bench_options& options) {
    check_table(options);
    kill_path_table(options);
    return 0;
}

} // namespace quoter::bench
