#include "quoter/risk/kill_switch.hpp"

#include <bit>

namespace quoter::risk {

std::string_view to_string(trading_state state) noexcept {
    switch (state) {
    case trading_state::running: return "running";
    case trading_state::paused: return "paused";
    case trading_state::killed: return "killed";
    }
    return "unknown";
}

std::string_view to_string(state_event event) noexcept {
    switch (event) {
    case state_event::kill: return "kill";
    case state_event::pause: return "pause";
    case state_event::resume: return "resume";
    case state_event::auto_resume: return "auto_resume";
    case state_event::resume_refused: return "resume_refused";
    }
    return "unknown";
}

kill_switch::kill_switch(engine_actions& actions, alert_sink& alerts, bool flatten_on_kill,
                         pre_trade_checker* checker) noexcept
    : actions_(&actions), alerts_(&alerts), checker_(checker), flatten_on_kill_(flatten_on_kill) {
    sync_gate();
}

order_gate kill_switch::gate() const noexcept {
    switch (state()) {
    case trading_state::running: return order_gate::open;
    case trading_state::paused: return order_gate::paused;
    case trading_state::killed: return order_gate::killed;
    }
    return order_gate::killed;
}

halt_reason kill_switch::pause_reason() const noexcept {
    return first_of(conditions_ & pause_mask);
}

halt_reason kill_switch::first_of(std::uint32_t mask) noexcept {
    return mask == 0 ? halt_reason::none : static_cast<halt_reason>(std::countr_zero(mask));
}

bool kill_switch::trigger_kill_switch(halt_reason reason, core::timestamp_ns now) noexcept {
    if (killed_) {
        return false;
    }
    engage_kill(is_kill_reason(reason) ? reason : halt_reason::manual_kill, now);
    return true;
}

void kill_switch::set_condition(halt_reason reason, bool active, core::timestamp_ns now) noexcept {
    if (reason == halt_reason::none) {
        return;
    }
    const std::uint32_t mask = bit(reason);
    const bool was_active = (conditions_ & mask) != 0;
    conditions_ = active ? conditions_ | mask : conditions_ & ~mask;
    if (is_kill_reason(reason)) {
        if (active && !killed_) {
            engage_kill(reason, now);
        }
        return;
    }
    if (killed_) {
        return; // tracked; acted on when the kill is resumed
    }
    if (active && !paused_) {
        enter_pause(reason, now);
    } else if (!active && was_active && paused_ && (conditions_ & pause_mask) == 0) {
        enter_running(state_event::auto_resume, reason, now);
    }
}

resume_result kill_switch::resume(core::timestamp_ns now) noexcept {
    const trading_state from = state();
    const auto refuse = [&](halt_reason blocking) {
        notify(from, state_event::resume_refused, blocking, now);
        alerts_->raise({.time = now,
                        .kind = alert_kind::resume_refused,
                        .severity = alert_severity::warning,
                        .reason = blocking});
        return resume_result{resume_outcome::refused, from, blocking};
    };

    if (killed_) {
        if (const std::uint32_t blocking = conditions_ & kill_mask; blocking != 0) {
            return refuse(first_of(blocking));
        }
        conditions_ &= ~bit(halt_reason::manual_pause);
        const halt_reason ended = kill_reason_;
        if (const std::uint32_t pausing = conditions_ & pause_mask; pausing != 0) {
            // The kill is lifted but an automatic pause still holds: stay out of the market.
            killed_ = false;
            kill_reason_ = halt_reason::none;
            paused_ = true;
            sync_gate();
            notify(from, state_event::resume, ended, now);
            alerts_->raise({.time = now,
                            .kind = alert_kind::resume,
                            .severity = alert_severity::info,
                            .reason = ended});
            return {resume_outcome::resumed, trading_state::paused, first_of(pausing)};
        }
        enter_running(state_event::resume, ended, now);
        return {resume_outcome::resumed, trading_state::running, halt_reason::none};
    }
    if (paused_) {
        conditions_ &= ~bit(halt_reason::manual_pause);
        if (const std::uint32_t pausing = conditions_ & pause_mask; pausing != 0) {
            return refuse(first_of(pausing));
        }
        enter_running(state_event::resume, halt_reason::manual_pause, now);
        return {resume_outcome::resumed, trading_state::running, halt_reason::none};
    }
    return {resume_outcome::not_halted, trading_state::running, halt_reason::none};
}

void kill_switch::engage_kill(halt_reason reason, core::timestamp_ns now) noexcept {
    const trading_state from = state();
    killed_ = true;
    paused_ = false;
    kill_reason_ = reason;
    ++kill_count_;
    sync_gate();
    notify(from, state_event::kill, reason, now);
    actions_->set_new_orders_enabled(false);
    actions_->cancel_all_orders(reason);
    if (flatten_on_kill_) {
        actions_->flatten_positions(reason);
    }
    alerts_->raise({.time = now,
                    .kind = alert_kind::kill,
                    .severity = alert_severity::critical,
                    .reason = reason});
}

void kill_switch::enter_pause(halt_reason reason, core::timestamp_ns now) noexcept {
    const trading_state from = state();
    paused_ = true;
    sync_gate();
    notify(from, state_event::pause, reason, now);
    actions_->set_new_orders_enabled(false);
    actions_->cancel_all_orders(reason);
    alerts_->raise({.time = now,
                    .kind = alert_kind::pause,
                    .severity = alert_severity::warning,
                    .reason = reason});
}

void kill_switch::enter_running(state_event event, halt_reason reason,
                                core::timestamp_ns now) noexcept {
    const trading_state from = state();
    killed_ = false;
    paused_ = false;
    kill_reason_ = halt_reason::none;
    sync_gate();
    notify(from, event, reason, now);
    actions_->set_new_orders_enabled(true);
    alerts_->raise({.time = now,
                    .kind = alert_kind::resume,
                    .severity = alert_severity::info,
                    .reason = reason});
}

void kill_switch::notify(trading_state from, state_event event, halt_reason reason,
                         core::timestamp_ns now) noexcept {
    actions_->on_state_change(
        {.time = now, .from = from, .to = state(), .event = event, .reason = reason});
}

void kill_switch::sync_gate() noexcept {
    if (checker_ != nullptr) {
        checker_->set_gate(gate());
    }
}

} // namespace quoter::risk
