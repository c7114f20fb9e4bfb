// risk_gate: an order_gateway decorator that runs every new order through
// risk::risk_engine::check_order before it reaches the venue gateway behind it.
//
// A refused order never leaves the process: the gate answers it with an exec reject report
// (reason exec::reject_reason::risk_refused; the risk reason is counted here and handed to the
// risk engine's rejection sink with the values that failed). The reject is queued and
// delivered on the next poll(), never from inside submit(), because callers such as
// exec::quote_manager record the order after submit() returns. Cancels and cancel-alls pass
// through unchecked (they only reduce risk) and are counted for the cancel-to-trade ratio.
//
// The market and account views the checks use are pushed by the owner (set_views) before each
// round of quoting; reports handled inside poll() that send replacements use the last views.
//
// Threading: core thread only. No allocation after construction, no exceptions.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/flattener.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/order_types.hpp"
#include "quoter/risk/post_trade.hpp"
#include "quoter/risk/reasons.hpp"
#include "quoter/risk/risk_engine.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace quoter::engine {

/// The risk layer's view of an order request: what pre_trade_checker::check looks at.
[[nodiscard]] risk::order_request to_risk_order(const exec::order_request& request,
                                                std::uint16_t symbol_id,
                                                risk::order_intent intent) noexcept;

/// The risk layer's view of a fill report received at `received` (the expected price is the
/// fill's own: the simulated venue fills at the order's price or better).
[[nodiscard]] risk::fill_report to_risk_fill(const exec::exec_report& report,
                                             std::uint16_t symbol_id,
                                             core::timestamp_ns received) noexcept;

/// The next order of a flattener working on `position`, capped at the largest order the size
/// limits pass at the touch it trades against. When flattening has just given up, raises the
/// critical flatten_gave_up alert (value: the position left, base asset; threshold: the attempt
/// budget) and stops the flattener.
[[nodiscard]] std::optional<exec::order_request>
next_flatten_order(exec::flattener& flattener, const core::symbol_spec& spec,
                   const risk::risk_limits& limits, core::qty position,
                   const risk::market_view& market, double equity, std::uint16_t symbol_id,
                   risk::alert_sink& alerts, core::timestamp_ns now) noexcept;

/// Sees every request that passes the gate (for the journal and ack timing).
class gate_listener {
public:
    /// A new order passed the checks and was handed to the venue gateway (accepted by it).
    virtual void on_order_sent(const exec::order_request& request, risk::order_intent intent,
                               core::timestamp_ns now) noexcept = 0;
    /// A cancel of one order was handed to the venue gateway.
    virtual void on_cancel_sent(exec::client_order_id id, core::timestamp_ns now) noexcept = 0;

protected:
    gate_listener() = default;
    gate_listener(const gate_listener&) = default;
    gate_listener& operator=(const gate_listener&) = default;
    ~gate_listener() = default;
};

class risk_gate final : public exec::order_gateway {
public:
    /// Refused orders waiting for poll(); more in one round are answered by the refusal of
    /// submit() itself (gateway_error::queue_full).
    static constexpr std::size_t reject_queue_capacity = 64;

    /// inner, risk and spec must outlive the gate. symbol_id is the id the risk engine and the
    /// journal know the symbol by.
    risk_gate(exec::order_gateway& inner, risk::risk_engine& risk, const core::symbol_spec& spec,
              std::uint16_t symbol_id) noexcept;

    void set_listener(gate_listener* listener) noexcept { listener_ = listener; }
    /// Views used by the next checks (ticks, lots and quote asset; see risk::pre_trade).
    void set_views(const risk::market_view& market, const risk::account_view& account) noexcept {
        market_ = market;
        account_ = account;
    }

    // order_gateway
    void set_report_sink(exec::exec_report_sink* sink) noexcept override;
    [[nodiscard]] exec::gateway_error submit(const exec::order_request& request,
                                             core::timestamp_ns now) noexcept override;
    [[nodiscard]] exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                                             core::timestamp_ns now) noexcept override;
    [[nodiscard]] exec::gateway_error cancel_all(std::uint32_t symbol,
                                                 core::timestamp_ns now) noexcept override;
    /// Sends a flatten order (risk::order_intent::flatten): the same checks, except that a
    /// reducing flatten order may pass a kill when flatten_on_kill is set.
    [[nodiscard]] exec::gateway_error submit_flatten(const exec::order_request& request,
                                                     core::timestamp_ns now) noexcept {
        return submit_checked(request, now, risk::order_intent::flatten);
    }
    /// Delivers the queued refusals, then the venue gateway's reports due by now.
    std::size_t poll(core::timestamp_ns now) noexcept override;

    /// Orders refused by the risk checks, in total and by reason.
    [[nodiscard]] std::uint64_t risk_rejects() const noexcept { return risk_rejects_; }
    [[nodiscard]] std::uint64_t risk_rejects(risk::reject_reason reason) const noexcept {
        return by_reason_[static_cast<std::size_t>(reason)];
    }
    /// Reason of the latest refusal (none before the first).
    [[nodiscard]] risk::reject_reason last_reason() const noexcept { return last_reason_; }
    /// Orders that passed the checks and were sent.
    [[nodiscard]] std::uint64_t orders_passed() const noexcept { return passed_; }

private:
    [[nodiscard]] exec::gateway_error submit_checked(const exec::order_request& request,
                                                     core::timestamp_ns now,
                                                     risk::order_intent intent) noexcept;

    exec::order_gateway& inner_;
    risk::risk_engine& risk_;
    const core::symbol_spec& spec_;
    std::uint16_t symbol_id_;
    exec::exec_report_sink* sink_ = nullptr;
    gate_listener* listener_ = nullptr;
    risk::market_view market_{};
    risk::account_view account_{};
    std::array<exec::exec_report, reject_queue_capacity> rejects_{};
    std::size_t reject_count_ = 0;
    std::uint64_t risk_rejects_ = 0;
    std::uint64_t passed_ = 0;
    risk::reject_reason last_reason_ = risk::reject_reason::none;
    std::array<std::uint64_t, risk::reject_reason_count> by_reason_{};
};

} // namespace quoter::engine
