// binance_report_funnel: the one path every order report of a Binance gateway takes, shared by
// the spot (WebSocket API) and USD-M futures (REST) gateways.
//
// A live venue tells the same thing several times: the answer to a request, the user-data
// stream, a status query after a timeout, a replay after a reconnect. The funnel remembers, per
// order of this run, whether its ack and its end were reported and how much fill, so that an
// ack or an end reaches the core once whichever source tells first, and a fill only for the
// quantity beyond what was reported already. A placement whose outcome some source already told
// is therefore never reported unknown afterwards (outcome_known).
//
// resolve_status() is how an unknown outcome is resolved: the answer to an order query (spot
// order.status, futures GET /fapi/v1/order) becomes ack / fills / cancelled / reject, or
// cancel_reject when the query was made for a cancel whose answer was lost.
//
// "No such order" (-2013) for a placement of unknown outcome is final only once the venue can no
// longer take the request: Binance may still execute a request whose answer said "execution
// status unknown" until its signed timestamp + recvWindow has passed. Before then (the gateway
// tells: placement_window::open, see may_still_execute) the answer is not_yet and the gateway asks
// again; after it, the order is rejected (unknown_order). Should the venue take it after all (a
// clock further off than the margin, a venue that does not keep its window), the funnel does not
// drop what follows: an ack or a fill of an order it ended as never taken reopens it, and the
// ack and every fill are reported (the owner sees the order come back; see docs/live.md).
//
// Fills an answer tells (a status query, a cancel answer, a RESULT placement answer: the order's
// executed quantity, no trade) are not reported from the answer: its time is the answer's, which
// may be later than the trades, and it has no trade id or commission. The funnel asks the
// gateway for the order's trades instead (report_funnel_output::want_trades: spot myTrades,
// futures GET /fapi/v1/userTrades) and reports each trade the core has not heard of, with its
// id, venue time, price, role and commission (trades_answered). The order's end waits for them,
// so its fills come first. When the trades do not come (max_trade_attempts answers that do not
// cover the quantity, or failures), the rest is reported as before: one fill at the order's price,
// stamped with the answer's time. An order the funnel does not remember is reported at once, as
// before.
//
// Memory: a fixed table of slots (by client_order_id modulo the table size) allocated at
// construction; nothing is allocated per report. Thread ownership: the gateway's I/O thread.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_user_data.hpp"
#include "quoter/exec/order_types.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quoter::exec {

/// Where the funnel delivers reports (the gateway stamps and queues them for the core thread).
class report_funnel_output {
public:
    virtual void deliver(exec_report report) = 0;
    /// An answer told of fills of `order` (the venue's order id exchange_id) beyond those
    /// reported: ask the venue for its trades and hand the answer to trades_answered().
    virtual void want_trades(const order_request& order, std::uint64_t exchange_id) = 0;

protected:
    ~report_funnel_output() = default;
};

/// The commission the venue charged for one trade (exec_report::commission_e8 / _asset).
struct fill_commission {
    std::int64_t amount_e8 = 0;
    fee_asset asset = fee_asset::none;
};

/// What an order query answered, for the gateway: done, or ask again.
enum class status_resolution : std::uint8_t {
    resolved,  ///< Reports delivered (possibly none: nothing new).
    ask_again, ///< 5xx / malformed / 429: the query is repeated after the timeout.
    /// -2013 for a placement the venue may still take (placement_window::open): nothing is
    /// reported; the query is repeated soon, until the window closes.
    not_yet,
};

/// Whether the venue may still take the placement a status query resolves.
enum class placement_window : std::uint8_t {
    closed, ///< Its timestamp + recvWindow has passed (or unknown, or a cancel): -2013 is final.
    open,   ///< It may still be executed: -2013 means "not yet".
};

class order_report_funnel {
public:
    static constexpr std::size_t default_slots = 4096;
    /// Trade lists asked for one order before the answer's fill is reported as it is.
    static constexpr std::uint32_t max_trade_attempts = 3;
    /// Added to a placement's timestamp + recvWindow before the venue is taken to have refused
    /// it for good: the error of the local estimate of the venue's clock (ms).
    static constexpr std::int64_t clock_margin_ms = 1'000;

    /// open while a request signed with venue time signed_ms (its `timestamp`) and recv_window_ms
    /// may still be executed at now_venue_ms (the local estimate of the venue's clock), within
    /// clock_margin_ms; closed after, or when signed_ms is 0 (not known).
    [[nodiscard]] static placement_window window_of(std::int64_t signed_ms,
                                                    std::int64_t recv_window_ms,
                                                    std::int64_t now_venue_ms) noexcept;

    /// fills: counter incremented per fill report delivered (after de-duplication).
    order_report_funnel(report_funnel_output& output, std::atomic<std::uint64_t>& fills,
                        std::size_t slots = default_slots);

    /// Starts remembering a new order of this run (when it is sent).
    void open(const order_request& order) noexcept;
    /// True when an ack, a fill or a terminal report already told the core what became of the
    /// order (an unknown would only set it back).
    [[nodiscard]] bool outcome_known(client_order_id id) const noexcept;
    /// Acknowledged and not finished: an order a cancel answered "unknown order" leaves
    /// unexplained (one not yet acknowledged is still being resolved by its placement).
    [[nodiscard]] bool acked_and_open(client_order_id id) const noexcept;
    /// The order as sent when it is remembered, else fallback.
    [[nodiscard]] order_request tracked_order(const order_request& fallback) const noexcept;

    void ack(const order_request& order, std::uint64_t exchange_id);
    /// Reports the fill that brings the order's reported quantity up to cum (nothing when it
    /// already is). venue_time_ms: the trade's time on the venue's clock (exec_report::
    /// venue_time_ms; 0 when not told). exchange_ts: the trade's time on the local clock, 0 when
    /// unknown (stamped when delivered).
    /// commission: what the venue charged for the trade, when it told (a user-data event, a
    /// trade list).
    void fills_to(const order_request& order, core::qty cum, core::price price,
                  std::int64_t trade_id, std::uint64_t exchange_id, liquidity_role liquidity,
                  std::int64_t venue_time_ms, core::timestamp_ns exchange_ts = 0,
                  fill_commission commission = {});
    /// A trade the user-data stream told: this trade's quantity `last`, the order's executed
    /// quantity `cum` after it. Reported as fills_to does, unless trades before it went unseen
    /// (cum - last beyond what was reported: a gap in the stream). Then the order's trades are
    /// asked for, as for an answer's fill, so that each unseen trade is reported with its own
    /// time, id and commission (a reading of the account taken in the gap already holds the
    /// ones before it), never as part of this one.
    void stream_trade(const order_request& order, core::qty cum, core::qty last, core::price price,
                      std::int64_t trade_id, std::uint64_t exchange_id, liquidity_role liquidity,
                      std::int64_t venue_time_ms, core::timestamp_ns exchange_ts,
                      fill_commission commission);
    /// A reconciliation lists one of this run's orders (`id`) as open on the venue: one the
    /// funnel ended as never taken (a status query found no order, or failed) reopens, and an
    /// ack nobody told yet is reported; fills beyond those reported are asked from its trades.
    /// Either way the owner tracks it again, and cancels it if it no longer wants it. An order
    /// whose end was reported otherwise, or that is no longer remembered, is left alone.
    void listed_open(client_order_id id, const answered_order& listed);
    /// stream_trade() of a user-data TRADE event `u` of `order`: its trade's venue time is put
    /// on the local clock with offset_ms (the venue's clock minus ours), its commission asset
    /// read against `spec`, the symbol's spec.
    void stream_trade(const order_request& order, const order_update& u, std::int64_t offset_ms,
                      const core::symbol_spec& spec);
    /// A terminal report (cancelled, reject) unless one was delivered already.
    void terminal(const order_request& order, exec_kind kind, reject_reason reason,
                  core::qty cum = core::qty{0}, std::uint64_t exchange_id = 0);
    /// Fills an answer tells (executed quantity cum, no trade): for a remembered order the
    /// trades are asked for (see above), else one fill is reported at price, stamped
    /// venue_time_ms (the answer's time).
    void answered_fills_to(const order_request& order, core::qty cum, core::price price,
                           std::uint64_t exchange_id, std::int64_t venue_time_ms);
    /// An order the venue reports finished: first any fills not yet reported (answered_fills_to
    /// with the answer's time, o.transact_time_ms), then the terminal report.
    void finished(const order_request& order, const answered_order& o, exec_kind kind);
    /// The venue's trades of `order` (a trade list, ascending trade ids; empty when the request
    /// failed), the attempt-th answer (from 1). Reports every trade beyond what was reported
    /// (by cumulative quantity, so a trade the user stream told already counts once), then the
    /// order's end if it waited. Returns ask_again while the trades do not cover what the
    /// answer told and attempts remain; on the last attempt the rest is reported as the answer
    /// told it.
    /// commission_of names each trade's commission asset relative to the order's symbol
    /// (binance_holdings' fee_asset_of).
    status_resolution trades_answered(const order_request& order,
                                      std::span<const venue_trade> trades, std::uint32_t attempt,
                                      std::span<const core::symbol_spec> symbols = {});
    /// The answer to an order query made to resolve `order`'s placement (for_cancel false) or
    /// a cancel of it (for_cancel true). window: whether the venue may still take the
    /// placement (a -2013 is then not_yet); ignored for a cancel.
    status_resolution resolve_status(const order_request& order, bool for_cancel,
                                     const api_answer& answer,
                                     placement_window window = placement_window::closed);

    /// Calls f(order) for every remembered order that was acknowledged and is not finished:
    /// what a reconciliation queries after a gap in the user stream or the connection.
    template <class F> void for_each_unfinished(F&& f) const {
        for (const track& t : tracks_) {
            if (t.id != 0 && t.acked && !t.done) {
                f(t.order);
            }
        }
    }
    /// A report of `kind` describing the order as requested.
    [[nodiscard]] static exec_report report_of(const order_request& order, exec_kind kind) noexcept;
    /// The order a venue listing describes, on top of what the request knew.
    [[nodiscard]] static order_request order_of(const answered_order& o,
                                                order_request base) noexcept;

private:
    struct track {
        std::uint64_t id = 0; ///< client_order_id value; 0: free.
        order_request order;
        core::qty reported_cum; ///< Filled quantity already reported.
        bool acked = false;     ///< ack (or a fill, which implies it) reported.
        bool done = false;      ///< Terminal report (fill of all, cancelled, reject) delivered.
        /// Ended by a status query's "no such order": an ack or fill after it reopens the order.
        bool ended_unseen = false;
        /// Executed quantity an answer told beyond reported_cum, awaiting the trades (0: none),
        /// with the order's price and the answer's venue time for the fallback fill.
        core::qty answered_cum;
        core::price answered_price;
        std::int64_t answered_ms = 0;
        std::uint64_t exchange_id = 0;
        bool trades_asked = false;
        /// A terminal report held until the trades are reported.
        bool terminal_held = false;
        exec_kind held_kind = exec_kind::cancelled;
        reject_reason held_reason = reject_reason::none;
        core::qty held_cum;
    };
    /// Delivers what answered_fills_to left for the trades: the fallback fill, the held end.
    void release_answered(track& t);
    /// An ack or fill of an order ended as never taken: the venue took it after all. The order
    /// is open again and its ack reported (once), so that the fills which follow are too.
    void reopen(track& t, std::uint64_t exchange_id);
    /// A placement's reject from a status query that found no order (or failed): reopenable.
    void end_unseen(const order_request& order, reject_reason reason);

    [[nodiscard]] track* find(client_order_id id) noexcept;
    [[nodiscard]] const track* find(client_order_id id) const noexcept;

    report_funnel_output* output_;
    std::atomic<std::uint64_t>* fills_;
    /// Where order `id` is remembered, or tracks_.size() when it is not.
    [[nodiscard]] std::size_t index_of(std::uint64_t id) const noexcept;

    /// A finished order whose track a later order took: what was reported of it, so that a late
    /// report (an answer telling its executed quantity again) adds nothing.
    struct finished_order {
        std::uint64_t id = 0;
        core::qty reported_cum;
    };
    static constexpr std::size_t finished_memory = 256;
    [[nodiscard]] finished_order* find_finished(client_order_id id) noexcept;

    std::vector<track> tracks_;
    /// The farthest an order was remembered from its home track (open() never overwrites an
    /// order still open, it takes the next free or finished track): lookups probe this far.
    std::size_t longest_probe_ = 0;
    /// The latest finished orders whose tracks were taken, oldest overwritten first.
    std::array<finished_order, finished_memory> finished_{};
    std::size_t next_finished_ = 0;
};

} // namespace quoter::exec
