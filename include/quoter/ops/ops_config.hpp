// ops_config: the operations settings ([ops], [http], [alerts], [state]) and their reader. The
// app composes them into its configuration; this module owns the keys and their defaults.
#pragma once

#include "quoter/config/config.hpp"
#include "quoter/config/secret.hpp"
#include "quoter/ops/alert_dispatcher.hpp"
#include "quoter/ops/http_server.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace quoter::ops {

/// [state]: the crash-surviving state file and the single-instance lock.
struct state_settings {
    /// Directory of the state file and the lock file; empty: neither is used.
    std::string directory;
    /// Account label that names the lock and state files (not a credential).
    std::string account = "default";
    /// Save at most this often while the state changes, and at least this often otherwise.
    std::chrono::milliseconds save_interval_ms{1'000};
};

/// [alerts]: where alerts go besides stderr and the journal.
struct alerts_settings {
    risk::alert_severity webhook_min_severity = risk::alert_severity::warning;
    std::string telegram_api_url = "https://api.telegram.org";
    std::string telegram_chat_id;
    risk::alert_severity telegram_min_severity = risk::alert_severity::critical;
    /// Chats whose Telegram commands are obeyed; empty: commands are not read.
    std::vector<std::string> telegram_command_chat_ids;
    /// getUpdates long-poll timeout, seconds.
    std::int64_t telegram_poll_timeout_s = 25;
    std::string file;
    risk::alert_severity file_min_severity = risk::alert_severity::info;
    /// Delivery behaviour (targets are filled from the keys above and the secrets).
    alert_dispatcher_settings dispatch;
    config::secret webhook_url;        ///< Secret: its path often embeds a token.
    config::secret telegram_bot_token; ///< Secret.

    /// The dispatcher settings with one target per configured destination.
    [[nodiscard]] alert_dispatcher_settings dispatcher_settings(std::string instance) const;
    /// True when at least one destination is configured.
    [[nodiscard]] bool any_target() const noexcept {
        return !webhook_url.empty() || !telegram_chat_id.empty() || !file.empty();
    }
};

/// [ops] plus the three sections above.
struct ops_settings {
    /// How often the core publishes /status and refreshes gauges.
    std::chrono::milliseconds status_interval_ms{250};
    /// Name of this engine in alerts; empty: "<mode> <symbol>".
    std::string instance;
    http_settings http;
    config::secret http_token; ///< Secret: bearer token for POST requests.
    alerts_settings alerts;
    state_settings state;
};

/// Declares and reads the four sections and the secrets http_token, alerts_webhook_url and
/// telegram_bot_token; cross-key problems are reported on the document.
void read_ops_sections(config::document& doc, ops_settings& out);

} // namespace quoter::ops
