// `quoter backtest` and `quoter run --mode sim`. Both build the simulated run from the loaded
// configuration (make_backtest_config) and drive sim::backtest_engine: the backtest as fast as
// it goes, on every core for many paths; the paced run step by step against the wall clock,
// measuring tick-to-quote (book in -> orders out) around each step's reaction. Both run every
// order through risk::risk_engine at the engine's risk seam (sim_risk); the paced run also
// journals ([journal] path) and takes manual commands (signals, keys) through
// ops::control_channel, waking from its pacing wait so that a kill never waits for the market.
#include "sim_commands.hpp"

#include "latency_stats.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/engine/risk_gate.hpp"
#include "quoter/exec/flattener.hpp"
#include "quoter/ops/alerts.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/ops/terminal.hpp"
#include "quoter/risk/risk_engine.hpp"
#include "quoter/sim/backtest.hpp"
#include "quoter/sim/path_runner.hpp"
#include "quoter/sim/random.hpp"
#include "quoter/sim/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace quoter::app {
namespace {

constexpr int exit_write_failed = 1;
constexpr int exit_invalid_config = 2;
constexpr int exit_not_built = 3;

// ---------------------------------------------------------------------------------------------
// Shared

/// The configuration keys that shape a simulated run, as the report echoes them.
std::vector<sim::report_parameter> report_parameters(const engine_config& config,
                                                     std::uint32_t paths, std::uint64_t seed) {
    constexpr std::array<std::string_view, 7> prefixes{
        "engine.symbol", "symbol.", "strategy.", "market.",
        "sim_exchange.", "quotes.", "backtest."};
    std::vector<sim::report_parameter> out;
    for (const auto& key : config.resolved.keys) {
        const bool wanted = std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) {
            return std::string_view(key.key).starts_with(p);
        });
        if (!wanted) {
            continue;
        }
        std::string value = key.value_text;
        if (key.key == "backtest.paths") {
            value = std::to_string(paths); // as run, after --paths
        } else if (key.key == "backtest.seed") {
            value = std::to_string(seed);
        }
        out.push_back({key.key, std::move(value)});
    }
    return out;
}

std::string signed_money(double value) {
    return fmt::format("{:+.4f}", value);
}

std::string clock_text(core::timestamp_ns ns) {
    const std::int64_t seconds = ns / core::ns_per_s;
    return fmt::format("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

std::string rate_text(double per_s) {
    if (per_s >= 1e6) {
        return fmt::format("{:.1f} M", per_s / 1e6);
    }
    if (per_s >= 1e3) {
        return fmt::format("{:.1f} k", per_s / 1e3);
    }
    return fmt::format("{:.0f} ", per_s);
}

/// Redraws a one-line progress bar on a terminal's stderr once a run has lasted a second.
class progress_line {
public:
    explicit progress_line(std::string label)
        : label_(std::move(label)), start_(monotonic_ns()), enabled_(::isatty(STDERR_FILENO) != 0) {
    }
    void update(std::size_t done, std::size_t total) {
        const std::int64_t now = monotonic_ns();
        if (!enabled_ || now - start_ < core::ns_per_s || now - last_ < 100 * core::ns_per_ms) {
            return;
        }
        last_ = now;
        shown_ = true;
        const std::string line = sim::render_progress_line(
            label_, done, total, static_cast<double>(now - start_) * 1e-9);
        std::fprintf(stderr, "\r%-78s", line.c_str());
        std::fflush(stderr);
    }
    void finish() {
        if (shown_) {
            std::fprintf(stderr, "\n");
        }
    }

private:
    std::string label_;
    std::int64_t start_;
    std::int64_t last_ = 0;
    bool enabled_;
    bool shown_ = false;
};

// ---------------------------------------------------------------------------------------------
// The risk seam of simulated runs

/// The risk engine behind the simulated run's risk seam, and the journal of what it decided.
/// Every new order is checked against the latest book and the account as of the last
/// kill-switch poll (after the step's mark); the orders it let through are tracked until a
/// terminal report so that a kill can journal a cancel request for each one open. Journal times
/// are the engine's (simulated) time. Engine thread only.
class sim_risk final : public sim::risk_hook,
                       private risk::engine_actions,
                       private risk::rejection_sink {
public:
    /// journal may be null; alerts must outlive the hook.
    sim_risk(const risk::risk_config& config, const core::symbol_spec& spec, ops::journal* journal,
             risk::alert_sink& alerts) noexcept
        : spec_(spec), journal_(journal), alerts_(&alerts), limits_(config.limits),
          engine_(config, *this, alerts, *this),
          flattener_({.slippage_ticks = config.triggers.flatten_slippage_ticks,
                      .max_attempts = config.triggers.flatten_max_attempts},
                     spec, 0) {}

    [[nodiscard]] const exec::flattener& flattener() const noexcept { return flattener_; }

    [[nodiscard]] risk::risk_engine& engine() noexcept { return engine_; }
    [[nodiscard]] std::uint64_t refusals() const noexcept { return refusals_; }
    [[nodiscard]] std::uint64_t refusals(risk::reject_reason reason) const noexcept {
        return by_reason_[static_cast<std::size_t>(reason)];
    }
    [[nodiscard]] std::size_t open_orders() const noexcept { return open_count_; }

    /// A graceful stop is under way: cancels from now on are journalled as `shutdown`.
    void begin_shutdown(core::timestamp_ns now) noexcept {
        stopping_ = true;
        journal_cancel_requests(ops::cancel_cause::shutdown, now);
    }

    /// Journals a manual command as received.
    void journal_command(ops::control_command command, ops::command_source source,
                         core::timestamp_ns now) noexcept {
        if (journal_ != nullptr) {
            journal_->append(now, ops::command_entry{command, source});
        }
    }

    // sim::risk_hook
    exec::gateway_error check_order(const exec::order_request& request,
                                    core::timestamp_ns now) noexcept override {
        now_ = std::max(now_, now);
        if (!passes(request, risk::order_intent::quote, now)) {
            // Counted by reason in on_rejection, which the risk engine calls with the values.
            return exec::gateway_error::rate_limited;
        }
        note_sent(request, risk::order_intent::quote, now);
        return exec::gateway_error::none;
    }

    void on_model(const strategy::quote_diagnostics& model) noexcept override { model_ = model; }

    std::optional<exec::order_request> flatten_order(const portfolio::account& account,
                                                     core::timestamp_ns now) noexcept override {
        now_ = std::max(now_, now);
        view_.position = account.position();
        view_.equity = account.equity();
        const auto request = engine::next_flatten_order(
            flattener_, spec_, limits_, with_open_orders(), market_, symbol_id, *alerts_, now);
        if (!request) {
            return std::nullopt;
        }
        if (!passes(*request, risk::order_intent::flatten, now)) {
            flattener_.on_sent(false);
            return std::nullopt;
        }
        return request;
    }

    void on_flatten_sent(const exec::order_request& request, bool accepted,
                         core::timestamp_ns now) noexcept override {
        flattener_.on_sent(accepted);
        if (accepted) {
            note_sent(request, risk::order_intent::flatten, now);
        }
    }

    void on_book(core::price bid, core::price ask, core::timestamp_ns now) noexcept override {
        now_ = std::max(now_, now);
        market_ = {bid, ask};
    }

    bool kill_switch(const portfolio::account& account, core::timestamp_ns now) noexcept override {
        now_ = std::max(now_, now);
        account_ = &account;
        const double equity = account.equity();
        if (!started_) {
            started_ = true;
            day_start_equity_ = equity;
            peak_equity_ = equity;
        }
        peak_equity_ = std::max(peak_equity_, equity);
        view_.position = account.position();
        view_.equity = equity;
        view_.day_start_equity = day_start_equity_;
        view_.peak_equity = peak_equity_;
        view_.realized_pnl_today = account.realized_pnl() - account.fees();
        view_.unrealized_pnl = account.unrealized_pnl();
        engine_.on_market_data(now);
        engine_.on_account(spec_, symbol_id, market_, with_open_orders(), now);
        engine_.poll(now, oldest_unacked());
        return engine_.state() != risk::trading_state::running;
    }

    void on_exec_report(const exec::exec_report& report) noexcept override {
        const core::timestamp_ns at = report.local_ts;
        now_ = std::max(now_, at);
        (void)flattener_.on_exec_report(report);
        open_order* const order = find(report.client_id.value);
        switch (report.kind) {
        case exec::exec_kind::ack:
            if (order != nullptr && !order->acked) {
                order->acked = true;
                engine_.on_ack(order->sent, at);
                if (journal_ != nullptr) {
                    journal_->append(at, ops::ack_entry{report.client_id.value, report.exchange_id,
                                                        at - order->sent, symbol_id});
                }
            }
            break;
        case exec::exec_kind::partial_fill:
        case exec::exec_kind::fill:
            engine_.on_fill(engine::to_risk_fill(
                report, symbol_id, at, order != nullptr ? order->expected : report.price));
            if (journal_ != nullptr) {
                journal_->append(
                    at, ops::fill_entry{.client_order_id = report.client_id.value,
                                        .price = report.price,
                                        .qty = report.fill_qty,
                                        .position_after = account_ != nullptr ? account_->position()
                                                                              : core::qty{},
                                        .fee = spec_.to_double(core::price{report.fee_units}) *
                                               spec_.to_double(core::qty{1}),
                                        .symbol_id = symbol_id,
                                        .side = report.side,
                                        .maker = report.liquidity != exec::liquidity_role::taker});
            }
            break;
        case exec::exec_kind::cancelled:
            if (journal_ != nullptr) {
                journal_->append(at, ops::cancel_entry{report.client_id.value, symbol_id,
                                                       report.reason == exec::reject_reason::expired
                                                           ? ops::cancel_cause::expired
                                                           : current_cause(),
                                                       ops::cancel_stage::confirmed});
            }
            break;
        case exec::exec_kind::reject:
            // An order the exchange refused on entry ended there: journalled as a cancel by the
            // exchange so that every order_intent line has an end.
            if (journal_ != nullptr && order != nullptr) {
                journal_->append(at, ops::cancel_entry{report.client_id.value, symbol_id,
                                                       ops::cancel_cause::exchange,
                                                       ops::cancel_stage::confirmed});
            }
            break;
        default:
            break;
        }
        if (order != nullptr && report.is_terminal()) {
            order->live = false;
            --open_count_;
        }
    }

private:
    static constexpr std::uint16_t symbol_id = 0;
    static constexpr std::size_t max_tracked = 64;

    struct open_order {
        std::uint64_t id = 0;
        core::side side = core::side::buy;
        core::qty qty;
        core::timestamp_ns sent = 0;
        core::price expected; ///< Expected fill price (engine::expected_fill_price).
        bool live = false;
        bool acked = false;
    };

    // risk::engine_actions: the engine cancels as soon as the hook reports the halt (at once
    // for a manual command, within the same poll for an automatic trigger).
    void cancel_all_orders(risk::halt_reason reason) noexcept override {
        journal_cancel_requests(reason == risk::halt_reason::manual_pause ||
                                        engine_.state() == risk::trading_state::paused
                                    ? ops::cancel_cause::pause
                                    : ops::cancel_cause::kill,
                                now_);
    }
    // The engine asks for the flatten orders (flatten_order) on every step while halted.
    void flatten_positions(risk::halt_reason reason) noexcept override {
        (void)reason;
        flattener_.start();
    }
    // New orders are gated by the trading state the hook reports every poll; a resume ends
    // flattening.
    void set_new_orders_enabled(bool enabled) noexcept override {
        if (enabled) {
            flattener_.stop();
        }
    }
    void on_state_change(const risk::state_change& change) noexcept override {
        if (journal_ != nullptr) {
            journal_->append(change);
        }
    }

    // risk::rejection_sink
    void on_rejection(const risk::rejection_record& record) noexcept override {
        ++refusals_;
        ++by_reason_[static_cast<std::size_t>(record.reason)];
        if (journal_ != nullptr) {
            journal_->append(record);
        }
    }

    /// Runs the pre-trade checks on a new order against the latest book and account.
    [[nodiscard]] bool passes(const exec::order_request& request, risk::order_intent intent,
                              core::timestamp_ns now) noexcept {
        return engine_.check_order(spec_, engine::to_risk_order(request, symbol_id, intent),
                                   market_, with_open_orders(),
                                   now) == risk::reject_reason::none;
    }

    /// Tracks an order that left and journals its intent with the model behind it.
    void note_sent(const exec::order_request& request, risk::order_intent intent,
                   core::timestamp_ns now) noexcept {
        track(request, engine::expected_fill_price(request, market_, intent), now);
        if (journal_ == nullptr) {
            return;
        }
        const double mid =
            0.5 * static_cast<double>(market_.best_bid.ticks() + market_.best_ask.ticks()) *
            spec_.tick_size();
        ops::order_intent_entry entry;
        entry.client_order_id = request.id.value;
        entry.symbol_id = symbol_id;
        entry.side = request.side;
        entry.post_only = request.post_only;
        entry.reduce_only = request.reduce_only;
        entry.intent = intent;
        entry.price = request.price;
        entry.qty = request.qty;
        entry.best_bid = market_.best_bid;
        entry.best_ask = market_.best_ask;
        entry.inventory = view_.position;
        entry.mid = mid;
        if (intent == risk::order_intent::quote) { // a flatten order has no model behind it
            entry.volatility = model_.sigma_per_sqrt_s;
            entry.reservation_price = model_.center_price;
            entry.half_spread = model_.half_spread;
            entry.skew = model_.center_price - mid;
        }
        journal_->append(now, entry);
    }

    [[nodiscard]] ops::cancel_cause current_cause() const noexcept {
        if (stopping_) {
            return ops::cancel_cause::shutdown;
        }
        switch (engine_.state()) {
        case risk::trading_state::killed:
            return ops::cancel_cause::kill;
        case risk::trading_state::paused:
            return ops::cancel_cause::pause;
        case risk::trading_state::running:
            break;
        }
        return ops::cancel_cause::strategy;
    }

    void journal_cancel_requests(ops::cancel_cause cause, core::timestamp_ns now) noexcept {
        if (journal_ == nullptr) {
            return;
        }
        for (const open_order& order : orders_) {
            if (order.live) {
                journal_->append(now, ops::cancel_entry{order.id, symbol_id, cause,
                                                        ops::cancel_stage::requested});
            }
        }
    }

    [[nodiscard]] risk::account_view with_open_orders() const noexcept {
        risk::account_view view = view_;
        std::int64_t buys = 0;
        std::int64_t sells = 0;
        for (const open_order& order : orders_) {
            if (order.live) {
                (order.side == core::side::buy ? buys : sells) += order.qty.lots();
            }
        }
        view.open_buy_qty = core::qty{buys};
        view.open_sell_qty = core::qty{sells};
        return view;
    }

    [[nodiscard]] core::timestamp_ns oldest_unacked() const noexcept {
        core::timestamp_ns oldest = risk::no_pending_ack;
        for (const open_order& order : orders_) {
            if (order.live && !order.acked) {
                oldest = std::min(oldest, order.sent);
            }
        }
        return oldest;
    }

    [[nodiscard]] open_order* find(std::uint64_t id) noexcept {
        for (open_order& order : orders_) {
            if (order.live && order.id == id) {
                return &order;
            }
        }
        return nullptr;
    }

    void track(const exec::order_request& request, core::price expected,
               core::timestamp_ns now) noexcept {
        for (open_order& order : orders_) {
            if (!order.live) {
                order = {request.id.value, request.side, request.qty, now, expected, true, false};
                ++open_count_;
                return;
            }
        }
        // More live orders than slots cannot happen with at most 2 * max_quote_levels orders
        // per manager; an untracked order only loses its journal cancel request.
    }

    const core::symbol_spec& spec_;
    ops::journal* journal_;
    risk::alert_sink* alerts_;
    risk::risk_limits limits_;
    risk::risk_engine engine_;
    exec::flattener flattener_;
    /// Model outputs behind the latest desired quotes.
    strategy::quote_diagnostics model_{};
    const portfolio::account* account_ = nullptr;
    risk::market_view market_{};
    risk::account_view view_{};
    double day_start_equity_ = 0.0;
    double peak_equity_ = 0.0;
    bool started_ = false;
    bool stopping_ = false;
    core::timestamp_ns now_ = 0;
    std::array<open_order, max_tracked> orders_{};
    std::size_t open_count_ = 0;
    std::uint64_t refusals_ = 0;
    std::array<std::uint64_t, risk::reject_reason_count> by_reason_{};
};

/// "  risk: orders refused N: reason n, ..." for a run's hook.
void print_refusals(sim_risk& hook, bool halted) {
    std::printf("  risk: %s, orders refused %llu",
                halted ? "trading halted at least once" : "never halted",
                static_cast<unsigned long long>(hook.refusals()));
    const char* separator = ": ";
    for (std::size_t r = 0; r < risk::reject_reason_count; ++r) {
        const auto reason = static_cast<risk::reject_reason>(r);
        if (hook.refusals(reason) != 0) {
            std::printf("%s%s %llu", separator, std::string(risk::to_string(reason)).c_str(),
                        static_cast<unsigned long long>(hook.refusals(reason)));
            separator = ", ";
        }
    }
    std::printf("\n");
}

// ---------------------------------------------------------------------------------------------
// quoter backtest

void print_single_summary(const sim::backtest_result& result, const sim::backtest_config& config,
                          double wall_s) {
    const sim::run_metrics& m = result.metrics;
    const double steps = static_cast<double>(result.counters.steps);
    std::printf("quoter backtest: 1 path, %.0f s simulated (%.0f steps) in %.2f s, %ssteps/s\n",
                static_cast<double>(config.duration_ns) * 1e-9, steps, wall_s,
                rate_text(wall_s > 0 ? steps / wall_s : 0.0).c_str());
    std::printf("  PnL %s (%+.4f%%), Sharpe %.2f, max drawdown %.4f (%.4f%%)\n",
                signed_money(m.total_pnl).c_str(), m.total_return_pct, m.sharpe, m.max_drawdown,
                m.max_drawdown_pct);
    std::printf("  spread capture %s, inventory PnL %s, net fees %.4f\n",
                signed_money(m.spread_capture_pnl).c_str(), signed_money(m.inventory_pnl).c_str(),
                m.net_fees);
    std::printf(
        "  fills %llu (buy %llu, sell %llu), orders %llu, cancels %llu, cancel/trade %.2f\n",
        static_cast<unsigned long long>(m.fills), static_cast<unsigned long long>(m.buy_fills),
        static_cast<unsigned long long>(m.sell_fills),
        static_cast<unsigned long long>(m.orders_submitted),
        static_cast<unsigned long long>(m.cancels), m.cancel_to_trade);
    std::printf("  inventory: final %.8g, mean |q| %.8g, max |q| %.8g\n", m.final_inventory,
                m.mean_abs_inventory, m.max_abs_inventory);
}

void print_multi_summary(const sim::multi_path_result& result, const sim::backtest_config& config,
                         unsigned threads, double wall_s) {
    const double steps = static_cast<double>(result.total_steps);
    std::printf("quoter backtest: %zu paths of %.0f s simulated (%.0f steps) in %.2f s on %u "
                "thread%s, %ssteps/s\n",
                result.paths.size(), static_cast<double>(config.duration_ns) * 1e-9, steps, wall_s,
                threads, threads == 1 ? "" : "s",
                rate_text(wall_s > 0 ? steps / wall_s : 0.0).c_str());
    const auto row = [](const char* name, const sim::distribution_stats& d) {
        std::printf("  %-16s mean %+.6g  std %.6g  [p05 %.6g, median %.6g, p95 %.6g]\n", name,
                    d.mean, d.stddev, d.p05, d.median, d.p95);
    };
    row("final PnL", result.metrics.final_pnl);
    row("final inventory", result.metrics.final_inventory);
    row("Sharpe", result.metrics.sharpe);
    row("fills", result.metrics.fills);
}

} // namespace

int run_backtest_command(const backtest_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, {}, "backtest");
    if (!loaded) {
        return exit_invalid_config;
    }
    const engine_config& config = *loaded;
    const sim::backtest_config run = make_backtest_config(config);
    const std::uint32_t paths = command.paths.value_or(config.backtest.paths);
    const std::uint64_t seed = command.seed.value_or(config.backtest.seed);
    const auto parameters = report_parameters(config, paths, seed);
    const std::filesystem::path out_dir = command.out_dir;
    const std::string title =
        fmt::format("quoter backtest: {} on a synthetic market, {} model{}", config.engine.symbol,
                    strategy::to_string(config.strategy.model),
                    config.strategy.symmetric ? " (symmetric)" : "");

    // Every path runs behind its own risk engine (no journal: a backtest is not operated).
    ops::stderr_alert_sink alerts;
    std::mutex made_mutex;
    std::shared_ptr<sim_risk> first_hook;
    const sim::risk_hook_factory risk = [&]() -> std::shared_ptr<sim::risk_hook> {
        auto hook = std::make_shared<sim_risk>(config.risk, config.spec, nullptr, alerts);
        const std::lock_guard<std::mutex> lock(made_mutex);
        if (first_hook == nullptr) {
            first_hook = hook;
        }
        return hook;
    };

    if (paths == 1) {
        progress_line progress("simulated s");
        const std::int64_t start = monotonic_ns();
        const auto result = sim::run_backtest(
            run, config.spec, sim::derive_path_seed(seed, 0),
            [&](core::timestamp_ns now, core::timestamp_ns end) {
                progress.update(static_cast<std::size_t>(now / core::ns_per_s),
                                static_cast<std::size_t>(end / core::ns_per_s));
            },
            risk);
        const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
        progress.finish();
        const auto report = sim::make_run_report(result, config.spec, title, parameters);
        const auto written = sim::write_run_report(out_dir, report);
        if (!written) {
            std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n",
                         written.error().path.c_str(), written.error().reason.c_str());
            return exit_write_failed;
        }
        print_single_summary(result, run, wall_s);
        if (first_hook != nullptr) {
            print_refusals(*first_hook, result.counters.killed);
        }
        std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                    (out_dir / "report.html").string().c_str());
        return 0;
    }

    sim::path_runner runner(sim::path_runner_options{.threads = config.backtest.threads});
    const std::int64_t start = monotonic_ns();
    const auto result = sim::run_backtest_paths(run, config.spec, seed, paths, runner, risk);
    const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;

    const auto example = sim::make_run_report(
        result.example, config.spec,
        fmt::format("path 0 of {} (seed {})", paths, result.example.seed), parameters);
    sim::multi_path_report report;
    report.title = fmt::format("{}, {} paths", title, paths);
    report.paths = result.paths;
    report.metrics = result.metrics;
    report.parameters = parameters;
    report.format = sim::report_format_for(config.spec);
    report.representative = &example;
    auto written = sim::write_multi_path_report(out_dir, report);
    if (written) {
        written = sim::write_run_report(out_dir / "path_0", example);
    }
    if (!written) {
        std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n", written.error().path.c_str(),
                     written.error().reason.c_str());
        return exit_write_failed;
    }
    print_multi_summary(result, run, runner.threads(), wall_s);
    std::printf("report: %s (per-path table %s, path 0 in full in %s)\n",
                (out_dir / "report.html").string().c_str(),
                (out_dir / "paths.csv").string().c_str(), (out_dir / "path_0").string().c_str());
    return 0;
}

// ---------------------------------------------------------------------------------------------
// quoter run --mode sim

namespace {

/// Installs the SIGINT/SIGTERM/SIGUSR1 handlers for its lifetime.
class signal_guard {
public:
    explicit signal_guard(ops::control_channel& channel) noexcept
        : installed_(ops::install_signal_handlers(channel)) {}
    signal_guard(const signal_guard&) = delete;
    signal_guard& operator=(const signal_guard&) = delete;
    ~signal_guard() {
        if (installed_) {
            ops::remove_signal_handlers();
        }
    }
    [[nodiscard]] bool installed() const noexcept { return installed_; }

private:
    bool installed_;
};

/// Waits up to `ns` for a control command (a signal or a key), or sleeps when the channel has no
/// wake-up fd.
void wait_for_control(const ops::control_channel& channel, std::int64_t ns) {
    if (ns <= 0) {
        return;
    }
    if (channel.wake_fd() < 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
        return;
    }
    pollfd fd{channel.wake_fd(), POLLIN, 0};
    const timespec timeout{static_cast<time_t>(ns / core::ns_per_s),
                           static_cast<long>(ns % core::ns_per_s)};
    (void)::ppoll(&fd, 1, &timeout, nullptr);
}

std::string price_text(const core::symbol_spec& spec, core::price p) {
    if (p.ticks() <= 0) {
        return "-";
    }
    std::array<char, 48> buffer{};
    return std::string(spec.format_price(p, buffer));
}

std::string status_line(const sim::backtest_engine& engine, double speed,
                        const latency_histogram& window) {
    const auto& spec = engine.spec();
    const auto& account = engine.account();
    const auto mode = engine.quote_mode();
    return fmt::format(
        "sim {} x{:g}  mid {:.{}f}  bid {}  ask {}  inv {:.{}f}{}  pnl {}  fills {}  "
        "t2q p50 {:.1f} us p99 {:.1f} us",
        clock_text(engine.now()), speed, engine.mid(), spec.price_decimals() + 1,
        price_text(spec, engine.working_bid()), price_text(spec, engine.working_ask()),
        account.position_base(), spec.qty_decimals(),
        mode == strategy::quote_mode::normal ? std::string()
                                             : fmt::format(" ({})", strategy::to_string(mode)),
        signed_money(account.total_pnl()), account.fill_count(),
        static_cast<double>(window.percentile(0.50)) * 1e-3,
        static_cast<double>(window.percentile(0.99)) * 1e-3);
}

void print_risk_summary(const sim::backtest_engine& engine, sim_risk& hook,
                        const ops::journal* journal) {
    const risk::kill_switch& state = hook.engine().switch_state();
    std::printf("  risk: state %s", std::string(risk::to_string(state.state())).c_str());
    if (state.state() == risk::trading_state::killed) {
        std::printf(" (%s)", std::string(risk::to_string(state.kill_reason())).c_str());
    }
    std::printf(", halts %llu, orders refused %llu",
                static_cast<unsigned long long>(engine.counters().halts),
                static_cast<unsigned long long>(hook.refusals()));
    const char* separator = ": ";
    for (std::size_t r = 0; r < risk::reject_reason_count; ++r) {
        const auto reason = static_cast<risk::reject_reason>(r);
        if (hook.refusals(reason) != 0) {
            std::printf("%s%s %llu", separator, std::string(risk::to_string(reason)).c_str(),
                        static_cast<unsigned long long>(hook.refusals(reason)));
            separator = ", ";
        }
    }
    std::printf("\n");
    const exec::flattener& flattener = hook.flattener();
    if (flattener.orders_sent() != 0 || flattener.state() != exec::flatten_state::idle) {
        std::printf("  flatten on kill: %s, %llu orders, %.*f filled\n",
                    std::string(exec::to_string(flattener.state())).c_str(),
                    static_cast<unsigned long long>(flattener.orders_sent()),
                    engine.spec().qty_decimals(), engine.spec().to_double(flattener.filled_qty()));
    }
    if (journal != nullptr) {
        std::printf("  journal: %s (%llu lines, %llu dropped)\n", journal->path().c_str(),
                    static_cast<unsigned long long>(journal->lines_flushed()),
                    static_cast<unsigned long long>(journal->dropped()));
    }
}

void print_run_summary(const sim::backtest_engine& engine, double speed, double wall_s,
                       const latency_histogram& tick_to_quote, std::string_view stopped_by) {
    const auto& account = engine.account();
    const auto& activity = engine.activity();
    const auto& quotes = engine.quote_manager().counters();
    const double initial = static_cast<double>(account.initial_cash_units()) /
                           static_cast<double>(core::pow10(engine.spec().price_decimals() +
                                                           engine.spec().qty_decimals()));
    std::printf("quoter run --mode sim: stopped by %s after %.1f s wall, %.1f s simulated (x%g), "
                "%llu steps\n",
                std::string(stopped_by).c_str(), wall_s, static_cast<double>(engine.now()) * 1e-9,
                speed, static_cast<unsigned long long>(engine.counters().steps));
    std::printf("  PnL %s (%+.4f%%), equity %.4f, spread capture %s, inventory PnL %s, "
                "net fees %.4f\n",
                signed_money(account.total_pnl()).c_str(),
                initial > 0 ? 100.0 * account.total_pnl() / initial : 0.0, account.equity(),
                signed_money(account.spread_capture_pnl()).c_str(),
                signed_money(account.inventory_pnl()).c_str(), account.fees());
    std::printf("  fills %llu, orders %llu, cancels %llu, rejects %llu, cancel/trade %.2f, "
                "final inventory %.*f\n",
                static_cast<unsigned long long>(account.fill_count()),
                static_cast<unsigned long long>(activity.orders_submitted),
                static_cast<unsigned long long>(activity.cancels),
                static_cast<unsigned long long>(activity.rejects), quotes.cancel_to_trade_ratio(),
                engine.spec().qty_decimals(), account.position_base());
    std::printf("  tick-to-quote (book update to orders sent, %llu updates): p50 %.2f us, "
                "p99 %.2f us, max %.2f us\n",
                static_cast<unsigned long long>(tick_to_quote.count()),
                static_cast<double>(tick_to_quote.percentile(0.50)) * 1e-3,
                static_cast<double>(tick_to_quote.percentile(0.99)) * 1e-3,
                static_cast<double>(tick_to_quote.max()) * 1e-3);
    std::printf("  open orders after the final cancel-all: %zu\n",
                engine.exchange().open_order_count());
}

} // namespace

int run_sim_command(const sim_run_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid_config;
    }
    const engine_config& config = *loaded;
    if (command.mode_from_config && config.engine.mode != engine_mode::sim) {
        std::fprintf(stderr, "quoter run --mode %s: not built yet\n",
                     std::string(to_string(config.engine.mode)).c_str());
        return exit_not_built;
    }
    const double speed = command.speed.value_or(config.backtest.speed);
    const sim::backtest_config run = make_backtest_config(config);

    std::unique_ptr<ops::journal> journal;
    if (!config.journal.path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = config.journal.path;
        journal_config.fdatasync_interval_ms = config.journal.flush_interval_ms.count();
        journal_config.symbols = {config.spec};
        journal_config.stamp_wall_clock = true; // "ts" is simulated time
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened) {
            std::fprintf(stderr, "quoter run: cannot open the journal %s: %s\n",
                         config.journal.path.c_str(), std::strerror(opened.error().error_number));
            return exit_write_failed;
        }
        journal = std::move(*opened);
        if (!journal->start()) {
            std::fprintf(stderr, "quoter run: cannot start the journal writer\n");
            return exit_write_failed;
        }
    }
    ops::stderr_alert_sink stderr_alerts;
    std::optional<ops::journal_alert_sink> journal_alerts;
    if (journal != nullptr) {
        journal_alerts.emplace(*journal, &stderr_alerts);
    }
    risk::alert_sink& alerts = journal_alerts ? static_cast<risk::alert_sink&>(*journal_alerts)
                                              : static_cast<risk::alert_sink&>(stderr_alerts);
    auto hook = std::make_unique<sim_risk>(config.risk, config.spec, journal.get(), alerts);

    // No records: a paced run may last for days; the summary comes from the account.
    auto engine = std::make_unique<sim::backtest_engine>(
        run, config.spec, sim::derive_path_seed(config.backtest.seed, 0),
        sim::record_options{.pnl = false, .fills = false, .orders = false}, hook.get());

    ops::control_channel channel;
    const signal_guard signals(channel);
    if (!signals.installed()) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
    }
    // Keys only in an interactive terminal; the reader restores the terminal when it stops
    // (its destructor, on every return below) and the signal handlers on a forced exit.
    ops::terminal_key_reader keys(channel);
    const bool interactive =
        ::isatty(STDIN_FILENO) != 0 && keys.start() == ops::terminal_error::none;

    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    std::fprintf(
        stderr, "quoter run --mode sim: %s on a synthetic market at x%g wall speed%s; %s\n",
        config.engine.symbol.c_str(), speed,
        command.duration_s > 0 ? fmt::format(", for {:g} s", command.duration_s).c_str() : "",
        interactive ? "keys: k kill, p pause, r resume, q quit; Ctrl-C stops"
                    : "Ctrl-C stops, SIGUSR1 kills");
    std::fflush(stderr);
    // A terminal gets a line redrawn in place a few times a second; logs get one line now and
    // then.
    const std::int64_t status_every = terminal ? 250 * core::ns_per_ms : 5 * core::ns_per_s;
    constexpr std::int64_t max_sleep_ns = 20 * core::ns_per_ms;
    constexpr int max_steps_per_round = 1 << 16; // keeps signals and the status responsive

    bool quit = false;
    // Manual commands reach the engine between steps: a kill or pause cancels at once.
    const auto take_control = [&] {
        const core::timestamp_ns now = engine->now();
        bool acted = false;
        if (channel.kill_requested()) {
            if (const auto source = channel.take_kill_request()) {
                hook->journal_command(ops::control_command::kill, *source, now);
                (void)hook->engine().trigger_kill_switch(risk::halt_reason::manual_kill, now);
                acted = true;
            }
        }
        channel.drain([&](const ops::control_message& message) {
            hook->journal_command(message.command, message.source, now);
            acted = true;
            switch (message.command) {
            case ops::control_command::kill:
                (void)hook->engine().trigger_kill_switch(risk::halt_reason::manual_kill, now);
                break;
            case ops::control_command::pause:
                hook->engine().pause(now);
                break;
            case ops::control_command::resume: {
                const risk::resume_result result = hook->engine().resume(now);
                if (result.outcome == risk::resume_outcome::refused) {
                    std::fprintf(stderr, "\nresume refused: %s persists\n",
                                 std::string(risk::to_string(result.blocking)).c_str());
                }
                break;
            }
            case ops::control_command::quit:
                quit = true;
                break;
            }
        });
        if (acted) {
            engine->poll_risk();
        }
        if (channel.stop_requested()) {
            quit = true;
        }
        channel.clear_wake();
    };

    latency_histogram tick_to_quote;
    latency_histogram window;
    const std::int64_t wall_start = monotonic_ns();
    const std::int64_t wall_end =
        command.duration_s > 0 ? wall_start + static_cast<std::int64_t>(command.duration_s * 1e9)
                               : std::numeric_limits<std::int64_t>::max();
    std::int64_t next_status = wall_start + status_every;
    std::size_t status_width = 0;

    take_control();
    while (!quit) {
        const std::int64_t wall = monotonic_ns();
        if (wall >= wall_end) {
            break;
        }
        const double due = static_cast<double>(wall - wall_start) * speed;
        for (int i = 0;
             i < max_steps_per_round && static_cast<double>(engine->now() + run.step_ns) <= due &&
             !channel.kill_requested() && !channel.stop_requested();
             ++i) {
            engine->advance_market();
            const std::int64_t before = monotonic_ns();
            engine->react();
            const std::int64_t reacted = monotonic_ns() - before;
            tick_to_quote.record(reacted);
            window.record(reacted);
            engine->simulate_order_flow();
        }
        take_control();
        if (quit) {
            break;
        }
        if (wall >= next_status) {
            const std::string line = status_line(*engine, speed, window);
            if (terminal) {
                status_width = std::max(status_width, line.size());
                std::fprintf(stderr, "\r%-*s", static_cast<int>(status_width), line.c_str());
            } else {
                std::fprintf(stderr, "%s\n", line.c_str());
            }
            std::fflush(stderr);
            window.reset();
            next_status = wall + status_every;
        }
        const double next_step_wall = static_cast<double>(wall_start) +
                                      static_cast<double>(engine->now() + run.step_ns) / speed;
        const auto sleep_ns = static_cast<std::int64_t>(
            std::clamp(next_step_wall - static_cast<double>(monotonic_ns()), 0.0,
                       static_cast<double>(max_sleep_ns)));
        // The wait wakes on a command, so a kill never waits for the next market step.
        wait_for_control(channel,
                         std::min(sleep_ns, std::max<std::int64_t>(wall_end - monotonic_ns(), 0)));
    }
    const std::string_view stopped_by = !quit ? std::string_view("--duration")
                                        : channel.stop_source()
                                            ? (*channel.stop_source() == ops::command_source::signal
                                                   ? std::string_view("SIGINT/SIGTERM")
                                                   : std::string_view("a stop request"))
                                            : std::string_view("the q key");
    const double wall_s = static_cast<double>(monotonic_ns() - wall_start) * 1e-9;
    hook->begin_shutdown(engine->now());
    engine->stop();
    keys.stop();
    if (journal != nullptr) {
        journal->stop();
    }
    if (terminal && status_width > 0) {
        std::fprintf(stderr, "\r%-*s\r", static_cast<int>(status_width), "");
        std::fflush(stderr);
    }
    print_run_summary(*engine, speed, wall_s, tick_to_quote, stopped_by);
    print_risk_summary(*engine, *hook, journal.get());
    std::fflush(stdout);
    return 0;
}

} // namespace quoter::app
