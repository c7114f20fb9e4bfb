// Binance's decimal shape ("61737.63000000": 1 to 7 integer digits, a point, exactly 8
// decimals, then the closing quote) read in place with 128-bit vector instructions: one load
// classifies all 16 characters at once (digits, the point, zeros) and a shuffle plus three
// multiply-add steps turn the kept digits into the value, instead of two word loads, two
// digit checks and up to two 8-digit conversions with variable shifts per text. The two
// market-data texts of every depth level and bookTicker go through here. Private to md.
//
// The contract is core::detail::parse_binance_quoted's, to the bit: the same texts are
// accepted with the same value and length, and everything else returns 0 with value untouched.
// Builds without SSE4.1 (or decimals above 8) use that function itself.
#pragma once

#include "quoter/core/decimal.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace quoter::md::detail {

#if defined(__SSE4_1__)

/// pshufb controls, one per (decimals kept 0..8, integer digits 1..7): the integer digits and the
/// first `kept` decimals, point skipped, right-aligned in 16 lanes; 0x80 (zero) in the lanes
/// before them.
struct decimal_shuffles {
    std::array<std::array<std::uint8_t, 16>, 9 * 8> masks{};

    constexpr decimal_shuffles() noexcept {
        for (unsigned kept = 0; kept <= 8; ++kept) {
            for (unsigned integer = 1; integer <= 7; ++integer) {
                std::array<std::uint8_t, 16>& mask = masks[kept * 8 + integer];
                const unsigned digits = integer + kept; // at most 15
                for (unsigned lane = 0; lane < 16; ++lane) {
                    if (lane < 16 - digits) {
                        mask[lane] = 0x80;
                        continue;
                    }
                    const unsigned digit = lane - (16 - digits);
                    mask[lane] = static_cast<std::uint8_t>(digit < integer ? digit : digit + 1);
                }
            }
        }
    }
};

inline constexpr decimal_shuffles decimal_shuffle_table{};

#endif

/// parse_binance_quoted(text, decimals, value): text has at least 17 readable bytes.
[[nodiscard, gnu::always_inline]] inline std::size_t
parse_binance_quoted(const char* text, int decimals, std::int64_t& value) noexcept {
#if defined(__SSE4_1__)
    const auto kept = static_cast<unsigned>(decimals);
    if (kept > 8) {
        return core::detail::parse_binance_quoted(text, decimals, value);
    }
    const __m128i chars = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text));
    const __m128i digits = _mm_sub_epi8(chars, _mm_set1_epi8('0'));
    // Digit lanes: the unsigned difference from '0' is at most 9.
    const auto digit_bits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(digits, _mm_set1_epi8(9)), digits)));
    const auto point_bits =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chars, _mm_set1_epi8('.'))));
    // Integer digits: the run of digits the text starts with; the point must follow it.
    const auto integer = static_cast<unsigned>(std::countr_zero(~digit_bits));
    if (integer - 1U > 6U || ((point_bits >> integer) & 1U) == 0 ||
        ((digit_bits >> (integer + 1)) & 0xFFU) != 0xFFU || text[integer + 9] != '"') {
        return 0;
    }
    // Decimals beyond the kept ones must be zeros.
    const auto zero_bits =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chars, _mm_set1_epi8('0'))));
    const unsigned dropped = (1U << (8 - kept)) - 1;
    if (((zero_bits >> (integer + 1 + kept)) & dropped) != dropped) {
        return 0;
    }
    const __m128i aligned =
        _mm_shuffle_epi8(digits, _mm_loadu_si128(reinterpret_cast<const __m128i*>(
                                     decimal_shuffle_table.masks[kept * 8 + integer].data())));
    // Pairs, quadruples, then two 8-digit halves: d0*10+d1, p0*100+p1, q0*10000+q1.
    const __m128i pairs = _mm_maddubs_epi16(aligned, _mm_set1_epi16(0x010A));
    const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));
    const __m128i halves =
        _mm_madd_epi16(_mm_packus_epi32(quads, quads), _mm_set1_epi32(0x00012710));
    const auto high = static_cast<std::uint32_t>(_mm_cvtsi128_si32(halves));
    const auto low = static_cast<std::uint32_t>(_mm_extract_epi32(halves, 1));
    value = static_cast<std::int64_t>(std::uint64_t{high} * 100'000'000U + low);
    return integer + 9;
#else
    return core::detail::parse_binance_quoted(text, decimals, value);
#endif
}

} // namespace quoter::md::detail
