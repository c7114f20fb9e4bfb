// What the two Binance decoders behind md::binance_decoder share, so that they agree:
// binance_canonical_decoder.cpp (the strict reader of Binance's compact depthUpdate, bookTicker
// and trade layouts) and binance_json_decoder.cpp (simdjson On-Demand, every message; it alone
// decides errors) convert exchange times the same way and check a message against the stream
// that carried it the same way. Private to md.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/md/binance_decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace quoter::md::detail {

/// Largest exchange time in milliseconds whose nanoseconds still fit an int64; larger is
/// malformed.
inline constexpr std::uint64_t max_ms =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / core::ns_per_ms);

/// Exchange milliseconds (at most max_ms) to nanoseconds.
[[nodiscard]] inline core::timestamp_ns ms_to_ns(std::uint64_t ms) noexcept {
    return static_cast<core::timestamp_ns>(ms) * core::ns_per_ms;
}

/// What a combined stream named "<symbol>@<channel>[@<speed>]" carries: the message kind of its
/// channel, or none for a channel the decoder does not check.
[[nodiscard]] inline message_kind stream_kind(std::string_view stream) noexcept {
    const std::size_t at = stream.find('@');
    if (at == std::string_view::npos) {
        return message_kind::none;
    }
    std::string_view channel = stream.substr(at + 1);
    channel = channel.substr(0, channel.find('@'));
    if (channel == "depth") {
        return message_kind::depth_update;
    }
    if (channel == "bookTicker") {
        return message_kind::book_ticker;
    }
    if (channel == "trade") {
        return message_kind::trade;
    }
    if (channel == "aggTrade") {
        return message_kind::agg_trade;
    }
    return message_kind::none;
}

/// True when stream is "<name>" + Suffix with no '@' in the name: the channel is Suffix's.
template <std::size_t N>
[[gnu::always_inline]] inline bool is_channel(std::string_view stream,
                                              const char (&suffix)[N]) noexcept {
    constexpr std::size_t size = N - 1;
    return stream.size() >= size &&
           std::memcmp(stream.data() + stream.size() - size, suffix, size) == 0 &&
           std::memchr(stream.data(), '@', stream.size() - size) == nullptr;
}

/// False when a message of kind arrived on a stream that carries something else.
[[nodiscard]] inline bool fits_stream(std::string_view stream, message_kind kind) noexcept {
    // The stream names of a usual subscription, without splitting the name.
    if ((kind == message_kind::book_ticker && is_channel(stream, "@bookTicker")) ||
        (kind == message_kind::depth_update && is_channel(stream, "@depth@100ms")) ||
        (kind == message_kind::trade && is_channel(stream, "@trade")) ||
        (kind == message_kind::agg_trade && is_channel(stream, "@aggTrade"))) {
        return true;
    }
    const message_kind carried = stream_kind(stream);
    return carried == message_kind::none || carried == kind ||
           kind == message_kind::server_shutdown; // sent on any stream
}

} // namespace quoter::md::detail
