// Exact conversion between decimal strings (as Binance sends them, e.g. "61737.63000000") and
// scaled int64 integers. Never goes through double: "0.1" with 8 decimals is exactly 10000000.
//
// Accepted grammar: [sign] digits [ '.' digits ]  or  [sign] '.' digits, where the sign is
// allowed only when the caller says so. Digits past the requested number of decimals must be
// zeros (Binance pads every value to 8 decimals); a non-zero digit there is an error, never a
// silent rounding.
#pragma once

#include "quoter/core/result.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace quoter::core {

enum class decimal_error : std::uint8_t {
    none,
    empty,             ///< No characters at all.
    no_digits,         ///< Only a sign and/or a point.
    sign_not_allowed,  ///< '-' or '+' where the value must be unsigned.
    exponent,          ///< Scientific notation ("1e5") is not a Binance format.
    bad_character,     ///< Anything else that is not a digit or a single point.
    too_many_decimals, ///< A non-zero digit beyond the supported precision.
    overflow,          ///< Does not fit an int64 once scaled.
    off_grid,          ///< Not a multiple of the symbol's tick or step size.
};

/// Human-readable description of an error, for logs and error messages.
[[nodiscard]] std::string_view describe(decimal_error error) noexcept;

/// Largest supported number of decimals (10^18 still fits an int64).
inline constexpr int max_decimals = 18;

/// 10^n for 0 <= n <= 18.
[[nodiscard]] constexpr std::int64_t pow10(int n) noexcept {
    std::int64_t value = 1;
    for (int i = 0; i < n; ++i) {
        value *= 10;
    }
    return value;
}

struct decimal_options {
    int decimals = 8;          ///< Scale of the result: value * 10^decimals.
    bool allow_sign = false;   ///< Accept a leading '-' or '+'.
};

/// Parses text into value * 10^decimals. Hot path: no allocation, no exceptions.
[[nodiscard]] result<std::int64_t, decimal_error> parse_decimal(std::string_view text,
                                                                decimal_options options) noexcept;

/// Writes scaled / 10^decimals into out with exactly `decimals` digits after the point
/// ("61737.63000000"); returns the written part of out. out needs at most 41 characters.
[[nodiscard]] std::string_view format_decimal(std::int64_t scaled, int decimals,
                                              std::span<char> out) noexcept;

/// Number of decimals a step such as "0.00100000" expresses (3): its last non-zero decimal.
[[nodiscard]] result<int, decimal_error> significant_decimals(std::string_view text) noexcept;

} // namespace quoter::core
