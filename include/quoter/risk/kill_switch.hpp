// kill_switch: the trading state machine, running -> paused(reason) -> killed(reason).
//
//   killed  latched by trigger_kill_switch or by a kill condition becoming active; left only by
//           resume(), which is refused while any kill condition is still active.
//   paused  held while at least one pause condition is active (stale feed, resync, manual pause);
//           returns to running by itself when the last automatic condition clears. A manual
//           pause is cleared only by resume().
//   running otherwise.
// A kill dominates a pause: pause conditions are still tracked while killed, and a resume from a
// kill lands in paused if one of them is active.
//
// What the engine must do on each transition is requested through engine_actions, which the
// wiring connects to the order gateway: on kill, disable new orders, cancel all, optionally
// flatten, alert; on pause, disable and cancel; on resume, enable. Every transition and every
// refused resume is also reported to engine_actions::on_state_change for the journal.
//
// Thread ownership: core thread only. Other threads reach it through ops::control_channel.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/pre_trade.hpp"
#include "quoter/risk/reasons.hpp"

#include <cstdint>
#include <string_view>

namespace quoter::risk {

enum class trading_state : std::uint8_t { running, paused, killed };

[[nodiscard]] std::string_view to_string(trading_state state) noexcept;

enum class state_event : std::uint8_t {
    kill,           ///< Entered killed.
    pause,          ///< Entered paused.
    resume,         ///< Left killed or paused on an explicit resume.
    auto_resume,    ///< Left paused because its last condition cleared.
    resume_refused, ///< resume() refused; reason is the condition that persists.
};

[[nodiscard]] std::string_view to_string(state_event event) noexcept;

/// One transition (or refused resume), fixed size for the journal ring.
struct state_change {
    core::timestamp_ns time = 0;
    trading_state from = trading_state::running;
    trading_state to = trading_state::running;
    state_event event = state_event::kill;
    halt_reason reason = halt_reason::none;
};

/// What the kill switch asks the engine to do. Called synchronously on the core thread, inside
/// the kill switch call that caused it; implementations may call back into the risk engine.
class engine_actions {
public:
    /// Cancel every open order, bypassing the cancel rate check.
    virtual void cancel_all_orders(halt_reason reason) noexcept = 0;
    /// Close every position with marketable orders of intent order_intent::flatten, each still
    /// checked by the pre-trade checks. Only called when flatten_on_kill is set.
    virtual void flatten_positions(halt_reason reason) noexcept = 0;
    /// Allow or stop new orders (quoting).
    virtual void set_new_orders_enabled(bool enabled) noexcept = 0;
    /// Every transition and refused resume, in order, for the journal.
    virtual void on_state_change(const state_change& change) noexcept = 0;

protected:
    engine_actions() = default;
    engine_actions(const engine_actions&) = default;
    engine_actions& operator=(const engine_actions&) = default;
    ~engine_actions() = default;
};

enum class resume_outcome : std::uint8_t {
    resumed,    ///< Left killed or paused (possibly into paused, see state).
    refused,    ///< A condition persists (blocking says which).
    not_halted, ///< Already running; nothing to do.
};

struct resume_result {
    resume_outcome outcome = resume_outcome::not_halted;
    trading_state state = trading_state::running; ///< State after the call.
    halt_reason blocking = halt_reason::none;     ///< For refused: the persisting condition.
};

class kill_switch {
public:
    /// actions and alerts must outlive the switch; checker (optional) gets its order gate updated
    /// before any action runs, so orders sent from inside an action see the new state.
    kill_switch(engine_actions& actions, alert_sink& alerts, bool flatten_on_kill,
                pre_trade_checker* checker = nullptr) noexcept;

    /// Engages the kill switch. Idempotent: returns true only for the call that engaged it;
    /// later calls (any reason) leave the latched reason and do nothing. A pause reason is
    /// recorded as manual_kill.
    bool trigger_kill_switch(halt_reason reason, core::timestamp_ns now) noexcept;

    /// Reports whether a persistent condition holds. An active kill condition kills (once) and
    /// blocks resume while active; an active pause condition pauses until every pause condition
    /// has cleared. Calling it repeatedly with the same value does nothing.
    void set_condition(halt_reason reason, bool active, core::timestamp_ns now) noexcept;

    /// Manual pause (key `p`): held until resume().
    void pause(core::timestamp_ns now) noexcept {
        set_condition(halt_reason::manual_pause, true, now);
    }

    /// Explicit resume (key `r`). Refused while a kill condition persists, or, when only paused,
    /// while an automatic pause condition persists (trading then resumes by itself when it
    /// clears).
    resume_result resume(core::timestamp_ns now) noexcept;

    /// Inline: the loop asks before every requote.
    [[nodiscard]] trading_state state() const noexcept {
        if (killed_) {
            return trading_state::killed;
        }
        return paused_ ? trading_state::paused : trading_state::running;
    }
    /// Reason latched by the kill (none when not killed).
    [[nodiscard]] halt_reason kill_reason() const noexcept { return kill_reason_; }
    /// First active pause condition (none when there is none).
    [[nodiscard]] halt_reason pause_reason() const noexcept;
    [[nodiscard]] bool condition_active(halt_reason reason) const noexcept {
        return (conditions_ & bit(reason)) != 0;
    }
    [[nodiscard]] bool new_orders_allowed() const noexcept {
        return state() == trading_state::running;
    }
    [[nodiscard]] order_gate gate() const noexcept;
    /// Number of times the switch engaged since construction.
    [[nodiscard]] std::uint64_t kill_count() const noexcept { return kill_count_; }

private:
    [[nodiscard]] static constexpr std::uint32_t bit(halt_reason reason) noexcept {
        return std::uint32_t{1} << static_cast<unsigned>(reason);
    }
    static constexpr std::uint32_t kill_mask = [] {
        std::uint32_t mask = 0;
        for (std::size_t r = 0; r < halt_reason_count; ++r) {
            if (is_kill_reason(static_cast<halt_reason>(r))) {
                mask |= std::uint32_t{1} << r;
            }
        }
        return mask;
    }();
    static constexpr std::uint32_t pause_mask = [] {
        std::uint32_t mask = 0;
        for (std::size_t r = 0; r < halt_reason_count; ++r) {
            if (is_pause_reason(static_cast<halt_reason>(r))) {
                mask |= std::uint32_t{1} << r;
            }
        }
        return mask;
    }();

    [[nodiscard]] static halt_reason first_of(std::uint32_t mask) noexcept;
    void engage_kill(halt_reason reason, core::timestamp_ns now) noexcept;
    void enter_pause(halt_reason reason, core::timestamp_ns now) noexcept;
    void enter_running(state_event event, halt_reason reason, core::timestamp_ns now) noexcept;
    void notify(trading_state from, state_event event, halt_reason reason,
                core::timestamp_ns now) noexcept;
    void sync_gate() noexcept;

    engine_actions* actions_;
    alert_sink* alerts_;
    pre_trade_checker* checker_;
    bool flatten_on_kill_;
    bool killed_ = false;
    bool paused_ = false; // the pause actions ran and have not been undone
    halt_reason kill_reason_ = halt_reason::none;
    std::uint32_t conditions_ = 0;
    std::uint64_t kill_count_ = 0;
};

} // namespace quoter::risk
