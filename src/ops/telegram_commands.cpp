// Telegram commands: getUpdates long polling on a thread of its own, commands to the control
// channel, /status answered from the status board.
#include "quoter/ops/telegram_commands.hpp"
#include "quoter/core/clock.hpp"

#include "quoter/core/quoted_string.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"
#include "quoter/net/url.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>

namespace quoter::ops {

telegram_command parse_telegram_command(std::string_view text) noexcept {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    if (text.empty() || text.front() != '/') {
        return telegram_command::none;
    }
    text.remove_prefix(1);
    // The command word ends at a space; "/kill@quoter_bot" names the bot it is for.
    std::size_t end = 0;
    while (end < text.size() && text[end] != '@' &&
           std::isspace(static_cast<unsigned char>(text[end])) == 0) {
        ++end;
    }
    std::string word(text.substr(0, end));
    for (char& c : word) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (word == "status") {
        return telegram_command::status;
    }
    if (word == "kill") {
        return telegram_command::kill;
    }
    if (word == "pause") {
        return telegram_command::pause;
    }
    if (word == "resume") {
        return telegram_command::resume;
    }
    return telegram_command::unknown;
}

std::string telegram_status_text(const status_snapshot& s) {
    std::string text = fmt::format("{} {}: {}", s.symbol.view(), s.mode.view(), to_string(s.state));
    if (!s.halt_reason.view().empty()) {
        text += fmt::format(" ({})", s.halt_reason.view());
    }
    text += fmt::format("\nmid {:.8g}, spread {:.3g} bps, book {}", s.mid, s.spread_bps,
                        s.book_synced ? "synced" : "not synced");
    text += fmt::format("\ninventory {:.8g}, PnL {:.2f} (realized {:.2f})", s.inventory_base,
                        s.pnl_total_quote, s.pnl_realized_quote);
    text += fmt::format("\nworking orders {}, orders sent {}, fills {}", s.working_orders,
                        s.orders_sent, s.fills);
    if (s.round_trip_p50_ns > 0) {
        text += fmt::format("\norder round trip p50 {:.3f} ms, p99 {:.3f} ms",
                            static_cast<double>(s.round_trip_p50_ns) / 1e6,
                            static_cast<double>(s.round_trip_p99_ns) / 1e6);
    }
    // A session of several symbols: one line each (the first's details are above).
    const std::size_t count = s.listed_symbols();
    for (std::size_t i = 0; count > 1 && i < count; ++i) {
        const symbol_status& symbol = s.symbols[i];
        text += fmt::format("\n{}: {}", symbol.symbol.view(), to_string(symbol.state));
        if (!symbol.halt_reason.view().empty()) {
            text += fmt::format(" ({})", symbol.halt_reason.view());
        }
        text += fmt::format(", inventory {:.8g}, PnL {:.2f}, fills {}", symbol.inventory_base,
                            symbol.pnl_total_quote, symbol.fills);
    }
    return text;
}

struct telegram_commands::worker {
    telegram_command_settings settings;
    control_channel& control;
    const status_board& status;

    std::atomic<std::uint64_t> polls{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> refused{0};
    std::atomic<std::uint64_t> stale{0};
    std::atomic<std::uint64_t> replies{0};
    /// Unix time (s) the commands were first polled for: older messages are a backlog.
    std::int64_t started_unix_s = 0;

    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false; // guarded by mutex
    std::thread thread;

    std::string base_url;    // scheme://host:port
    std::string path_prefix; // the API URL's path without a trailing '/'

    worker(telegram_command_settings s, control_channel& c, const status_board& b)
        : settings(std::move(s)), control(c), status(b) {}

    [[nodiscard]] bool stop_requested() {
        const std::lock_guard<std::mutex> lock(mutex);
        return stopping;
    }

    [[nodiscard]] std::string method_target(std::string_view method) const {
        return fmt::format("{}/bot{}/{}", path_prefix, settings.bot_token.reveal(), method);
    }

    [[nodiscard]] bool allowed(std::int64_t chat) const {
        const std::string id = std::to_string(chat);
        return std::find(settings.allowed_chat_ids.begin(), settings.allowed_chat_ids.end(), id) !=
               settings.allowed_chat_ids.end();
    }

    /// Runs the loop until done is set or a stop is asked for.
    void run_until(net::io_loop& loop, const bool& done) {
        while (!done && !stop_requested()) {
            loop.run_for(std::chrono::milliseconds(100));
            if (loop.stopped()) {
                loop.restart();
            }
        }
    }

    void reply(net::io_loop& loop, net::rest_client& client, std::int64_t chat,
               const std::string& text) {
        net::rest_request request;
        request.method = net::http_method::post;
        request.target = method_target("sendMessage");
        request.content_type = "application/json";
        request.body =
            fmt::format("{{\"chat_id\":{},\"disable_web_page_preview\":true,\"text\":", chat);
        core::append_quoted(request.body, text);
        request.body += '}';
        bool done = false;
        client.send(std::move(request), [&](net::rest_response&& response) {
            if (response.error == net::rest_error::none && response.status == 200) {
                replies.fetch_add(1, std::memory_order_relaxed);
            }
            done = true;
        });
        run_until(loop, done);
    }

    /// Acts on one message; returns the answer ("" for none).
    std::string act(telegram_command command) {
        switch (command) {
        case telegram_command::status:
            return telegram_status_text(status.read());
        case telegram_command::kill:
            control.request_kill(command_source::telegram);
            return "kill requested: every order is being cancelled";
        case telegram_command::pause:
        case telegram_command::resume: {
            const bool pause = command == telegram_command::pause;
            if (!control.post({.command = pause ? control_command::pause : control_command::resume,
                               .source = command_source::telegram,
                               .wall_time = core::wall_clock{}.now()})) {
                return "control queue full; try again";
            }
            return pause ? "pause requested" : "resume requested";
        }
        case telegram_command::unknown:
            return "commands: /status /kill /pause /resume";
        case telegram_command::none:
            break;
        }
        return {};
    }

    void run() {
        net::io_loop loop;
        net::rest_config config;
        config.base_url = base_url;
        config.max_connections = 2;
        // The server holds a long poll for poll_timeout when nothing happens.
        config.request_timeout_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(settings.poll_timeout).count() +
            10'000;
        config.max_body_bytes = 1 << 20;
        net::rest_client client(loop, std::move(config));
        simdjson::dom::parser parser;
        std::int64_t offset = 0;
        while (!stop_requested()) {
            std::string target =
                fmt::format("{}?timeout={}&allowed_updates=%5B%22message%22%5D",
                            method_target("getUpdates"), settings.poll_timeout.count());
            if (offset != 0) {
                target += fmt::format("&offset={}", offset);
            }
            bool done = false;
            net::rest_response answer;
            client.get(std::move(target), [&](net::rest_response&& response) {
                answer = std::move(response);
                done = true;
            });
            run_until(loop, done);
            if (!done) {
                break; // stopping
            }
            struct command_message {
                std::int64_t chat = 0;
                telegram_command command = telegram_command::none;
                /// Sent before this session started (Bot API dates are Unix seconds).
                bool before_start = false;
            };
            std::vector<command_message> messages;
            bool ok = answer.error == net::rest_error::none && answer.status == 200;
            if (ok) {
                simdjson::dom::element doc;
                simdjson::dom::array updates;
                ok = parser.parse(answer.body).get(doc) == simdjson::SUCCESS &&
                     doc["result"].get_array().get(updates) == simdjson::SUCCESS;
                if (ok) {
                    for (const simdjson::dom::element update : updates) {
                        std::int64_t id = 0;
                        if (update["update_id"].get_int64().get(id) != simdjson::SUCCESS) {
                            continue;
                        }
                        // Confirmed by the next poll's offset, so each update is seen once.
                        offset = std::max(offset, id + 1);
                        std::int64_t chat = 0;
                        std::string_view text;
                        simdjson::dom::element message;
                        if (update["message"].get(message) != simdjson::SUCCESS ||
                            message["chat"]["id"].get_int64().get(chat) != simdjson::SUCCESS ||
                            message["text"].get_string().get(text) != simdjson::SUCCESS) {
                            continue;
                        }
                        std::int64_t date = 0;
                        const bool before_start =
                            message["date"].get_int64().get(date) == simdjson::SUCCESS &&
                            date < started_unix_s;
                        messages.push_back({chat, parse_telegram_command(text), before_start});
                    }
                }
            }
            if (!ok) {
                failures.fetch_add(1, std::memory_order_relaxed);
                std::unique_lock<std::mutex> lock(mutex);
                wake.wait_for(lock, settings.retry_interval, [this] { return stopping; });
                continue;
            }
            polls.fetch_add(1, std::memory_order_relaxed);
            for (const command_message& m : messages) {
                if (m.command == telegram_command::none) {
                    continue;
                }
                if (!allowed(m.chat)) {
                    refused.fetch_add(1, std::memory_order_relaxed);
                    continue; // no answer: a stranger learns nothing
                }
                if (m.before_start) {
                    // Sent while no session ran: a /resume of yesterday must not lift today's
                    // kill. The sender learns so and can send it again.
                    stale.fetch_add(1, std::memory_order_relaxed);
                    reply(loop, client, m.chat,
                          "not done: sent before this session started; send it again");
                    continue;
                }
                accepted.fetch_add(1, std::memory_order_relaxed);
                const std::string text = act(m.command);
                if (!text.empty()) {
                    reply(loop, client, m.chat, text);
                }
            }
        }
    }
};

telegram_commands::telegram_commands(telegram_command_settings settings, control_channel& control,
                                     const status_board& status)
    : worker_(std::make_unique<worker>(std::move(settings), control, status)) {}

telegram_commands::~telegram_commands() {
    stop();
}

std::string telegram_commands::start() {
    worker& w = *worker_;
    if (w.thread.joinable()) {
        return {};
    }
    const auto parsed = net::parse_url(w.settings.api_url);
    if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
        return fmt::format("telegram API URL {} is not an http(s) URL", w.settings.api_url);
    }
    if (w.settings.bot_token.empty()) {
        return "telegram commands need a bot token (QUOTER_TELEGRAM_BOT_TOKEN or "
               "telegram_bot_token in the secrets file)";
    }
    w.base_url = parsed->host.find(':') != std::string::npos
                     ? fmt::format("{}://[{}]:{}", parsed->scheme, parsed->host, parsed->port)
                     : fmt::format("{}://{}", parsed->scheme, parsed->host_header());
    w.path_prefix = parsed->path;
    while (!w.path_prefix.empty() && w.path_prefix.back() == '/') {
        w.path_prefix.pop_back();
    }
    w.started_unix_s = static_cast<std::int64_t>(std::time(nullptr));
    w.thread = std::thread([&w] { w.run(); });
    return {};
}

void telegram_commands::stop() {
    worker& w = *worker_;
    {
        const std::lock_guard<std::mutex> lock(w.mutex);
        w.stopping = true;
    }
    // The thread sees the flag within one run_for slice (100 ms), long poll or not; the
    // request in flight is dropped with the client.
    w.wake.notify_all();
    if (w.thread.joinable()) {
        w.thread.join();
    }
}

telegram_command_stats telegram_commands::stats() const noexcept {
    const worker& w = *worker_;
    return {.polls = w.polls.load(std::memory_order_relaxed),
            .failures = w.failures.load(std::memory_order_relaxed),
            .accepted = w.accepted.load(std::memory_order_relaxed),
            .refused = w.refused.load(std::memory_order_relaxed),
            .stale = w.stale.load(std::memory_order_relaxed),
            .replies = w.replies.load(std::memory_order_relaxed)};
}

} // namespace quoter::ops
