// session_services: the operations side of a trading session, composed once for every mode that
// runs the core loop in real time (`run --mode sim`, `paper_exchange`, `live`): the journal, the
// single-instance lock and the state file (loaded at open, restored into the loop, saved from
// its own thread), alerts to stderr and the alert dispatcher (webhook, Telegram, file), the
// status board and the engine metrics the core publishes, the HTTP control plane and the
// Telegram command thread.
//
// A session of several symbols (one loop each on one core thread) has one persisted lane per
// symbol: its own lock and state file, restored into that symbol's loop and saved from it, so
// every symbol keeps across a restart what a session of that symbol alone would keep. The first
// symbol is the lead: its loop feeds /status, the metrics and the control commands.
//
// Order of use (one owner thread, which is the core thread once the loop runs):
//   open()        before the loops exist: journal, locks, state files, alert targets;
//   restore_*()   after the loops are built, before their first event;
//   start()       the publisher becomes the lead's exec listener; saver, HTTP, Telegram start;
//   publish_due() / publish() / on_tick()   on the core thread between events (no allocation,
//                 no formatting, no locks: copies into seqlock boards and relaxed stores);
//   stop()        after the loop's graceful stop: final publish, final save, threads joined.
// Everything the mode does not configure stays off: no [state] directory, no lock; no [http]
// enabled, no server; no [alerts] target, stderr only.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/core/time.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/ops_config.hpp"
#include "quoter/ops/state_file.hpp"
#include "quoter/ops/status.hpp"
#include "quoter/risk/alert.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace quoter::engine {

struct session_services_config {
    /// [ops], [http], [alerts], [state].
    ops::ops_settings ops;
    /// Mode name in /status and the default alert instance ("sim", "paper_exchange", "live").
    std::string mode_name;
    /// What kind of session the state files belong to (ops::engine_state::session); empty: the
    /// mode name. A file another kind of session wrote is refused at open: a simulated account's
    /// day, peak and rate windows must never be restored into a live one, nor a testnet's into
    /// mainnet.
    std::string state_session;
    /// [journal] path; empty: no journal.
    std::string journal_path;
    /// fdatasync interval of the journal, ms (0: every batch, -1: never).
    std::int64_t journal_flush_interval_ms = 1'000;
    /// One line per operations event ("http: listening on ..."); may be empty. Owner thread.
    std::function<void(std::string_view)> log;
    /// Alerts also go to stderr (paper, live). The paced sim run summarises its alerts at the
    /// end instead; the dispatcher gets them either way.
    bool alerts_to_stderr = true;
};

/// The market-data side as /status and the metrics show it (plain values).
struct feed_view {
    std::uint64_t messages = 0;       ///< Messages (or market steps) received.
    std::uint64_t gaps = 0;           ///< Sequence gaps.
    std::uint64_t resyncs = 0;        ///< Book resyncs.
    std::uint64_t synced_symbols = 0; ///< Books currently synced.
    std::uint64_t last_update_id = 0; ///< Traded symbol's last applied book update id; 0: none.
};

/// The venue side as /status and the metrics show it (plain values).
struct venue_view {
    std::size_t working_orders = 0; ///< Orders open on the venue (or the quote manager's).
    bool connected = true;          ///< The order gateway's session is up.
    /// API errors the venue's gateway counted beyond the quote manager's refused sends and
    /// unknown outcomes (e.g. error answers).
    std::uint64_t api_errors = 0;
};

class session_services {
public:
    /// Opens the journal (symbol_index + 1 slots of spec), takes the instance lock and loads the
    /// state file ([state] directory), and builds the alert dispatcher ([alerts]). The error
    /// says which part failed ("state: another quoter engine is running ...").
    [[nodiscard]] static core::result<std::unique_ptr<session_services>, std::string>
    open(const session_services_config& config, const core::symbol_spec& spec,
         std::uint32_t symbol_index);
    /// As above for a session of several symbols, one persisted lane each, in this order: a
    /// lock and a state file per symbol ("<directory>/quoter-<account>-<SYMBOL>.state"), every
    /// one taken before any order can be sent. symbols.front() is the lead (its journal slot
    /// is symbol_index).
    [[nodiscard]] static core::result<std::unique_ptr<session_services>, std::string>
    open(const session_services_config& config, std::span<const core::symbol_spec> symbols,
         std::uint32_t symbol_index);

    ~session_services();
    session_services(const session_services&) = delete;
    session_services& operator=(const session_services&) = delete;

    /// The journal, or nullptr when [journal] has no path. Lives until stop().
    [[nodiscard]] ops::journal* journal() const noexcept;
    /// stderr, then the dispatcher when configured. Core thread.
    [[nodiscard]] risk::alert_sink& alerts() noexcept;
    /// The state loaded at open for the lane's symbol (0: the lead); nullptr when [state] is
    /// off or no file was there.
    [[nodiscard]] const ops::engine_state* restored(std::size_t lane = 0) const noexcept;

    /// Puts the lane's saved position, cost basis, cash, client order sequence, trading day and
    /// rate windows back into its loop (logged). Before the loop's first event.
    void restore_account(core_loop& loop, std::size_t lane = 0);
    /// Re-engages a kill latched before the restart in any lane's file on the lead's loop: the
    /// session is one kill domain, and the caller carries the lead's kill to the other loops.
    /// It stays until an explicit resume. An operator's pause any file kept is engaged the
    /// same way.
    void restore_kill(core_loop& loop, core::timestamp_ns now);

    /// Makes the publisher the loop's exec listener and publishes once; starts the state saver,
    /// the HTTP server (its endpoint is logged) and the Telegram commands. Telegram commands
    /// and HTTP POSTs need control. Returns "" or what failed.
    [[nodiscard]] std::string start(core_loop& loop, ops::control_channel* control,
                                    const feed_view& feed, const venue_view& venue);
    /// As above for several lanes: loops holds one loop per symbol given to open(), in that
    /// order (the lead first); each must outlive stop(). publish() and stop() then save every
    /// lane's state from its loop.
    [[nodiscard]] std::string start(std::span<core_loop* const> loops,
                                    ops::control_channel* control, const feed_view& feed,
                                    const venue_view& venue);

    /// The core's hop histograms, for the /status tick-to-order percentiles (core thread; must
    /// outlive the publishing). nullptr: none.
    void set_tick_latency(const core::tick_latency* ticks) noexcept;
    /// One finished tick: its end-to-end latency (socket read to order) goes into the
    /// quoter_tick_to_order_seconds histogram when the tick sent an order. Core thread.
    void on_tick(const core::tick_stamps& stamps) noexcept;
    /// True every ops.status_interval_ms and at once when the kill state of any lane's loop
    /// changed (loop: the lead's). Core thread.
    [[nodiscard]] bool publish_due(const core_loop& loop, core::timestamp_ns now) noexcept;
    /// Copies the lead loop's state into the status board and the metrics, and every lane's
    /// into its state board (loop: the lead's, as given to start()).
    void publish(const core_loop& loop, const feed_view& feed, const venue_view& venue) noexcept;
    /// The snapshot last published (core thread).
    [[nodiscard]] const ops::status_snapshot& last() const noexcept;

    /// Stops taking commands: the HTTP server and the Telegram thread end, so that every command
    /// they accepted is in the control channel before the loops' last poll takes it. A kill
    /// answered 202 after that poll would otherwise reach neither the loop nor the state file.
    /// Call after the stop's wait, before the last poll. Idempotent (stop() calls it too).
    void close_intake();

    /// Publishes the final state, marks /status stopped, saves the state files a last time and
    /// stops the Telegram and HTTP threads, then the journal. Idempotent.
    void stop(const core_loop& loop, const feed_view& feed, const venue_view& venue);

    /// "127.0.0.1:9464" when the HTTP server runs; empty otherwise.
    [[nodiscard]] const std::string& http_endpoint() const noexcept;

private:
    struct parts;
    explicit session_services(std::unique_ptr<parts> p) noexcept;
    std::unique_ptr<parts> parts_;
};

} // namespace quoter::engine
