// Reading [ops], [http], [alerts] and [state]. Every key is declared once, with the struct's
// own default; docs/config.md lists them (the app tests compare).
#include "quoter/ops/ops_config.hpp"

#include <fmt/format.h>

#include <array>

namespace quoter::ops {
namespace {

constexpr std::array<config::choice_option<risk::alert_severity>, 3> severities{{
    {"info", risk::alert_severity::info},
    {"warning", risk::alert_severity::warning},
    {"critical", risk::alert_severity::critical},
}};

void read_ops(config::section s, ops_settings& out) {
    out.status_interval_ms =
        s.duration_ms("status_interval_ms", out.status_interval_ms, {.min = 10, .max = 60'000},
                      "The core publishes /status and the gauges this often");
    out.instance = s.string("instance", out.instance,
                            "Name of this engine in alerts; empty: \"<mode> <symbol>\"");
}

void read_http(config::section s, http_settings& out) {
    out.enabled = s.boolean("enabled", out.enabled,
                            "Serve /health, /ready, /status, /metrics and the POST controls");
    out.bind_address = s.string("bind_address", out.bind_address,
                                "IP address to listen on; a non-loopback one needs http_token");
    out.port =
        s.integer("port", out.port, {.min = 0, .max = 65535}, "TCP port; 0 picks a free one");
    out.max_connections =
        s.integer("max_connections", out.max_connections, {.min = 1, .max = 1'000'000},
                  "Connections served at once; more are closed on accept. Never more than half the "
                  "process's open-file limit (`ulimit -n`), so that connections cannot take the "
                  "descriptors the state file, the journal and the venue need");
    out.request_timeout_ms =
        s.duration_ms("request_timeout_ms", out.request_timeout_ms, {.min = 10, .max = 3'600'000},
                      "A connection must send a complete request within this long (idle "
                      "keep-alive included)");
    out.write_timeout_ms =
        s.duration_ms("write_timeout_ms", out.write_timeout_ms, {.min = 10, .max = 3'600'000},
                      "A response must be written within this long");
    out.max_header_bytes =
        s.integer("max_header_bytes", out.max_header_bytes, {.min = 512, .max = 1 << 20},
                  "Largest request head accepted; larger ones get 413");
    if (!is_ip_address(out.bind_address)) {
        s.error("bind_address", fmt::format("\"{}\" is not an IP address (use 127.0.0.1 or ::1)",
                                            out.bind_address));
    }
}

void read_alerts(config::section s, alerts_settings& out) {
    out.webhook_min_severity =
        s.choice("webhook_min_severity", out.webhook_min_severity, severities,
                 "Alerts at or above this severity go to the webhook (alerts_webhook_url)");
    out.telegram_api_url = s.string("telegram_api_url", out.telegram_api_url,
                                    "Telegram Bot API origin (a local server in tests)");
    out.telegram_chat_id = s.string("telegram_chat_id", out.telegram_chat_id,
                                    "Telegram chat to send alerts to; empty: no Telegram");
    out.telegram_min_severity =
        s.choice("telegram_min_severity", out.telegram_min_severity, severities,
                 "Alerts at or above this severity go to Telegram");
    out.telegram_command_chat_ids = s.string_list(
        "telegram_command_chat_ids", out.telegram_command_chat_ids,
        "Chat ids whose /status, /kill, /pause and /resume are obeyed (getUpdates long "
        "polling); empty: Telegram commands off");
    out.telegram_poll_timeout_s =
        s.integer("telegram_poll_timeout_s", out.telegram_poll_timeout_s, {.min = 0, .max = 50},
                  "getUpdates long-poll timeout, seconds");
    out.file = s.output_path("file", "JSON-lines file alerts are appended to, relative to this "
                                     "file; empty: none");
    out.file_min_severity = s.choice("file_min_severity", out.file_min_severity, severities,
                                     "Alerts at or above this severity go to the file");
    auto& d = out.dispatch;
    d.dedup_window_ms =
        s.duration_ms("dedup_window_ms", d.dedup_window_ms, {.min = 0, .max = 86'400'000},
                      "The same alert within this window is sent once");
    d.max_per_minute = s.integer("max_per_minute", d.max_per_minute, {.min = 1, .max = 10'000},
                                 "Deliveries per destination per minute; more are dropped");
    d.max_attempts = s.integer("max_attempts", d.max_attempts, {.min = 1, .max = 100},
                               "Attempts per delivery, the first included");
    d.retry_base_ms = s.duration_ms("retry_base_ms", d.retry_base_ms, {.min = 1, .max = 600'000},
                                    "Wait before the first retry; doubles each retry");
    d.retry_max_ms = s.duration_ms("retry_max_ms", d.retry_max_ms, {.min = 1, .max = 3'600'000},
                                   "Longest wait between two attempts");
    d.request_timeout_ms =
        s.duration_ms("request_timeout_ms", d.request_timeout_ms, {.min = 10, .max = 600'000},
                      "Connect, send and receive of one HTTP delivery");
    d.queue_limit = s.integer("queue_limit", d.queue_limit, {.min = 1, .max = 100'000},
                              "Deliveries waiting per destination; the oldest is dropped beyond");
    d.extra_ca_file =
        s.file_path("extra_ca_file", "Extra CA certificate (PEM) trusted for https destinations; "
                                     "relative to this file");
    if (d.retry_max_ms < d.retry_base_ms) {
        s.error("retry_max_ms",
                fmt::format("must be at least retry_base_ms ({})", d.retry_base_ms.count()));
    }
}

void read_state(config::section s, state_settings& out) {
    out.directory =
        s.output_path("directory", "Directory of the state file and the single-instance lock, "
                                   "relative to this file; empty: no state file, no lock (nothing "
                                   "survives a restart: kill latch, day's loss, equity peak, rate "
                                   "windows)");
    out.account = s.string("account", out.account,
                           "Account label naming the lock and state files ([A-Za-z0-9._-])");
    out.save_interval_ms =
        s.duration_ms("save_interval_ms", out.save_interval_ms, {.min = 10, .max = 3'600'000},
                      "The state file is saved at most this often");
    const bool plain = !out.account.empty() && out.account.find_first_not_of(
                                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
                                                   "PQRSTUVWXYZ0123456789._-") == std::string::npos;
    if (!plain) {
        s.error("account", "must be non-empty and hold only letters, digits, '.', '_' and '-'");
    }
}

} // namespace

alert_dispatcher_settings alerts_settings::dispatcher_settings(std::string instance) const {
    alert_dispatcher_settings out = dispatch;
    out.instance = std::move(instance);
    out.targets.clear();
    if (!webhook_url.empty()) {
        alert_target_settings t;
        t.kind = alert_target_kind::webhook;
        t.min_severity = webhook_min_severity;
        t.url = std::string(webhook_url.reveal());
        out.targets.push_back(std::move(t));
    }
    if (!telegram_chat_id.empty()) {
        alert_target_settings t;
        t.kind = alert_target_kind::telegram;
        t.min_severity = telegram_min_severity;
        t.url = telegram_api_url;
        t.bot_token = telegram_bot_token;
        t.chat_id = telegram_chat_id;
        out.targets.push_back(std::move(t));
    }
    if (!file.empty()) {
        alert_target_settings t;
        t.kind = alert_target_kind::file;
        t.min_severity = file_min_severity;
        t.path = file;
        out.targets.push_back(std::move(t));
    }
    return out;
}

void read_ops_sections(config::document& doc, ops_settings& out) {
    read_ops(doc.section("ops"), out);
    read_http(doc.section("http"), out.http);
    read_alerts(doc.section("alerts"), out.alerts);
    read_state(doc.section("state"), out.state);
    out.http_token = doc.read_secret("http_token", "Bearer token for POST /kill, /pause, "
                                                   "/resume and /flatten");
    out.alerts.webhook_url = doc.read_secret(
        "alerts_webhook_url", "Webhook URL alerts are POSTed to as JSON; empty: none");
    out.alerts.telegram_bot_token =
        doc.read_secret("telegram_bot_token", "Telegram Bot API token for alert messages");

    if (out.http.enabled && !is_loopback_address(out.http.bind_address) && out.http_token.empty()) {
        doc.section("http").error(
            "bind_address",
            fmt::format("{} is not a loopback address: serving it without a token would expose "
                        "/kill to the network; set QUOTER_HTTP_TOKEN (or http_token in the "
                        "secrets file), or bind 127.0.0.1",
                        out.http.bind_address));
    }
    if (!out.alerts.telegram_command_chat_ids.empty() && out.alerts.telegram_bot_token.empty()) {
        doc.section("alerts").error("telegram_command_chat_ids",
                                    "Telegram commands need QUOTER_TELEGRAM_BOT_TOKEN (or "
                                    "telegram_bot_token in the secrets file)");
    }
    if (!out.alerts.telegram_chat_id.empty() && out.alerts.telegram_bot_token.empty()) {
        doc.section("alerts").error("telegram_chat_id",
                                    "Telegram alerts need QUOTER_TELEGRAM_BOT_TOKEN (or "
                                    "telegram_bot_token in the secrets file)");
    }
    for (const std::string& problem :
         check_alert_settings(out.alerts.dispatcher_settings("check"))) {
        if (problem.find("webhook") != std::string::npos) {
            doc.section("alerts").error("webhook_min_severity",
                                        problem + " (secret alerts_webhook_url)");
        } else if (problem.find("API URL") != std::string::npos) {
            doc.section("alerts").error("telegram_api_url", problem);
        }
    }
}

} // namespace quoter::ops
