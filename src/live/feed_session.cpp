#include "feed_session.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace quoter::live::detail {

bool duplicate_filter::check(const md::decoded_message& message) noexcept {
    if (message.symbol >= last_.size()) {
        return false;
    }
    ids& last = last_[message.symbol];
    switch (message.kind) {
    case md::message_kind::depth_update:
        if (message.depth.final_update_id <= last.depth) {
            return true;
        }
        last.depth = message.depth.final_update_id;
        return false;
    case md::message_kind::book_ticker:
        // Binance repeats a bookTicker id when only the quantities of a later event match; a
        // strictly older id is what marks a replayed one.
        if (message.ticker.update_id < last.ticker) {
            return true;
        }
        last.ticker = message.ticker.update_id;
        return false;
    case md::message_kind::trade:
    case md::message_kind::agg_trade:
        if (message.trade.trade_id <= last.trade) {
            return true;
        }
        last.trade = message.trade.trade_id;
        return false;
    default: return false;
    }
}

feed_session::feed_session(net::io_loop& loop, const md::symbol_registry& registry,
                           md::feed_handler& handler, const subscription_config& subscription,
                           const session_config& config, session_hooks hooks)
    : loop_(loop), registry_(registry), handler_(handler), subscription_(subscription),
      config_(config), hooks_(std::move(hooks)),
      rest_(loop, [&] {
          net::rest_config rest;
          rest.base_url = rest_origin(subscription.venue, config.endpoints);
          rest.tls = config.tls;
          rest.request_timeout_ms = config.rest_timeout_ms;
          rest.max_connections = std::max<std::size_t>(1, config.max_snapshots_in_flight);
          return rest;
      }()),
      duplicates_(registry.size()), timer_(loop) {
    snapshot_targets_.reserve(registry.size());
    for (std::size_t id = 0; id < registry.size(); ++id) {
        const auto name = registry.at(static_cast<md::symbol_id>(id)).book_spec.name().view();
        snapshot_targets_.push_back(
            snapshot_target(subscription.venue, name, subscription.snapshot_limit));
    }
}

feed_session::~feed_session() { stop(); }

core::result<bool, net::feed_error> feed_session::start() {
    const std::vector<stream_set> sets = stream_sets(subscription_, config_.endpoints);
    for (std::size_t index = 0; index < sets.size(); ++index) {
        net::feed_config feed;
        feed.base_url = sets[index].base_url;
        feed.streams = sets[index].streams;
        feed.path = net::stream_path::combined;
        feed.streams_per_connection = config_.streams_per_connection;
        feed.tls = config_.tls;
        feed.stale_after_ms = config_.stale_after_ms;
        feed.reconnect_after_stale_ms = config_.reconnect_after_stale_ms;
        feed.max_connection_age_ms = config_.max_connection_age_ms;
        feed.rollover_overlap_ms = config_.rollover_overlap_ms;
        feed.backoff = config_.reconnect_backoff;
        feed.jitter_seed = config_.jitter_seed;
        feed.max_message_bytes = config_.feed.decoder.max_message_bytes;
        net::feed_handlers handlers;
        handlers.on_message = [this](const net::ws_message& message) { on_ws_message(message); };
        if (index == 0) {
            handlers.on_event = [this](const net::connection_event& event) {
                on_book_event(event);
            };
        } else {
            handlers.on_event = [this](const net::connection_event& event) {
                on_other_event(event);
            };
        }
        feeds_.push_back(std::make_unique<net::ws_feed>(loop_, std::move(feed), handlers));
    }
    for (auto& feed : feeds_) {
        auto started = feed->start();
        if (!started) {
            stop();
            return core::unexpected{started.error()};
        }
    }
    slots_.assign(feeds_[0]->slot_count(), slot_state{});
    for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
        for (const std::string& stream : feeds_[0]->slot_streams(slot)) {
            const std::size_t at = stream.find('@');
            if (at == std::string::npos || stream.compare(at, 6, "@depth") != 0) {
                continue;
            }
            const md::symbol_id id = registry_.find_lower(std::string_view(stream).substr(0, at));
            if (id != md::invalid_symbol) {
                slots_[slot].symbols.push_back(id);
            }
        }
    }
    arm_timer();
    return true;
}

void feed_session::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    timer_.cancel();
    for (auto& feed : feeds_) {
        feed->stop();
    }
}

std::uint64_t feed_session::rollovers() const noexcept {
    std::uint64_t total = 0;
    for (const auto& feed : feeds_) {
        total += feed->stats().rollovers;
    }
    return total;
}

std::size_t feed_session::open_connections() const noexcept {
    std::size_t total = 0;
    for (const auto& feed : feeds_) {
        total += feed->open_connections();
    }
    return total;
}

void feed_session::on_ws_message(const net::ws_message& message) {
    ++counters_.messages;
    const md::padded_view view{message.payload.data(), message.payload.size(),
                               message.padded_size()};
    if (hooks_.frame != nullptr) {
        *hooks_.frame = {.kernel_ns = message.kernel_ns,
                         .received_ns = message.received_ns,
                         .read_ns = message.read_ns};
    }
    if (hooks_.kernel_to_read != nullptr && message.kernel_ns != 0) {
        hooks_.kernel_to_read->record(message.read_ns - message.kernel_ns);
    }
    const md::decoded_message& decoded = handler_.on_message(view, message.local_ns);
    if (hooks_.frame != nullptr) {
        *hooks_.frame = {};
    }
    const bool duplicate = duplicates_.check(decoded);
    if (duplicate) {
        ++counters_.duplicates;
    }
    if (decoded.kind == md::message_kind::server_shutdown) {
        // ws_feed already opens the replacement connection (rollover_on_server_shutdown).
        ++counters_.server_shutdowns;
        (void)handler_.take_shutdown_notice();
    }
    if (hooks_.on_message) {
        hooks_.on_message(message, decoded, duplicate);
    }
}

void feed_session::on_book_event(const net::connection_event& event) {
    if (event.slot >= slots_.size()) {
        return;
    }
    slot_state& slot = slots_[event.slot];
    switch (event.state) {
    case net::connection_state::open:
        if (std::find(slot.open.begin(), slot.open.end(), event.connection_id) ==
            slot.open.end()) {
            slot.open.push_back(event.connection_id);
            if (slot.open.size() == 1) {
                for (const md::symbol_id symbol : slot.symbols) {
                    handler_.on_connected(symbol, event.at_ns);
                }
                request_snapshots(event.at_ns);
            }
        }
        break;
    case net::connection_state::closed: {
        const auto it = std::find(slot.open.begin(), slot.open.end(), event.connection_id);
        if (it != slot.open.end()) {
            slot.open.erase(it);
            if (slot.open.empty()) {
                for (const md::symbol_id symbol : slot.symbols) {
                    handler_.on_disconnected(symbol, event.at_ns);
                }
            }
        }
        if (event.retry_in_ms >= 0) {
            ++counters_.reconnects;
        }
        break;
    }
    default: break;
    }
    if (event.state != net::connection_state::live && event.state != net::connection_state::open) {
        std::string line = "md slot " + std::to_string(event.slot) + " connection " +
                           std::to_string(event.connection_id) + ": " +
                           std::string(net::describe(event.state));
        if (event.state == net::connection_state::closed) {
            line += " (" + std::string(net::describe(event.reason)) + ")";
            if (event.retry_in_ms >= 0) {
                line += ", retry in " + std::to_string(event.retry_in_ms) + " ms";
            }
        }
        log(line);
    }
}

void feed_session::on_other_event(const net::connection_event& event) {
    if (event.state == net::connection_state::closed && event.retry_in_ms >= 0) {
        ++counters_.reconnects;
    }
}

void feed_session::housekeeping(core::timestamp_ns now) {
    handler_.check_stale(now);
    request_snapshots(now);
    md::malformed_report report;
    if (hooks_.log && handler_.decoder().take_report(report)) {
        log("malformed message (" + std::string(md::describe(report.error)) + ", " +
            std::to_string(report.message_bytes) + " bytes, " +
            std::to_string(report.suppressed) + " suppressed): " +
            std::string(report.excerpt_view()));
    }
    if (hooks_.on_housekeeping) {
        hooks_.on_housekeeping(now);
    }
}

void feed_session::request_snapshots(core::timestamp_ns now) {
    while (!stopped_ && snapshots_in_flight_ < config_.max_snapshots_in_flight) {
        const md::symbol_id symbol = handler_.take_due_snapshot(now);
        if (symbol == md::invalid_symbol) {
            return;
        }
        ++snapshots_in_flight_;
        ++counters_.snapshots_requested;
        rest_.get(snapshot_targets_[symbol], [this, symbol](net::rest_response&& response) {
            --snapshots_in_flight_;
            if (stopped_) {
                return;
            }
            const core::timestamp_ns received = core::wall_clock{}.now();
            if (response.ok()) {
                if (hooks_.on_snapshot) {
                    hooks_.on_snapshot(symbol, response, received);
                }
                const md::padded_view body{response.body.data(), response.body.size(),
                                           response.body.capacity()};
                const md::decoded_message& decoded =
                    handler_.on_snapshot(symbol, body, received);
                if (decoded.kind != md::message_kind::depth_snapshot) {
                    ++counters_.snapshots_failed;
                }
            } else {
                ++counters_.snapshots_failed;
                handler_.on_snapshot_failed(symbol, received);
                log("snapshot " + snapshot_targets_[symbol] + " failed: " +
                    (response.error != net::rest_error::none
                         ? std::string(net::describe(response.error))
                         : "HTTP " + std::to_string(response.status)));
            }
            request_snapshots(received);
        });
    }
}

void feed_session::arm_timer() {
    timer_.start(std::chrono::milliseconds(config_.housekeeping_interval_ms), [this] {
        housekeeping(core::wall_clock{}.now());
        if (!stopped_) {
            arm_timer();
        }
    });
}

void feed_session::log(std::string_view text) const {
    if (hooks_.log) {
        hooks_.log(text);
    }
}

} // namespace quoter::live::detail
