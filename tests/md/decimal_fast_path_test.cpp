// The market-data decoders read every price and quantity through the inline fast paths of
// core::parse_decimal and symbol_spec::parse_price/parse_qty: these tests hold them to the
// overflow-checked parser and to plain division on every shape, success or error.
#include "quoter/core/decimal.hpp"
#include "quoter/core/symbol_spec.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

using quoter::core::decimal_error;
using quoter::core::decimal_options;
using quoter::core::parse_decimal;
using quoter::core::symbol_spec;

namespace {

/// Same value or same error as the checked parser.
bool agrees(std::string_view text, decimal_options options) {
    const auto fast = parse_decimal(text, options);
    const auto checked = quoter::core::detail::parse_decimal_checked(text, options);
    if (fast.has_value() != checked.has_value()) {
        return false;
    }
    return fast.has_value() ? *fast == *checked : fast.error() == checked.error();
}

std::string digits(std::mt19937_64& rng, std::size_t count, bool mostly_zeros) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        out += mostly_zeros && rng() % 3 != 0 ? '0' : static_cast<char>('0' + rng() % 10);
    }
    return out;
}

} // namespace

TEST_CASE("parse_decimal agrees with the checked parser on Binance-shaped text",
          "[decimal][fast_path]") {
    std::mt19937_64 rng(11);
    for (int integer_digits = 0; integer_digits <= 9; ++integer_digits) {
        for (int fraction_digits = 0; fraction_digits <= 10; ++fraction_digits) {
            for (int sample = 0; sample < 60; ++sample) {
                std::string text = digits(rng, static_cast<std::size_t>(integer_digits), false);
                if (fraction_digits > 0 || sample % 2 == 0) {
                    text += '.';
                    text += digits(rng, static_cast<std::size_t>(fraction_digits), true);
                }
                for (int decimals = 0; decimals <= quoter::core::max_decimals; ++decimals) {
                    INFO(text << " with " << decimals << " decimals");
                    REQUIRE(agrees(text, {.decimals = decimals}));
                }
            }
        }
    }
    CHECK(*parse_decimal("61737.63000000", {.decimals = 2}) == 6173763);
    CHECK(*parse_decimal("0.00100000", {.decimals = 8}) == 100000);
    CHECK(*parse_decimal("1234567.12345678", {.decimals = 8}) == 123456712345678);
    CHECK(*parse_decimal("1.00000000", {.decimals = 18}) == 1'000'000'000'000'000'000);
    CHECK(parse_decimal("61737.63000001", {.decimals = 2}).error() ==
          decimal_error::too_many_decimals);
    CHECK(parse_decimal("61737.6300000x", {.decimals = 2}).error() == decimal_error::bad_character);
}

TEST_CASE("parse_decimal agrees with the checked parser on arbitrary text",
          "[decimal][fast_path]") {
    std::mt19937_64 rng(12);
    constexpr std::string_view alphabet = "0123456789000000....-+eE x\\\"";
    for (int sample = 0; sample < 40000; ++sample) {
        std::string text;
        const std::size_t size = rng() % 24;
        for (std::size_t i = 0; i < size; ++i) {
            text += alphabet[rng() % alphabet.size()];
        }
        for (const int decimals : {0, 1, 2, 5, 7, 8, 9, 12, 18}) {
            for (const bool allow_sign : {false, true}) {
                INFO('"' << text << "\" with " << decimals << " decimals");
                REQUIRE(agrees(text, {.decimals = decimals, .allow_sign = allow_sign}));
            }
        }
    }
    // The int64 edges stay exact: the fast paths leave them to the checked parser.
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    CHECK(*parse_decimal("92233720368.54775807", {.decimals = 8}) == max);
    CHECK(parse_decimal("92233720368.54775808", {.decimals = 8}).error() ==
          decimal_error::overflow);
    CHECK(*parse_decimal("999999999999999999", {.decimals = 0}) == 999999999999999999);
    CHECK(*parse_decimal("9999999999.99999999", {.decimals = 8}) == 999999999999999999);
}

TEST_CASE("parse_price and parse_qty divide by any tick or step exactly", "[decimal][fast_path]") {
    std::mt19937_64 rng(13);
    for (const std::int64_t units : {1, 2, 3, 5, 7, 10, 12, 25, 64, 100, 1000, 999983}) {
        const std::string text = std::to_string(units);
        const auto spec = symbol_spec::from_text(
            {.name = "X", .tick_size = text, .step_size = text, .min_notional = {}});
        REQUIRE(spec.has_value());
        REQUIRE(spec->tick_units() == units);
        for (int sample = 0; sample < 20000; ++sample) {
            const std::int64_t value = sample % 4 == 0
                                           ? static_cast<std::int64_t>(rng() >> 1U)
                                           : static_cast<std::int64_t>(rng() % 1000000);
            const auto px = spec->parse_price(std::to_string(value));
            const auto lots = spec->parse_qty(std::to_string(value));
            INFO(value << " on a grid of " << units);
            if (value % units == 0) {
                REQUIRE(px.has_value());
                REQUIRE(px->ticks() == value / units);
                REQUIRE(lots.has_value());
                REQUIRE(lots->lots() == value / units);
            } else {
                REQUIRE(px.error() == decimal_error::off_grid);
                REQUIRE(lots.error() == decimal_error::off_grid);
            }
        }
    }
    // A fractional tick: 0.05 is 5 units of 10^-2.
    const auto coarse = symbol_spec::from_text(
        {.name = "Y", .tick_size = "0.05", .step_size = "0.001", .min_notional = {}});
    REQUIRE(coarse.has_value());
    CHECK(coarse->parse_price("61737.65000000")->ticks() == 1234753);
    CHECK(coarse->parse_price("61737.64000000").error() == decimal_error::off_grid);
    CHECK(coarse->parse_qty("0.00100000")->lots() == 1);
}

TEST_CASE("parse_binance_quoted reads Binance's shape in place exactly as parse_decimal",
          "[decimal]") {
    std::mt19937_64 rng(11);
    const std::string_view alphabet = "0123456789.\"e-";
    std::size_t accepted = 0;
    for (int round = 0; round < 200'000; ++round) {
        std::string text;
        if (rng() % 2 == 0) {
            // The shape itself: 1 to 8 integer digits, a point, 6 to 9 decimals, a quote.
            text =
                digits(rng, 1 + rng() % 8, false) + "." + digits(rng, 6 + rng() % 4, true) + "\"";
        } else {
            for (std::size_t i = 0, n = 1 + rng() % 18; i < n; ++i) {
                text += alphabet[rng() % alphabet.size()];
            }
        }
        if (rng() % 4 == 0) {
            text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
        }
        const std::string buffer = text + std::string(24, rng() % 2 == 0 ? '7' : '"');
        const int decimals = static_cast<int>(rng() % 11);
        std::int64_t value = -1;
        const std::size_t size =
            quoter::core::detail::parse_binance_quoted(buffer.data(), decimals, value);
        if (size == 0) {
            REQUIRE(value == -1); // untouched
            continue;
        }
        ++accepted;
        INFO(text << " decimals " << decimals);
        REQUIRE(buffer[size] == '"');
        REQUIRE(size >= 10);
        REQUIRE(size <= 16);
        const auto expected =
            parse_decimal(std::string_view(buffer.data(), size), {.decimals = decimals});
        REQUIRE(expected.has_value());
        REQUIRE(*expected == value);
    }
    CHECK(accepted > 5'000);
}
