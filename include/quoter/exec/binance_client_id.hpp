// binance_client_id: client order ids that stay unique across restarts of the engine.
//
// An id is "<tag><start><counter>": tag names the instance (configured, up to 4 characters),
// start is the process start time in microseconds since the Unix epoch as 9 fixed-width base-62
// digits (0-9A-Za-z, so ids sort by start time), and counter is the engine's client_order_id as
// 16 lowercase hex digits (format_client_order_id). Two runs started at different microseconds
// therefore never share an id, while the counter may restart at 1; at most 4 + 9 + 16 = 29 of
// Binance's 36 characters of [.A-Z:/a-z0-9_-] are used.
//
// Reconciliation tells three kinds of open order apart: this run's (prefix matches), an earlier
// run of the same instance (tag matches, same shape) and anything else (manual or another
// program). Formatting writes into a fixed array: no allocation.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/exec/order_types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::exec {

/// True when c may appear in a Binance client order id ([.A-Z:/a-z0-9_-]).
[[nodiscard]] constexpr bool is_client_id_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == ':' || c == '/' || c == '_' || c == '-';
}

/// Whether text is a valid Binance client order id: 1 to 36 allowed characters.
[[nodiscard]] constexpr bool is_valid_client_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > client_order_id_text::capacity) {
        return false;
    }
    for (const char c : text) {
        if (!is_client_id_char(c)) {
            return false;
        }
    }
    return true;
}

/// Who placed an open order found on the venue.
enum class client_id_owner : std::uint8_t {
    this_run,    ///< This process: the id parses to one of its client_order_ids.
    earlier_run, ///< Same instance tag, another start time: left over from a previous run.
    foreign,     ///< Anything else (manual orders, other programs).
};

class client_id_factory {
public:
    static constexpr std::size_t max_tag = 4;
    static constexpr std::size_t start_digits = 9; ///< 62^9 us lasts until the year 2398.
    static constexpr std::size_t counter_digits = 16;

    /// tag: instance name, cut to max_tag characters; characters Binance does not allow become
    /// '_'. start_us: wall-clock start time of the process, microseconds since the Unix epoch.
    client_id_factory(std::string_view tag, std::int64_t start_us) noexcept;

    /// "<tag><start>", the prefix every id of this run shares.
    [[nodiscard]] std::string_view prefix() const noexcept { return {prefix_.data(), size_}; }
    [[nodiscard]] std::string_view tag() const noexcept { return {prefix_.data(), tag_size_}; }

    /// The next unused client_order_id of this run (1, 2, ...). Core thread only.
    [[nodiscard]] client_order_id next() noexcept { return client_order_id{++last_}; }

    /// Text form of id for newClientOrderId / origClientOrderId. No allocation.
    [[nodiscard]] client_order_id_text format(client_order_id id) const noexcept {
        return format_client_order_id(id, prefix());
    }

    /// Inverse of format() for ids of this run.
    [[nodiscard]] core::result<client_order_id, client_order_id_error>
    parse(std::string_view text) const noexcept {
        return parse_client_order_id(text, prefix());
    }

    [[nodiscard]] client_id_owner owner(std::string_view text) const noexcept;

private:
    std::array<char, max_tag + start_digits> prefix_{};
    std::uint8_t size_ = 0;
    std::uint8_t tag_size_ = 0;
    std::uint64_t last_ = 0;
};

} // namespace quoter::exec
