#include "quoter/engine/paper_session.hpp"

#include "quoter/core/cpu.hpp"
#include "quoter/core/decimal.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/ops/alert_dispatcher.hpp"
#include "quoter/ops/alerts.hpp"
#include "quoter/ops/engine_metrics.hpp"
#include "quoter/ops/http_server.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/ops/metrics.hpp"
#include "quoter/ops/state_file.hpp"
#include "quoter/ops/status.hpp"
#include "quoter/ops/telegram_commands.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace quoter::engine {

namespace {

/// The core's clock: monotonic (steady) but counted from the Unix epoch, read once at start,
/// so the risk engine's trading day (daily_reset_utc_minute) turns at the UTC time it is set
/// for and the trading day saved in the state file means the same day after a restart. A raw
/// steady clock counts from boot: its "days" turned at an arbitrary hour.
[[nodiscard]] core::timestamp_ns steady_ns() noexcept {
    static const std::int64_t epoch_offset = [] {
        const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
        const auto steady = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count();
        return wall - steady;
    }();
    return epoch_offset + std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
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

[[nodiscard]] ops::trading_state ops_state(risk::trading_state state) noexcept {
    switch (state) {
    case risk::trading_state::paused:
        return ops::trading_state::paused;
    case risk::trading_state::killed:
        return ops::trading_state::killed;
    case risk::trading_state::running:
        break;
    }
    return ops::trading_state::running;
}

/// Hands every alert to two sinks (stderr and the alert dispatcher); either may be null.
class tee_alert_sink final : public risk::alert_sink {
public:
    tee_alert_sink(risk::alert_sink* first, risk::alert_sink* second) noexcept
        : first_(first), second_(second) {}
    void raise(const risk::alert& a) noexcept override {
        if (first_ != nullptr) {
            first_->raise(a);
        }
        if (second_ != nullptr) {
            second_->raise(a);
        }
    }

private:
    risk::alert_sink* first_;
    risk::alert_sink* second_;
};

/// One working order as the state file keeps it.
struct persisted_order {
    std::uint64_t id = 0;
    std::int64_t price_ticks = 0;
    std::int64_t qty_lots = 0;
    std::int64_t filled_lots = 0;
    bool buy = true;
    std::uint8_t padding_[7] = {};

    friend bool operator==(const persisted_order&, const persisted_order&) = default;
};

/// What the state file keeps, as the core publishes it for the saver thread (a POD on a
/// sequence lock, like the status snapshot). Money in notional units of the symbol, except the
/// day's anchor, which the risk engine keeps in the quote asset (converted by the saver).
struct persisted_state {
    static constexpr std::size_t max_orders = 2 * exec::max_quote_levels;

    std::int64_t position_lots = 0;
    std::int64_t cost_basis_units = 0;
    std::int64_t cash_units = 0;
    std::int64_t trading_day = 0; ///< risk_engine::trading_day(); 0 before the first.
    double day_pnl_base = 0.0;    ///< Quote asset.
    double day_start_equity = 0.0;
    std::uint64_t last_order_sequence = 0;
    std::uint64_t order_count = 0;
    std::array<persisted_order, max_orders> orders{};
    bool kill_latched = false;
    risk::halt_reason kill_reason = risk::halt_reason::none;
    std::uint8_t padding_[6] = {};

    [[nodiscard]] bool same(const persisted_state& o) const noexcept {
        return position_lots == o.position_lots && cost_basis_units == o.cost_basis_units &&
               cash_units == o.cash_units && trading_day == o.trading_day &&
               day_pnl_base == o.day_pnl_base && day_start_equity == o.day_start_equity &&
               last_order_sequence == o.last_order_sequence && order_count == o.order_count &&
               orders == o.orders && kill_latched == o.kill_latched && kill_reason == o.kill_reason;
    }
};
using persisted_board = ops::seqlock_board<persisted_state>;

/// Saves the state file from its own thread (blocking file I/O never runs on the core): on a
/// change, looked for every save_interval_ms, and every ten intervals regardless, so that
/// saved_ns shows the engine alive; once more when stopped.
class state_saver {
public:
    /// unit: quote asset per notional unit of the symbol. journal: optional, for its last
    /// sequence number (read through an atomic).
    state_saver(std::string path, ops::engine_state base, const persisted_board& board,
                std::chrono::milliseconds interval, double unit, const ops::journal* journal)
        : path_(std::move(path)), base_(std::move(base)), board_(board), interval_(interval),
          unit_(unit), journal_(journal) {
        thread_ = std::thread([this] { run(); });
    }
    state_saver(const state_saver&) = delete;
    state_saver& operator=(const state_saver&) = delete;
    ~state_saver() { stop(); }

    /// Stops the thread and saves once more (the final state). Idempotent.
    void stop() {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) {
                return;
            }
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
        save(board_.read());
    }
    /// The last save error ("" when fine).
    [[nodiscard]] std::string error() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return error_;
    }

private:
    void run() {
        std::unique_lock<std::mutex> lock(mutex_);
        auto next_periodic = std::chrono::steady_clock::now();
        persisted_state saved{};
        bool any = false;
        while (!stopping_) {
            const persisted_state now = board_.read();
            const auto clock = std::chrono::steady_clock::now();
            if (!any || !now.same(saved) || clock >= next_periodic) {
                lock.unlock();
                save(now);
                lock.lock();
                saved = now;
                any = true;
                next_periodic = clock + 10 * interval_;
            }
            wake_.wait_for(lock, interval_, [this] { return stopping_; });
        }
    }

    void save(const persisted_state& p) {
        ops::engine_state state = base_;
        state.saved_ns = ops::wall_clock_ns();
        state.positions.push_back({.symbol = state.symbol,
                                   .qty_lots = p.position_lots,
                                   .entry_notional = p.cost_basis_units});
        state.cash = p.cash_units;
        state.trading_day = static_cast<std::int32_t>(p.trading_day);
        state.daily_pnl_base = std::llround(p.day_pnl_base / unit_);
        state.day_start_equity = std::llround(p.day_start_equity / unit_);
        state.last_client_order_seq = p.last_order_sequence;
        state.last_journal_seq = journal_ != nullptr ? journal_->lines_flushed() : 0;
        for (std::size_t i = 0; i < p.order_count && i < p.orders.size(); ++i) {
            const persisted_order& o = p.orders[i];
            state.open_orders.push_back(
                {.client_id = std::string(
                     exec::format_client_order_id(exec::client_order_id{o.id}, "").view()),
                 .symbol = state.symbol,
                 .buy = o.buy,
                 .price_ticks = o.price_ticks,
                 .qty_lots = o.qty_lots,
                 .filled_lots = o.filled_lots});
        }
        state.kill_latched = p.kill_latched;
        state.kill_reason =
            p.kill_latched ? std::string(risk::to_string(p.kill_reason)) : std::string{};
        std::string failed = ops::save_state(path_, state);
        const std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::move(failed);
    }

    std::string path_;
    ops::engine_state base_;
    const persisted_board& board_;
    std::chrono::milliseconds interval_;
    double unit_;
    const ops::journal* journal_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::string error_;
    std::thread thread_;
};

/// The core's side of the operations surface: fills the status snapshot and the engine metrics
/// from what the loop, the simulated exchange and the md service already count. Core thread;
/// no allocation, no formatting (fixed_text copies, atomic stores).
class ops_publisher final : public core_loop::exec_listener {
public:
    ops_publisher(const paper_session_config& config, const core::symbol_spec& spec,
                  ops::status_board& board, ops::engine_metrics& metrics,
                  persisted_board& persisted)
        : spec_(spec), board_(board), metrics_(metrics), persisted_(persisted) {
        snapshot_.started_ns = ops::wall_clock_ns();
        snapshot_.mode.assign(config.mode_name);
        snapshot_.gateway_connected = true; // the simulated exchange is in process
    }

    // core_loop::exec_listener: two relaxed stores and a histogram bucket each.
    void on_round_trip(core::duration_ns sent_to_ack) noexcept override {
        metrics_.order_round_trip.observe(sent_to_ack);
        round_trip_.record(sent_to_ack < 0 ? 0 : sent_to_ack);
    }
    void on_venue_reject(exec::reject_reason reason) noexcept override {
        metrics_.count_reject(reason);
    }

    void publish(const core_loop& loop, const exec::sim_exchange& exchange,
                 const live::market_data_service& service) noexcept {
        const live::service_stats md = service.stats();
        const risk::trading_state state = loop.state();
        const risk::market_view market = loop.market();
        const portfolio::account& account = loop.account();
        const exec::quote_counters quotes = loop.quotes().counters();
        const core_loop_stats& stats = loop.stats();
        const bool synced = !loop.feed_paused() && md.synced_symbols > 0;

        ops::status_snapshot& s = snapshot_;
        s.published_ns = ops::wall_clock_ns();
        s.state = ops_state(state);
        s.book_synced = synced;
        const risk::halt_reason reason = loop.risk().switch_state().kill_reason();
        if (reason != last_reason_) {
            last_reason_ = reason;
            s.halt_reason.assign(reason == risk::halt_reason::none ? std::string_view("")
                                                                   : risk::to_string(reason));
        }
        const bool have_book = market.best_bid.ticks() > 0 && market.best_ask.ticks() > 0;
        s.best_bid = have_book ? spec_.to_double(market.best_bid) : 0.0;
        s.best_ask = have_book ? spec_.to_double(market.best_ask) : 0.0;
        s.mid = have_book ? (s.best_bid + s.best_ask) / 2.0 : 0.0;
        s.spread_bps = have_book && s.mid > 0.0 ? (s.best_ask - s.best_bid) / s.mid * 1e4 : 0.0;
        const exec::working_order& bid = loop.quotes().order(core::side::buy, 0);
        const exec::working_order& ask = loop.quotes().order(core::side::sell, 0);
        s.quoted_bid = bid.status == exec::order_status::none ? 0.0 : spec_.to_double(bid.price);
        s.quoted_ask = ask.status == exec::order_status::none ? 0.0 : spec_.to_double(ask.price);
        s.inventory_base = spec_.to_double(account.position());
        s.pnl_total_quote = account.total_pnl();
        s.pnl_realized_quote = account.realized_pnl();
        s.working_orders = static_cast<std::uint32_t>(exchange.open_order_count());
        s.working_bids = bid.status == exec::order_status::none ? 0U : 1U;
        s.fills = stats.fills;
        const std::uint64_t sent = loop.gate().orders_sent(risk::order_intent::quote) +
                                   loop.gate().orders_sent(risk::order_intent::flatten);
        s.orders_sent = sent;
        if (round_trip_.count() != round_trip_count_) {
            round_trip_count_ = round_trip_.count();
            s.round_trip_p50_ns = round_trip_.p50();
            s.round_trip_p99_ns = round_trip_.percentile(0.99);
        }
        if (ticks_ != nullptr && ticks_->end_to_end().count() != tick_count_) {
            // Socket read to the order taken by the paper exchange, as the status line has it.
            tick_count_ = ticks_->end_to_end().count();
            s.tick_to_order_p50_ns = ticks_->end_to_end().p50();
            s.tick_to_order_p99_ns = ticks_->end_to_end().percentile(0.99);
        }
        board_.publish(s);

        persisted_state p;
        p.position_lots = account.position().lots();
        p.cost_basis_units = account.cost_basis_units();
        p.cash_units = account.cash_units();
        if (const auto day = loop.risk().trading_day()) {
            // The day's anchor as the daily-loss check sees it: the views' realized PnL minus
            // what today() leaves of it is the base; today()'s equity is the day's start.
            const risk::account_view raw = loop.gate().account();
            const risk::account_view today = loop.risk().today(raw);
            p.trading_day = *day;
            p.day_pnl_base = raw.realized_pnl_today - today.realized_pnl_today;
            p.day_start_equity = today.day_start_equity;
        }
        p.last_order_sequence = loop.quotes().last_sequence();
        for (std::size_t level = 0; level < exec::max_quote_levels; ++level) {
            for (const core::side side : {core::side::buy, core::side::sell}) {
                const exec::working_order& order = loop.quotes().order(side, level);
                if (order.status == exec::order_status::none || p.order_count >= p.orders.size()) {
                    continue;
                }
                p.orders[p.order_count++] = {.id = order.id.value,
                                             .price_ticks = order.price.ticks(),
                                             .qty_lots = order.qty.lots(),
                                             .filled_lots = order.cum_qty.lots(),
                                             .buy = side == core::side::buy};
            }
        }
        p.kill_latched = state == risk::trading_state::killed;
        p.kill_reason = reason;
        if (!p.same(last_persisted_)) {
            last_persisted_ = p;
            persisted_.publish(p);
        }

        metrics_.md_messages.set_total(md.messages);
        metrics_.md_gaps.set_total(md.gaps + stats.sequence_gaps);
        metrics_.md_resyncs.set_total(md.resyncs);
        metrics_.book_synced.set(synced ? 1.0 : 0.0);
        metrics_.orders_sent.set_total(sent);
        metrics_.cancels_sent.set_total(quotes.cancels_sent);
        metrics_.fills.set_total(stats.fills);
        metrics_.working_orders.set(static_cast<double>(s.working_orders));
        metrics_.gateway_connected.set(1.0);
        // Venue rejects are counted by reason as they arrive (on_venue_reject). API errors of
        // the simulated venue: requests the gateway refused to send and orders whose outcome
        // became unknown.
        metrics_.api_errors.set_total(quotes.gateway_errors + quotes.unknowns);
        for (std::size_t i = 0; i < risk::reject_reason_count; ++i) {
            metrics_.risk_refusals[i]->set_total(
                loop.gate().risk_rejects(static_cast<risk::reject_reason>(i)));
        }
        metrics_.order_rejects[static_cast<std::size_t>(exec::reject_reason::risk_refused)]
            ->set_total(loop.gate().risk_rejects());
        metrics_.pnl_total.set(s.pnl_total_quote);
        metrics_.pnl_realized.set(s.pnl_realized_quote);
        metrics_.inventory.set(s.inventory_base);
        metrics_.kill_engaged.set(state == risk::trading_state::killed ? 1.0 : 0.0);
        metrics_.paused.set(state == risk::trading_state::paused ? 1.0 : 0.0);
        metrics_.kills.set_total(loop.risk().switch_state().kill_count());
        if (stats.fills != last_fills_) {
            last_fills_ = stats.fills;
            metrics_.last_fill_seconds.set(static_cast<double>(s.published_ns) / 1e9);
        }
        if (md.messages != last_messages_) {
            last_messages_ = md.messages;
            metrics_.last_md_seconds.set(static_cast<double>(s.published_ns) / 1e9);
        }
    }

    void set_symbol(std::string_view symbol) noexcept { snapshot_.symbol.assign(symbol); }
    /// The snapshot last published (core thread).
    [[nodiscard]] const ops::status_snapshot& last() const noexcept { return snapshot_; }
    /// The core's tick-to-order histograms, for the /status percentiles (core thread; must
    /// outlive the publishing).
    void set_tick_latency(const core::tick_latency* ticks) noexcept { ticks_ = ticks; }
    /// Marks the snapshot stopped and publishes it once more.
    void stopped() noexcept {
        snapshot_.state = ops::trading_state::stopped;
        snapshot_.published_ns = ops::wall_clock_ns();
        board_.publish(snapshot_);
    }

private:
    const core::symbol_spec& spec_;
    ops::status_board& board_;
    ops::engine_metrics& metrics_;
    persisted_board& persisted_;
    persisted_state last_persisted_{};
    ops::status_snapshot snapshot_{};
    /// Round trips (sent to ack) for the /status percentiles; Prometheus gets its own buckets.
    core::latency_histogram round_trip_;
    std::uint64_t round_trip_count_ = 0;
    const core::tick_latency* ticks_ = nullptr;
    std::uint64_t tick_count_ = 0;
    risk::halt_reason last_reason_ = risk::halt_reason::none;
    std::uint64_t last_fills_ = 0;
    std::uint64_t last_messages_ = 0;
};

} // namespace

paper_summary run_paper_session(const paper_session_config& config, const std::atomic<bool>& stop,
                                const paper_status_callback& on_status,
                                ops::control_channel* control) {
    paper_summary summary;
    auto ring = std::make_unique<live::md_ring>();
    // The md thread wakes a blocked core through it (block policy only: a notify costs the
    // producer a read-modify-write per event).
    auto wakeup = std::make_unique<core::wakeup>();
    live::service_config market_data = config.market_data;
    market_data.wakeup = config.idle == core::idle_policy::block ? wakeup.get() : nullptr;
    live::market_data_service service(std::move(market_data), *ring);
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

    const std::string symbol_name(instrument.trading_spec.name().view());
    const auto log = [&](const std::string& line) {
        if (config.log) {
            config.log(line);
        }
    };

    // The single-instance lock and the state file come before any order can be sent.
    const ops::state_settings& state_settings = config.ops.state;
    ops::instance_lock lock;
    std::string state_path;
    ops::engine_state restored;
    bool restored_found = false;
    if (!state_settings.directory.empty()) {
        auto acquired = ops::instance_lock::acquire(state_settings.directory,
                                                    state_settings.account, symbol_name);
        if (!acquired.has_value()) {
            summary.error = "state: " + acquired.error();
            return summary;
        }
        lock = std::move(*acquired);
        state_path = state_settings.directory + "/quoter-" + state_settings.account + "-" +
                     symbol_name + ".state";
        auto loaded = ops::load_state(state_path);
        if (!loaded.has_value()) {
            summary.error = "state: " + loaded.error();
            return summary;
        }
        restored_found = loaded->found;
        restored = std::move(loaded->state);
        if (restored_found &&
            (restored.account != state_settings.account || restored.symbol != symbol_name)) {
            summary.error = "state: " + state_path + " belongs to account " + restored.account +
                            " symbol " + restored.symbol + "; move it aside";
            return summary;
        }
    }

    // Alerts: stderr always, the dispatcher (webhook, Telegram, file) when configured.
    std::unique_ptr<ops::alert_dispatcher> dispatcher;
    if (config.ops.alerts.any_target()) {
        const std::string instance = config.ops.instance.empty()
                                         ? config.mode_name + " " + symbol_name
                                         : config.ops.instance;
        ops::alert_dispatcher_settings settings = config.ops.alerts.dispatcher_settings(instance);
        const std::vector<std::string> problems = ops::check_alert_settings(settings);
        if (!problems.empty()) {
            summary.error = "alerts: " + problems.front();
            return summary;
        }
        dispatcher = std::make_unique<ops::alert_dispatcher>(std::move(settings));
        for (const std::string& target : dispatcher->describe_targets()) {
            log("alerts: " + target);
        }
    }
    ops::stderr_alert_sink stderr_alerts;
    tee_alert_sink alerts(&stderr_alerts, dispatcher.get());

    core_loop_config loop_config = config.engine;
    loop_config.quotes.symbol = 0;
    // The recorder sees the orders that passed the risk gate and every report, for the report
    // at exit; its alert tally forwards to the operators' sinks.
    const bool keep = config.keep_report;
    run_recorder recorder(exchange, instrument.trading_spec,
                          record_options{.pnl = keep, .fills = keep, .orders = keep});
    core_loop loop(loop_config, instrument, recorder, &exchange, journal.get(), control);
    recorder.attach(&loop.account());
    recorder.alerts().set_next(&alerts);
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

    if (restored_found) {
        // The paper account lives only in the process: put back its position, cash and order
        // sequence, and the trading day's anchor, so every limit sees what it saw before.
        std::int64_t position_lots = 0;
        std::int64_t cost_basis = 0;
        for (const ops::state_position& position : restored.positions) {
            if (position.symbol == symbol_name) {
                position_lots = position.qty_lots;
                cost_basis = position.entry_notional;
            }
        }
        loop.restore(core::qty{position_lots}, cost_basis, restored.cash,
                     restored.last_client_order_seq);
        const portfolio::account& account = loop.account();
        log("state: restored position " + std::to_string(position_lots) + " lots, cash " +
            std::to_string(account.cash()) + ", PnL " + std::to_string(account.total_pnl()) +
            "; order ids continue after " + std::to_string(restored.last_client_order_seq));
        if (restored.trading_day != 0) {
            const double unit =
                1.0 / static_cast<double>(core::pow10(instrument.trading_spec.price_decimals() +
                                                      instrument.trading_spec.qty_decimals()));
            loop.risk().restore_day(restored.trading_day,
                                    static_cast<double>(restored.daily_pnl_base) * unit,
                                    static_cast<double>(restored.day_start_equity) * unit);
            log("state: trading day " + std::to_string(restored.trading_day) +
                " restored (start equity " +
                std::to_string(static_cast<double>(restored.day_start_equity) * unit) +
                "); a later day starts afresh");
        }
        // The simulated exchange went down with the process: orders it held are gone.
        if (!restored.open_orders.empty()) {
            std::string ids;
            for (const ops::state_order& order : restored.open_orders) {
                ids += (ids.empty() ? "" : " ") + order.client_id;
            }
            log("state: " + std::to_string(restored.open_orders.size()) +
                " orders open before the restart are gone with the simulated exchange "
                "(cancelled, not restored): " +
                ids);
        }
        if (restored.kill_latched) {
            // A kill latched before the restart stays latched until an explicit resume.
            (void)loop.risk().trigger_kill_switch(risk::halt_reason::manual_kill, steady_ns());
            log("state: kill latched before the restart (reason " +
                (restored.kill_reason.empty() ? std::string("unknown") : restored.kill_reason) +
                "); it stays engaged until resume");
        }
    }

    // Operations: the status board and the metrics are always kept (cheap); the HTTP server
    // only when configured. Registration allocates, so it happens here, before the loop.
    ops::status_board board;
    ops::metrics_registry registry_metrics;
    ops::engine_metrics metrics(registry_metrics);
    persisted_board persisted;
    auto publisher =
        std::make_unique<ops_publisher>(config, instrument.trading_spec, board, metrics, persisted);
    publisher->set_symbol(symbol_name);
    loop.set_exec_listener(publisher.get());
    publisher->publish(loop, exchange, service);
    std::unique_ptr<state_saver> saver;
    if (!state_path.empty()) {
        ops::engine_state base;
        base.account = state_settings.account;
        base.symbol = symbol_name;
        const double unit =
            1.0 / static_cast<double>(core::pow10(instrument.trading_spec.price_decimals() +
                                                  instrument.trading_spec.qty_decimals()));
        saver = std::make_unique<state_saver>(state_path, std::move(base), persisted,
                                              state_settings.save_interval_ms, unit, journal.get());
    }
    std::unique_ptr<ops::http_server> http;
    if (config.ops.http.enabled) {
        auto server = ops::http_server::start(
            config.ops.http, config.ops.http_token,
            {.control = control, .status = &board, .metrics = &registry_metrics});
        if (!server.has_value()) {
            summary.error = "http: " + server.error();
            return summary;
        }
        http = std::move(*server);
        summary.http_endpoint = http->endpoint();
        if (config.log) {
            config.log("http: listening on " + summary.http_endpoint);
        }
    }

    // Telegram commands: a thread of their own, into the control channel like HTTP's.
    std::unique_ptr<ops::telegram_commands> telegram;
    if (const ops::alerts_settings& a = config.ops.alerts; !a.telegram_command_chat_ids.empty()) {
        if (control == nullptr) {
            summary.error = "telegram: commands need a control channel";
            return summary;
        }
        telegram = std::make_unique<ops::telegram_commands>(
            ops::telegram_command_settings{.api_url = a.telegram_api_url,
                                           .bot_token = a.telegram_bot_token,
                                           .allowed_chat_ids = a.telegram_command_chat_ids,
                                           .poll_timeout =
                                               std::chrono::seconds(a.telegram_poll_timeout_s)},
            *control, board);
        if (const std::string failed = telegram->start(); !failed.empty()) {
            summary.error = "telegram: " + failed;
            return summary;
        }
        std::string chats;
        for (const std::string& id : a.telegram_command_chat_ids) {
            chats += (chats.empty() ? "" : ", ") + id;
        }
        log("telegram: commands accepted from chat " + chats);
    }

    const core::duration_ns status_ns = config.status_interval_ms * core::ns_per_ms;
    core::timestamp_ns next_status = steady_ns() + status_ns;
    const core::duration_ns publish_ns =
        std::max<std::int64_t>(1, config.ops.status_interval_ms.count()) * core::ns_per_ms;
    core::timestamp_ns next_publish = 0;
    bool published_killed = false;
    core::idle_waiter waiter(config.idle, wakeup.get());
    const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
    // Hop histograms (about 340 KB) for the status line, /metrics and the exit report.
    auto ticks = std::make_unique<core::tick_latency>();
    publisher->set_tick_latency(ticks.get());
    const core::tsc_clock& clock = core::tsc_clock::process();
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
            loop.set_tick_stamps(&stamps);
            loop.on_event(*event, steady_ns());
            loop.set_tick_stamps(nullptr);
            ring->pop();
            ticks->record(stamps);
        }
        const core::timestamp_ns now = steady_ns();
        if (!loop.poll(now)) {
            break;
        }
        if (keep && now >= next_sample && loop.account().current_mark().half_ticks > 0) {
            sample(now);
            next_sample = now + core::ns_per_s;
        }
        // A kill is published at once, not a status interval later.
        if (now >= next_publish ||
            (loop.state() == risk::trading_state::killed) != published_killed) {
            next_publish = now + publish_ns;
            published_killed = loop.state() == risk::trading_state::killed;
            publisher->publish(loop, exchange, service);
        }
        if (on_status && now >= next_status) {
            next_status = now + status_ns;
            on_status(snapshot(loop, exchange, service, *ticks, now, publisher->last()));
        }
        if (!any) {
            waiter.idle([&] { return ring->front() != nullptr; }, max_block_ns);
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
    if (const std::size_t left = exchange.open_order_count(); left > 0) {
        log("stop: " + std::to_string(left) + " orders still open after 5 s of cancelling");
    }
    publisher->publish(loop, exchange, service);
    publisher->stopped();
    if (saver) {
        saver->stop();
        if (const std::string failed = saver->error(); !failed.empty()) {
            log("state: " + failed);
        }
    }
    if (telegram) {
        telegram->stop();
    }
    if (http) {
        http->stop();
    }
    service.stop();
    summary.last = snapshot(loop, exchange, service, *ticks, steady_ns(), publisher->last());
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
    if (journal) {
        journal->stop();
    }
    summary.ok = true;
    return summary;
}

} // namespace quoter::engine
