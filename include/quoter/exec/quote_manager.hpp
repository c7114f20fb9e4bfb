// quote_manager: turns the strategy's desired quotes into orders on a gateway and follows each
// order through its life (new → acknowledged → partially filled → filled / cancelled /
// rejected).
//
// One slot per (side, quote level). Invariant: a slot holds at most one order that is not known
// to be done, counting orders still in flight: a new order is sent only into an empty slot, and
// a slot empties only on the order's terminal report (fill, cancelled, reject). Replacing an
// order is therefore cancel → wait for the cancelled (or the fill that raced it) → send the new
// order, which costs one round trip of quote time but can never leave two orders of one slot on
// the book. The replacement goes out from inside the report callback, so it costs no extra
// strategy update.
//
// Replace in one request. When the gateway can (order_gateway::replaces_in_one_request(),
// Binance spot's order.cancelReplace with STOP_ON_FAILURE) a replacement is one request instead:
// the cancel of the slot's order and the new order go out together and the new order waits in
// the slot's `incoming` place until the old one is done; it moves into the slot on the old
// order's terminal report (cancelled, or the fill that raced the cancel). Meanwhile both count
// as open and as working for risk, nothing else is sent for the slot, and a cancel that fails
// (the old order still rests, or filled) ends with the new order rejected unsent, so a slot
// never has two orders resting on the book by this path either.
//
// Keep-or-replace. A working order is kept while the desired price stays within
// refresh_tolerance_bps of its price, the desired size within size_tolerance_pct of its size,
// and its age (since it was sent) is below max_order_age_ms. Otherwise it is cancelled and
// replaced, but never sooner than refresh_ms after the slot's previous order was sent. Pulling a
// quote (desired size 0) and the kill switch cancel at once, without that throttle.
//
// After a fill (partial or complete) the desired quotes are out of date: they were computed for
// the position before it. Until the next update() nothing is placed, neither the filled slot's
// next order nor the replacement of an order whose cancel confirms meanwhile; the owner
// requotes with the post-fill position (awaiting_update()).
//
// Cancels that must succeed (every order while halted, a pulled quote, a cancel left without
// answer) are retried by retry_cancels(), which the owner calls on every loop iteration, with or
// without market data: an order is cancelled again when its cancel was refused by the gateway,
// rejected by the venue (cancel_reject) or not answered within cancel_retry_ms, at most
// max_cancel_attempts times; then the manager gives up on it and says so, and the owner raises
// the alarm. While halted (a kill) it never gives up: past the budget it says so once and keeps
// cancelling, every overdue_cancel_factor * cancel_retry_ms, until the venue confirms. Every
// cancel attempt of an order, however made, counts against its budget and is paced by
// cancel_retry_ms. A kill's cancel-all the gateway could not take (queue_full: it never left the
// process) is sent again every cancel_retry_ms until the gateway takes it, as long as the kill
// lasts: it also reaches orders no slot knows of, and starts the gateway's own confirmation.
//
// Unknown outcome. When the gateway cannot tell whether a new order reached the venue (timeout,
// 5xx, a disconnect with it in flight) the slot keeps it as `unknown`: it counts as working (it
// may rest), the slot stays occupied so it is never sent again, and a cancel of it is allowed.
// A later ack, fill, cancelled or reject (from the gateway's query or the user stream) resolves
// it like any other order. A fill may arrive before the ack; a fill whose trade id was already
// seen (recent_trade_ids, the last 64) counts once.
//
// Client order ids: bits 63..56 id_tag (tells apart managers sharing a gateway), bits 55..8 a
// sequence number, bits 7..0 the slot. A report finds its slot from its id alone; a report
// whose id is not the slot's current order (a cancel_reject after the fill that raced it) is
// counted and otherwise ignored.
//
// Threading: core thread only. update() and cancel_all() call the gateway; on_exec_report() is
// called by the gateway (possibly re-entered from poll) and may submit the replacement.
// No allocation, no exceptions.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/order_types.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace quoter::exec {

/// Most quote levels per side.
inline constexpr std::size_t max_quote_levels = 8;

/// One side of one quote level: the order the manager keeps resting in that slot (the
/// strategy's two-sided core::quote_level split per side). A quantity <= 0 (or a price <= 0)
/// means "no quote at this level".
struct side_quote {
    core::price price;
    core::qty qty;

    [[nodiscard]] constexpr bool active() const noexcept {
        return qty.lots() > 0 && price.ticks() > 0;
    }
};

/// The strategy's wish for one update: per side, level 0 closest to the mid.
struct desired_quotes {
    std::array<side_quote, max_quote_levels> bids{};
    std::array<side_quote, max_quote_levels> asks{};
};

struct quote_manager_config {
    /// Symbol index on the gateway.
    std::uint32_t symbol = 0;
    /// Quote levels per side in use (1..max_quote_levels).
    std::uint8_t levels = 1;
    /// High byte of every client order id; distinct per manager sharing a gateway.
    std::uint8_t id_tag = 1;
    /// A working order is kept while |desired - working| <= this many bps of its price.
    double refresh_tolerance_bps = 1.0;
    /// ... and while |desired size - working size| <= this many % of its size.
    double size_tolerance_pct = 25.0;
    /// ... and while it is younger than this (ms since sent); 0 = no age limit.
    std::int64_t max_order_age_ms = 30'000;
    /// Minimum time between two orders sent for one slot (ms).
    std::int64_t refresh_ms = 100;
    /// Send post-only orders (rejected rather than taking liquidity).
    bool post_only = true;
    time_in_force tif = time_in_force::gtc;
    /// Minimum time between two cancel attempts of one order, and how long a cancel may go
    /// unanswered before it is sent again (ms).
    std::int64_t cancel_retry_ms = 250;
    /// Cancel attempts per order before the manager gives up on it (>= 1).
    std::uint32_t max_cancel_attempts = 20;
};

/// Where a slot's order is. Terminal states are not kept: the slot empties (none).
enum class order_status : std::uint8_t {
    none,             ///< No order in the slot.
    pending_new,      ///< Sent, no answer yet.
    acked,            ///< Resting on the venue.
    partially_filled, ///< Resting, part of it traded.
    /// The venue's answer was lost: may rest. Working for risk; resolved by a later report.
    unknown,
};

/// The last `capacity` fills seen, by trade id and side, to count a fill reported twice once.
/// The side is part of the key because a trade between two orders of the account (a self-trade,
/// which a symbol's self-trade prevention may allow) tells both of them the same trade id: one
/// buy and one sell, two fills. Fixed size, no allocation; a linear scan is cheaper than
/// hashing at this size. Trade id < 0 means none.
class recent_trade_ids {
public:
    static constexpr std::size_t capacity = 64;

    /// True if a fill of `trade_id` on `side` was seen among the last `capacity`; otherwise
    /// remembers it. Ids < 0 are never duplicates and are not remembered.
    [[nodiscard]] bool seen_before(std::int64_t trade_id, core::side side) noexcept {
        if (trade_id < 0) {
            return false;
        }
        // Venue trade ids are far below 2^62: one bit to spare for the side.
        const std::int64_t key = static_cast<std::int64_t>(
            (static_cast<std::uint64_t>(trade_id) << 1U) | (side == core::side::sell ? 1U : 0U));
        for (std::size_t i = 0; i < count_; ++i) {
            if (ids_[i] == key) {
                return true;
            }
        }
        ids_[next_] = key;
        next_ = (next_ + 1) % capacity;
        count_ = count_ < capacity ? count_ + 1 : capacity;
        return false;
    }

private:
    std::array<std::int64_t, capacity> ids_{};
    std::size_t next_ = 0;
    std::size_t count_ = 0;
};

/// A range of int64 values [first, first + count), empty when count is 0: one unsigned
/// comparison tells whether any int64 value is in it, as value - first wraps past every count
/// when value < first.
struct int_range {
    std::int64_t first = 0;
    std::uint64_t count = 0;

    /// [low, high]; empty when high < low. Every such range but the whole of int64 fits.
    [[nodiscard]] static constexpr int_range between(std::int64_t low, std::int64_t high) noexcept {
        return high < low ? int_range{}
                          : int_range{low, static_cast<std::uint64_t>(high) -
                                               static_cast<std::uint64_t>(low) + 1};
    }
    [[nodiscard]] constexpr bool contains(std::int64_t value) const noexcept {
        return static_cast<std::uint64_t>(value) - static_cast<std::uint64_t>(first) < count;
    }
};

/// The order a slot holds.
struct working_order {
    client_order_id id;
    order_status status = order_status::none;
    /// A cancel for this order is on its way (or the kill switch's cancel-all is).
    bool cancel_pending = false;
    core::price price;
    core::qty qty;
    core::qty cum_qty;
    core::timestamp_ns sent_ts = 0;
    core::timestamp_ns acked_ts = 0;
    core::timestamp_ns cancel_sent_ts = 0;
};

/// Everything the manager did, for the cancel-to-trade ratio, reports and alarms.
struct quote_counters {
    std::uint64_t orders_sent = 0;
    std::uint64_t acks = 0;
    std::uint64_t rejects = 0;
    std::uint64_t post_only_rejects = 0;
    std::uint64_t cancels_sent = 0; ///< Cancel requests, plus orders a cancel-all covered.
    std::uint64_t replacements = 0; ///< Cancels sent to move or refresh a quote.
    /// Of replacements, those sent as one cancel-and-place request (each also counts one
    /// order sent and one cancel sent).
    std::uint64_t replaces_sent = 0;
    std::uint64_t cancel_alls_sent = 0;
    std::uint64_t cancelled = 0; ///< Orders confirmed cancelled (or expired).
    std::uint64_t cancel_rejects = 0;
    std::uint64_t unknowns = 0;            ///< Orders whose placement outcome became unknown.
    std::uint64_t duplicate_fills = 0;     ///< Fill reports of a trade already counted (ignored).
    std::uint64_t fills = 0;               ///< Fill reports, partial and final.
    std::uint64_t orders_filled = 0;       ///< Orders filled completely.
    std::uint64_t fills_racing_cancel = 0; ///< Fill reports for orders with a cancel pending.
    std::uint64_t stale_reports = 0; ///< Reports for orders no longer tracked (not cancel_reject).
    /// Acks of orders of this manager it had seen rejected (the venue took them after all: a
    /// late placement of unknown outcome): each cancelled at once, nothing would manage it.
    std::uint64_t orphans_cancelled = 0;
    std::uint64_t gateway_errors = 0;  ///< Requests the gateway refused to send.
    std::uint64_t cancel_retries = 0;  ///< Cancels sent again by retry_cancels().
    std::uint64_t cancel_give_ups = 0; ///< Orders whose cancel budget ran out.
    /// Times the gateway's order-rate limits refused a new order and new orders were held back
    /// until they have room again (order_gateway::new_orders_held_until). How long they were
    /// held: quote_manager::held_ns().
    std::uint64_t rate_holds = 0;
    std::int64_t filled_lots = 0; ///< Traded quantity, both sides.
    std::int64_t fee_units = 0;   ///< Fees paid, notional units (negative: net rebate).

    /// Cancels per fill report; with no fill, the cancel count itself.
    [[nodiscard]] double cancel_to_trade_ratio() const noexcept {
        return static_cast<double>(cancels_sent) / static_cast<double>(fills == 0 ? 1 : fills);
    }
};

/// What update() would do to one slot (quote_manager::rehearse).
enum class slot_action : std::uint8_t {
    keep,    ///< The working order stays (within tolerance, or throttled by refresh_ms).
    place,   ///< Empty slot: a new order goes out.
    replace, ///< The working order is cancelled, to be replaced on its confirmation.
    wait,    ///< Nothing now: a cancel is pending, a fill awaits a requote, or throttled.
};

/// One would-be order of a dry run: the order the slot would send for the desired quote, and
/// what update() would do to the slot now.
struct rehearsed_order {
    order_request request;
    slot_action action = slot_action::keep;
    /// action replace: the slot's order the request would replace (else none).
    client_order_id replaces;
};

class quote_manager final : public exec_report_sink {
public:
    /// The gateway must outlive the manager. The manager does not register itself as the
    /// gateway's sink: the wiring does (the core loop hands it the reports its risk gate passes).
    quote_manager(const quote_manager_config& config, order_gateway& gateway) noexcept;

    /// Applies one update of desired quotes at time `now` (ns, the caller's clock). Levels at or
    /// beyond config.levels are ignored. Ignored entirely while halted.
    void update(const desired_quotes& desired, core::timestamp_ns now) noexcept;

    /// Dry run of update() (engine::order_path_warmer): decides keep-or-replace for every slot
    /// of the configured levels as update(desired, now) would, and writes, for each side with an
    /// active desired quote, the order the slot would send for it (the id it would get next;
    /// no sequence number is taken) into out. Changes no slot, counter or sequence: update()
    /// afterwards does exactly what it would have done. Returns the orders written.
    [[nodiscard]] std::size_t rehearse(const desired_quotes& desired, core::timestamp_ns now,
                                       std::span<rehearsed_order> out) const noexcept;

    /// Cancels again every order that must go (all while halted, pulled quotes, cancels without
    /// answer) whose last attempt failed or timed out, paced by cancel_retry_ms and bounded by
    /// max_cancel_attempts. Call on every loop iteration, with or without market data. Returns
    /// the number of orders given up on by this call: the owner raises a critical alert.
    [[nodiscard]] std::size_t retry_cancels(core::timestamp_ns now) noexcept {
        // Most calls find every slot empty or resting with nothing to cancel: answered inline,
        // and without looking at the slots when none can have gained work since the last look.
        if (!cancel_work_possible_) {
            return 0;
        }
        if (cancel_all_unsent_) [[unlikely]] {
            retry_cancel_all(now);
        }
        for (std::size_t level = 0; level < config_.levels; ++level) {
            if (has_cancel_work(slots_[level]) ||
                has_cancel_work(slots_[max_quote_levels + level])) {
                return retry_pending_cancels(now);
            }
        }
        if (!orphans_.empty()) {
            return retry_pending_cancels(now);
        }
        cancel_work_possible_ = cancel_all_unsent_;
        return 0;
    }

    /// True while the halt's cancel-all has not left the process (the gateway's queue was
    /// full): it is sent again every cancel_retry_ms until the gateway takes it.
    [[nodiscard]] bool cancel_all_unsent() const noexcept { return cancel_all_unsent_; }

    /// True after a fill until the next update(): the desired quotes predate the fill, so
    /// nothing is placed; the owner requotes with the post-fill position.
    [[nodiscard]] bool awaiting_update() const noexcept { return awaiting_update_; }

    /// Follows an order's report; may send the replacement of a cancelled order at
    /// report.local_ts (never after a fill: see awaiting_update()). Reports of other symbols or
    /// other managers' ids are ignored.
    void on_exec_report(const exec_report& report) noexcept override;

    /// Kill switch: cancels every open order of the symbol on the venue (tracked or not),
    /// forgets the desired quotes and halts quoting until resume(). An order still in flight
    /// when the cancel-all reaches the venue is cancelled on its ack.
    void cancel_all(core::timestamp_ns now) noexcept;
    /// Quoting resumes with the next update(). Cancel budgets start afresh.
    void resume() noexcept;
    [[nodiscard]] bool halted() const noexcept { return halted_; }

    /// The order of one slot (status none when empty).
    [[nodiscard]] const working_order& order(core::side side, std::size_t level) const noexcept {
        return slots_[slot_index(side, level)].order;
    }
    /// Orders held (in flight or resting), a replacement waiting for its slot included.
    [[nodiscard]] std::size_t open_orders() const noexcept;
    /// The replacement of a slot's order sent in one request with the cancel, until the
    /// order it replaces is done (status none when there is none).
    [[nodiscard]] const working_order& incoming(core::side side, std::size_t level) const noexcept {
        return slots_[slot_index(side, level)].incoming;
    }
    /// Slots holding an order the manager gave up cancelling (still possibly on the venue).
    [[nodiscard]] std::size_t abandoned_orders() const noexcept;
    [[nodiscard]] const quote_counters& counters() const noexcept { return counters_; }
    /// Total time new orders were held by the gateway's order-rate limits up to `now` (ns,
    /// the manager's clock): each hold from the refusal that started it until the time the
    /// gateway named (extended by a refusal during it), counted up to `now` while it lasts.
    /// A kill or resume neither starts nor ends a hold.
    [[nodiscard]] core::duration_ns held_ns(core::timestamp_ns now) const noexcept {
        const core::timestamp_ns end = std::min(now, new_orders_held_until_);
        return ended_holds_ns_ + (end > hold_started_ ? end - hold_started_ : 0);
    }
    /// Sequence number of the last client order id issued (0: none yet).
    [[nodiscard]] std::uint64_t last_sequence() const noexcept { return next_seq_ - 1; }
    /// Issues the next ids above seq, so that ids of a run restarted from a state file never
    /// repeat the saved run's. Never moves the sequence back.
    void continue_sequence_after(std::uint64_t seq) noexcept {
        next_seq_ = seq + 1 > next_seq_ ? seq + 1 : next_seq_;
    }
    [[nodiscard]] const quote_manager_config& config() const noexcept { return config_; }

    /// Slot number encoded in a client order id's low byte.
    [[nodiscard]] static constexpr std::size_t slot_index(core::side side,
                                                          std::size_t level) noexcept {
        return (side == core::side::buy ? 0 : max_quote_levels) + level;
    }

private:
    static constexpr std::size_t slot_count = 2 * max_quote_levels;
    static constexpr std::int64_t gap_unknown = std::numeric_limits<std::int64_t>::min();

    /// Cache-line aligned, 256 bytes: a report finds its slot from its id with a shift.
    struct alignas(64) slot_state {
        working_order order;
        side_quote desired;
        /// The largest price gap (ticks) and size gap (lots) between the desired quote and the
        /// order within refresh_tolerance_bps and size_tolerance_pct of the order: integer
        /// bounds for needs_replace(), derived on the order's ack or needs_replace()'s first look
        /// at it, whichever comes first (kept_price_gap is gap_unknown until then; most refused
        /// orders are never acked nor looked at). The size gap, which depends on the order's
        /// size alone, stays from the slot's previous order of the same size (kept_size_of).
        std::int64_t kept_price_gap = gap_unknown;
        std::int64_t kept_size_gap = gap_unknown;
        core::qty kept_size_of;
        /// The same bounds as the desired prices (ticks) and sizes (lots) they keep, for
        /// keeps(): derived with the kept gaps, clamped to active quotes (>= 1).
        int_range kept_prices;
        int_range kept_sizes;
        /// The order is kept before this time and replaced (max_order_age_ms) from it on;
        /// derived with the kept gaps (the earliest time until then, and while the slot is
        /// empty: keeps() is false).
        core::timestamp_ns keep_until = std::numeric_limits<core::timestamp_ns>::min();
        core::side side = core::side::buy;
        std::uint8_t level = 0;
        /// Send time of the slot's last order; the refresh_ms throttle counts from here.
        core::timestamp_ns last_sent_ts = 0;
        bool ever_sent = false;
        /// The pending cancel is a cancel-all that may miss an order still in flight.
        bool cancel_via_all = false;
        /// No cancel for the current order before this time (pacing of cancel attempts).
        core::timestamp_ns next_cancel_ts = std::numeric_limits<core::timestamp_ns>::min();
        /// Cancel attempts for the current order (sent or refused by the gateway).
        std::uint32_t cancel_attempts = 0;
        /// The cancel budget of the current order ran out while not halted: no more attempts
        /// until resume().
        bool cancel_gave_up = false;
        /// The budget ran out while halted (a kill): said once, and the cancels go on, paced by
        /// overdue_cancel_factor * cancel_retry_ms, until the venue confirms.
        bool cancel_overdue = false;
        /// The replacement sent with the cancel of the slot's order (replace in one request),
        /// until that order is done.
        working_order incoming;
    };
    static_assert(sizeof(slot_state) == 256, "a slot is four whole cache lines");

    void manage(slot_state& slot, core::timestamp_ns now) noexcept;
    /// True when manage() would leave the slot as it is at `now` (false tells nothing): it holds
    /// an order younger than max_order_age_ms and its desired quote is within the kept gaps of
    /// it, so active. The order stays; or a cancel or replacement of it is under way, which
    /// manage() leaves alone anyway. False until the kept gaps are derived, and while the slot
    /// is empty: keep_until is then the minimum time (see stop_keeping()), so `now <
    /// keep_until` also says that the slot holds an order.
    [[nodiscard]] static bool keeps(const slot_state& slot, core::timestamp_ns now) noexcept {
        const std::int64_t price = slot.desired.price.ticks();
        const std::int64_t lots = slot.desired.qty.lots();
        return now < slot.keep_until && slot.kept_prices.contains(price) &&
               slot.kept_sizes.contains(lots);
    }
    /// The slot's order is gone (or a new one took it): keeps() is false until the kept gaps of
    /// the next one are derived.
    static void stop_keeping(slot_state& slot) noexcept {
        slot.keep_until = std::numeric_limits<core::timestamp_ns>::min();
    }
    /// update() from the slot of (level, side) on, its desired quote set: manage() for it and
    /// each slot after it.
    [[gnu::noinline]] void manage_from(const desired_quotes& desired, core::timestamp_ns now,
                                       std::size_t level, core::side side) noexcept;
    void try_place(slot_state& slot, core::timestamp_ns now) noexcept;
    void send_cancel(slot_state& slot, core::timestamp_ns now) noexcept;
    /// An order retry_cancels() may have to cancel again: it must go (halted, or no longer
    /// wanted) or its cancel is still unanswered, and its cancel budget is not spent.
    [[nodiscard]] bool has_cancel_work(const slot_state& slot) const noexcept {
        return slot.order.status != order_status::none && !slot.cancel_gave_up &&
               (halted_ || !slot.desired.active() || slot.order.cancel_pending);
    }
    /// retry_cancels() once some slot has work.
    [[nodiscard]] std::size_t retry_pending_cancels(core::timestamp_ns now) noexcept;
    /// retry_pending_cancels() for a slot with cancel work: cancels again when due; true when
    /// it gave up on the order (said once per order).
    [[nodiscard]] bool retry_cancel(slot_state& slot, core::timestamp_ns now) noexcept;
    /// Sends the kill's cancel-all again when due, while halted.
    [[gnu::cold]] void retry_cancel_all(core::timestamp_ns now) noexcept;
    /// Asks the gateway for the kill's cancel-all; keeps it to send again when the gateway could
    /// not take it. True when it was sent.
    bool send_cancel_all(core::timestamp_ns now) noexcept;
    void reset_cancel_budget(slot_state& slot) noexcept;
    /// Derives the kept gaps of the slot's order on the first call for it.
    [[nodiscard]] bool needs_replace(slot_state& slot, core::timestamp_ns now) const noexcept;
    /// tolerance * the order's price (size): what needs_replace() compares a gap * scale with.
    [[nodiscard]] double price_tolerance(const working_order& order) const noexcept;
    [[nodiscard]] double size_tolerance(const working_order& order) const noexcept;
    [[gnu::noinline]] void derive_kept_gaps(slot_state& slot) const noexcept;
    /// needs_replace() for gaps not both within the kept gaps.
    [[gnu::noinline]] bool beyond_tolerance(const slot_state& slot, std::int64_t price_gap,
                                            std::int64_t size_gap) const noexcept;
    /// A new order takes the slot: its kept gaps are derived when needs_replace() first asks.
    static void take_order(slot_state& slot, const working_order& order) noexcept {
        slot.order = order;
        slot.kept_price_gap = gap_unknown;
        stop_keeping(slot);
    }
    [[nodiscard]] bool may_send(const slot_state& slot, core::timestamp_ns now) const noexcept;
    /// may_send() for a new order into an empty slot: also not while new orders are held.
    [[nodiscard]] bool may_place(const slot_state& slot, core::timestamp_ns now) const noexcept {
        return may_send(slot, now) && now >= new_orders_held_until_;
    }
    [[nodiscard]] client_order_id next_id(std::size_t slot) noexcept;
    /// An unknown or ack report of a slot's order or of its incoming replacement.
    void on_unknown(working_order& order) noexcept;
    void on_ack(working_order& order, core::timestamp_ns at) noexcept;
    /// A reject or fill report of a slot's order or of its incoming replacement; on_fill is
    /// true when the order is done (filled in full).
    void on_reject(working_order& order, const exec_report& report) noexcept;
    [[nodiscard]] bool on_fill(working_order& order, const exec_report& report) noexcept;
    /// After a refusal of the gateway's own: new orders wait while its rate limits have no room.
    void hold_new_orders(core::timestamp_ns now) noexcept;
    /// The order that carries the slot's desired quote under `id`.
    [[nodiscard]] order_request request_for(const slot_state& slot,
                                            client_order_id id) const noexcept;

    // Replace in one request (see the header comment).
    [[nodiscard]] static bool replacing(const slot_state& slot) noexcept {
        return slot.incoming.status != order_status::none;
    }
    void send_replace(slot_state& slot, core::timestamp_ns now) noexcept;
    /// A report of the order a slot holds.
    void on_slot_report(slot_state& slot, const exec_report& report) noexcept;
    /// A report of this manager for no order it holds (of_a_slot: its id names a slot): an
    /// orphan's, a stale one, or the ack of an order taken after it was reported never taken.
    void on_untracked_report(const exec_report& report, bool of_a_slot) noexcept;
    /// A report of a slot's incoming replacement.
    void on_incoming_report(slot_state& slot, working_order& order,
                            const exec_report& report) noexcept;
    /// The slot's order is done: its incoming replacement, if any, takes its place (true).
    bool promote_incoming(slot_state& slot, core::timestamp_ns now) noexcept;

    quote_manager_config config_;
    order_gateway& gateway_;
    core::duration_ns refresh_ns_ = 0;
    core::duration_ns max_age_ns_ = 0;
    core::duration_ns cancel_retry_ns_ = 0;
    std::array<slot_state, slot_count> slots_{};
    std::uint64_t next_seq_ = 1;
    recent_trade_ids trade_ids_;
    bool halted_ = false;
    bool awaiting_update_ = false;
    /// False while no slot has cancel work (has_cancel_work()) and none can have gained it since
    /// retry_cancels() found so: set by everything that can give a slot work (a cancel sent, a
    /// halt or resume, a desired quote pulled, an order taking a slot other than by try_place(),
    /// which never places an order that must go).
    bool cancel_work_possible_ = false;
    /// The kill's cancel-all was refused by the gateway before it left the process: sent again
    /// from cancel_all_retry_ts_ on (retry_cancel_all()); kept in cancel_work_possible_.
    bool cancel_all_unsent_ = false;
    core::timestamp_ns cancel_all_retry_ts_ = 0;
    quote_counters counters_;
    /// No new order before this time: the gateway's order-rate limits would refuse it. Placing
    /// anyway only collects a refusal an update, each running every pre-trade check and leaving
    /// a rejection record; replacements still go (their cancel half must).
    core::timestamp_ns new_orders_held_until_ = std::numeric_limits<core::timestamp_ns>::min();
    /// The refusal that started the last hold (the minimum time before the first, so that the
    /// span to new_orders_held_until_ is 0); the holds before it lasted ended_holds_ns_ in all.
    /// Kept by hold_new_orders() alone: the hot path never looks at them.
    core::timestamp_ns hold_started_ = std::numeric_limits<core::timestamp_ns>::min();
    core::duration_ns ended_holds_ns_ = 0;
    /// Orders of this manager the venue took after they were rejected (see orphans_cancelled):
    /// cancelled again every cancel_retry_ms until a report says they are gone. Room for
    /// orphans_reserved is made up front; past it the list grows rather than leave an order
    /// on the venue that nothing cancels again.
    struct orphan_order {
        client_order_id id;
        core::timestamp_ns next_cancel_ts = 0;
    };
    static constexpr std::size_t orphans_reserved = 64;
    /// Pace of a kill's cancels once an order's budget is spent, in cancel_retry_ms.
    static constexpr std::int64_t overdue_cancel_factor = 8;
    std::vector<orphan_order> orphans_;
    /// A report of an orphan: true when report is one (and was handled).
    bool on_orphan_report(const exec_report& report) noexcept;
    void cancel_orphan(orphan_order& orphan, core::timestamp_ns now) noexcept;
};

} // namespace quoter::exec
