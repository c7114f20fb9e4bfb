// binance_decoder: turns raw Binance market-data messages into typed, exact values.
//
// Accepted inputs: combined-stream envelopes ({"stream":..,"data":{..}}), raw /ws messages,
// spot and USD-M futures depthUpdate (U, u, and pu on futures), bookTicker (spot without "e",
// futures with it), trade, aggTrade, REST depth snapshots (/api/v3/depth, /fapi/v1/depth) and the
// serverShutdown event. Subscription replies and other events are recognised and ignored;
// unknown fields are skipped. Prices and quantities go from their decimal text straight to
// ticks and lots through the instrument's book spec; no double is involved.
//
// Failure model: a message that is not valid JSON, is truncated, lacks a required field, has a
// field of the wrong type, a number out of range, a price off the tick grid or more levels than
// configured is `malformed`, and so is a valid message on a market-data stream (an envelope's
// "<symbol>@depth", "@bookTicker", "@trade" or "@aggTrade") whose body is not what that stream
// carries: it is counted by error kind, at most `reports_burst` per `report_interval_ms` of them
// are queued as malformed_report samples for the log (a report that finds the queue full, or
// that the rate limit refuses, is counted in the `suppressed` of the next queued one, so none
// vanishes uncounted), and nothing else happens. Valid JSON means what a validating parser
// accepts: the general path reads every value it does not use in full and requires the document
// to end after the root object; the canonical reader accepts only its own grammar. Decoding never
// touches a book; the caller applies a message only when its kind is not malformed.
//
// Performance: the two messages that dominate a feed, depthUpdate and bookTicker, arrive in a
// fixed compact layout (Binance's field order, no whitespace, plain ASCII strings). A strict
// single-pass reader recognises exactly that layout, validating every byte it accepts, and
// converts the level texts in place (no copy, no unescape); the last symbol name and the openings
// of the last few envelope streams it accepted (`{"stream":"btcusdt@bookTicker","data":{"u":`)
// are remembered, so a stream of one symbol does no registry lookup and a known opening is
// matched by a few word compares instead of a scan, a channel check and the payload head's tests.
// Anything it does not accept in full (another field order, whitespace, escapes, an error of any
// kind) is decoded again by the general path, which alone decides errors, so both paths give
// identical results on every input. The general path is one simdjson On-Demand parser per decoder,
// allocated once for max_message_bytes; levels decode into pre-sized arrays (their texts are
// collected first and converted after each array, which keeps the walk free of calls). Prices and
// quantities take symbol_spec's inline fast paths. decode() does not allocate, lock or throw.
// Zero-copy input needs message_padding readable bytes after the message (receive_buffer provides
// them); decode_copy() copies unpadded bytes into an internal buffer.
//
// Thread ownership: a decoder belongs to one thread (the md thread); results are valid until the
// next decode call on the same decoder.
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/fixed_point.hpp"
#include "quoter/core/time.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/order_book.hpp"
#include "quoter/md/rate_limiter.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace quoter::md {

/// Bytes that must be readable (any content) after a message handed to decode() without copy.
inline constexpr std::size_t message_padding = 64;

/// A message in a buffer with at least message_padding readable bytes after its end.
struct padded_view {
    const char* data = nullptr;
    std::size_t size = 0;
    std::size_t capacity = 0; ///< Readable bytes from data; >= size + message_padding.

    [[nodiscard]] std::string_view view() const noexcept { return {data, size}; }
};

/// A receive buffer the transport reads frames into: fixed capacity plus padding, so frames are
/// decoded in place. Allocates once.
class receive_buffer {
public:
    explicit receive_buffer(std::size_t max_message_bytes)
        : storage_(max_message_bytes + message_padding, '\0') {}

    /// Writable space for the next message (max_message_bytes long).
    [[nodiscard]] std::span<char> writable() noexcept {
        return {storage_.data(), storage_.size() - message_padding};
    }
    /// Marks the first size bytes of writable() as the current message.
    void commit(std::size_t size) noexcept {
        size_ = size < writable().size() ? size : writable().size();
    }
    /// Copies text in (truncating to the capacity) and commits it.
    void assign(std::string_view text) noexcept;
    [[nodiscard]] padded_view view() const noexcept {
        return {storage_.data(), size_, storage_.size()};
    }

private:
    std::vector<char> storage_;
    std::size_t size_ = 0;
};

enum class message_kind : std::uint8_t {
    none,            ///< Nothing decoded yet.
    depth_update,    ///< depthUpdate diff (spot or futures).
    book_ticker,     ///< Best bid/ask with its order-book update id.
    trade,           ///< Individual trade.
    agg_trade,       ///< Aggregated trade.
    depth_snapshot,  ///< REST depth snapshot body.
    server_shutdown, ///< The server will close this connection soon: open a replacement.
    ignored,         ///< Valid but not market data (subscription reply, other events).
    unknown_symbol,  ///< Valid market data for a symbol not in the registry.
    malformed,       ///< Rejected; see decoded_message::error.
};

[[nodiscard]] std::string_view to_string(message_kind kind) noexcept;

enum class decode_error : std::uint8_t {
    none,
    too_large,       ///< Longer than max_message_bytes.
    json,            ///< Not JSON, truncated, or structurally broken.
    wrong_type,      ///< A known field with a value of the wrong JSON type.
    missing_field,   ///< A required field is absent.
    bad_number,      ///< An integer field out of range (negative, too large, fractional).
    bad_price,       ///< Price text not a decimal on the tick grid.
    bad_qty,         ///< Quantity text not a decimal on the lot grid.
    too_many_levels, ///< More levels on one side than max_levels_per_side.
    no_symbol,       ///< Prices present but the symbol cannot be determined.
    rest_error,      ///< A REST error body ({"code":..,"msg":..}).
    wrong_stream,    ///< Valid, but not what its market-data stream carries.
};
inline constexpr std::size_t decode_error_count = 12;

[[nodiscard]] std::string_view describe(decode_error error) noexcept;

/// A depthUpdate diff or a depth snapshot. Level spans point into the decoder and stay valid
/// until its next decode call. Levels keep the message's order; quantity 0 means "remove".
struct decoded_depth {
    std::uint64_t first_update_id = 0;      ///< U (snapshot: lastUpdateId).
    std::uint64_t final_update_id = 0;      ///< u (snapshot: lastUpdateId).
    std::uint64_t prev_final_update_id = 0; ///< pu (futures only).
    bool has_prev_final_update_id = false;
    core::timestamp_ns exchange_ns = 0;    ///< E (event time) in ns; 0 when absent.
    core::timestamp_ns transaction_ns = 0; ///< T (futures matching-engine time) in ns; 0 if absent.
    std::span<const core::book_level> bids;
    std::span<const core::book_level> asks;
};

/// A bookTicker: best levels as of order-book update id u.
struct decoded_book_ticker {
    std::uint64_t update_id = 0; ///< u.
    core::book_level bid;
    core::book_level ask;
    core::timestamp_ns exchange_ns = 0;    ///< E (futures) in ns; 0 on spot.
    core::timestamp_ns transaction_ns = 0; ///< T (futures) in ns; 0 on spot.
};

/// A trade or aggTrade print.
struct decoded_trade {
    std::int64_t trade_id = 0; ///< t, or a for aggTrade.
    core::price px;
    core::qty qty;
    core::side aggressor = core::side::buy; ///< sell when m (buyer is maker) is true.
    std::uint32_t count = 1;                ///< l - f + 1 for aggTrade, 1 for trade.
    core::timestamp_ns trade_ns = 0;        ///< T in ns.
    core::timestamp_ns exchange_ns = 0;     ///< E in ns.
};

/// Result of one decode call. Only the member matching `kind` is meaningful.
struct decoded_message {
    message_kind kind = message_kind::none;
    decode_error error = decode_error::none;
    symbol_id symbol = invalid_symbol;
    core::timestamp_ns local_ns = 0;
    decoded_depth depth;        ///< depth_update, depth_snapshot.
    decoded_book_ticker ticker; ///< book_ticker.
    decoded_trade trade;        ///< trade, agg_trade.
};

/// A sample of a malformed message, for the log; produced at a limited rate.
struct malformed_report {
    static constexpr std::size_t excerpt_capacity = 120;

    decode_error error = decode_error::none;
    core::timestamp_ns local_ns = 0;
    /// Malformed messages between the previous report and this one that got no report (rate
    /// limit or full queue).
    std::uint64_t suppressed = 0;
    std::uint32_t message_bytes = 0;
    std::uint8_t excerpt_size = 0;
    std::array<char, excerpt_capacity> excerpt{}; ///< The message's first bytes.

    [[nodiscard]] std::string_view excerpt_view() const noexcept {
        return {excerpt.data(), excerpt_size};
    }
};

struct decode_stats {
    std::uint64_t messages = 0;
    std::uint64_t canonical = 0;             ///< Messages read by the canonical-layout reader.
    std::array<std::uint64_t, 10> by_kind{}; ///< Indexed by message_kind.
    std::array<std::uint64_t, decode_error_count> by_error{}; ///< Indexed by decode_error.

    [[nodiscard]] std::uint64_t count(message_kind kind) const noexcept {
        return by_kind[static_cast<std::size_t>(kind)];
    }
    [[nodiscard]] std::uint64_t malformed() const noexcept {
        return count(message_kind::malformed);
    }
};

struct decoder_config {
    /// Largest message accepted, in bytes (a 5,000-level spot snapshot is about 300 KB).
    std::size_t max_message_bytes = 2U << 20U;
    /// Largest number of levels per side in one message (Binance's depth limit is 5,000).
    std::size_t max_levels_per_side = 5000;
    /// Malformed-message reports admitted at once and per report_interval_ms; also how many
    /// reports wait for take_report() at most (capped at 64).
    std::uint32_t reports_burst = 5;
    /// Refill period of the report budget, in milliseconds.
    std::int64_t report_interval_ms = 10'000;
    /// Read depthUpdate and bookTicker in Binance's compact layout with the specialised reader;
    /// false sends every message through the general simdjson path (same results, slower).
    bool canonical_fast_path = true;
};

class binance_decoder {
public:
    /// Allocates the parser and level arrays. registry must outlive the decoder.
    binance_decoder(const symbol_registry& registry, decoder_config config = {});
    ~binance_decoder();
    binance_decoder(const binance_decoder&) = delete;
    binance_decoder& operator=(const binance_decoder&) = delete;

    /// Decodes one stream message or REST body. default_symbol is used when the message names no
    /// symbol (REST snapshots, which carry none) or names it only after its prices.
    /// local_ns is the receive time. md thread only; no allocation.
    const decoded_message& decode(padded_view message, core::timestamp_ns local_ns,
                                  symbol_id default_symbol = invalid_symbol) noexcept;
    /// As decode(), for bytes without padding: copies them into an internal buffer first.
    const decoded_message& decode_copy(std::string_view message, core::timestamp_ns local_ns,
                                       symbol_id default_symbol = invalid_symbol) noexcept;

    [[nodiscard]] const decoded_message& last() const noexcept { return message_; }
    [[nodiscard]] const decode_stats& stats() const noexcept { return stats_; }
    /// Takes the oldest queued malformed-message sample, if any. Call until it returns false.
    [[nodiscard]] bool take_report(malformed_report& out) noexcept;
    /// Reports waiting for take_report().
    [[nodiscard]] std::size_t reports_pending() const noexcept { return report_count_; }
    [[nodiscard]] const symbol_registry& registry() const noexcept { return registry_; }

private:
    /// The simdjson state (binance_json_decoder.cpp).
    struct impl;

    void finish(core::timestamp_ns local_ns, padded_view message) noexcept;
    /// Decodes a depthUpdate, bookTicker, trade or aggTrade in the canonical layout into message_;
    /// false (with message_ untouched apart from scratch) when the message is anything else.
    /// binance_canonical_decoder.cpp.
    bool decode_canonical(padded_view message) noexcept;
    /// Decodes any message with simdjson On-Demand into message_ (the general path, which alone
    /// decides errors); message_ is fresh. binance_json_decoder.cpp.
    const decoded_message& decode_json(padded_view message, core::timestamp_ns local_ns,
                                       symbol_id default_symbol) noexcept;
    /// Registry id of an exact symbol name, through a one-entry cache.
    symbol_id resolve_symbol(std::string_view name) noexcept;
    /// fits_stream(stream, kind) for an envelope whose opening (its first bytes, up to and
    /// including the payload's first key) was read in full; when it fits, the opening is
    /// remembered with the payload head it ends in.
    bool stream_fits(std::string_view stream, message_kind kind, std::string_view opening,
                     std::uint8_t head) noexcept;

public:
    /// A short text the canonical reader accepted as a plain string (printable ASCII, no quote or
    /// backslash), in little-endian words zero past its end (masks: all ones over its bytes,
    /// zero past them), so that the same text in a later message is recognised by comparing
    /// words instead of scanning it again.
    struct known_text {
        static constexpr std::size_t max_size = 32;
        std::array<std::uint64_t, max_size / 8> words{};
        std::array<std::uint64_t, max_size / 8> masks{};
        std::size_t size = 0;
    };
    /// The opening of an envelope message the canonical reader accepted in full, up to and
    /// including its payload's first key, e.g. `{"stream":"btcusdt@bookTicker","data":{"u":`:
    /// the same bytes at the start of a later message stand for the envelope, a stream name that
    /// carries that payload (fits_stream passed) and the payload's head at once, so they are
    /// matched by a few word compares instead of being read again. Words and masks as known_text.
    struct known_opening {
        static constexpr std::size_t max_size = 80;
        std::array<std::uint64_t, max_size / 8> words{};
        std::array<std::uint64_t, max_size / 8> masks{};
        std::uint64_t last_word = 0; ///< The opening's last 8 bytes, a quick first filter.
        std::size_t size = 0;        ///< 0: the slot is unused.
        std::uint8_t head = 0;       ///< The payload head the opening ends with (reader's enum).
    };

private:
    const symbol_registry& registry_;
    decoder_config config_;
    std::unique_ptr<impl> impl_;
    /// Levels of the last depth message, written by either decoder (decoded_depth views them).
    std::vector<core::book_level> bids_;
    std::vector<core::book_level> asks_;
    decoded_message message_;
    decode_stats stats_;
    rate_limiter report_limiter_;
    std::vector<malformed_report> reports_; ///< Queue of reports, oldest at report_head_.
    std::size_t report_head_ = 0;
    std::size_t report_count_ = 0;
    std::uint64_t unreported_ = 0; ///< Malformed messages since the last queued report, unreported.
    std::vector<char> copy_buffer_;
    /// Last symbol name resolve_symbol() found (size 0: none) and its id.
    known_text cached_name_{};
    symbol_id cached_symbol_ = invalid_symbol;
    /// Openings of envelope messages accepted lately (one a stream); the first opening_count_
    /// slots are in use, replaced round-robin from next_opening_.
    std::array<known_opening, 4> openings_{};
    std::size_t opening_count_ = 0;
    std::size_t next_opening_ = 0;
};

} // namespace quoter::md
