// flattener: closes one symbol's position after a kill with marketable reducing orders.
//
// Each order is an IOC limit on the side that reduces the position, priced through the opposite
// touch by at most slippage_ticks (a buy at best ask + slippage, a sell at best bid - slippage),
// for the whole position or the largest size the caller allows, whichever is smaller. It is not
// post-only and it is reduce-only. What does not fill on arrival expires, so an order never
// rests behind the kill.
//
// One order is in flight at a time: the next one is planned only after the terminal report of
// the previous one (filled, expired or rejected), so that it sees a settled position. The
// flattener stops by itself when the position is zero (done), when what is left is below the
// exchange's minimum notional (done, dust left), or after max_attempts orders (gave_up: a thin
// or one-sided book, or orders the risk checks keep refusing); the engine journals and alerts.
//
// Client order ids: id_tag in bits 63..56 (never a quote manager's tag), a sequence in bits
// 55..8 and 0xff in the low byte, which is no quote slot, so quote bookkeeping keyed on the low
// byte never mistakes a flatten order for a quote.
//
// Threading: core thread only. No allocation, no exceptions.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/order_types.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace quoter::exec {

struct flatten_config {
    /// How far through the opposite touch a flatten order may reach, in ticks (0: at the touch).
    /// The pre-trade price band still applies on top of it.
    std::int64_t slippage_ticks = 0;
    /// Orders sent before giving up; each IOC that leaves a remainder counts one, and so does
    /// each refusal of a check that time does not clear (a price band). A refusal that only
    /// needs time (an order-rate window, the gateway's request limits or connection) does not
    /// count: see on_held().
    std::uint32_t max_attempts = 20;
    /// After an order refused before the book saw it (the pre-trade checks, the gateway, a
    /// request limit), the next waits this long: such a refusal is mostly a rate window that
    /// needs time, and retrying at once would spend the budget in microseconds.
    std::int64_t refusal_retry_ms = 500;
    /// After an order the venue itself rejected (a filter, a price limit, the balance), the next
    /// waits refusal_retry_ms, doubled for each such reject in a row up to this: a reject that
    /// repeats at once would spend max_attempts in as many round trips, milliseconds, and give
    /// up on the position before anyone could act.
    std::int64_t max_reject_backoff_ms = 30'000;
    /// Bits 63..56 of every flatten order's client id (flatten_id_tag of the symbol's quotes).
    std::uint8_t id_tag = 0x46;
};

/// The flatten id tag of the symbol whose quote manager tags its orders quote_tag: 0x46 for the
/// first tag (1), one more for each tag after it. Quote tags of the symbols sharing an exchange
/// run from 1 to 64, below every flatten tag, so no two of their orders share an id.
[[nodiscard]] constexpr std::uint8_t flatten_id_tag(std::uint8_t quote_tag) noexcept {
    return static_cast<std::uint8_t>(flatten_config{}.id_tag + (quote_tag - 1));
}

enum class flatten_state : std::uint8_t {
    idle,    ///< Not asked to flatten (or stopped by a resume).
    working, ///< Sending orders until the position is closed.
    done,    ///< Position closed, or only dust below the minimum notional left.
    gave_up, ///< max_attempts orders sent and the position is still open.
};

[[nodiscard]] std::string_view to_string(flatten_state state) noexcept;

class flattener {
public:
    /// spec: the symbol's trading spec (ticks, lots, minimum notional); must outlive the
    /// flattener. symbol: the gateway's index of the symbol, written into every request.
    flattener(const flatten_config& config, const core::symbol_spec& spec,
              std::uint32_t symbol) noexcept;

    /// Starts (or restarts) flattening with a fresh attempt budget, less attempts_spent (a kill
    /// restored from the state file goes on with what its flattening had left). An order still
    /// in flight stays in flight.
    void start(std::uint32_t attempts_spent = 0) noexcept;
    /// Stops sending (a resume); a flatten order in flight still gets its reports.
    void stop() noexcept;
    /// Works again after done, with the attempts already spent: the position came back (a fill
    /// that raced the kill's cancel-all, a position adopted from the venue after a restart).
    /// Nothing in any other state.
    void reopen() noexcept;

    /// The next order to send now, or nothing: not working, an order in flight, the side to
    /// trade against is empty, or flattening just ended (see state()). max_qty caps the
    /// order's quantity in lots (the risk layer's largest order; nothing: no cap); a cap below
    /// one lot ends flattening as gave_up, since no order could pass.
    /// Call on_sent() with the outcome of every order it returns.
    /// now: nothing before refusal_retry_ms after a refusal.
    [[nodiscard]] std::optional<order_request> next_order(core::qty position, core::price best_bid,
                                                          core::price best_ask,
                                                          std::optional<core::qty> max_qty,
                                                          core::timestamp_ns now = 0) noexcept;
    /// Outcome of sending the order next_order returned: accepted means it left (its reports
    /// will follow); otherwise it was refused before leaving, and the next one waits
    /// refusal_retry_ms from now.
    void on_sent(bool accepted, core::timestamp_ns now = 0) noexcept;
    /// Instead of on_sent(): the order next_order returned was held back by a limit that time
    /// clears (a full order-rate window, the gateway's own request limits, no connection). It
    /// does not count against max_attempts, or a kill would give up on a position while a
    /// minute's window filled by the quotes before it empties; the next order waits until
    /// `until` (no earlier than refusal_retry_ms from now).
    void on_held(core::timestamp_ns now, core::timestamp_ns until) noexcept;
    /// The limit price of a flatten order on `side` against `touch`: through it by
    /// slippage_ticks, never below one tick.
    [[nodiscard]] core::price limit_price(core::side side, core::price touch) const noexcept;
    /// Takes a report; returns whether it was for a flatten order. Its terminal report frees
    /// the in-flight slot.
    bool on_exec_report(const exec_report& report) noexcept;

    [[nodiscard]] bool owns(client_order_id id) const noexcept {
        return (id.value >> 56) == config_.id_tag && (id.value & 0xffU) == 0xffU;
    }
    [[nodiscard]] const flatten_config& config() const noexcept { return config_; }
    [[nodiscard]] flatten_state state() const noexcept { return state_; }
    [[nodiscard]] bool in_flight() const noexcept { return in_flight_.valid(); }
    /// Orders handed out in the current run of flattening (with the attempts it started with).
    [[nodiscard]] std::uint32_t attempts() const noexcept { return attempts_; }
    /// Orders accepted for sending since construction.
    [[nodiscard]] std::uint64_t orders_sent() const noexcept { return orders_sent_; }
    /// Quantity filled by flatten orders since construction, in lots.
    [[nodiscard]] core::qty filled_qty() const noexcept { return filled_; }

private:
    flatten_config config_;
    const core::symbol_spec* spec_;
    std::uint32_t symbol_;
    flatten_state state_ = flatten_state::idle;
    std::uint32_t attempts_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint64_t orders_sent_ = 0;
    core::qty filled_{0};
    /// Venue rejects since the last order the venue took (see max_reject_backoff_ms).
    std::uint32_t venue_rejects_in_a_row_ = 0;
    client_order_id pending_;   ///< Returned by next_order, waiting for on_sent.
    client_order_id in_flight_; ///< Sent, terminal report not yet seen.
    /// No order before this time (after a refusal).
    core::timestamp_ns retry_at_ = std::numeric_limits<core::timestamp_ns>::min();
};

} // namespace quoter::exec
