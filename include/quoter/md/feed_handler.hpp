// feed_handler: the market-data pipeline of one md thread without its sockets: raw message
// bytes in (from the WebSocket transport or a capture), md_events out. It owns the decoder, one
// book_sync per registered symbol and the publisher; live feeds and replays run this same code.
//
// The transport's side of the contract:
//   - on_connected()/on_disconnected() when a stream connection opens or closes;
//   - on_message() for every text frame, with its receive time;
//   - take_due_snapshot(now) tells which symbol needs a REST depth snapshot now (backoff
//     included); the transport fetches it and calls on_snapshot() with the body, or
//     on_snapshot_failed();
//   - take_shutdown_notice() after a serverShutdown: open the replacement connection;
//   - check_stale(now) periodically.
//
// Thread ownership: md thread only. No allocation after construction.
#pragma once

#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/book_sync.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/publisher.hpp"

#include <cstdint>
#include <vector>

namespace quoter::md {

struct feed_config {
    decoder_config decoder;
    book_sync_config sync;
};

class feed_handler {
public:
    /// One book_sync per instrument of registry (each with its instrument's market). registry
    /// and sink must outlive the handler.
    feed_handler(const symbol_registry& registry, md_event_sink& sink, feed_config config = {});

    /// Stream connection(s) for every symbol opened.
    void on_connected(core::timestamp_ns now) noexcept;
    void on_connected(symbol_id symbol, core::timestamp_ns now) noexcept;
    /// Stream connection(s) closed: books are discarded.
    void on_disconnected(core::timestamp_ns now) noexcept;
    void on_disconnected(symbol_id symbol, core::timestamp_ns now) noexcept;

    /// Handles one stream message received at local_ns. default_symbol names the symbol for
    /// bodies that carry none (a snapshot line of a capture). Returns the decoded message.
    const decoded_message& on_message(padded_view message, core::timestamp_ns local_ns,
                                      symbol_id default_symbol = invalid_symbol) noexcept;
    /// As on_message(), for bytes without padding (copied once).
    const decoded_message& on_message_copy(std::string_view message, core::timestamp_ns local_ns,
                                           symbol_id default_symbol = invalid_symbol) noexcept;
    /// Handles a REST depth snapshot body for symbol. A body that is not a valid snapshot
    /// counts as a failed request.
    const decoded_message& on_snapshot(symbol_id symbol, padded_view body,
                                       core::timestamp_ns local_ns) noexcept;
    const decoded_message& on_snapshot_copy(symbol_id symbol, std::string_view body,
                                            core::timestamp_ns local_ns) noexcept;
    void on_snapshot_failed(symbol_id symbol, core::timestamp_ns now) noexcept;

    /// A symbol whose snapshot request is due at now, marked as requested; invalid_symbol when
    /// none is due. Call repeatedly until it returns invalid_symbol.
    [[nodiscard]] symbol_id take_due_snapshot(core::timestamp_ns now) noexcept;
    /// Earliest time a wanted snapshot becomes due (INT64_MAX when none is wanted), in ns.
    [[nodiscard]] core::timestamp_ns next_snapshot_due() const noexcept;
    /// Marks synced books without traffic as stale and publishes the change.
    void check_stale(core::timestamp_ns now) noexcept;
    /// True once after each serverShutdown event.
    [[nodiscard]] bool take_shutdown_notice() noexcept;

    [[nodiscard]] const book_sync& sync(symbol_id symbol) const noexcept { return syncs_[symbol]; }
    [[nodiscard]] std::size_t symbols() const noexcept { return syncs_.size(); }
    [[nodiscard]] binance_decoder& decoder() noexcept { return decoder_; }
    [[nodiscard]] const binance_decoder& decoder() const noexcept { return decoder_; }
    [[nodiscard]] const md_publisher& publisher() const noexcept { return publisher_; }

private:
    void dispatch(const decoded_message& message) noexcept;

    binance_decoder decoder_;
    md_publisher publisher_;
    std::vector<book_sync> syncs_;
    std::size_t snapshot_cursor_ = 0; ///< Round-robin start for take_due_snapshot().
    bool shutdown_notice_ = false;
};

} // namespace quoter::md
