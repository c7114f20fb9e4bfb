#include "quoter/core/decimal.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using quoter::core::decimal_error;
using quoter::core::format_decimal;
using quoter::core::parse_decimal;
using quoter::core::significant_decimals;

namespace {

std::int64_t parsed(std::string_view text, int decimals, bool allow_sign = false) {
    const auto value = parse_decimal(text, {.decimals = decimals, .allow_sign = allow_sign});
    REQUIRE(value.has_value());
    return *value;
}

decimal_error failure(std::string_view text, int decimals, bool allow_sign = false) {
    const auto value = parse_decimal(text, {.decimals = decimals, .allow_sign = allow_sign});
    REQUIRE_FALSE(value.has_value());
    return value.error();
}

std::string formatted(std::int64_t scaled, int decimals) {
    std::array<char, 48> buffer{};
    return std::string(format_decimal(scaled, decimals, buffer));
}

} // namespace

TEST_CASE("Binance decimal strings parse exactly", "[decimal]") {
    CHECK(parsed("61737.63000000", 2) == 6173763);
    CHECK(parsed("61737.63000000", 8) == 6173763000000);
    CHECK(parsed("0.00000000", 8) == 0);
    CHECK(parsed("0.00001000", 5) == 1);
    CHECK(parsed("0.1", 8) == 10000000);
    CHECK(parsed("1", 0) == 1);
    CHECK(parsed("1.", 2) == 100);
    CHECK(parsed(".5", 1) == 5);
    CHECK(parsed("007.50", 2) == 750);
    CHECK(parsed("12345678901.12345678", 8) == 1234567890112345678);
}

TEST_CASE("signs are accepted only when allowed", "[decimal]") {
    CHECK(failure("-1.5", 2) == decimal_error::sign_not_allowed);
    CHECK(failure("+1.5", 2) == decimal_error::sign_not_allowed);
    CHECK(parsed("-1.5", 2, true) == -150);
    CHECK(parsed("+1.5", 2, true) == 150);
    CHECK(failure("1-5", 2) == decimal_error::sign_not_allowed);
    CHECK(failure("1-5", 2, true) == decimal_error::bad_character);
    CHECK(failure("--1", 2, true) == decimal_error::bad_character);
}

TEST_CASE("malformed decimals are rejected with a reason", "[decimal]") {
    CHECK(failure("", 8) == decimal_error::empty);
    CHECK(failure(".", 8) == decimal_error::no_digits);
    CHECK(failure("-", 8, true) == decimal_error::no_digits);
    CHECK(failure("1e5", 8) == decimal_error::exponent);
    CHECK(failure("1.5E-3", 8) == decimal_error::exponent);
    CHECK(failure("1.2.3", 8) == decimal_error::bad_character);
    CHECK(failure(" 1", 8) == decimal_error::bad_character);
    CHECK(failure("1 ", 8) == decimal_error::bad_character);
    CHECK(failure("1,5", 8) == decimal_error::bad_character);
    CHECK(failure("nan", 8) == decimal_error::bad_character);
    CHECK(failure("0x10", 8) == decimal_error::bad_character);
}

TEST_CASE("digits beyond the precision must be zeros", "[decimal]") {
    CHECK(parsed("1.23000000", 2) == 123);
    CHECK(failure("1.23000001", 2) == decimal_error::too_many_decimals);
    CHECK(failure("1.235", 2) == decimal_error::too_many_decimals);
    CHECK(failure("0.5", 0) == decimal_error::too_many_decimals);
    CHECK(parsed("5.0", 0) == 5);
}

TEST_CASE("overflow is detected at the int64 boundary", "[decimal]") {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    CHECK(parsed("9223372036854775807", 0) == max);
    CHECK(failure("9223372036854775808", 0) == decimal_error::overflow);
    CHECK(parsed("-9223372036854775808", 0, true) == min);
    CHECK(failure("-9223372036854775809", 0, true) == decimal_error::overflow);
    CHECK(parsed("92233720368.54775807", 8) == max);
    CHECK(failure("92233720368.54775808", 8) == decimal_error::overflow);
    // Scaling up a short fraction overflows too.
    CHECK(failure("92233720369", 8) == decimal_error::overflow);
    CHECK(failure("99999999999999999999999", 0) == decimal_error::overflow);
}

TEST_CASE("formatting pads to the precision and round-trips", "[decimal]") {
    CHECK(formatted(6173763, 2) == "61737.63");
    CHECK(formatted(1, 8) == "0.00000001");
    CHECK(formatted(0, 0) == "0");
    CHECK(formatted(0, 3) == "0.000");
    CHECK(formatted(-150, 2) == "-1.50");
    CHECK(formatted(std::numeric_limits<std::int64_t>::min(), 0) == "-9223372036854775808");
    CHECK(formatted(std::numeric_limits<std::int64_t>::max(), 8) == "92233720368.54775807");

    std::mt19937_64 random(42);
    for (int i = 0; i < 100000; ++i) {
        const auto value = static_cast<std::int64_t>(random());
        const int decimals = static_cast<int>(random() % 19);
        const auto text = formatted(value, decimals);
        CHECK(parsed(text, decimals, true) == value);
    }
}

TEST_CASE("formatting never writes past the buffer", "[decimal]") {
    std::array<char, 4> small{};
    const auto text = format_decimal(6173763, 2, small);
    CHECK(text == "6173");
}

TEST_CASE("significant decimals of a tick or step size", "[decimal]") {
    CHECK(*significant_decimals("0.01000000") == 2);
    CHECK(*significant_decimals("0.00001000") == 5);
    CHECK(*significant_decimals("1.00000000") == 0);
    CHECK(*significant_decimals("10") == 0);
    CHECK(*significant_decimals("100000000000") == 0);
    CHECK(*significant_decimals("0.05") == 2);
    CHECK(*significant_decimals("0.000000000000000001") == 18);
    CHECK_FALSE(significant_decimals("0.0000000000000000001").has_value());
    CHECK_FALSE(significant_decimals("abc").has_value());
}
