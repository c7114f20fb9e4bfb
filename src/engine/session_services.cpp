// session_services' implementation (the contract is in session_services.hpp). One piece, about
// 820 lines: the persisted lanes, the state saver, the ops publisher and the alert tee are
// private parts of the one open / restore / start / publish / stop sequence, which must read in
// one place to be checked.
#include "quoter/engine/session_services.hpp"

#include "quoter/core/clock.hpp"
#include "quoter/core/decimal.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/exec/order_types.hpp"
#include "quoter/ops/alert_dispatcher.hpp"
#include "quoter/ops/alerts.hpp"
#include "quoter/ops/engine_metrics.hpp"
#include "quoter/ops/http_server.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/ops/metrics.hpp"
#include "quoter/ops/telegram_commands.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

namespace quoter::engine {

namespace {

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
    /// An operator's pause, which only a resume lifts: a restart must not lift it either.
    bool manual_pause = false;
    std::uint8_t padding_[1] = {};
    /// Flatten orders the latched kill has sent: flatten_max_attempts holds across a restart.
    std::uint32_t flatten_attempts = 0;
    /// The order and cancel counts of the risk rate windows, so that a restart keeps them.
    risk::rate_memory rates;
    /// Not part of same(): it moves with every book update, and a change of it alone is saved
    /// with the periodic save rather than as a change.
    std::uint64_t last_md_update_id = 0;
    /// Quote asset: the drawdown limits' reference. It moves with the book too, but a restart
    /// that restored an older, lower peak would measure the drawdown from it and let the loss
    /// run further: a rise of more than a hundredth of a percent is saved as a change.
    double peak_equity = 0.0;

    [[nodiscard]] bool same(const persisted_state& o) const noexcept {
        return std::abs(peak_equity - o.peak_equity) <= 1e-4 * std::abs(o.peak_equity) &&
               position_lots == o.position_lots && cost_basis_units == o.cost_basis_units &&
               cash_units == o.cash_units && trading_day == o.trading_day &&
               day_pnl_base == o.day_pnl_base && day_start_equity == o.day_start_equity &&
               last_order_sequence == o.last_order_sequence && order_count == o.order_count &&
               orders == o.orders && kill_latched == o.kill_latched &&
               kill_reason == o.kill_reason && manual_pause == o.manual_pause &&
               flatten_attempts == o.flatten_attempts && rates == o.rates;
    }
};
using persisted_board = ops::seqlock_board<persisted_state>;

/// The kill reason a state file names, or manual_kill when it names none.
[[nodiscard]] risk::halt_reason kill_reason_named(std::string_view name) noexcept {
    for (std::size_t i = 0; i < risk::halt_reason_count; ++i) {
        const auto reason = static_cast<risk::halt_reason>(i);
        if (risk::is_kill_reason(reason) && reason != risk::halt_reason::kill_unconfirmed &&
            risk::to_string(reason) == name) {
            return reason;
        }
    }
    return risk::halt_reason::manual_kill;
}

/// Quote asset per notional unit of the symbol (10^-(price decimals + quantity decimals)).
[[nodiscard]] double notional_unit(const core::symbol_spec& spec) noexcept {
    return 1.0 / static_cast<double>(core::pow10(spec.price_decimals() + spec.qty_decimals()));
}

/// One traded symbol's persisted side: its lock and state file, what open() loaded from the
/// file, and the board its loop's state is published on for the saver. A session of several
/// symbols has one lane each, the lead first.
struct persisted_lane {
    core::symbol_spec spec;
    std::string symbol_name;
    ops::instance_lock lock;
    std::string state_path; ///< Empty: [state] is off.
    bool restored_found = false;
    ops::engine_state restored;
    persisted_board board;
    /// The lane's loop, bound at start(); the lead's also comes with every publish().
    const core_loop* loop = nullptr;
};

/// What the loop keeps that the state file saves, as the core thread publishes it. Core thread;
/// no allocation.
[[nodiscard]] persisted_state persisted_of(const core_loop& loop,
                                           std::uint64_t last_md_update_id) noexcept {
    const portfolio::account& account = loop.account();
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
    p.peak_equity = loop.gate().account().peak_equity;
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
    p.kill_latched = loop.state() == risk::trading_state::killed;
    p.kill_reason = loop.risk().switch_state().kill_reason();
    p.flatten_attempts = p.kill_latched ? loop.flattener().attempts() : 0;
    p.manual_pause = loop.risk().switch_state().condition_active(risk::halt_reason::manual_pause);
    p.rates = loop.risk().checker().remembered_rates();
    p.last_md_update_id = last_md_update_id;
    return p;
}

/// Saves the state files of every lane from one thread of its own (blocking file I/O never
/// runs on the core): a lane's file on a change of its state, looked for every
/// save_interval_ms, and every ten intervals regardless, so that saved_ns shows the engine
/// alive; every file once more when stopped.
class state_saver {
public:
    /// lanes: read-only here (their boards and names), and they outlive the saver. journal:
    /// optional, for its last sequence number (read through an atomic). publish_interval: how
    /// often the core publishes the state onto the boards.
    state_saver(std::span<const std::unique_ptr<persisted_lane>> lanes, std::string account,
                std::string session, std::chrono::milliseconds interval,
                std::chrono::milliseconds publish_interval, const ops::journal* journal)
        : interval_(interval), unsaved_activity_ms_((interval + publish_interval).count()),
          journal_(journal), errors_(lanes.size()) {
        for (const auto& lane : lanes) {
            ops::engine_state base;
            base.account = account;
            base.session = session;
            base.symbol = lane->symbol_name;
            base.price_decimals = static_cast<std::int32_t>(lane->spec.price_decimals());
            base.qty_decimals = static_cast<std::int32_t>(lane->spec.qty_decimals());
            files_.push_back({.path = lane->state_path,
                              .base = std::move(base),
                              .board = &lane->board,
                              .unit = notional_unit(lane->spec)});
        }
        thread_ = std::thread([this] { run(); });
    }
    state_saver(const state_saver&) = delete;
    state_saver& operator=(const state_saver&) = delete;
    ~state_saver() { stop(false); }

    /// Stops the thread and saves every file once more. final_state: the core published its
    /// last state, after which it sent nothing; the files then say nothing is missing from them.
    /// Idempotent.
    void stop(bool final_state) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) {
                return;
            }
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
        if (final_state) {
            unsaved_activity_ms_ = 0;
        }
        for (std::size_t i = 0; i < files_.size(); ++i) {
            save(i, files_[i].board->read());
        }
    }
    /// Wakes the thread to save now rather than at the end of its interval (a kill: a process
    /// that dies before the next save must come back killed). Rare: takes the lock.
    void save_soon() {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            save_requested_ = true;
        }
        wake_.notify_all();
    }
    /// Saves that failed so far. A file whose save failed is tried again every interval.
    [[nodiscard]] std::uint64_t failures() const noexcept {
        return failures_.load(std::memory_order_relaxed);
    }
    /// True while the last save of some file failed.
    [[nodiscard]] bool failing() const noexcept {
        return failing_files_.load(std::memory_order_relaxed) != 0;
    }
    /// The last save errors, one per failing file ("" when fine).
    [[nodiscard]] std::string error() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        std::string all;
        for (const std::string& failed : errors_) {
            if (!failed.empty()) {
                all += (all.empty() ? "" : "; ") + failed;
            }
        }
        return all;
    }

private:
    /// One lane's file: where it goes and what the core publishes for it.
    struct state_file {
        std::string path;
        ops::engine_state base;
        const persisted_board* board = nullptr;
        double unit = 1.0; ///< Quote asset per notional unit of the symbol.
    };
    /// What the saver thread last wrote to a file, and when it writes it regardless.
    struct last_save {
        persisted_state state{};
        bool any = false;
        std::chrono::steady_clock::time_point next_periodic{};
    };

    void run() {
        std::vector<last_save> saved(files_.size());
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            for (std::size_t i = 0; i < files_.size(); ++i) {
                const persisted_state now = files_[i].board->read();
                const auto clock = std::chrono::steady_clock::now();
                last_save& last = saved[i];
                // A failed save leaves what was last saved as it was: the file is written
                // again at the next look, until it takes.
                if ((!last.any || !now.same(last.state) || clock >= last.next_periodic) &&
                    save(i, now)) {
                    last.state = now;
                    last.any = true;
                    last.next_periodic = clock + 10 * interval_;
                }
            }
            lock.lock();
            wake_.wait_for(lock, interval_, [this] { return stopping_ || save_requested_; });
            save_requested_ = false;
        }
    }

    /// Writes one file; whether it took.
    bool save(std::size_t index, const persisted_state& p) {
        const state_file& file = files_[index];
        ops::engine_state state = file.base;
        state.saved_ns = core::wall_clock{}.now();
        state.positions.push_back({.symbol = state.symbol,
                                   .qty_lots = p.position_lots,
                                   .entry_notional = p.cost_basis_units});
        state.cash = p.cash_units;
        state.trading_day = static_cast<std::int32_t>(p.trading_day);
        state.daily_pnl_base = std::llround(p.day_pnl_base / file.unit);
        state.day_start_equity = std::llround(p.day_start_equity / file.unit);
        state.peak_equity = std::llround(p.peak_equity / file.unit);
        state.last_client_order_seq = p.last_order_sequence;
        state.last_md_update_id = p.last_md_update_id;
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
        for (std::size_t i = 0; i < p.rates.count && i < p.rates.buckets.size(); ++i) {
            const risk::rate_memory::bucket& b = p.rates.buckets[i];
            state.rate_buckets.push_back(
                {std::string(risk::to_string(b.window)), b.start, b.events});
        }
        state.kill_latched = p.kill_latched;
        state.kill_reason =
            p.kill_latched ? std::string(risk::to_string(p.kill_reason)) : std::string{};
        state.flatten_attempts = p.flatten_attempts;
        state.manual_pause = p.manual_pause;
        state.unsaved_activity_ms = unsaved_activity_ms_;
        std::string failed = ops::save_state(file.path, state);
        const bool saved = failed.empty();
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!saved) {
            failures_.fetch_add(1, std::memory_order_relaxed);
        }
        if (saved != errors_[index].empty()) {
            failing_files_.fetch_add(saved ? -1 : 1, std::memory_order_relaxed);
        }
        errors_[index] = std::move(failed);
        return saved;
    }

    std::vector<state_file> files_;
    std::chrono::milliseconds interval_;
    /// What a save may miss of the engine's activity: the state it holds was published up to a
    /// publish interval before it, and the next save comes a save interval after it. Written
    /// by the saver thread's saves; 0 for the last one of a stopped session.
    std::int64_t unsaved_activity_ms_;
    const ops::journal* journal_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool save_requested_ = false;
    std::vector<std::string> errors_;
    std::atomic<std::uint64_t> failures_{0};
    /// Files whose last save failed (their errors_ entry set); read by the core.
    std::atomic<int> failing_files_{0};
    std::thread thread_;
};

/// The core's side of the operations surface: fills the status snapshot and the engine metrics
/// from what the loop, the venue and the feed already count. Core thread; no allocation, no
/// formatting (fixed_text copies, atomic stores).
class ops_publisher final : public core_loop::exec_listener {
public:
    /// symbols: the session's symbols, the lead first; each gets its labelled series in
    /// registry.
    ops_publisher(std::string_view mode_name, std::span<const core::symbol_spec> symbols,
                  ops::status_board& board, ops::metrics_registry& registry,
                  ops::engine_metrics& metrics)
        : specs_(symbols.begin(), symbols.end()), spec_(specs_.front()), board_(board),
          metrics_(metrics), loops_(symbols.size(), nullptr), last_fills_(symbols.size(), 0) {
        snapshot_.started_ns = core::wall_clock{}.now();
        snapshot_.mode.assign(mode_name);
        snapshot_.symbol.assign(spec_.name().view());
        for (const core::symbol_spec& symbol : specs_) {
            symbols_.push_back(
                std::make_unique<ops::symbol_metrics>(registry, symbol.name().view()));
        }
    }

    /// The loop of every symbol but the lead, whose loop comes with every publish() (the
    /// session's start; they must outlive the publishing).
    void bind(std::span<const core_loop* const> loops) noexcept {
        for (std::size_t i = 1; i < loops.size() && i < loops_.size(); ++i) {
            loops_[i] = loops[i];
        }
    }

    // core_loop::exec_listener (every symbol's loop): two relaxed stores and a histogram bucket
    // each.
    void on_round_trip(core::duration_ns sent_to_ack) noexcept override {
        metrics_.order_round_trip.observe(sent_to_ack);
        round_trip_.record(sent_to_ack < 0 ? 0 : sent_to_ack);
    }
    void on_venue_reject(exec::reject_reason reason) noexcept override {
        metrics_.count_reject(reason);
    }

    void publish(const core_loop& lead, const feed_view& md, const venue_view& venue) noexcept {
        ops::status_snapshot& s = snapshot_;
        s.published_ns = core::wall_clock{}.now();
        // Every symbol: its series and its /status entry. The session's series add up what each
        // loop counts of the feed and the venue they share.
        std::uint64_t sequence_gaps = 0;
        std::uint64_t api_errors = venue.api_errors;
        std::uint64_t risk_rejects = 0;
        std::size_t working_bids = 0;
        std::size_t working_asks = 0;
        for (std::size_t i = 0; i < symbols_.size(); ++i) {
            const core_loop* loop = i == 0 ? &lead : loops_[i];
            if (loop == nullptr) {
                continue;
            }
            working_bids += loop->gate().working_orders(core::side::buy);
            working_asks += loop->gate().working_orders(core::side::sell);
            const exec::quote_counters quotes = loop->quotes().counters();
            sequence_gaps += loop->stats().sequence_gaps;
            // API errors of the simulated venue: requests the gateway refused to send and orders
            // whose outcome became unknown.
            api_errors += quotes.gateway_errors + quotes.unknowns;
            risk_rejects += loop->gate().risk_rejects();
            // The table holds every symbol a portfolio can; the scratch is for a session beyond.
            ops::symbol_status scratch;
            ops::symbol_status& entry = i < s.symbols.size() ? s.symbols[i] : scratch;
            status_of(*loop, specs_[i], entry);
            publish_symbol(*loop, entry, *symbols_[i], last_fills_[i], s.published_ns);
        }
        s.symbol_count = static_cast<std::uint32_t>(std::min(symbols_.size(), s.symbols.size()));

        // The top level: the first symbol's entry, its book's touch and the venue.
        const ops::symbol_status& first = s.symbols.front();
        s.state = first.state;
        s.book_synced = first.book_synced;
        s.halt_reason = first.halt_reason;
        s.mid = first.mid;
        const risk::market_view market = lead.market();
        const bool have_book = market.best_bid.ticks() > 0 && market.best_ask.ticks() > 0;
        s.best_bid = have_book ? spec_.to_double(market.best_bid) : 0.0;
        s.best_ask = have_book ? spec_.to_double(market.best_ask) : 0.0;
        s.spread_bps = have_book && s.mid > 0.0 ? (s.best_ask - s.best_bid) / s.mid * 1e4 : 0.0;
        s.quoted_bid = first.quoted_bid;
        s.quoted_ask = first.quoted_ask;
        s.inventory_base = first.inventory_base;
        s.pnl_total_quote = first.pnl_total_quote;
        s.pnl_realized_quote = first.pnl_realized_quote;
        s.gateway_connected = venue.connected;
        s.working_orders = static_cast<std::uint32_t>(venue.working_orders);
        s.working_bids = static_cast<std::uint32_t>(working_bids);
        s.working_asks = static_cast<std::uint32_t>(working_asks);
        s.fills = first.fills;
        s.orders_sent = first.orders_sent;
        if (round_trip_.count() != round_trip_count_) {
            round_trip_count_ = round_trip_.count();
            s.round_trip_p50_ns = round_trip_.p50();
            s.round_trip_p99_ns = round_trip_.percentile(0.99);
        }
        if (ticks_ != nullptr && ticks_->end_to_end().count() != tick_count_) {
            // Socket read to the order the venue took (paper) or its bytes written (live), as the
            // status line has it.
            tick_count_ = ticks_->end_to_end().count();
            s.tick_to_order_p50_ns = ticks_->end_to_end().p50();
            s.tick_to_order_p99_ns = ticks_->end_to_end().percentile(0.99);
        }
        board_.publish(s, s.listed_bytes());

        metrics_.md_messages.set_total(md.messages);
        metrics_.md_gaps.set_total(md.gaps + sequence_gaps);
        metrics_.md_resyncs.set_total(md.resyncs);
        metrics_.working_orders.set(static_cast<double>(s.working_orders));
        metrics_.gateway_connected.set(venue.connected ? 1.0 : 0.0);
        // Venue rejects are counted by reason as they arrive (on_venue_reject).
        metrics_.api_errors.set_total(api_errors);
        metrics_.order_rejects[static_cast<std::size_t>(exec::reject_reason::risk_refused)]
            ->set_total(risk_rejects);
        if (md.messages != last_messages_) {
            last_messages_ = md.messages;
            metrics_.last_md_seconds.set(static_cast<double>(s.published_ns) / 1e9);
        }
    }

    /// The snapshot last published (core thread).
    [[nodiscard]] const ops::status_snapshot& last() const noexcept { return snapshot_; }
    /// The core's tick-to-order histograms, for the /status percentiles (core thread; must
    /// outlive the publishing).
    void set_tick_latency(const core::tick_latency* ticks) noexcept { ticks_ = ticks; }
    /// Marks the snapshot stopped and publishes it once more.
    void stopped() noexcept {
        snapshot_.state = ops::trading_state::stopped;
        snapshot_.published_ns = core::wall_clock{}.now();
        board_.publish(snapshot_, snapshot_.listed_bytes());
    }

private:
    [[nodiscard]] static std::uint64_t orders_sent(const core_loop& loop) noexcept {
        return loop.gate().orders_sent(risk::order_intent::quote) +
               loop.gate().orders_sent(risk::order_intent::flatten);
    }

    /// Whether a symbol's book is synced as its loop sees it: it has had a valid book and is
    /// not paused for its feed. Not the md thread's count of synced books: that comes with its
    /// periodic stats, and can still say none while the loop already quotes on the book.
    [[nodiscard]] static bool book_synced(const core_loop& loop) noexcept {
        return !loop.feed_paused() && loop.market().best_bid.ticks() > 0;
    }

    /// One symbol's entry of /status from its loop.
    static void status_of(const core_loop& loop, const core::symbol_spec& spec,
                          ops::symbol_status& out) noexcept {
        const risk::market_view market = loop.market();
        const portfolio::account& account = loop.account();
        out.symbol.assign(spec.name().view());
        out.state = ops_state(loop.state());
        out.book_synced = book_synced(loop);
        const risk::halt_reason reason = loop.risk().switch_state().kill_reason();
        out.halt_reason.assign(reason == risk::halt_reason::none ? std::string_view("")
                                                                 : risk::to_string(reason));
        const bool have_book = market.best_bid.ticks() > 0 && market.best_ask.ticks() > 0;
        out.mid = have_book
                      ? (spec.to_double(market.best_bid) + spec.to_double(market.best_ask)) / 2.0
                      : 0.0;
        const exec::working_order& bid = loop.quotes().order(core::side::buy, 0);
        const exec::working_order& ask = loop.quotes().order(core::side::sell, 0);
        out.quoted_bid = bid.status == exec::order_status::none ? 0.0 : spec.to_double(bid.price);
        out.quoted_ask = ask.status == exec::order_status::none ? 0.0 : spec.to_double(ask.price);
        out.inventory_base = spec.to_double(account.position());
        out.pnl_total_quote = account.total_pnl();
        out.pnl_realized_quote = account.realized_pnl();
        out.fills = loop.stats().fills;
        out.orders_sent = orders_sent(loop);
    }

    /// One symbol's series: what its /status entry holds, and the counts only the series
    /// have, from its loop; last_fills: its fills at the last publish.
    static void publish_symbol(const core_loop& loop, const ops::symbol_status& entry,
                               ops::symbol_metrics& m, std::uint64_t& last_fills,
                               core::timestamp_ns published_ns) noexcept {
        const exec::quote_counters quotes = loop.quotes().counters();
        m.book_synced.set(entry.book_synced ? 1.0 : 0.0);
        m.orders_sent.set_total(entry.orders_sent);
        m.cancels_sent.set_total(quotes.cancels_sent);
        m.fills.set_total(entry.fills);
        m.quote_rate_holds.set_total(quotes.rate_holds);
        // A hold still running counts up to the loop's time.
        m.quote_rate_held.set_total(static_cast<std::uint64_t>(loop.quotes().held_ns(loop.now())));
        for (std::size_t i = 0; i < risk::reject_reason_count; ++i) {
            m.risk_refusals[i]->set_total(
                loop.gate().risk_rejects(static_cast<risk::reject_reason>(i)));
        }
        m.pnl_total.set(entry.pnl_total_quote);
        m.pnl_realized.set(entry.pnl_realized_quote);
        m.inventory.set(entry.inventory_base);
        m.kill_engaged.set(entry.state == ops::trading_state::killed ? 1.0 : 0.0);
        m.paused.set(entry.state == ops::trading_state::paused ? 1.0 : 0.0);
        m.kills.set_total(loop.risk().switch_state().kill_count());
        if (entry.fills != last_fills) {
            last_fills = entry.fills;
            m.last_fill_seconds.set(static_cast<double>(published_ns) / 1e9);
        }
    }

    /// The session's symbols, the lead first.
    std::vector<core::symbol_spec> specs_;
    const core::symbol_spec& spec_; ///< The lead's.
    ops::status_board& board_;
    ops::engine_metrics& metrics_;
    std::vector<std::unique_ptr<ops::symbol_metrics>> symbols_;
    /// Every symbol's loop but the lead's (index 0, nullptr: it comes with publish()).
    std::vector<const core_loop*> loops_;
    /// Per symbol: its fills at the last publish.
    std::vector<std::uint64_t> last_fills_;
    ops::status_snapshot snapshot_{};
    /// Round trips (sent to ack) for the /status percentiles; Prometheus gets its own buckets.
    core::latency_histogram round_trip_;
    std::uint64_t round_trip_count_ = 0;
    const core::tick_latency* ticks_ = nullptr;
    std::uint64_t tick_count_ = 0;
    std::uint64_t last_messages_ = 0;
};

} // namespace

struct session_services::parts {
    session_services_config config;
    /// One per traded symbol, the lead first; never empty.
    std::vector<std::unique_ptr<persisted_lane>> lanes;
    std::unique_ptr<ops::journal> journal;
    std::unique_ptr<ops::alert_dispatcher> dispatcher;
    ops::stderr_alert_sink stderr_alerts;
    tee_alert_sink alerts{nullptr, nullptr};
    ops::status_board board;
    ops::metrics_registry registry;
    ops::engine_metrics metrics{registry};
    std::unique_ptr<ops_publisher> publisher;
    std::unique_ptr<state_saver> saver;
    std::unique_ptr<ops::http_server> http;
    std::unique_ptr<ops::telegram_commands> telegram;
    std::string http_endpoint;
    core::duration_ns publish_ns = 0;
    core::timestamp_ns next_publish = 0;
    /// Lanes whose loop was killed at the last publish.
    std::size_t published_kills = 0;
    /// The number of killed lanes changed since the last publish: the saver writes at once.
    bool kills_to_save = false;
    /// The saver's failing() at the last publish: an alert when it turns true.
    bool state_failing = false;
    bool stopped = false;

    [[nodiscard]] const persisted_lane& lead() const noexcept { return *lanes.front(); }
    [[nodiscard]] bool state_on() const noexcept { return !config.ops.state.directory.empty(); }
    /// The kind of session the state files belong to.
    [[nodiscard]] const std::string& state_session() const noexcept {
        return config.state_session.empty() ? config.mode_name : config.state_session;
    }

    /// Every lane's state onto its board for the saver; lead: the lead's loop. The feed keeps
    /// the lead's book update id only, so the other lanes save 0 ("none"). Core thread.
    void persist(const core_loop& lead_loop, const feed_view& feed) noexcept {
        if (!state_on()) {
            return;
        }
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            persisted_lane& lane = *lanes[i];
            const core_loop* loop = i == 0 ? &lead_loop : lane.loop;
            if (loop != nullptr) {
                lane.board.publish(persisted_of(*loop, i == 0 ? feed.last_update_id : 0));
            }
        }
    }

    /// The saver's failing() changed: an alert when the state stopped being saved, a line when it
    /// is saved again. Rare; core thread.
    void state_failed() {
        state_failing = saver->failing();
        if (!state_failing) {
            log("state: saved again after " + std::to_string(saver->failures()) + " failed saves");
            return;
        }
        log("state: cannot save (tried again every " +
            std::to_string(config.ops.state.save_interval_ms.count()) + " ms): " + saver->error());
        alerts.raise({.time = core::wall_clock{}.now(),
                      .kind = risk::alert_kind::state_not_saved,
                      .severity = risk::alert_severity::critical,
                      .value = static_cast<double>(saver->failures()),
                      .threshold = 0.0});
    }

    /// "state: ", naming the lane's symbol when there are several, so that each line says whose
    /// file it is about.
    [[nodiscard]] std::string state_prefix(std::size_t lane) const {
        return lanes.size() > 1 ? "state: " + lanes[lane]->symbol_name + ": " : "state: ";
    }

    void log(const std::string& line) const {
        if (config.log) {
            config.log(line);
        }
    }
};

session_services::session_services(std::unique_ptr<parts> p) noexcept : parts_(std::move(p)) {}

session_services::~session_services() {
    // A session that returns early (a failed start) still joins its threads and flushes.
    if (parts_->saver) {
        parts_->saver->stop(false);
    }
    if (parts_->telegram) {
        parts_->telegram->stop();
    }
    if (parts_->http) {
        parts_->http->stop();
    }
    if (parts_->journal) {
        parts_->journal->stop();
    }
}

core::result<std::unique_ptr<session_services>, std::string>
session_services::open(const session_services_config& config, const core::symbol_spec& spec,
                       std::uint32_t symbol_index) {
    return open(config, std::span<const core::symbol_spec>(&spec, 1), symbol_index);
}

core::result<std::unique_ptr<session_services>, std::string>
session_services::open(const session_services_config& config,
                       std::span<const core::symbol_spec> symbols, std::uint32_t symbol_index) {
    if (symbols.empty()) {
        return core::unexpected(std::string("a session trades at least one symbol"));
    }
    auto p = std::make_unique<parts>();
    p->config = config;
    for (const core::symbol_spec& spec : symbols) {
        auto lane = std::make_unique<persisted_lane>();
        lane->spec = spec;
        lane->symbol_name = std::string(spec.name().view());
        p->lanes.push_back(std::move(lane));
    }
    const core::symbol_spec& spec = symbols.front();
    p->publish_ns =
        std::max<std::int64_t>(1, config.ops.status_interval_ms.count()) * core::ns_per_ms;

    if (!config.journal_path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = config.journal_path;
        journal_config.fdatasync_interval_ms = config.journal_flush_interval_ms;
        // "ts" is the engine's clock; wall_ns dates the lines.
        journal_config.stamp_wall_clock = true;
        journal_config.symbols.assign(symbol_index + 1U, spec);
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened.has_value() || !(*opened)->start()) {
            return core::unexpected("cannot open the journal " + config.journal_path);
        }
        p->journal = std::move(*opened);
    }

    // Every symbol's single-instance lock and state file come before any order can be sent: a
    // lane of its own per symbol, so that an engine of any one of them is refused while this
    // session runs, and each symbol's account and limits come back from its own file.
    const ops::state_settings& state = config.ops.state;
    for (std::size_t i = 0; p->state_on() && i < p->lanes.size(); ++i) {
        persisted_lane& lane = *p->lanes[i];
        auto acquired =
            ops::instance_lock::acquire(state.directory, state.account, lane.symbol_name);
        if (!acquired.has_value()) {
            return core::unexpected("state: " + acquired.error());
        }
        lane.lock = std::move(*acquired);
        lane.state_path =
            state.directory + "/quoter-" + state.account + "-" + lane.symbol_name + ".state";
        auto loaded = ops::load_state(lane.state_path);
        if (!loaded.has_value()) {
            return core::unexpected("state: " + loaded.error());
        }
        lane.restored_found = loaded->found;
        lane.restored = std::move(loaded->state);
        if (!lane.restored_found) {
            // Said, so that a file expected and not found (another directory, moved aside) is
            // noticed: every limit starts afresh.
            p->log("state: no " + lane.state_path + ": a first run, every limit starts afresh");
        }
        if (lane.restored_found &&
            (lane.restored.account != state.account || lane.restored.symbol != lane.symbol_name)) {
            return core::unexpected("state: " + lane.state_path + " belongs to account " +
                                    lane.restored.account + " symbol " + lane.restored.symbol +
                                    "; move it aside");
        }
        // Ticks, lots and money are counted in the symbol's decimals when the file was saved;
        // a tick or step size changed since (the exchange's filters) would misread them all.
        const auto price_decimals = static_cast<std::int32_t>(lane.spec.price_decimals());
        const auto qty_decimals = static_cast<std::int32_t>(lane.spec.qty_decimals());
        if (lane.restored_found && lane.restored.price_decimals >= 0 &&
            (lane.restored.price_decimals != price_decimals ||
             lane.restored.qty_decimals != qty_decimals)) {
            const std::string was = std::to_string(lane.restored.price_decimals) + " price and " +
                                    std::to_string(lane.restored.qty_decimals) +
                                    " quantity decimals";
            if (std::string failed =
                    ops::rescale_state(lane.restored, price_decimals, qty_decimals);
                !failed.empty()) {
                return core::unexpected("state: " + lane.state_path + " (" + was + "): " + failed);
            }
            p->log("state: " + lane.state_path + " was saved at " + was + "; " + lane.symbol_name +
                   " now has " + std::to_string(price_decimals) + " and " +
                   std::to_string(qty_decimals) + ": read at those");
        }
        // A file of an earlier quoter names no session: taken as this one's, and saved so.
        if (lane.restored_found && !lane.restored.session.empty() &&
            lane.restored.session != p->state_session()) {
            return core::unexpected(
                "state: " + lane.state_path + " was written by a " + lane.restored.session +
                " session, and this is a " + p->state_session() +
                " session: its position, trading day, equity peak and rate windows are not this "
                "account's. Give this session a state.account or state.directory of its own, or "
                "move the file aside");
        }
    }

    // Alerts: stderr (unless the mode summarises them), the dispatcher (webhook, Telegram,
    // file) when configured.
    risk::alert_sink* to_stderr = config.alerts_to_stderr ? &p->stderr_alerts : nullptr;
    p->alerts = tee_alert_sink(to_stderr, nullptr);
    if (config.ops.alerts.any_target()) {
        const std::string instance = config.ops.instance.empty()
                                         ? config.mode_name + " " + p->lead().symbol_name
                                         : config.ops.instance;
        ops::alert_dispatcher_settings settings = config.ops.alerts.dispatcher_settings(instance);
        const std::vector<std::string> problems = ops::check_alert_settings(settings);
        if (!problems.empty()) {
            return core::unexpected("alerts: " + problems.front());
        }
        p->dispatcher = std::make_unique<ops::alert_dispatcher>(std::move(settings));
        for (const std::string& target : p->dispatcher->describe_targets()) {
            p->log("alerts: " + target);
        }
        p->alerts = tee_alert_sink(to_stderr, p->dispatcher.get());
    }

    p->publisher = std::make_unique<ops_publisher>(config.mode_name, symbols, p->board, p->registry,
                                                   p->metrics);
    return std::unique_ptr<session_services>(new session_services(std::move(p)));
}

ops::journal* session_services::journal() const noexcept {
    return parts_->journal.get();
}

risk::alert_sink& session_services::alerts() noexcept {
    return parts_->alerts;
}

const ops::engine_state* session_services::restored(std::size_t lane) const noexcept {
    if (lane >= parts_->lanes.size() || !parts_->lanes[lane]->restored_found) {
        return nullptr;
    }
    return &parts_->lanes[lane]->restored;
}

void session_services::restore_account(core_loop& loop, std::size_t lane) {
    const parts& p = *parts_;
    if (lane >= p.lanes.size() || !p.lanes[lane]->restored_found) {
        return;
    }
    const persisted_lane& saved_lane = *p.lanes[lane];
    const ops::engine_state& restored = saved_lane.restored;
    const std::string prefix = p.state_prefix(lane);
    // The account lives only in the process: put back its position, cash and order sequence,
    // and the trading day's anchor, so every limit sees what it saw before.
    std::int64_t position_lots = 0;
    std::int64_t cost_basis = 0;
    for (const ops::state_position& position : restored.positions) {
        if (position.symbol == saved_lane.symbol_name) {
            position_lots = position.qty_lots;
            cost_basis = position.entry_notional;
        }
    }
    loop.restore(core::qty{position_lots}, cost_basis, restored.cash,
                 restored.last_client_order_seq);
    const portfolio::account& account = loop.account();
    p.log(prefix + "restored position " + std::to_string(position_lots) + " lots, cash " +
          std::to_string(account.cash()) + ", PnL " + std::to_string(account.total_pnl()) +
          "; order ids continue after " + std::to_string(restored.last_client_order_seq));
    if (restored.peak_equity > 0) {
        // The drawdown limits measure from the highest equity of the run, not of this process.
        const double peak =
            static_cast<double>(restored.peak_equity) * notional_unit(saved_lane.spec);
        loop.restore_peak_equity(peak);
        p.log(prefix + "equity peak " + std::to_string(peak) + " restored (drawdown limits)");
    }
    if (restored.trading_day != 0) {
        const double unit = notional_unit(saved_lane.spec);
        const double pnl_base = static_cast<double>(restored.daily_pnl_base) * unit;
        const double start_equity = static_cast<double>(restored.day_start_equity) * unit;
        // The day the save falls in by today's reset time, not the saved index: that was
        // counted with the reset time of its run, and a changed risk.daily_reset_utc would
        // otherwise start a new day at once and forget the loss made since the saved anchor.
        if (restored.saved_ns > 0) {
            loop.risk().restore_day_saved_at(restored.saved_ns, pnl_base, start_equity);
        } else {
            loop.risk().restore_day(restored.trading_day, pnl_base, start_equity);
        }
        p.log(prefix + "trading day " + std::to_string(loop.risk().trading_day().value_or(0)) +
              " restored (start equity " + std::to_string(start_equity) +
              "); a later day starts afresh");
    }
    if (restored.kill_latched && restored.flatten_attempts != 0) {
        // A process restarted in a loop must not send a fresh budget of flatten orders each
        // time: the restored kill's flattening goes on with what it has left.
        loop.restore_flatten_attempts(restored.flatten_attempts);
        p.log(prefix + "kill's flattening had sent " + std::to_string(restored.flatten_attempts) +
              " of its " + std::to_string(loop.flattener().config().max_attempts) +
              " flatten orders");
    }
    // The orders and cancels sent before the restart still count against the rate limits and
    // the cancel/trade ratio: without them a restart would reset max_orders_per_day.
    risk::rate_memory rates;
    std::uint64_t orders_today = 0;
    for (const ops::state_rate_bucket& saved : restored.rate_buckets) {
        const std::optional<risk::rate_window> window = risk::rate_window_from(saved.window);
        if (!window || rates.count == rates.buckets.size()) {
            p.log(prefix + "rate window bucket \"" + saved.window + "\" ignored");
            continue;
        }
        rates.buckets[rates.count++] = {saved.start_ns, saved.events, *window};
        orders_today += *window == risk::rate_window::orders_per_day ? saved.events : 0;
    }
    // A process that did not stop (killed, crashed) may have sent orders after the state its
    // last save holds, for as long as the file says. They count as the most the order rate
    // limits allowed in that time, sent at the latest moment they could have been (and no later
    // than now), so that no limit is exceeded across the restart. Cancels are never refused, but
    // the cancel/trade ratio counts them: at most one for each order working at the save and
    // each order sent after it.
    const std::uint32_t unsaved_orders = risk::most_new_orders_within(
        loop.risk().checker().limits(), restored.unsaved_activity_ms * core::ns_per_ms);
    if (restored.unsaved_activity_ms > 0) {
        const core::timestamp_ns at =
            std::min(restored.saved_ns + restored.unsaved_activity_ms * core::ns_per_ms,
                     core::wall_clock{}.now());
        const auto unsaved_cancels =
            static_cast<std::uint32_t>(unsaved_orders + restored.open_orders.size());
        risk::rate_memory unsaved;
        for (const risk::rate_window window :
             {risk::rate_window::orders_per_s, risk::rate_window::orders_per_min,
              risk::rate_window::orders_per_day}) {
            if (unsaved_orders > 0) {
                unsaved.buckets[unsaved.count++] = {at, unsaved_orders, window};
            }
        }
        if (unsaved_cancels > 0) {
            unsaved.buckets[unsaved.count++] = {at, unsaved_cancels,
                                                risk::rate_window::ratio_cancels};
        }
        loop.risk().restore_rates(unsaved);
        orders_today += unsaved_orders;
        p.log(prefix + "the last save may have missed up to " +
              std::to_string(restored.unsaved_activity_ms) +
              " ms of orders (the process did not stop): " + std::to_string(unsaved_orders) +
              " orders, the most the order rate limits allowed in that time, count as sent "
              "then, and " +
              std::to_string(unsaved_cancels) +
              " cancels, one for each of them and of the orders the save held working, against "
              "the cancel/trade ratio");
    }
    if (rates.count != 0) {
        loop.risk().restore_rates(rates);
        p.log(prefix + "order and cancel rate windows restored; " + std::to_string(orders_today) +
              " orders of the saved day window still count against max_orders_per_day");
        // A clock set back since the save: a window takes its buckets as current until the
        // clock passes them, so their orders count longer than the window. The safe side, but
        // a quoting held by a full window for that long must be explained.
        core::timestamp_ns newest = std::numeric_limits<core::timestamp_ns>::min();
        for (std::size_t i = 0; i < rates.count; ++i) {
            newest = std::max(newest, rates.buckets[i].start);
        }
        const core::timestamp_ns wall = core::wall_clock{}.now();
        if (newest > wall) {
            p.log(prefix + "the clock is " + std::to_string((newest - wall) / core::ns_per_s) +
                  " s behind the newest saved rate bucket: its orders count against the rate "
                  "limits until the clock passes it");
        }
    }
}

void session_services::restore_kill(core_loop& loop, core::timestamp_ns now) {
    const parts& p = *parts_;
    // An operator's pause held before the restart holds after it, until resume; on the lead,
    // whose pause reaches every symbol.
    const auto paused = [](const std::unique_ptr<persisted_lane>& lane) {
        return lane->restored_found && lane->restored.manual_pause;
    };
    if (std::any_of(p.lanes.begin(), p.lanes.end(), paused)) {
        (void)loop.risk().pause(now);
        p.log("state: paused by the operator before the restart; it stays paused until resume");
    }
    const auto latched = [](const std::unique_ptr<persisted_lane>& lane) {
        return lane->restored_found && lane->restored.kill_latched;
    };
    if (std::none_of(p.lanes.begin(), p.lanes.end(), latched)) {
        return;
    }
    // A kill latched before the restart stays latched until an explicit resume. The session is
    // one kill domain: a kill any symbol's file kept halts every symbol. It comes back with the
    // first file's reason, so that /status, the journal and the next save still say why;
    // manual_kill when the file's reason names no kill (free text).
    const auto first = std::find_if(p.lanes.begin(), p.lanes.end(), latched);
    (void)loop.risk().trigger_kill_switch(kill_reason_named((*first)->restored.kill_reason), now);
    for (std::size_t i = 0; i < p.lanes.size(); ++i) {
        if (!latched(p.lanes[i])) {
            continue;
        }
        const std::string& reason = p.lanes[i]->restored.kill_reason;
        p.log(p.state_prefix(i) + "kill latched before the restart (reason " +
              (reason.empty() ? std::string("unknown") : reason) +
              "); it stays engaged until resume");
    }
}

std::string session_services::start(core_loop& loop, ops::control_channel* control,
                                    const feed_view& feed, const venue_view& venue) {
    core_loop* const loops[] = {&loop};
    return start(loops, control, feed, venue);
}

std::string session_services::start(std::span<core_loop* const> loops,
                                    ops::control_channel* control, const feed_view& feed,
                                    const venue_view& venue) {
    parts& p = *parts_;
    if (loops.size() != p.lanes.size()) {
        return "session: " + std::to_string(loops.size()) + " loops for " +
               std::to_string(p.lanes.size()) + " symbols";
    }
    for (std::size_t i = 0; i < loops.size(); ++i) {
        p.lanes[i]->loop = loops[i];
    }
    core_loop& lead = *loops.front();
    std::vector<const core_loop*> bound(loops.begin(), loops.end());
    p.publisher->bind(bound);
    // Every symbol's venue rejects and round trips count in the session's series.
    for (core_loop* loop : loops) {
        loop->set_exec_listener(p.publisher.get());
    }
    p.publisher->publish(lead, feed, venue);
    // Published before the saver starts, so that its first save holds the loops' state.
    p.persist(lead, feed);
    if (p.state_on()) {
        p.saver = std::make_unique<state_saver>(
            p.lanes, p.config.ops.state.account, p.state_session(),
            p.config.ops.state.save_interval_ms,
            std::chrono::milliseconds(p.publish_ns / core::ns_per_ms), p.journal.get());
    }
    if (p.config.ops.http.enabled) {
        auto server = ops::http_server::start(
            p.config.ops.http, p.config.ops.http_token,
            {.control = control, .status = &p.board, .metrics = &p.registry});
        if (!server.has_value()) {
            return "http: " + server.error();
        }
        p.http = std::move(*server);
        p.http_endpoint = p.http->endpoint();
        p.log("http: listening on " + p.http_endpoint);
    }
    // Telegram commands: a thread of their own, into the control channel like HTTP's.
    if (const ops::alerts_settings& a = p.config.ops.alerts; !a.telegram_command_chat_ids.empty()) {
        if (control == nullptr) {
            return "telegram: commands need a control channel";
        }
        p.telegram = std::make_unique<ops::telegram_commands>(
            ops::telegram_command_settings{.api_url = a.telegram_api_url,
                                           .bot_token = a.telegram_bot_token,
                                           .allowed_chat_ids = a.telegram_command_chat_ids,
                                           .poll_timeout =
                                               std::chrono::seconds(a.telegram_poll_timeout_s)},
            *control, p.board);
        if (const std::string failed = p.telegram->start(); !failed.empty()) {
            return "telegram: " + failed;
        }
        std::string chats;
        for (const std::string& id : a.telegram_command_chat_ids) {
            chats += (chats.empty() ? "" : ", ") + id;
        }
        p.log("telegram: commands accepted from chat " + chats);
    }
    return {};
}

void session_services::set_tick_latency(const core::tick_latency* ticks) noexcept {
    parts_->publisher->set_tick_latency(ticks);
}

void session_services::on_tick(const core::tick_stamps& stamps) noexcept {
    if (const core::duration_ns e2e = stamps.end_to_end(); e2e >= 0) {
        parts_->metrics.tick_to_order.observe(e2e);
    }
    if (const core::duration_ns kernel = stamps.kernel_to_read(); kernel >= 0) {
        parts_->metrics.kernel_to_read.observe(kernel);
    }
}

bool session_services::publish_due(const core_loop& loop, core::timestamp_ns now) noexcept {
    parts& p = *parts_;
    std::size_t kills = loop.state() == risk::trading_state::killed ? 1 : 0;
    for (std::size_t i = 1; i < p.lanes.size(); ++i) {
        const core_loop* other = p.lanes[i]->loop;
        kills += other != nullptr && other->state() == risk::trading_state::killed ? 1 : 0;
    }
    // A kill is published at once, not a status interval later, and so saved at once: in any
    // lane, since a kill one file keeps halts the whole session after a restart.
    if (now < p.next_publish && kills == p.published_kills) {
        return false;
    }
    p.next_publish = now + p.publish_ns;
    p.kills_to_save = p.kills_to_save || kills != p.published_kills;
    p.published_kills = kills;
    return true;
}

void session_services::publish(const core_loop& loop, const feed_view& feed,
                               const venue_view& venue) noexcept {
    parts& p = *parts_;
    p.publisher->publish(loop, feed, venue);
    p.persist(loop, feed);
    if (p.kills_to_save) {
        p.kills_to_save = false;
        if (p.saver) {
            p.saver->save_soon();
        }
    }
    if (p.saver && p.saver->failing() != p.state_failing) {
        p.state_failed();
    }
}

const ops::status_snapshot& session_services::last() const noexcept {
    return parts_->publisher->last();
}

void session_services::close_intake() {
    parts& p = *parts_;
    if (p.telegram) {
        p.telegram->stop();
    }
    if (p.http) {
        p.http->stop();
    }
}

void session_services::stop(const core_loop& loop, const feed_view& feed, const venue_view& venue) {
    parts& p = *parts_;
    if (p.stopped) {
        return;
    }
    p.stopped = true;
    close_intake(); // nothing is accepted from here on (the caller may have closed it already)
    p.publisher->publish(loop, feed, venue);
    p.persist(loop, feed);
    p.publisher->stopped();
    if (p.saver) {
        // The loops' last state was just published and they send nothing more.
        p.saver->stop(true);
        if (const std::string failed = p.saver->error(); !failed.empty()) {
            p.log("state: " + failed);
        }
    }
    if (p.journal) {
        p.journal->stop();
    }
}

const std::string& session_services::http_endpoint() const noexcept {
    return parts_->http_endpoint;
}

} // namespace quoter::engine
