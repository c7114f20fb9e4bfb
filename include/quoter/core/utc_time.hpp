// utc_time: the one formatter of wall-clock nanoseconds as ISO 8601 UTC text
// ("2026-12-04T18:46:51.123Z"), for every place that shows a person when something happened
// (alerts, the journal, the status document). The text is built in a fixed-size value, with no
// allocation, no locale, no time zone database and no system call, so a signal-safe or
// allocation-free writer (the stderr alert sink) can use it as well as a JSON writer.
//
// The calendar is the proleptic Gregorian one, computed from days since 1970-01-01 (days to
// civil date by 400-year eras), so it agrees with gmtime_r for every instant an int64 of
// nanoseconds can hold (years 1677 to 2262, always four digits). Instants before the epoch
// round down: -1 ns is 1969-12-31T23:59:59.999999999Z.
#pragma once

#include "quoter/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::core {

/// Digits after the seconds.
enum class utc_precision : std::uint8_t {
    seconds, ///< "2026-12-04T18:46:51Z"
    millis,  ///< "2026-12-04T18:46:51.123Z"
    micros,  ///< "2026-12-04T18:46:51.123456Z"
    nanos,   ///< "2026-12-04T18:46:51.123456789Z"
};

/// A calendar date and time of day in UTC.
struct utc_fields {
    int year = 1970;
    int month = 1;          ///< 1..12
    int day = 1;            ///< 1..31
    int hour = 0;           ///< 0..23
    int minute = 0;         ///< 0..59
    int second = 0;         ///< 0..59 (no leap seconds: Unix time has none)
    std::int64_t nanos = 0; ///< 0..999'999'999
};

/// Splits nanoseconds since the Unix epoch into UTC calendar fields.
[[nodiscard]] constexpr utc_fields to_utc_fields(timestamp_ns ns) noexcept {
    constexpr std::int64_t seconds_per_day = 86'400;
    // Floor division, so that instants before 1970 get a non-negative time of day.
    std::int64_t seconds = ns / ns_per_s;
    std::int64_t nanos = ns % ns_per_s;
    if (nanos < 0) {
        nanos += ns_per_s;
        --seconds;
    }
    std::int64_t days = seconds / seconds_per_day;
    std::int64_t second_of_day = seconds % seconds_per_day;
    if (second_of_day < 0) {
        second_of_day += seconds_per_day;
        --days;
    }

    // Days since 1970-01-01 to a civil date. Counting from 0000-03-01 puts the leap day last in
    // the year, so each 400-year era (146,097 days) repeats exactly and month lengths follow a
    // linear formula from March on.
    const std::int64_t from_march_0000 = days + 719'468;
    const std::int64_t era =
        (from_march_0000 >= 0 ? from_march_0000 : from_march_0000 - 146'096) / 146'097;
    const std::int64_t day_of_era = from_march_0000 - era * 146'097; // 0..146096
    const std::int64_t year_of_era =
        (day_of_era - day_of_era / 1'460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
    const std::int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // 0..365
    const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;           // 0..11
    const std::int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..31
    const std::int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
    const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

    utc_fields f;
    f.year = static_cast<int>(year);
    f.month = static_cast<int>(month);
    f.day = static_cast<int>(day);
    f.hour = static_cast<int>(second_of_day / 3'600);
    f.minute = static_cast<int>(second_of_day / 60 % 60);
    f.second = static_cast<int>(second_of_day % 60);
    f.nanos = nanos;
    return f;
}

/// ISO 8601 UTC text held by value: no allocation, trivially copyable.
class utc_text {
public:
    /// The longest text: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
    static constexpr std::size_t max_size = 30;

    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars_.data(), size_};
    }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
    [[nodiscard]] constexpr const char* data() const noexcept { return chars_.data(); }

    friend constexpr utc_text format_utc(timestamp_ns ns, utc_precision precision) noexcept;

private:
    constexpr void digits(std::int64_t value, int count) noexcept {
        for (int i = count - 1; i >= 0; --i) {
            chars_[size_ + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
        size_ += static_cast<std::size_t>(count);
    }
    constexpr void put(char c) noexcept { chars_[size_++] = c; }

    std::array<char, max_size> chars_{};
    std::size_t size_ = 0;
};

/// Formats nanoseconds since the Unix epoch as "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the fraction
/// truncated (not rounded) to the precision, so the text never names a later instant.
[[nodiscard]] constexpr utc_text format_utc(timestamp_ns ns, utc_precision precision) noexcept {
    const utc_fields f = to_utc_fields(ns);
    utc_text text;
    text.digits(f.year, 4);
    text.put('-');
    text.digits(f.month, 2);
    text.put('-');
    text.digits(f.day, 2);
    text.put('T');
    text.digits(f.hour, 2);
    text.put(':');
    text.digits(f.minute, 2);
    text.put(':');
    text.digits(f.second, 2);
    switch (precision) {
    case utc_precision::seconds:
        break;
    case utc_precision::millis:
        text.put('.');
        text.digits(f.nanos / ns_per_ms, 3);
        break;
    case utc_precision::micros:
        text.put('.');
        text.digits(f.nanos / ns_per_us, 6);
        break;
    case utc_precision::nanos:
        text.put('.');
        text.digits(f.nanos, 9);
        break;
    }
    text.put('Z');
    return text;
}

} // namespace quoter::core
