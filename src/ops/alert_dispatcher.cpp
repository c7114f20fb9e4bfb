// alert_dispatcher: the dispatcher thread runs a net::io_loop with one rest_client per HTTP
// target; every delivery decision (de-duplication, routing, rate limits, retries) happens on
// that thread, so none of it needs a lock. The core only pushes into the ring.
//
// Invariants: a target has at most one delivery in flight and at most queue_limit waiting; a
// delivery is attempted at most max_attempts times; the thread never waits on the network
// longer than one loop slice (10 ms), so stopping is prompt.
#include "quoter/ops/alert_dispatcher.hpp"
#include "quoter/core/clock.hpp"

#include "quoter/core/quoted_string.hpp"
#include "quoter/core/utc_time.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"
#include "quoter/net/url.hpp"
#include "quoter/ops/control.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

namespace quoter::ops {

std::string_view to_string(alert_target_kind kind) noexcept {
    switch (kind) {
    case alert_target_kind::webhook:
        return "webhook";
    case alert_target_kind::telegram:
        return "telegram";
    case alert_target_kind::file:
        return "file";
    }
    return "unknown";
}

std::string masked_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return "****";
    }
    std::string_view rest = url.substr(scheme_end + 3);
    const auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1); // user:password@ is a credential too
    }
    std::string out = fmt::format("{}://{}", url.substr(0, scheme_end), authority);
    if (authority_end != std::string_view::npos && rest.substr(authority_end) != "/") {
        out += "/****";
    }
    return out;
}

std::string alert_text(const risk::alert& a, std::string_view instance, std::int64_t wall_ns) {
    std::string text =
        fmt::format("[{}] {} {}", instance, risk::to_string(a.severity), risk::to_string(a.kind));
    if (a.reason != risk::halt_reason::none) {
        text += fmt::format(" reason={}", risk::to_string(a.reason));
    }
    if (a.value != 0.0 || a.threshold != 0.0) {
        text += fmt::format(" value={:g} threshold={:g}", a.value, a.threshold);
    }
    text += fmt::format(" at {}", core::format_utc(wall_ns, core::utc_precision::millis).view());
    return text;
}

std::vector<std::string> check_alert_settings(const alert_dispatcher_settings& s) {
    std::vector<std::string> problems;
    for (const auto& t : s.targets) {
        switch (t.kind) {
        case alert_target_kind::webhook:
            if (const auto parsed = net::parse_url(t.url);
                !parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
                problems.push_back(
                    fmt::format("alerts webhook URL {} is not an http(s) URL", masked_url(t.url)));
            }
            break;
        case alert_target_kind::telegram:
            if (const auto parsed = net::parse_url(t.url);
                !parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
                problems.push_back(fmt::format("alerts telegram API URL {} is not an http(s) URL",
                                               masked_url(t.url)));
            }
            if (t.bot_token.empty()) {
                problems.push_back("alerts telegram needs a bot token (QUOTER_TELEGRAM_BOT_TOKEN "
                                   "or telegram_bot_token in the secrets file)");
            }
            if (t.chat_id.empty()) {
                problems.push_back("alerts telegram needs a chat id");
            }
            break;
        case alert_target_kind::file:
            if (t.path.empty()) {
                problems.push_back("alerts file target needs a path");
            }
            break;
        }
    }
    return problems;
}

namespace {

enum class outcome : std::uint8_t { delivered, retry, give_up };

struct delivery {
    risk::alert alert;
    std::int64_t wall_ns = 0;
    std::uint32_t attempts = 0;
    std::chrono::steady_clock::time_point due{};
};

struct target_state {
    alert_target_settings settings;
    std::unique_ptr<net::rest_client> client; // HTTP targets
    std::string request_target;               // path + query (webhook) or /bot<token>/...
    std::deque<delivery> queue;
    bool in_flight = false;
    std::deque<std::chrono::steady_clock::time_point> recent_sends; // for the rate limit
};

} // namespace

struct alert_dispatcher::worker {
    const alert_dispatcher_settings& settings;
    net::io_loop loop;
    std::vector<target_state> targets;
    std::map<std::tuple<int, int, int, int>, std::chrono::steady_clock::time_point> last_seen;

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> taken{0}; // alerts popped from the ring and routed
    std::atomic<std::uint64_t> busy{0};  // deliveries queued or in flight
    std::atomic<std::uint64_t> deduplicated{0};
    std::atomic<std::uint64_t> rate_limited{0};
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failed{0};

    explicit worker(const alert_dispatcher_settings& s) : settings(s) {}

    static void bump(std::atomic<std::uint64_t>& a, std::int64_t n = 1) {
        a.store(a.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(n),
                std::memory_order_release);
    }

    void set_up() {
        for (const auto& t : settings.targets) {
            target_state state;
            state.settings = t;
            if (t.kind != alert_target_kind::file) {
                const auto parsed = net::parse_url(t.url);
                net::rest_config config;
                if (parsed) {
                    config.base_url = fmt::format("{}://{}", parsed->scheme, parsed->host_header());
                    if (parsed->host.find(':') != std::string::npos) {
                        config.base_url =
                            fmt::format("{}://[{}]:{}", parsed->scheme, parsed->host, parsed->port);
                    }
                    state.request_target = parsed->path.empty() ? "/" : parsed->path;
                } else {
                    config.base_url = "invalid://";
                }
                config.max_connections = 1;
                config.request_timeout_ms = settings.request_timeout_ms.count();
                config.max_body_bytes = 1 << 20;
                config.tls.extra_ca_file = settings.extra_ca_file;
                if (t.kind == alert_target_kind::telegram) {
                    std::string base = state.request_target == "/" ? "" : state.request_target;
                    while (!base.empty() && base.back() == '/') {
                        base.pop_back();
                    }
                    state.request_target =
                        fmt::format("{}/bot{}/sendMessage", base, t.bot_token.reveal());
                }
                state.client = std::make_unique<net::rest_client>(loop, std::move(config));
            }
            targets.push_back(std::move(state));
        }
    }

    void route(const handed_alert& handed) {
        const auto now = std::chrono::steady_clock::now();
        const risk::alert& a = handed.alert;
        const auto key = std::tuple{static_cast<int>(a.kind), static_cast<int>(a.reason),
                                    static_cast<int>(a.severity), static_cast<int>(a.symbol_id)};
        const auto seen = last_seen.find(key);
        if (seen != last_seen.end() && now - seen->second < settings.dedup_window_ms) {
            bump(deduplicated);
            return;
        }
        last_seen[key] = now;
        for (auto& t : targets) {
            if (a.severity < t.settings.min_severity) {
                continue;
            }
            while (!t.recent_sends.empty() &&
                   now - t.recent_sends.front() >= std::chrono::minutes(1)) {
                t.recent_sends.pop_front();
            }
            if (t.recent_sends.size() >= settings.max_per_minute) {
                bump(rate_limited);
                continue;
            }
            t.recent_sends.push_back(now);
            if (t.queue.size() >= settings.queue_limit) {
                t.queue.pop_front();
                bump(rate_limited);
                bump(busy, -1);
            }
            t.queue.push_back(delivery{.alert = a, .wall_ns = handed.wall_ns, .due = now});
            bump(busy);
        }
    }

    std::string json_body(const delivery& d) const {
        const risk::alert& a = d.alert;
        std::string out = "{\"source\":\"quoter\",\"instance\":";
        core::append_quoted(out, settings.instance);
        out += ",\"severity\":";
        core::append_quoted(out, risk::to_string(a.severity));
        out += ",\"kind\":";
        core::append_quoted(out, risk::to_string(a.kind));
        out += ",\"reason\":";
        core::append_quoted(out, risk::to_string(a.reason));
        fmt::format_to(std::back_inserter(out),
                       ",\"symbol_id\":{},\"value\":{},\"threshold\":{},\"time_ns\":{},"
                       "\"time_utc\":\"{}\",\"engine_time_ns\":{},\"text\":",
                       a.symbol_id, std::isfinite(a.value) ? a.value : 0.0,
                       std::isfinite(a.threshold) ? a.threshold : 0.0, d.wall_ns,
                       core::format_utc(d.wall_ns, core::utc_precision::millis).view(), a.time);
        core::append_quoted(out, alert_text(a, settings.instance, d.wall_ns));
        out += '}';
        return out;
    }

    outcome write_file(const target_state& t, const delivery& d) const {
        const std::string line = json_body(d) + "\n";
        const int fd =
            ::open(t.settings.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
            return outcome::retry;
        }
        const ssize_t n = ::write(fd, line.data(), line.size());
        ::close(fd);
        return n == static_cast<ssize_t>(line.size()) ? outcome::delivered : outcome::retry;
    }

    void finish(target_state& t, outcome result) {
        delivery& d = t.queue.front();
        if (result == outcome::delivered) {
            bump(delivered);
        } else if (result == outcome::retry && d.attempts < settings.max_attempts) {
            const auto factor = std::int64_t{1} << std::min<std::uint32_t>(d.attempts - 1, 20);
            const auto backoff = std::min(settings.retry_base_ms * factor, settings.retry_max_ms);
            d.due = std::chrono::steady_clock::now() + backoff;
            return;
        } else {
            bump(failed);
        }
        t.queue.pop_front();
        bump(busy, -1);
    }

    void pump() {
        const auto now = std::chrono::steady_clock::now();
        for (auto& t : targets) {
            if (t.in_flight || t.queue.empty() || t.queue.front().due > now) {
                continue;
            }
            delivery& d = t.queue.front();
            ++d.attempts;
            bump(attempts);
            if (t.settings.kind == alert_target_kind::file) {
                finish(t, write_file(t, d));
                continue;
            }
            net::rest_request request;
            request.method = net::http_method::post;
            request.target = t.request_target;
            request.content_type = "application/json";
            if (t.settings.kind == alert_target_kind::webhook) {
                request.body = json_body(d);
            } else {
                request.body = "{\"chat_id\":";
                core::append_quoted(request.body, t.settings.chat_id);
                request.body += ",\"disable_web_page_preview\":true,\"text\":";
                core::append_quoted(request.body,
                                    alert_text(d.alert, settings.instance, d.wall_ns));
                request.body += '}';
            }
            t.in_flight = true;
            target_state* target = &t;
            t.client->send(std::move(request), [this, target](net::rest_response&& response) {
                target->in_flight = false;
                outcome result = outcome::retry;
                if (response.ok()) {
                    result = outcome::delivered;
                } else if (response.error == net::rest_error::none && response.status >= 400 &&
                           response.status < 500 && response.status != 408 &&
                           response.status != 429) {
                    result = outcome::give_up; // the request itself is wrong; retrying won't help
                }
                finish(*target, result);
            });
        }
    }

    /// Runs network handlers for up to one slice; sleeps out the slice when there is nothing
    /// in flight (run_for returns at once on an idle loop).
    void wait_slice() {
        constexpr auto slice = std::chrono::milliseconds(10);
        const auto start = std::chrono::steady_clock::now();
        loop.run_for(slice);
        if (loop.stopped()) {
            loop.restart();
        }
        const bool in_flight = std::any_of(targets.begin(), targets.end(),
                                           [](const target_state& t) { return t.in_flight; });
        const auto elapsed = std::chrono::steady_clock::now() - start;
        if (!in_flight && elapsed < slice) {
            std::this_thread::sleep_for(slice - elapsed);
        }
    }

    void run(core::spsc_ring<handed_alert, ring_capacity>& ring) {
        set_up();
        const auto take = [&] {
            ring.pop_batch([&](const handed_alert& handed) {
                route(handed);
                bump(taken);
            });
        };
        while (!stop.load(std::memory_order_acquire)) {
            take();
            pump();
            wait_slice();
        }
        // Shutdown: a last kill alert should still go out, within drain_timeout_ms.
        const auto deadline = std::chrono::steady_clock::now() + settings.drain_timeout_ms;
        take();
        while (busy.load(std::memory_order_acquire) != 0 &&
               std::chrono::steady_clock::now() < deadline) {
            pump();
            wait_slice();
        }
        // rest_clients must be destroyed on the loop's thread.
        targets.clear();
    }
};

alert_dispatcher::alert_dispatcher(alert_dispatcher_settings settings)
    : settings_(std::move(settings)), worker_(std::make_unique<worker>(settings_)) {
    thread_ = std::thread([this] { worker_->run(ring_); });
}

alert_dispatcher::~alert_dispatcher() {
    worker_->stop.store(true, std::memory_order_release);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void alert_dispatcher::raise(const risk::alert& a) noexcept {
    raised_.store(raised_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (!ring_.try_push(handed_alert{.alert = a, .wall_ns = core::wall_clock{}.now()})) {
        dropped_full_.store(dropped_full_.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    }
}

alert_dispatcher_stats alert_dispatcher::stats() const noexcept {
    const auto get = [](const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_acquire);
    };
    return {
        .raised = get(raised_),
        .dropped_full = get(dropped_full_),
        .deduplicated = get(worker_->deduplicated),
        .rate_limited = get(worker_->rate_limited),
        .attempts = get(worker_->attempts),
        .delivered = get(worker_->delivered),
        .failed = get(worker_->failed),
    };
}

std::vector<std::string> alert_dispatcher::describe_targets() const {
    std::vector<std::string> out;
    for (const auto& t : settings_.targets) {
        std::string where;
        switch (t.kind) {
        case alert_target_kind::webhook:
            where = masked_url(t.url);
            break;
        case alert_target_kind::telegram:
            where = fmt::format("{}/bot{}/sendMessage chat {}", masked_url(t.url),
                                t.bot_token.masked(), t.chat_id);
            break;
        case alert_target_kind::file:
            where = t.path;
            break;
        }
        out.push_back(
            fmt::format("{} {} >= {}", to_string(t.kind), where, risk::to_string(t.min_severity)));
    }
    return out;
}

bool alert_dispatcher::wait_idle(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::uint64_t handed =
            raised_.load(std::memory_order_acquire) - dropped_full_.load(std::memory_order_acquire);
        if (worker_->taken.load(std::memory_order_acquire) == handed &&
            worker_->busy.load(std::memory_order_acquire) == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

} // namespace quoter::ops
