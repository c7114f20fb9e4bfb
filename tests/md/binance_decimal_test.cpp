// md::detail::parse_binance_quoted (the vector reader of Binance's decimal shape) against the
// scalar core::detail::parse_binance_quoted whose contract it shares: same acceptance, same
// length, same value, value untouched on rejection, on the shape, its near misses and noise.
#include "md/binance_decimal.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>

namespace {

std::string random_digits(std::mt19937_64& rng, std::size_t count) {
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        // Zeros often, so that "decimals beyond the precision are zeros" holds now and then.
        text += rng() % 3 == 0 ? '0' : static_cast<char>('0' + rng() % 10);
    }
    return text;
}

/// Both readers on text (followed by filler, 24 bytes); checks that they agree and returns
/// whether they accepted it.
bool require_same(const std::string& text, char filler, int decimals) {
    const std::string buffer = text + std::string(24, filler);
    std::int64_t scalar = -7;
    std::int64_t vector = -7;
    const std::size_t scalar_size =
        quoter::core::detail::parse_binance_quoted(buffer.data(), decimals, scalar);
    const std::size_t vector_size =
        quoter::md::detail::parse_binance_quoted(buffer.data(), decimals, vector);
    INFO(text << " decimals " << decimals);
    REQUIRE(vector_size == scalar_size);
    REQUIRE(vector == scalar);
    return vector_size != 0;
}

} // namespace

TEST_CASE("the vector decimal reader agrees with the scalar one on every text", "[decimal]") {
    std::mt19937_64 rng(29);
    const std::string_view alphabet = "0123456789.\"e-/:";
    std::size_t accepted = 0;
    for (int round = 0; round < 300'000; ++round) {
        std::string text;
        switch (rng() % 3) {
        case 0: // the shape: 1 to 7 integer digits, a point, 8 decimals, a quote
            text = random_digits(rng, 1 + rng() % 7) + "." + random_digits(rng, 8) + "\"";
            break;
        case 1: // near misses: 0 to 9 integer digits, 6 to 10 decimals
            text = random_digits(rng, rng() % 10) + "." + random_digits(rng, 6 + rng() % 5) + "\"";
            break;
        default:
            for (std::size_t i = 0, n = 1 + rng() % 20; i < n; ++i) {
                text += alphabet[rng() % alphabet.size()];
            }
        }
        if (rng() % 4 == 0) {
            text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
        }
        const int decimals = static_cast<int>(rng() % 20); // 0 to 19
        const char filler = "7\"0."[rng() % 4];
        accepted += require_same(text, filler, decimals) ? 1 : 0;
    }
    CHECK(accepted > 20'000);
}

TEST_CASE("the vector decimal reader reads every shape and digit position", "[decimal]") {
    // Every integer length and kept count, with a non-zero digit at each position in turn.
    for (std::size_t integer = 1; integer <= 7; ++integer) {
        for (int decimals = 0; decimals <= 9; ++decimals) {
            for (std::size_t position = 0; position < integer + 8; ++position) {
                std::string digits(integer + 8, '0');
                digits[position] = '7';
                const std::string text = digits.substr(0, integer) + "." + digits.substr(integer);
                (void)require_same(text + "\"", 'x', decimals);
                (void)require_same(text + "0\"", 'x', decimals); // 9 decimals: rejected
                (void)require_same(text + "x", '"', decimals);   // no closing quote
            }
            (void)require_same(std::string(integer, '9') + ".99999999\"", '"', decimals);
        }
    }
    std::int64_t value = 0;
    const std::string text = "61737.63000000\"" + std::string(24, ' ');
    REQUIRE(quoter::md::detail::parse_binance_quoted(text.data(), 2, value) == 14);
    CHECK(value == 6173763);
    REQUIRE(quoter::md::detail::parse_binance_quoted(text.data(), 8, value) == 14);
    CHECK(value == 6173763000000);
    const std::string off_grid = "0.00012345\"" + std::string(24, ' ');
    value = -1;
    CHECK(quoter::md::detail::parse_binance_quoted(off_grid.data(), 5, value) == 0);
    CHECK(value == -1);
}
