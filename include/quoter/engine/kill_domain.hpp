// kill_domain: the loops of one session (several symbols on one core thread) as one kill domain.
//
// A kill switch cancels everything and stops quoting, whatever engaged it: a kill of any symbol,
// by a limit of its own or by the operator, kills every symbol (each other loop latches
// manual_kill and cancels its orders). The first loop takes the operator's commands (it holds
// the control channel): its pause pauses every symbol, and its resume, of a kill or of a pause,
// resumes every symbol, each refusing while a limit of its own still holds. A symbol whose own
// limit keeps it killed after that resume does not kill the others again: its kill was carried
// once, and the operator resumed them. The operator's next resume asks it again. From the moment a
// kill engages in any loop until follow() carries it, no loop sends a new order but flatten
// orders: a pass over the loops may hand another symbol reports it would answer with orders
// before follow() runs.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/risk/kill_switch.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace quoter::engine {

class kill_domain {
public:
    kill_domain() = default;
    /// For the loops of `lanes` (as follow() takes them), which join the domain: from a kill
    /// any of them engages until the next follow() carries it, none sends a new order but
    /// flatten orders (core_loop::join_kill_domain). The allocations are here, none in follow().
    template <class Lanes>
    explicit kill_domain(Lanes& lanes)
        : killed_(lanes.size(), 0), loops_(lanes.size()), kill_pending_(std::make_unique<bool>()) {
        for (std::size_t i = 0; loops_ >= 2 && i < loops_; ++i) {
            lanes[i]->loop.join_kill_domain(kill_pending_.get());
        }
    }

    /// Carries what happened to the loops since the last call; call after every pass over them
    /// (core thread). Lanes: a sequence of pointers to lanes whose `loop` is a core_loop, the
    /// first loop first.
    template <class Lanes> void follow(Lanes& lanes, core::timestamp_ns now) noexcept {
        // One symbol (every step of a one-symbol backtest passes here): nothing to carry.
        if (loops_ >= 2) [[unlikely]] {
            follow_loops(lanes, now);
        }
    }

private:
    template <class Lanes>
    [[gnu::noinline]] void follow_loops(Lanes& lanes, core::timestamp_ns now) noexcept {
        const std::size_t count = std::min<std::size_t>(lanes.size(), loops_);
        if (count < 2) {
            return;
        }
        core_loop& lead = lanes[0]->loop;
        // An operator's kill the lead took: one that found the lead already killed latches no
        // new state, yet it must reach every symbol.
        bool kill = lead.stats().kills != lead_kill_requests_;
        for (std::size_t i = 0; i < count; ++i) {
            kill = kill || (killed(lanes[i]->loop) && killed_[i] == 0);
        }
        const risk::risk_engine& lead_risk = lead.risk();
        const bool lead_resumed = killed_[0] != 0 && !killed(lead);
        // Every operator resume, also one the lead refused or did not need: a symbol an
        // earlier resume left killed (a limit of its own held) is asked again.
        const bool resume_asked = lead.stats().resume_requests != lead_resume_requests_;
        const bool paused =
            lead_risk.switch_state().condition_active(risk::halt_reason::manual_pause);
        if (lead_resumed || resume_asked || (paused_ && !paused)) {
            for (std::size_t i = 1; i < count; ++i) {
                (void)lanes[i]->loop.resume(now);
            }
        }
        if (paused && !paused_) {
            for (std::size_t i = 1; i < count; ++i) {
                lanes[i]->loop.risk().pause(now);
            }
        }
        // An operator's flatten the lead took: every symbol flattens, with a fresh budget also
        // under a kill latched earlier (one whose flattening gave up).
        if (lead.stats().flatten_requests != lead_flatten_requests_) {
            for (std::size_t i = 1; i < count; ++i) {
                lanes[i]->loop.flatten_by_operator(now);
            }
        }
        if (kill) {
            for (std::size_t i = 0; i < count; ++i) {
                if (!killed(lanes[i]->loop)) {
                    (void)lanes[i]->loop.risk().trigger_kill_switch(risk::halt_reason::manual_kill,
                                                                    now);
                }
            }
        }
        for (std::size_t i = 0; i < count; ++i) {
            killed_[i] = killed(lanes[i]->loop) ? 1 : 0;
        }
        // Every kill engaged since the last call has been carried.
        *kill_pending_ = false;
        lead_kill_requests_ = lead.stats().kills;
        lead_resume_requests_ = lead.stats().resume_requests;
        lead_flatten_requests_ = lead.stats().flatten_requests;
        paused_ = paused;
    }

    [[nodiscard]] static bool killed(const core_loop& loop) noexcept {
        return loop.state() == risk::trading_state::killed;
    }

    /// Per loop: killed at the last follow().
    std::vector<std::uint8_t> killed_;
    std::size_t loops_ = 0;
    /// The lead's operator kill requests at the last follow().
    std::uint64_t lead_kill_requests_ = 0;
    /// The lead's operator resume requests at the last follow().
    std::uint64_t lead_resume_requests_ = 0;
    /// The lead's operator flatten requests at the last follow().
    std::uint64_t lead_flatten_requests_ = 0;
    /// The lead's manual pause at the last follow().
    bool paused_ = false;
    /// Set by a loop's kill, cleared by the next follow() (see the constructor). On the heap, so
    /// that the loops' pointer to it survives a move of the domain.
    std::unique_ptr<bool> kill_pending_;
};

} // namespace quoter::engine
