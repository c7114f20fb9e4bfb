// live_feed: the market-data side of a session on a live feed, shared by paper and live trading:
// the md -> core SPSC ring, the wake-up a blocked core sleeps on, live::market_data_service (the
// md thread) started, the traded instrument looked up, and the core thread's drain of the ring
// into the core loop with each tick's per-hop stamps (socket read ... popped ... order). A session
// whose core feeds a simulated exchange asks for depth: valid books' top-K levels then come
// through a second ring, each record just ahead of its event and only when the levels below the
// top changed (md::depth_receiver rebuilds the others, see md/depth_handoff.hpp); a live session
// does not, and its md thread writes none.
//
// Threading: start() on the thread that becomes the core thread; drain(), idle() and view() on
// it afterwards; stop() joins the md thread.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/session_services.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/md/depth_handoff.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace quoter::engine {

class live_feed {
public:
    /// Starts the md thread on config (its wakeup and depth ring are set here: the wakeup for
    /// the block policy, the depth ring when with_depth, for a simulated exchange) and finds
    /// symbol among the subscribed instruments. The error reads "market data: ...".
    [[nodiscard]] static core::result<std::unique_ptr<live_feed>, std::string>
    start(const live::service_config& config, core::idle_policy idle, std::uint32_t symbol,
          bool with_depth = false);

    ~live_feed();
    live_feed(const live_feed&) = delete;
    live_feed& operator=(const live_feed&) = delete;

    /// The traded symbol's instrument (from exchangeInfo).
    [[nodiscard]] const md::instrument& instrument() const noexcept;
    [[nodiscard]] const live::market_data_service& service() const noexcept { return service_; }

    /// Hands every waiting event to loop at now() (steady, or wall: the session's clock), each
    /// stamped through its hops; the finished tick goes to ticks and to services (the
    /// tick-to-order histogram). Returns whether any event was there. Core thread.
    template <class Now>
    bool drain(core_loop& loop, core::tick_latency& ticks, session_services& services, Now now) {
        return drain(
            loop, now, [] {},
            [&](const core::tick_stamps& stamps) {
                ticks.record(stamps);
                services.on_tick(stamps);
            });
    }

    /// As above, with the caller deciding where a tick goes: started() runs before the loop
    /// takes an event, finished(stamps) after (a live session holds a tick that sent an order
    /// until its bytes are written).
    template <class Now, class Started, class Finished>
    bool drain(core_loop& loop, Now now, Started&& started, Finished&& finished) {
        return drain_routed(
            [&](const md::md_event&) {
                started();
                return &loop;
            },
            now, [&](core_loop*, const core::tick_stamps& stamps) { finished(stamps); });
    }

    /// As above for several loops on one core thread: loop_of(event) gives the loop that takes
    /// the event (nullptr: none, the event is only consumed) and runs just before it does;
    /// finished(loop, stamps) runs after.
    template <class LoopOf, class Now, class Finished>
    bool drain_routed(LoopOf&& loop_of, Now now, Finished&& finished) {
        bool any = false;
        const core::tsc_clock& clock = core::tsc_clock::process();
        // Read in place: the slot stays the core's until pop().
        while (const md::md_event* event = ring_->front()) {
            any = true;
            core::tick_stamps stamps;
            stamps[core::tick_point::kernel_rx] = event->kernel_ns;
            stamps[core::tick_point::received] = event->received_ns;
            stamps[core::tick_point::socket_read] = event->read_ns;
            stamps[core::tick_point::decoded] = event->decoded_ns;
            stamps[core::tick_point::pushed] = event->pushed_ns;
            stamps[core::tick_point::popped] = clock.now();
            if (event->symbol == symbol_ && event->kind == md::md_event_kind::book &&
                event->update_id != 0) {
                last_update_id_ = event->update_id;
            }
            // Taken for every event, routed or not, so that the receiver stays in step with the
            // md thread's sender (only a session that asked for depth gets events with depth).
            const md::md_depth* depth =
                depth_ != nullptr ? depth_receiver_.take(*event, *depth_) : nullptr;
            core_loop* loop = loop_of(*event);
            if (loop != nullptr) {
                loop->set_tick_stamps(&stamps);
                loop->on_event(*event, depth, now());
                loop->set_tick_stamps(nullptr);
            }
            ring_->pop();
            finished(loop, stamps);
        }
        return any;
    }

    /// Waits by the idle policy until an event is there or max_block_ns passed. Core thread.
    void idle(std::int64_t max_block_ns);
    /// The feed's counters and the traded symbol's last book update id. Core thread.
    [[nodiscard]] feed_view view() const noexcept;
    /// Stops the md thread. Idempotent.
    void stop();

private:
    live_feed(const live::service_config& config, core::idle_policy idle, std::uint32_t symbol,
              bool with_depth);

    std::unique_ptr<live::md_ring> ring_;
    /// Depth records of valid books' events, when the session asked for them; else null.
    std::unique_ptr<live::md_depth_ring> depth_;
    /// The depth of the events read from depth_ (changed ones come with a record).
    md::depth_receiver depth_receiver_;
    std::unique_ptr<core::wakeup> wakeup_;
    live::market_data_service service_;
    core::idle_waiter waiter_;
    std::uint32_t symbol_;
    std::uint64_t last_update_id_ = 0;
};

/// The services of a session on a live feed (paper_session_config and live_session_config name
/// these fields alike): its [ops] sections, mode name, journal and log.
template <class Session>
[[nodiscard]] session_services_config services_config_of(const Session& config) {
    return {.ops = config.ops,
            .mode_name = config.mode_name,
            .state_session = {}, // the mode name; a live session names its venue
            .journal_path = config.engine.journal_path,
            .journal_flush_interval_ms = config.engine.journal_flush_interval_ms,
            .log = config.log,
            .alerts_to_stderr = true};
}

/// Pins the calling thread to cpu when cpu >= 0; the error says why not.
[[nodiscard]] std::string pin_core_thread(int cpu);

} // namespace quoter::engine
