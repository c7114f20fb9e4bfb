// alert_dispatcher: delivers risk alerts to people (a generic JSON webhook, Telegram's Bot API
// sendMessage, a JSON-lines file) without ever blocking the core.
//
// The core's raise() only copies the alert into an SPSC ring (wait-free; a full ring drops and
// counts). A dispatcher thread drains the ring, drops repeats of the same alert within the
// de-duplication window, routes each alert to the targets whose minimum severity it reaches,
// applies each target's rate limit, and delivers with bounded retries and exponential backoff.
// Each target has one delivery in flight and a bounded queue, so a receiver that is down costs
// at most queue_limit alerts and never memory or time on the core.
//
// Secrets: Telegram's bot token and a webhook URL's path and query (which often embed a token)
// are never printed; describe() and every error message show them masked.
#pragma once

#include "quoter/config/secret.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/risk/alert.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace quoter::ops {

enum class alert_target_kind : std::uint8_t { webhook, telegram, file };
[[nodiscard]] std::string_view to_string(alert_target_kind kind) noexcept;

struct alert_target_settings {
    alert_target_kind kind = alert_target_kind::file;
    /// Alerts below this severity skip the target.
    risk::alert_severity min_severity = risk::alert_severity::warning;
    /// webhook: the full URL; telegram: the API origin ("https://api.telegram.org").
    std::string url;
    config::secret bot_token; ///< telegram only.
    std::string chat_id;      ///< telegram only.
    std::string path;         ///< file only: JSON lines appended.
};

struct alert_dispatcher_settings {
    std::vector<alert_target_settings> targets;
    /// Name of this engine in messages ("paper BTCUSDT").
    std::string instance = "quoter";
    /// The same alert (kind, reason, severity, symbol) within this window is sent once.
    std::chrono::milliseconds dedup_window_ms{60'000};
    /// Deliveries per target per minute; the rest are dropped and counted.
    std::uint32_t max_per_minute = 20;
    /// Attempts per delivery (the first one included).
    std::uint32_t max_attempts = 5;
    /// Backoff before the second attempt; doubles each time up to retry_max_ms.
    std::chrono::milliseconds retry_base_ms{500};
    std::chrono::milliseconds retry_max_ms{30'000};
    /// Connect + send + receive of one HTTP delivery.
    std::chrono::milliseconds request_timeout_ms{5'000};
    /// Deliveries waiting per target; the oldest is dropped beyond it.
    std::uint32_t queue_limit = 64;
    /// On shutdown, keep delivering what is queued for at most this long.
    std::chrono::milliseconds drain_timeout_ms{2'000};
    /// Extra CA (PEM) for https targets, e.g. a local test server's.
    std::string extra_ca_file;
};

/// An alert on its way from the raising thread to the dispatcher's thread, with the wall time it
/// was raised at. At namespace scope so that the ring can see it complete (a nested class's
/// member initialisers are not, inside its enclosing class).
struct handed_alert {
    risk::alert alert;
    std::int64_t wall_ns = 0;
};

/// Counters, written by the dispatcher thread (raised/dropped_full by the core).
struct alert_dispatcher_stats {
    std::uint64_t raised = 0;       ///< Alerts the core handed over.
    std::uint64_t dropped_full = 0; ///< Lost because the ring was full.
    std::uint64_t deduplicated = 0; ///< Repeats suppressed.
    std::uint64_t rate_limited = 0; ///< Deliveries dropped by a rate limit or a full queue.
    std::uint64_t attempts = 0;     ///< Delivery attempts, retries included.
    std::uint64_t delivered = 0;    ///< Deliveries that succeeded.
    std::uint64_t failed = 0;       ///< Deliveries given up after max_attempts or a 4xx.
};

class alert_dispatcher final : public risk::alert_sink {
public:
    static constexpr std::size_t ring_capacity = 256;

    /// Starts the dispatcher thread. Targets with an unusable setting (bad URL, empty chat id)
    /// are reported by check_alert_settings() before this is called.
    explicit alert_dispatcher(alert_dispatcher_settings settings);
    /// Stops the thread after at most drain_timeout_ms of delivering what is queued.
    ~alert_dispatcher();
    alert_dispatcher(const alert_dispatcher&) = delete;
    alert_dispatcher& operator=(const alert_dispatcher&) = delete;

    /// Core thread: wait-free hand-over.
    void raise(const risk::alert& a) noexcept override;

    [[nodiscard]] alert_dispatcher_stats stats() const noexcept;
    /// One masked line per target ("webhook https://hooks.example.com/**** >= warning").
    [[nodiscard]] std::vector<std::string> describe_targets() const;
    /// Waits until everything raised so far is delivered or given up; false on timeout.
    [[nodiscard]] bool wait_idle(std::chrono::milliseconds timeout) const;

    struct worker;

private:
    alert_dispatcher_settings settings_;
    core::spsc_ring<handed_alert, ring_capacity> ring_;
    std::atomic<std::uint64_t> raised_{0};
    std::atomic<std::uint64_t> dropped_full_{0};
    std::unique_ptr<worker> worker_;
    std::thread thread_;
};

/// Problems with alert settings, one message per problem (empty when usable): unparsable URL,
/// telegram without token or chat id, file without path.
[[nodiscard]] std::vector<std::string> check_alert_settings(const alert_dispatcher_settings& s);

/// scheme://host[:port] with any user info, path and query replaced by "/****": webhook URLs
/// carry their credentials there.
[[nodiscard]] std::string masked_url(std::string_view url);

/// The one-line human text of an alert ("critical kill reason=daily_loss value=..."), as sent
/// to Telegram and in the webhook's "text".
[[nodiscard]] std::string alert_text(const risk::alert& a, std::string_view instance,
                                     std::int64_t wall_ns);

} // namespace quoter::ops
