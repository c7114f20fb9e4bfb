// The one UTC formatter: calendar edges (leap years, month and year ends, century rules), the
// fraction precisions, instants before the epoch, and agreement with gmtime_r over a sweep.
#include "quoter/core/utc_time.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

using namespace quoter;
using core::format_utc;
using core::utc_precision;

namespace {

constexpr core::timestamp_ns day_ns = 86'400 * core::ns_per_s;

/// Nanoseconds since the epoch of a UTC date and time, through timegm (the system's calendar).
core::timestamp_ns at(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
    std::tm parts{};
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    return static_cast<core::timestamp_ns>(::timegm(&parts)) * core::ns_per_s;
}

std::string text(core::timestamp_ns ns, utc_precision p = utc_precision::millis) {
    return std::string(format_utc(ns, p).view());
}

/// The same instant through gmtime_r, nanosecond precision.
std::string gmtime_text(core::timestamp_ns ns) {
    std::int64_t seconds = ns / core::ns_per_s;
    std::int64_t nanos = ns % core::ns_per_s;
    if (nanos < 0) {
        nanos += core::ns_per_s;
        --seconds;
    }
    const auto t = static_cast<std::time_t>(seconds);
    std::tm parts{};
    ::gmtime_r(&t, &parts);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
                  parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                  parts.tm_min, parts.tm_sec, static_cast<long long>(nanos));
    return buffer;
}

} // namespace

// Usable in constant expressions, so it cannot hide an allocation or a call into libc.
static_assert(format_utc(0, utc_precision::seconds).view() == "1970-01-01T00:00:00Z");
static_assert(format_utc(-1, utc_precision::nanos).view() == "1969-12-31T23:59:59.999999999Z");

TEST_CASE("utc_time: the epoch and every precision", "[core][utc_time]") {
    const core::timestamp_ns t = at(2026, 12, 4, 18, 46, 51) + 123'456'789;
    CHECK(text(0, utc_precision::seconds) == "1970-01-01T00:00:00Z");
    CHECK(text(t, utc_precision::seconds) == "2026-12-04T18:46:51Z");
    CHECK(text(t, utc_precision::millis) == "2026-12-04T18:46:51.123Z");
    CHECK(text(t, utc_precision::micros) == "2026-12-04T18:46:51.123456Z");
    CHECK(text(t, utc_precision::nanos) == "2026-12-04T18:46:51.123456789Z");
    CHECK(format_utc(t, utc_precision::nanos).size() == core::utc_text::max_size);
}

TEST_CASE("utc_time: fractions are truncated, never rounded up", "[core][utc_time]") {
    const core::timestamp_ns t = at(2026, 12, 31, 23, 59, 59) + 999'999'999;
    CHECK(text(t, utc_precision::seconds) == "2026-12-31T23:59:59Z");
    CHECK(text(t, utc_precision::millis) == "2026-12-31T23:59:59.999Z");
    CHECK(text(t, utc_precision::micros) == "2026-12-31T23:59:59.999999Z");
    CHECK(text(t + 1, utc_precision::millis) == "2027-01-01T00:00:00.000Z");
    CHECK(text(at(2026, 1, 1) + 999, utc_precision::micros) == "2026-01-01T00:00:00.000000Z");
    CHECK(text(at(2026, 1, 1) + 1'000, utc_precision::micros) == "2026-01-01T00:00:00.000001Z");
    CHECK(text(at(2026, 1, 1) + 999'999, utc_precision::millis) == "2026-01-01T00:00:00.000Z");
    CHECK(text(at(2026, 1, 1) + 1'000'000, utc_precision::millis) == "2026-01-01T00:00:00.001Z");
}

TEST_CASE("utc_time: leap years, including the century rules", "[core][utc_time]") {
    // Divisible by 4: leap.
    CHECK(text(at(2024, 2, 28) + day_ns, utc_precision::seconds) == "2024-02-29T00:00:00Z");
    CHECK(text(at(2024, 2, 28) + 2 * day_ns, utc_precision::seconds) == "2024-03-01T00:00:00Z");
    // Not divisible by 4: no 29 February.
    CHECK(text(at(2026, 2, 28) + day_ns, utc_precision::seconds) == "2026-03-01T00:00:00Z");
    // Divisible by 400: leap.
    CHECK(text(at(2000, 2, 28) + day_ns, utc_precision::seconds) == "2000-02-29T00:00:00Z");
    // Divisible by 100 but not 400: not leap.
    CHECK(text(at(1900, 2, 28) + day_ns, utc_precision::seconds) == "1900-03-01T00:00:00Z");
    CHECK(text(at(2100, 2, 28) + day_ns, utc_precision::seconds) == "2100-03-01T00:00:00Z");
    // The last day of a leap year is day 366.
    CHECK(text(at(2024, 1, 1) + 365 * day_ns, utc_precision::seconds) == "2024-12-31T00:00:00Z");
}

TEST_CASE("utc_time: the last nanosecond of every month of a leap and a common year",
          "[core][utc_time]") {
    constexpr int days_2024[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    constexpr int days_2025[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (const int year : {2024, 2025}) {
        const int* days = year == 2024 ? days_2024 : days_2025;
        for (int month = 1; month <= 12; ++month) {
            const core::timestamp_ns last =
                at(year, month, days[month - 1], 23, 59, 59) + 999'999'999;
            char expected[40];
            std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT23:59:59.999999999Z", year,
                          month, days[month - 1]);
            CHECK(text(last, utc_precision::nanos) == expected);
            const int next_month = month == 12 ? 1 : month + 1;
            const int next_year = month == 12 ? year + 1 : year;
            std::snprintf(expected, sizeof expected, "%04d-%02d-01T00:00:00.000000000Z", next_year,
                          next_month);
            CHECK(text(last + 1, utc_precision::nanos) == expected);
        }
    }
}

TEST_CASE("utc_time: instants before the epoch round down", "[core][utc_time]") {
    CHECK(text(-1, utc_precision::nanos) == "1969-12-31T23:59:59.999999999Z");
    CHECK(text(-core::ns_per_s, utc_precision::millis) == "1969-12-31T23:59:59.000Z");
    CHECK(text(-day_ns, utc_precision::seconds) == "1969-12-31T00:00:00Z");
    CHECK(text(-day_ns - 1, utc_precision::seconds) == "1969-12-30T23:59:59Z");
}

TEST_CASE("utc_time: the ends of the int64 nanosecond range", "[core][utc_time]") {
    CHECK(text(INT64_MAX, utc_precision::nanos) == "2262-04-11T23:47:16.854775807Z");
    CHECK(text(INT64_MIN, utc_precision::nanos) == "1677-09-21T00:12:43.145224192Z");
}

TEST_CASE("utc_time: agrees with gmtime_r across four centuries", "[core][utc_time]") {
    // A stride that is not a whole number of days or seconds walks every time of day, day of
    // month and month across leap and common years from 1700 to 2250.
    const core::timestamp_ns first = at(1700, 1, 1);
    const core::timestamp_ns last = at(2250, 1, 1);
    const core::timestamp_ns stride = 7 * day_ns + 3'727 * core::ns_per_s + 123'457'000;
    std::size_t compared = 0;
    for (core::timestamp_ns t = first; t < last; t += stride) {
        const std::string ours = text(t, utc_precision::nanos);
        const std::string theirs = gmtime_text(t);
        if (ours != theirs) {
            CHECK(ours == theirs); // reports only the mismatches, not 28,000 passing checks
        }
        ++compared;
    }
    CHECK(compared > 25'000);
}
