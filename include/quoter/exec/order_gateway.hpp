// The seam between trading logic and a venue: order_gateway sends requests, exec_report_sink
// receives the venue's answers. The simulated exchange and the Binance gateway both implement
// order_gateway, so the quote lifecycle, risk and portfolio code are identical in backtests,
// paper trading and live trading.
//
// Threading: a gateway and its sink belong to the core thread. Live gateways move I/O to their
// own thread behind SPSC rings; poll() is where the core thread picks their reports up.
#pragma once

#include "quoter/exec/order_types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace quoter::exec {

/// Receives execution reports. Called on the core thread only, from order_gateway::poll() or
/// from any other gateway call that advances the gateway's time (see sim_exchange).
class exec_report_sink {
public:
    /// May call back into the gateway (submit, cancel), but must not advance its time.
    virtual void on_exec_report(const exec_report& report) noexcept = 0;
    /// `count` requests of any kind (orders, cancels, queries) failed at the venue since the
    /// last call: no answer within the gateway's timeout, a 5xx, an answer saying the outcome
    /// is unknown (-1006, -1007) or one that could not be read. Each is one API error for the
    /// kill triggers (risk::api_outcome::server_error). From poll(), at the poll's time; a venue
    /// that cannot fail (the simulated exchange) never calls it.
    virtual void on_venue_failures(std::uint32_t /*count*/, core::timestamp_ns /*now*/) noexcept {}

protected:
    ~exec_report_sink() = default;
};

/// Why a gateway refused to send a request. The request never left the client; no report will
/// follow for it.
enum class gateway_error : std::uint8_t {
    none,
    queue_full,   ///< The outgoing queue (or the simulation's event queue) is full.
    rate_limited, ///< Sending now would break the venue's request-rate limits.
    disconnected, ///< No session to the venue.
    /// Connected, and reconciling with the venue: new orders wait until it ends (mostly a round
    /// trip or two). Not a failure of the venue.
    reconciling,
};

[[nodiscard]] std::string_view describe(gateway_error error) noexcept;

/// Sends orders to a venue. All calls on the core thread; `now` is the caller's clock (simulated
/// or wall time) in ns and must not go backwards.
class order_gateway {
public:
    virtual ~order_gateway() = default;

    /// Where reports go; nullptr drops them. The sink must outlive the gateway's use of it.
    virtual void set_report_sink(exec_report_sink* sink) noexcept = 0;

    /// Sends a new order. gateway_error::none means sent: exactly one of ack, reject or unknown
    /// follows, then (after ack or unknown) fills and/or cancelled. A fill may come before the
    /// ack; an unknown is later resolved by ack, fills, cancelled or reject, never by sending
    /// the order again. The same fill (trade id) may be reported twice.
    [[nodiscard]] virtual gateway_error submit(const order_request& request,
                                               core::timestamp_ns now) noexcept = 0;

    /// Asks to cancel an open order, or one whose outcome is unknown. none means sent: either
    /// cancelled or cancel_reject follows (possibly after fills that happened before the cancel
    /// reached the venue).
    [[nodiscard]] virtual gateway_error cancel(std::uint32_t symbol, client_order_id id,
                                               core::timestamp_ns now) noexcept = 0;

    /// Cancels every open order of a symbol (all_symbols: of every symbol), including orders
    /// the caller does not track. One cancelled report per cancelled order; none if nothing was
    /// open.
    [[nodiscard]] virtual gateway_error cancel_all(std::uint32_t symbol,
                                                   core::timestamp_ns now) noexcept = 0;

    /// Delivers every report due by `now` to the sink; returns how many were delivered.
    virtual std::size_t poll(core::timestamp_ns now) noexcept = 0;

    /// Dry run of submit() (engine::order_path_warmer): does to the request what submit()
    /// would do that has no effect (checks it, encodes it into scratch storage of the core
    /// thread) and sends nothing: no request leaves, no report follows, and no request id,
    /// rate-limit budget, counter or queue moves. Returns whether submit() would have taken the
    /// request as far as the gateway can tell without sending it. The default does nothing and
    /// returns false (a gateway with nothing to warm).
    [[nodiscard]] virtual bool rehearse_submit(const order_request& /*request*/,
                                               core::timestamp_ns /*now*/) noexcept {
        return false;
    }
    /// Dry run of replacing old_id by request, as rehearse_submit(): what replace() would do when
    /// replaces_in_one_request(), else what submit() would do once the cancel confirmed (the
    /// default).
    [[nodiscard]] virtual bool rehearse_replace(std::uint32_t symbol, client_order_id old_id,
                                                const order_request& request,
                                                core::timestamp_ns now) noexcept {
        (void)symbol;
        (void)old_id;
        return rehearse_submit(request, now);
    }

    /// After a reject of this gateway's own (reject_reason::risk_refused): the earliest time a
    /// new order could pass its order-rate limits, if none passes before; every submit() before
    /// then would be refused again. The minimum timestamp (the default) when nothing says so.
    /// A caller may hold its new orders until then instead of sending them to be refused.
    [[nodiscard]] virtual core::timestamp_ns new_orders_held_until() const noexcept {
        return std::numeric_limits<core::timestamp_ns>::min();
    }

    /// True while the venue has not confirmed that a cancel_all() of `symbol` left none of this
    /// client's orders resting there: some may still rest. A caller that killed trading keeps it
    /// killed until then. False (the default) for a gateway whose cancel-all needs no
    /// confirmation: every order it cancels is reported cancelled.
    [[nodiscard]] virtual bool kill_unconfirmed(std::uint32_t /*symbol*/) const noexcept {
        return false;
    }

    /// True when replace() sends the cancel of an order and its replacement as one request
    /// (Binance spot's order.cancelReplace). False by default: the caller replaces by cancel(),
    /// then submit() once the cancelled report came (the quote manager's one code path asks).
    [[nodiscard]] virtual bool replaces_in_one_request() const noexcept { return false; }

    /// Cancels `old_id` and places `request` in one request; the new order is placed only if
    /// the cancel succeeded. none means sent, and then, as after cancel(old_id), cancelled or
    /// cancel_reject follows for the old order (possibly after fills), and, as after
    /// submit(request), exactly one of ack, reject or unknown for the new one. A new order not
    /// attempted because the cancel failed is rejected with reason unknown_order (it never
    /// reached the book); the old order may have filled meanwhile, which a fill report tells.
    /// A request whose answer is lost is resolved per order by the gateway, never resent.
    /// Only for gateways whose replaces_in_one_request() is true: the default sends nothing
    /// and answers queue_full.
    [[nodiscard]] virtual gateway_error replace(std::uint32_t symbol, client_order_id old_id,
                                                const order_request& request,
                                                core::timestamp_ns now) noexcept {
        (void)symbol;
        (void)old_id;
        (void)request;
        (void)now;
        return gateway_error::queue_full;
    }
};

} // namespace quoter::exec
