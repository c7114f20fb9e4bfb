// Exact conversion between decimal strings (as Binance sends them, e.g. "61737.63000000") and
// scaled int64 integers. Never goes through double: "0.1" with 8 decimals is exactly 10000000.
//
// parse_decimal is on the market-data hot path (two calls per book level), so its common cases
// are inline and cannot overflow: Binance's shape ("61737.63000000": up to 7 integer digits and 8
// decimals) is converted 8 characters at a time, and other unsigned text with at most 18 digits of
// scaled value with plain multiply-adds. Everything else (signs, longer numbers, every error)
// goes through the overflow-checked parser, which alone decides results that are not plain
// successes; the paths agree on every input.
//
// Accepted grammar: [sign] digits [ '.' digits ]  or  [sign] '.' digits, where the sign is
// allowed only when the caller says so. Digits past the requested number of decimals must be
// zeros (Binance pads every value to 8 decimals); a non-zero digit there is an error, never a
// silent rounding.
#pragma once

#include "quoter/core/result.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
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

namespace detail {

/// The general parser behind parse_decimal: every digit's arithmetic is overflow-checked, so
/// every int64 value (including the extremes) round-trips, and it reports every error.
[[nodiscard]] result<std::int64_t, decimal_error>
parse_decimal_checked(std::string_view text, decimal_options options) noexcept;

inline constexpr std::int64_t pow10_table[max_decimals + 1] = {
    pow10(0),  pow10(1),  pow10(2),  pow10(3),  pow10(4),  pow10(5),  pow10(6),
    pow10(7),  pow10(8),  pow10(9),  pow10(10), pow10(11), pow10(12), pow10(13),
    pow10(14), pow10(15), pow10(16), pow10(17), pow10(18)};

inline constexpr std::uint64_t ascii_zeros = 0x3030303030303030ULL;

/// Non-zero exactly in the bytes of word (a little-endian load of 8 characters) that are not
/// ASCII digits, up to and including the first such byte; later bytes may be flagged wrongly.
[[nodiscard, gnu::always_inline]] constexpr std::uint64_t
non_digit_bytes(std::uint64_t word) noexcept {
    constexpr std::uint64_t high_nibbles = 0xF0F0F0F0F0F0F0F0ULL;
    return ((word & high_nibbles) ^ ascii_zeros) |
           (((word + 0x0606060606060606ULL) & high_nibbles) ^ ascii_zeros);
}

/// Value of the 8 decimal digits in word, first character in the lowest byte; zero bytes count
/// as leading zeros. Three multiply-shift steps merge neighbouring digits, then pairs, then
/// quadruples.
[[nodiscard, gnu::always_inline]] constexpr std::uint64_t
eight_digits(std::uint64_t word) noexcept {
    word = (word & 0x0F0F0F0F0F0F0F0FULL) * (10 * 256 + 1) >> 8U;
    word = (word & 0x00FF00FF00FF00FFULL) * (100 * 65536 + 1) >> 16U;
    return (word & 0x0000FFFF0000FFFFULL) * (10000ULL * 4294967296ULL + 1) >> 32U;
}

[[nodiscard, gnu::always_inline]] inline std::uint64_t load8(const char* p) noexcept {
    std::uint64_t word = 0;
    std::memcpy(&word, p, sizeof word);
    return word;
}

/// Value of a text of Binance's shape given its first word (head), its last 8 characters (tail,
/// the decimals) and its number of integer digits (1 to 7; head's non-digits beyond them are
/// ignored). False (value untouched) when a non-zero digit lies beyond `decimals` or the value
/// could overflow.
[[nodiscard, gnu::always_inline]] inline bool
binance_shape_value(std::uint64_t head, std::uint64_t tail, unsigned integer_digits, int decimals,
                    std::int64_t& value) noexcept {
    const auto kept = static_cast<unsigned>(decimals);
    if (integer_digits + kept > static_cast<unsigned>(max_decimals)) {
        return false;
    }
    // The integer digits moved to the top of a word: zero bytes below act as leading zeros.
    const std::uint64_t integer_word = head << (64U - 8U * integer_digits);
    if (kept >= 8) {
        value = static_cast<std::int64_t>(eight_digits(integer_word) * 100'000'000U +
                                          eight_digits(tail)) *
                pow10_table[kept - 8];
        return true;
    }
    if ((tail >> (8U * kept)) != (ascii_zeros >> (8U * kept))) {
        return false; // a non-zero digit beyond the precision: an error
    }
    if (kept == 0) {
        value = static_cast<std::int64_t>(eight_digits(integer_word));
        return true;
    }
    const std::uint64_t kept_word = tail << (64U - 8U * kept);
    if (integer_digits + kept <= 8) {
        // Integer digits and kept decimals side by side in one word ("6173763" from
        // "61737.63000000"), converted at once.
        value = static_cast<std::int64_t>(eight_digits((integer_word >> (8U * kept)) | kept_word));
        return true;
    }
    value = static_cast<std::int64_t>(eight_digits(integer_word)) * pow10_table[kept] +
            static_cast<std::int64_t>(eight_digits(kept_word));
    return true;
}

/// Binance's shape, 1 to 7 integer digits, a point and exactly 8 decimals ("61737.63000000"),
/// read as two overlapping 8-character words whose loads and checks do not depend on each other.
/// Returns false (value untouched) for any other text.
[[nodiscard, gnu::always_inline]] inline bool
parse_binance_shape(std::string_view text, int decimals, std::int64_t& value) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
        return false;
    } else {
        const std::size_t size = text.size();
        if (size - 10 > 6) { // size outside [10, 16]: wraps for shorter texts
            return false;
        }
        const auto integer_digits = static_cast<unsigned>(size - 9);
        const std::uint64_t head = load8(text.data());
        const std::uint64_t tail = load8(text.data() + size - 8); // the 8 decimals
        // The first non-digit of head must be the point, right after the integer digits.
        const bool shape =
            static_cast<unsigned>(std::countr_zero(non_digit_bytes(head))) / 8U == integer_digits &&
            ((head >> (8U * integer_digits)) & 0xFFU) == '.' && non_digit_bytes(tail) == 0;
        return shape && binance_shape_value(head, tail, integer_digits, decimals, value);
    }
}

/// Binance's shape read in place from a buffer with at least 17 readable bytes at text, up to a
/// closing double quote right after the 8 decimals ("61737.63000000\""). Returns the text's
/// length without the quote, with value set as parse_decimal would set it; 0 (value untouched)
/// for anything else, which callers then read the general way.
[[nodiscard, gnu::always_inline]] inline std::size_t
parse_binance_quoted(const char* text, int decimals, std::int64_t& value) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
        return 0;
    } else {
        const std::uint64_t head = load8(text);
        const auto integer_digits =
            static_cast<unsigned>(std::countr_zero(non_digit_bytes(head))) / 8U;
        if (integer_digits - 1U > 6U || ((head >> (8U * integer_digits)) & 0xFFU) != '.') {
            return 0; // not 1 to 7 digits and a point
        }
        const std::uint64_t tail = load8(text + integer_digits + 1);
        if (non_digit_bytes(tail) != 0 || text[integer_digits + 9] != '"' ||
            !binance_shape_value(head, tail, integer_digits, decimals, value)) {
            return 0;
        }
        return integer_digits + 9;
    }
}

/// Unsigned text with at most 18 digits of scaled value, one character at a time. Returns false
/// (value untouched) for any other text.
[[nodiscard]] inline bool parse_short_unsigned(std::string_view text, int decimals,
                                               std::int64_t& value) noexcept {
    const char* p = text.data();
    const char* const end = p + text.size();
    std::uint64_t accumulated = 0;
    unsigned digit = 0;
    while (p != end && (digit = static_cast<unsigned char>(*p) - unsigned{'0'}) <= 9) {
        accumulated = accumulated * 10 + digit; // wraps only past 19 digits: rejected below
        ++p;
    }
    const auto integer_digits = static_cast<int>(p - text.data());
    int fraction_digits = 0;
    if (p != end && *p == '.') {
        ++p;
        const char* const fraction_start = p;
        const char* const kept_end = end - p > decimals ? p + decimals : end;
        while (p != kept_end && (digit = static_cast<unsigned char>(*p) - unsigned{'0'}) <= 9) {
            accumulated = accumulated * 10 + digit;
            ++p;
        }
        fraction_digits = static_cast<int>(p - fraction_start);
        while (p != end && *p == '0') {
            ++p; // zeros beyond the precision
        }
    }
    // accumulated < 10^(integer_digits + fraction_digits); scaled, below 10^18.
    if (p != end || integer_digits + fraction_digits == 0 ||
        integer_digits + decimals > max_decimals) {
        return false;
    }
    value = static_cast<std::int64_t>(accumulated) * pow10_table[decimals - fraction_digits];
    return true;
}

} // namespace detail

/// Parses text into value * 10^decimals. Hot path: no allocation, no exceptions.
[[nodiscard, gnu::always_inline]] inline result<std::int64_t, decimal_error>
parse_decimal(std::string_view text, decimal_options options) noexcept {
    // Fast paths: unsigned text whose scaled value has at most 18 digits cannot overflow. Any
    // other shape, and every error, is left to the checked parser.
    if (static_cast<unsigned>(options.decimals) <= static_cast<unsigned>(max_decimals)) {
        std::int64_t value = 0;
        if (detail::parse_binance_shape(text, options.decimals, value) ||
            detail::parse_short_unsigned(text, options.decimals, value)) {
            return value;
        }
    }
    return detail::parse_decimal_checked(text, options);
}

/// Writes scaled / 10^decimals into out with exactly `decimals` digits after the point
/// ("61737.63000000"); returns the written part of out. out needs at most 41 characters.
[[nodiscard]] std::string_view format_decimal(std::int64_t scaled, int decimals,
                                              std::span<char> out) noexcept;

/// Number of decimals a step such as "0.00100000" expresses (3): its last non-zero decimal.
[[nodiscard]] result<int, decimal_error> significant_decimals(std::string_view text) noexcept;

} // namespace quoter::core
