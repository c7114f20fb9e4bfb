#include "quoter/sim/portable_math.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

namespace portable = quoter::sim::portable;

namespace {

double relative_error(double value, double reference) {
    return std::abs(value - reference) / std::abs(reference);
}

} // namespace

TEST_CASE("portable exp agrees with the C library to a few ulp", "[portable_math]") {
    double worst = 0.0;
    for (double x = -700.0; x <= 709.0; x += 0.0137) {
        worst = std::max(worst, relative_error(portable::exp(x), std::exp(x)));
    }
    for (double x = -1e-3; x <= 1e-3; x += 1.3e-7) {
        worst = std::max(worst, relative_error(portable::exp(x), std::exp(x)));
    }
    CHECK(worst < 1e-15);
}

TEST_CASE("portable exp handles the edges of its range", "[portable_math]") {
    CHECK(portable::exp(0.0) == 1.0);
    CHECK(portable::exp(1000.0) == std::numeric_limits<double>::infinity());
    CHECK(portable::exp(-1000.0) == 0.0);
    CHECK(std::isnan(portable::exp(std::numeric_limits<double>::quiet_NaN())));
    CHECK(portable::exp(-std::numeric_limits<double>::infinity()) == 0.0);
    // Subnormal results keep their magnitude (precision shrinks there by nature).
    CHECK(portable::exp(-740.0) == Approx(std::exp(-740.0)).epsilon(1e-6));
    CHECK(portable::exp(709.7) == Approx(std::exp(709.7)).epsilon(1e-14));
}

TEST_CASE("portable exp near 0 is the table's value bit for bit", "[portable_math]") {
    // The shortcut for |x| < 2^-9 (a simulation step's log-return) must not move a mid path.
    const double limit = portable::detail::exp_unreduced_limit;
    std::uint64_t state = 12345;
    for (int i = 0; i < 200000; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = static_cast<double>(state >> 11) * 0x1.0p-53; // [0, 1)
        const double x = (2.0 * u - 1.0) * limit * (i % 2 == 0 ? 1.0 : 1e-4);
        REQUIRE(portable::exp(x) == portable::detail::exp_by_table(x));
    }
    for (const double x : {0.0, -0.0, std::nextafter(limit, 0.0), -std::nextafter(limit, 0.0),
                           limit, -limit, 1e-300, -1e-300, 5e-324}) {
        CHECK(std::signbit(portable::exp(x)) == std::signbit(portable::detail::exp_by_table(x)));
        CHECK(portable::exp(x) == portable::detail::exp_by_table(x));
    }
}

TEST_CASE("portable log agrees with the C library to a few ulp", "[portable_math]") {
    double worst = 0.0;
    for (double x = 1e-300; x < 1e300; x *= 1.0371) {
        worst = std::max(worst, relative_error(portable::log(x), std::log(x)));
    }
    for (double x = 0.5; x < 2.0; x += 1.1e-5) {
        if (x != 1.0) {
            // Near 1 log is near 0: bound the absolute error by the ulp of x instead.
            CHECK(std::abs(portable::log(x) - std::log(x)) <=
                  4e-16 * std::max(1.0, std::abs(std::log(x)) * 4));
        }
    }
    CHECK(worst < 1e-15);
    CHECK(portable::log(1.0) == 0.0);
    CHECK(portable::log(5e-324) == Approx(std::log(5e-324)).epsilon(1e-14));
    CHECK(portable::log(0.0) == -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(portable::log(-1.0)));
    CHECK(portable::log(std::numeric_limits<double>::infinity()) ==
          std::numeric_limits<double>::infinity());
}

TEST_CASE("compile-time and run-time evaluation give the same bits", "[portable_math]") {
    constexpr double exp_c = portable::exp(0.123456789);
    constexpr double log_c = portable::log(98765.4321);
    constexpr double sqrt_c = portable::sqrt(2.0);
    volatile double a = 0.123456789;
    volatile double b = 98765.4321;
    CHECK(portable::exp(a) == exp_c);
    CHECK(portable::log(b) == log_c);
    CHECK(relative_error(sqrt_c, std::sqrt(2.0)) <= 2.3e-16);
    for (double x = 0.001; x < 1000.0; x *= 1.7) {
        CHECK(relative_error(portable::sqrt(x), std::sqrt(x)) <= 2.3e-16);
    }
}
