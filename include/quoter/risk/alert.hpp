// Alerts: what the risk layer tells a human about (kills, pauses, post-trade alarms), as a small
// POD handed to an injected alert_sink. The sink decides where alerts go (stderr, the journal, a
// pager); the risk layer only describes them.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/risk/reasons.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::risk {

enum class alert_kind : std::uint8_t {
    kill,            ///< The kill switch engaged (reason says why).
    pause,           ///< Trading paused.
    resume,          ///< Trading resumed, by command or by itself.
    resume_refused,  ///< A resume was refused because its cause persists.
    flatten_gave_up, ///< value: position left (base asset), threshold: flatten_max_attempts.
    cancel_gave_up,  ///< value: orders no longer cancelled, threshold: max_cancel_attempts.
    low_fill_ratio,  ///< value: fills per new order in %, threshold: min_fill_ratio_pct.
    high_cancel_trade_ratio, ///< value: cancels per fill, threshold: max_cancel_trade_ratio.
    one_sided_losses,        ///< value: losing streak length, threshold: the streak limit.
    slippage,                ///< value: adverse slippage in ticks.
    delayed_fill,            ///< value: fill delay in ms.
    venue_ban,               ///< The venue banned the client (418). value: bans so far.
    reconcile_gave_up,       ///< value: reconciliations given up, threshold: their retry limit.
    logon_failed,            ///< The venue refused the session's logon (Ed25519). value: failures.
    /// Order reports the gateway could not hand to the core (the core stopped polling past
    /// every buffer): the position may be wrong. value: reports lost so far.
    reports_lost,
    /// The state file could not be written (the log says why; tried again every save
    /// interval): a restart now would restore an older state, without what changed since (a
    /// kill among it). value: failed saves so far.
    state_not_saved,
    /// A graceful stop ended before the venue confirmed its cancels (or a flatten order's
    /// outcome came): orders of this instance may still rest. value: orders still tracked as
    /// working, threshold: the stop's wait in ms.
    stop_unconfirmed,
};
/// Number of alert kinds (fixed per-kind tables).
inline constexpr std::size_t alert_kind_count =
    static_cast<std::size_t>(alert_kind::stop_unconfirmed) + 1;

enum class alert_severity : std::uint8_t { info, warning, critical };

[[nodiscard]] std::string_view to_string(alert_kind kind) noexcept;
[[nodiscard]] std::string_view to_string(alert_severity severity) noexcept;

struct alert {
    core::timestamp_ns time = 0;
    alert_kind kind = alert_kind::kill;
    alert_severity severity = alert_severity::info;
    halt_reason reason = halt_reason::none; ///< For kill/pause/resume alerts.
    std::uint16_t symbol_id = 0; ///< The symbol concerned (a core loop names the one it trades).
    double value = 0.0;          ///< Measured value (unit depends on kind).
    double threshold = 0.0;      ///< Configured threshold it was compared with.
};

/// Receives alerts. Called on the core thread; implementations must not block for long (hand
/// slow delivery to another thread).
class alert_sink {
public:
    virtual void raise(const alert& a) noexcept = 0;

protected:
    alert_sink() = default;
    alert_sink(const alert_sink&) = default;
    alert_sink& operator=(const alert_sink&) = default;
    ~alert_sink() = default;
};

/// An alert_sink that drops everything (tests, tools).
class null_alert_sink final : public alert_sink {
public:
    void raise(const alert& /*a*/) noexcept override {}
};

} // namespace quoter::risk
