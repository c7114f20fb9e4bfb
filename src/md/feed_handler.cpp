#include "quoter/md/feed_handler.hpp"

#include <limits>

namespace quoter::md {

feed_handler::feed_handler(const symbol_registry& registry, md_event_sink& sink,
                           feed_config config)
    : decoder_(registry, config.decoder), publisher_(sink, registry.size()) {
    syncs_.reserve(registry.size());
    for (std::size_t id = 0; id < registry.size(); ++id) {
        const auto symbol = static_cast<symbol_id>(id);
        syncs_.emplace_back(symbol, registry.at(symbol).venue, config.sync);
    }
}

void feed_handler::on_connected(core::timestamp_ns now) noexcept {
    for (std::size_t id = 0; id < syncs_.size(); ++id) {
        on_connected(static_cast<symbol_id>(id), now);
    }
}

void feed_handler::on_connected(symbol_id symbol, core::timestamp_ns now) noexcept {
    if (symbol < syncs_.size()) {
        publisher_.publish(syncs_[symbol], syncs_[symbol].on_connected(now), now);
    }
}

void feed_handler::on_disconnected(core::timestamp_ns now) noexcept {
    for (std::size_t id = 0; id < syncs_.size(); ++id) {
        on_disconnected(static_cast<symbol_id>(id), now);
    }
}

void feed_handler::on_disconnected(symbol_id symbol, core::timestamp_ns now) noexcept {
    if (symbol < syncs_.size()) {
        publisher_.publish(syncs_[symbol], syncs_[symbol].on_disconnected(now), now);
    }
}

const decoded_message& feed_handler::on_message(padded_view message, core::timestamp_ns local_ns,
                                                symbol_id default_symbol) noexcept {
    const decoded_message& decoded = decoder_.decode(message, local_ns, default_symbol);
    dispatch(decoded);
    return decoded;
}

const decoded_message& feed_handler::on_message_copy(std::string_view message,
                                                     core::timestamp_ns local_ns,
                                                     symbol_id default_symbol) noexcept {
    const decoded_message& decoded = decoder_.decode_copy(message, local_ns, default_symbol);
    dispatch(decoded);
    return decoded;
}

void feed_handler::dispatch(const decoded_message& message) noexcept {
    if (message.symbol >= syncs_.size()) {
        if (message.kind == message_kind::server_shutdown) {
            shutdown_notice_ = true;
        }
        return;
    }
    book_sync& sync = syncs_[message.symbol];
    const core::timestamp_ns local_ns = message.local_ns;
    switch (message.kind) {
    case message_kind::depth_update:
        publisher_.publish(sync, sync.on_depth_update(message.depth, local_ns), local_ns);
        break;
    case message_kind::depth_snapshot:
        publisher_.publish(sync, sync.on_snapshot(message.depth, local_ns), local_ns);
        break;
    case message_kind::book_ticker:
        publisher_.publish(sync, sync.on_book_ticker(message.ticker, local_ns), local_ns);
        break;
    case message_kind::trade:
    case message_kind::agg_trade:
        sync.on_activity(local_ns);
        publisher_.publish_trade(sync, message.trade, local_ns);
        break;
    case message_kind::server_shutdown: shutdown_notice_ = true; break;
    default: break;
    }
}

const decoded_message& feed_handler::on_snapshot(symbol_id symbol, padded_view body,
                                                 core::timestamp_ns local_ns) noexcept {
    const decoded_message& decoded = decoder_.decode(body, local_ns, symbol);
    if (symbol < syncs_.size()) {
        if (decoded.kind == message_kind::depth_snapshot && decoded.symbol == symbol) {
            dispatch(decoded);
        } else {
            syncs_[symbol].on_snapshot_failed(local_ns);
        }
    }
    return decoded;
}

const decoded_message& feed_handler::on_snapshot_copy(symbol_id symbol, std::string_view body,
                                                      core::timestamp_ns local_ns) noexcept {
    const decoded_message& decoded = decoder_.decode_copy(body, local_ns, symbol);
    if (symbol < syncs_.size()) {
        if (decoded.kind == message_kind::depth_snapshot && decoded.symbol == symbol) {
            dispatch(decoded);
        } else {
            syncs_[symbol].on_snapshot_failed(local_ns);
        }
    }
    return decoded;
}

void feed_handler::on_snapshot_failed(symbol_id symbol, core::timestamp_ns now) noexcept {
    if (symbol < syncs_.size()) {
        syncs_[symbol].on_snapshot_failed(now);
    }
}

symbol_id feed_handler::take_due_snapshot(core::timestamp_ns now) noexcept {
    const std::size_t count = syncs_.size();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t id = (snapshot_cursor_ + i) % count;
        if (syncs_[id].snapshot_due(now)) {
            syncs_[id].on_snapshot_requested(now);
            snapshot_cursor_ = (id + 1) % count;
            return static_cast<symbol_id>(id);
        }
    }
    return invalid_symbol;
}

core::timestamp_ns feed_handler::next_snapshot_due() const noexcept {
    core::timestamp_ns earliest = std::numeric_limits<core::timestamp_ns>::max();
    for (const book_sync& sync : syncs_) {
        if (sync.snapshot_wanted() && sync.snapshot_not_before() < earliest) {
            earliest = sync.snapshot_not_before();
        }
    }
    return earliest;
}

void feed_handler::check_stale(core::timestamp_ns now) noexcept {
    for (book_sync& sync : syncs_) {
        publisher_.publish(sync, sync.check_stale(now), now);
    }
}

bool feed_handler::take_shutdown_notice() noexcept {
    const bool notice = shutdown_notice_;
    shutdown_notice_ = false;
    return notice;
}

} // namespace quoter::md
