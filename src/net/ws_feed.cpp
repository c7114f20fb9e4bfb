// ws_feed: slots of streams, each served by a ws_connection, with reconnects, stale detection
// and make-before-break rollovers.
//
// Per slot: `active` is the connection whose loss triggers a reconnect; `standby` is a
// replacement being brought up by a rollover; `retiring` holds connections closing on purpose.
// All three deliver messages until they are closed. A slot without an active connection has
// its retry timer armed (or the feed is stopping).
#include "quoter/net/ws_feed.hpp"

#include "quoter/core/clock.hpp"
#include "rx_socket.hpp"
#include "tls_context.hpp"
#include "ws_connection.hpp"

#include "quoter/net/url.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace quoter::net {

std::string_view describe(connection_state state) noexcept {
    switch (state) {
    case connection_state::connecting:
        return "connecting";
    case connection_state::open:
        return "open";
    case connection_state::live:
        return "live";
    case connection_state::stale:
        return "stale";
    case connection_state::rolling_over:
        return "rolling_over";
    case connection_state::closed:
        return "closed";
    }
    return "unknown";
}

std::string_view describe(close_reason reason) noexcept {
    switch (reason) {
    case close_reason::none:
        return "none";
    case close_reason::resolve_failed:
        return "resolve failed";
    case close_reason::connect_failed:
        return "connect failed";
    case close_reason::tls_failed:
        return "TLS failed";
    case close_reason::handshake_failed:
        return "WebSocket handshake failed";
    case close_reason::timed_out:
        return "timed out";
    case close_reason::remote_closed:
        return "closed by the server";
    case close_reason::io_error:
        return "I/O error";
    case close_reason::stale:
        return "stale";
    case close_reason::idle_timed_out:
        return "nothing received within the idle timeout";
    case close_reason::rolled_over:
        return "rolled over";
    case close_reason::stopped:
        return "stopped";
    case close_reason::dropped:
        return "dropped";
    }
    return "unknown";
}

std::string_view describe(feed_error error) noexcept {
    switch (error) {
    case feed_error::none:
        return "no error";
    case feed_error::bad_url:
        return "base_url is not a ws:// or wss:// URL";
    case feed_error::no_streams:
        return "no streams configured";
    case feed_error::tls_setup:
        return "TLS context could not be set up (CA store or CA file)";
    case feed_error::already_started:
        return "feed already started";
    }
    return "unknown error";
}

namespace {

/// Largest message inspected for a serverShutdown event.
constexpr std::size_t shutdown_probe_bytes = 512;

} // namespace

struct ws_feed::impl final : detail::ws_listener {
    using connection_ptr = std::shared_ptr<detail::ws_connection>;

    struct slot_state {
        slot_state(io_loop& loop, const backoff_config& config, std::uint64_t seed)
            : pacing(config, seed), retry_timer(loop), promote_timer(loop) {}

        std::vector<std::string> streams;
        std::string target;
        connection_ptr active;
        connection_ptr standby;
        std::vector<connection_ptr> retiring;
        backoff pacing;
        timer retry_timer;
        timer promote_timer;
    };

    impl(io_loop& loop_in, feed_config config_in, feed_handlers handlers_in)
        : loop(loop_in), config(std::move(config_in)), handlers(std::move(handlers_in)),
          limiter(config.connect_limit), watchdog(loop_in) {}

    ~impl() {
        stopping = true;
        for (auto& slot : slots) {
            for_each_connection(*slot, [](const connection_ptr& connection) {
                connection->detach();
                connection->abort(close_reason::stopped);
            });
        }
    }

    template <class Fn> static void for_each_connection(slot_state& slot, Fn&& fn) {
        if (slot.active) {
            fn(slot.active);
        }
        if (slot.standby) {
            fn(slot.standby);
        }
        for (const auto& connection : slot.retiring) {
            fn(connection);
        }
    }

    core::result<std::size_t, feed_error> start() {
        if (started) {
            return core::unexpected{feed_error::already_started};
        }
        const auto parsed = parse_url(config.base_url);
        if (!parsed || (parsed->scheme != "ws" && parsed->scheme != "wss")) {
            return core::unexpected{feed_error::bad_url};
        }
        if (config.streams.empty()) {
            return core::unexpected{feed_error::no_streams};
        }
        endpoint = *parsed;
        if (endpoint.tls) {
            auto context = detail::make_client_tls_context(config.tls);
            if (!context) {
                return core::unexpected{feed_error::tls_setup};
            }
            tls = *context;
        }
        std::string prefix = endpoint.path.substr(0, endpoint.path.find('?'));
        while (!prefix.empty() && prefix.back() == '/') {
            prefix.pop_back();
        }

        const std::size_t per_connection = std::max<std::size_t>(config.streams_per_connection, 1);
        std::uint64_t seed = config.jitter_seed;
        for (std::size_t first = 0; first < config.streams.size(); first += per_connection) {
            const std::size_t last = std::min(first + per_connection, config.streams.size());
            auto slot = std::make_unique<slot_state>(loop, config.backoff,
                                                     seed == 0 ? 0 : seed + slots.size());
            slot->streams.assign(config.streams.begin() + static_cast<std::ptrdiff_t>(first),
                                 config.streams.begin() + static_cast<std::ptrdiff_t>(last));
            slot->target =
                prefix + (config.path == stream_path::combined ? "/stream?streams=" : "/ws/");
            for (std::size_t i = 0; i < slot->streams.size(); ++i) {
                if (i != 0) {
                    slot->target += '/';
                }
                slot->target += slot->streams[i];
            }
            slots.push_back(std::move(slot));
        }
        started = true;
        for (std::size_t i = 0; i < slots.size(); ++i) {
            connect(i, false);
        }
        arm_watchdog();
        return slots.size();
    }

    void stop() {
        if (stopping) {
            return;
        }
        stopping = true;
        watchdog.cancel();
        for (auto& slot : slots) {
            slot->retry_timer.cancel();
            slot->promote_timer.cancel();
            for_each_connection(*slot, [](const connection_ptr& connection) {
                connection->close(close_reason::stopped);
            });
        }
    }

    void emit(const detail::ws_connection_status& status, connection_state state,
              close_reason reason = close_reason::none, std::string_view detail = {},
              std::int64_t retry_in_ms = -1) {
        if (!handlers.on_event) {
            return;
        }
        connection_event event;
        event.slot = status.slot;
        event.connection_id = status.id;
        event.state = state;
        event.reason = reason;
        event.at_ns = core::wall_clock{}.now();
        event.attempt = slots[status.slot]->pacing.attempts();
        event.retry_in_ms = retry_in_ms;
        event.detail = detail;
        handlers.on_event(event);
    }

    // Opens a connection for a slot, as its active connection or as a rollover standby, once
    // the attempt limiter allows.
    void connect(std::size_t index, bool as_standby) {
        slot_state& slot = *slots[index];
        if (stopping) {
            return;
        }
        if (as_standby && (!slot.active || !slot.active->is_open() || slot.standby)) {
            return;
        }
        const core::timestamp_ns now = core::wall_clock{}.now();
        if (const std::int64_t wait = limiter.wait_ms(now); wait > 0) {
            slot.retry_timer.start(std::chrono::milliseconds(wait),
                                   [this, index, as_standby] { connect(index, as_standby); });
            return;
        }
        limiter.record(now);
        ++stats.connect_attempts;

        detail::ws_connection_options options;
        options.target = slot.target;
        options.connect_timeout_ms = config.connect_timeout_ms;
        options.close_timeout_ms = config.close_timeout_ms;
        options.max_message_bytes = config.max_message_bytes;
        options.user_agent = config.user_agent;
        auto connection =
            detail::make_ws_connection(loop.context(), tls, endpoint, std::move(options), this);
        connection->status.id = next_connection_id++;
        connection->status.slot = static_cast<std::uint32_t>(index);
        (as_standby ? slot.standby : slot.active) = connection;
        emit(connection->status, connection_state::connecting);
        connection->start();
    }

    bool start_rollover(std::size_t index) {
        slot_state& slot = *slots[index];
        if (stopping || !slot.active || !slot.active->is_open() || slot.standby) {
            return false;
        }
        ++stats.rollovers;
        emit(slot.active->status, connection_state::rolling_over);
        connect(index, true);
        return true;
    }

    // The standby takes over; the old active connection is closed gracefully.
    void promote(std::size_t index) {
        slot_state& slot = *slots[index];
        if (!slot.standby || !slot.standby->is_open()) {
            return;
        }
        slot.promote_timer.cancel();
        connection_ptr old = std::move(slot.active);
        slot.active = std::move(slot.standby);
        slot.standby.reset();
        if (old) {
            slot.retiring.push_back(old);
            old->close(close_reason::rolled_over);
        }
    }

    void drop(std::size_t index) {
        slot_state& slot = *slots[index];
        if (slot.standby) {
            slot.promote_timer.cancel();
            connection_ptr standby = std::move(slot.standby);
            slot.standby.reset();
            slot.retiring.push_back(standby);
            standby->abort(close_reason::dropped);
        }
        if (slot.active) {
            slot.active->abort(close_reason::dropped);
        }
    }

    void arm_watchdog() {
        const std::int64_t interval = std::clamp<std::int64_t>(config.stale_after_ms / 4, 5, 1'000);
        watchdog.start(std::chrono::milliseconds(interval), [this] {
            // Off the message path: follow NTP and the TSC calibration's drift.
            detail::realtime_offset::process().calibrate();
            check_health();
            arm_watchdog();
        });
    }

    void check_health() {
        const core::timestamp_ns now = core::wall_clock{}.now();
        for (std::size_t index = 0; index < slots.size(); ++index) {
            slot_state& slot = *slots[index];
            std::array<connection_ptr, 2> watched{slot.active, slot.standby};
            for (const auto& connection : watched) {
                if (!connection || !connection->is_open()) {
                    continue;
                }
                auto& status = connection->status;
                const core::timestamp_ns last = std::max(status.last_message_ns, status.opened_ns);
                const core::duration_ns silence = now - last;
                if (!status.stale && silence > config.stale_after_ms * core::ns_per_ms) {
                    status.stale = true;
                    ++stats.stale_events;
                    emit(status, connection_state::stale);
                }
                if (status.stale && config.reconnect_after_stale_ms > 0 &&
                    silence > config.reconnect_after_stale_ms * core::ns_per_ms) {
                    connection->abort(close_reason::stale);
                }
            }
            if (slot.active && slot.active->is_open() && !slot.standby &&
                now - slot.active->status.opened_ns >=
                    config.max_connection_age_ms * core::ns_per_ms) {
                start_rollover(index);
            }
        }
    }

    // ws_listener

    void on_open(detail::ws_connection& connection) override {
        ++stats.opens;
        emit(connection.status, connection_state::open);
        slot_state& slot = *slots[connection.status.slot];
        if (slot.standby.get() == &connection) {
            // Promote even if the new connection stays quiet, so a rollover always finishes.
            const std::size_t index = connection.status.slot;
            slot.promote_timer.start(
                std::chrono::milliseconds(config.rollover_overlap_ms + config.stale_after_ms),
                [this, index] { promote(index); });
        }
    }

    void on_message(detail::ws_connection& connection, std::string_view payload,
                    core::timestamp_ns local_ns, bool binary) override {
        auto& status = connection.status;
        ++stats.messages;
        stats.bytes += payload.size();
        stats.kernel_stamped += status.last_kernel_ns != 0 ? 1U : 0U;
        if (status.messages == 1 || status.stale) {
            status.stale = false;
            emit(status, connection_state::live);
        }
        if (handlers.on_message) {
            ws_message message;
            message.payload = payload;
            message.local_ns = local_ns;
            message.read_ns = status.last_read_ns;
            message.kernel_ns = status.last_kernel_ns;
            message.received_ns = status.last_received_ns;
            message.connection_id = status.id;
            message.slot = status.slot;
            message.binary = binary;
            handlers.on_message(message);
        }
        if (status.messages == 1) {
            slot_state& slot = *slots[status.slot];
            if (slot.standby.get() == &connection) {
                const std::size_t index = status.slot;
                slot.promote_timer.start(std::chrono::milliseconds(config.rollover_overlap_ms),
                                         [this, index] { promote(index); });
            }
        }
        if (payload.size() <= shutdown_probe_bytes &&
            payload.find("serverShutdown") != std::string_view::npos) {
            ++stats.server_shutdowns;
            if (config.rollover_on_server_shutdown &&
                slots[status.slot]->active.get() == &connection) {
                start_rollover(status.slot);
            }
        }
    }

    void on_ping(detail::ws_connection&) override { ++stats.pings_received; }

    void on_closed(detail::ws_connection& connection, close_reason reason,
                   std::string_view detail) override {
        ++stats.closes;
        const std::size_t index = connection.status.slot;
        slot_state& slot = *slots[index];
        // Keep the object alive for the rest of this call while the slot lets go of it.
        connection_ptr self = connection.shared_from_this();

        const auto retired = std::find(slot.retiring.begin(), slot.retiring.end(), self);
        if (retired != slot.retiring.end()) {
            slot.retiring.erase(retired);
            emit(connection.status, connection_state::closed, reason, detail);
            return;
        }

        if (slot.standby == self) {
            slot.standby.reset();
            slot.promote_timer.cancel();
            std::int64_t retry = -1;
            if (!stopping && slot.active && slot.active->is_open()) {
                // The rollover failed; try again while the old connection still delivers.
                retry = slot.pacing.next_delay_ms();
                slot.retry_timer.start(std::chrono::milliseconds(retry),
                                       [this, index] { connect(index, true); });
            }
            emit(connection.status, connection_state::closed, reason, detail, retry);
            return;
        }

        if (slot.active != self) {
            return;
        }
        slot.active.reset();
        if (slot.standby) {
            // The old connection went away first (e.g. after serverShutdown): the replacement
            // takes over with no reconnect.
            slot.promote_timer.cancel();
            slot.active = std::move(slot.standby);
            slot.standby.reset();
            emit(connection.status, connection_state::closed, reason, detail);
            return;
        }
        if (stopping) {
            emit(connection.status, connection_state::closed, reason, detail);
            return;
        }
        const auto& status = connection.status;
        if (status.opened_ns != 0 && status.messages > 0 &&
            core::wall_clock{}.now() - status.opened_ns >=
                config.backoff.reset_after_ms * core::ns_per_ms) {
            slot.pacing.reset();
        }
        const std::int64_t retry = slot.pacing.next_delay_ms();
        slot.retry_timer.start(std::chrono::milliseconds(retry),
                               [this, index] { connect(index, false); });
        emit(connection.status, connection_state::closed, reason, detail, retry);
    }

    io_loop& loop;
    feed_config config;
    feed_handlers handlers;
    url endpoint;
    std::shared_ptr<boost::asio::ssl::context> tls;
    std::vector<std::unique_ptr<slot_state>> slots;
    attempt_limiter limiter;
    timer watchdog;
    feed_stats stats;
    std::uint64_t next_connection_id = 1;
    bool started = false;
    bool stopping = false;
};

ws_feed::ws_feed(io_loop& loop, feed_config config, feed_handlers handlers)
    : impl_(std::make_unique<impl>(loop, std::move(config), std::move(handlers))) {}

ws_feed::~ws_feed() = default;

core::result<std::size_t, feed_error> ws_feed::start() {
    return impl_->start();
}

void ws_feed::stop() {
    impl_->stop();
}

bool ws_feed::request_rollover(std::size_t slot) {
    return slot < impl_->slots.size() && impl_->start_rollover(slot);
}

void ws_feed::reconnect(std::size_t slot) {
    if (slot < impl_->slots.size()) {
        impl_->drop(slot);
    }
}

bool ws_feed::send_text(std::size_t slot, std::string text) {
    if (slot >= impl_->slots.size()) {
        return false;
    }
    const auto& active = impl_->slots[slot]->active;
    if (!active || !active->is_open()) {
        return false;
    }
    active->send_text(text);
    return true;
}

std::size_t ws_feed::slot_count() const noexcept {
    return impl_->slots.size();
}

const std::vector<std::string>& ws_feed::slot_streams(std::size_t slot) const {
    return impl_->slots.at(slot)->streams;
}

std::size_t ws_feed::open_connections() const noexcept {
    std::size_t count = 0;
    for (const auto& slot : impl_->slots) {
        impl::for_each_connection(*slot, [&count](const impl::connection_ptr& connection) {
            count += connection->is_open() ? 1 : 0;
        });
    }
    return count;
}

const feed_stats& ws_feed::stats() const noexcept {
    return impl_->stats;
}

} // namespace quoter::net
