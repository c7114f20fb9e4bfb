// telegram_commands: operator commands from Telegram. A thread long-polls the Bot API's
// getUpdates and hands /kill, /pause and /resume to the control channel (source `telegram`,
// journaled by the core like any other command) and answers /status from the status board.
// Only messages from the configured chat ids are obeyed; others are counted and ignored, and
// get no answer.
//
// Threading: start() runs its own thread with its own I/O loop (never the core's); stop() or
// the destructor ends it, cancelling a long poll in flight. stats() may be read from any thread.
#pragma once

#include "quoter/config/secret.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/status.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::ops {

struct telegram_command_settings {
    /// Bot API origin ("https://api.telegram.org"; a local server in tests).
    std::string api_url = "https://api.telegram.org";
    config::secret bot_token;
    /// Chat ids whose commands are obeyed (decimal, as Telegram gives them; groups are
    /// negative). Empty: nobody's.
    std::vector<std::string> allowed_chat_ids;
    /// getUpdates long-poll timeout (the server holds the request this long when idle).
    std::chrono::seconds poll_timeout{25};
    /// Wait after a failed poll before the next.
    std::chrono::milliseconds retry_interval{2'000};
};

struct telegram_command_stats {
    std::uint64_t polls = 0;    ///< getUpdates answered with 200.
    std::uint64_t failures = 0; ///< getUpdates failed (transport, status, bad JSON).
    std::uint64_t accepted = 0; ///< Commands from an allowed chat that were acted on.
    std::uint64_t refused = 0;  ///< Messages from a chat that is not allowed.
    /// Commands from an allowed chat sent before this session started (a backlog the Bot API
    /// kept while nothing polled): answered, not acted on.
    std::uint64_t stale = 0;
    std::uint64_t replies = 0; ///< sendMessage requests answered with 200.
};

/// The command a message text names ("/kill", "/kill@some_bot", " /Pause now"), if any.
enum class telegram_command : std::uint8_t { none, status, kill, pause, resume, unknown };
[[nodiscard]] telegram_command parse_telegram_command(std::string_view text) noexcept;

/// The /status answer: one short line per field, from a snapshot.
[[nodiscard]] std::string telegram_status_text(const status_snapshot& status);

class telegram_commands {
public:
    /// control and status must outlive this object.
    telegram_commands(telegram_command_settings settings, control_channel& control,
                      const status_board& status);
    ~telegram_commands();
    telegram_commands(const telegram_commands&) = delete;
    telegram_commands& operator=(const telegram_commands&) = delete;

    /// Starts the polling thread; returns "" or why it cannot (bad URL, no token).
    [[nodiscard]] std::string start();
    /// Stops the thread (idempotent).
    void stop();
    [[nodiscard]] telegram_command_stats stats() const noexcept;

private:
    struct worker;
    std::unique_ptr<worker> worker_;
};

} // namespace quoter::ops
