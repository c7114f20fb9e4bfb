// Decimal string <-> scaled integer conversion. Overflow is detected with the compiler's checked
// arithmetic so that every int64 value, including the extremes, round-trips exactly. The inline
// parse_decimal (decimal.hpp) handles short unsigned values itself and defers to this parser for
// everything else.
#include "quoter/core/decimal.hpp"


namespace quoter::core {

std::string_view describe(decimal_error error) noexcept {
    switch (error) {
    case decimal_error::none: return "no error";
    case decimal_error::empty: return "empty value";
    case decimal_error::no_digits: return "no digits";
    case decimal_error::sign_not_allowed: return "sign not allowed here";
    case decimal_error::exponent: return "exponent notation is not accepted";
    case decimal_error::bad_character: return "unexpected character";
    case decimal_error::too_many_decimals: return "more decimals than the symbol supports";
    case decimal_error::overflow: return "value out of range";
    case decimal_error::off_grid: return "not a multiple of the tick/step size";
    }
    return "unknown error";
}

result<std::int64_t, decimal_error>
detail::parse_decimal_checked(std::string_view text, decimal_options options) noexcept {
    if (text.empty()) {
        return unexpected{decimal_error::empty};
    }
    const char* p = text.data();
    const char* const end = p + text.size();
    bool negative = false;
    if (*p == '-' || *p == '+') {
        if (!options.allow_sign) {
            return unexpected{decimal_error::sign_not_allowed};
        }
        negative = *p == '-';
        ++p;
    }

    // Accumulate as a negative number: the int64 range is one larger on that side, so
    // INT64_MIN parses without overflow.
    std::int64_t accumulated = 0;
    int digits = 0;
    for (; p != end; ++p) {
        const unsigned digit = static_cast<unsigned char>(*p) - '0';
        if (digit > 9) {
            break;
        }
        if (__builtin_mul_overflow(accumulated, 10, &accumulated) ||
            __builtin_sub_overflow(accumulated, static_cast<std::int64_t>(digit), &accumulated)) {
            return unexpected{decimal_error::overflow};
        }
        ++digits;
    }

    int fraction_digits = 0;
    if (p != end && *p == '.') {
        ++p;
        for (; p != end; ++p) {
            const unsigned digit = static_cast<unsigned char>(*p) - '0';
            if (digit > 9) {
                break;
            }
            ++digits;
            if (fraction_digits == options.decimals) {
                if (digit != 0) {
                    return unexpected{decimal_error::too_many_decimals};
                }
                continue;
            }
            ++fraction_digits;
            if (__builtin_mul_overflow(accumulated, 10, &accumulated) ||
                __builtin_sub_overflow(accumulated, static_cast<std::int64_t>(digit),
                                       &accumulated)) {
                return unexpected{decimal_error::overflow};
            }
        }
    }
    if (p != end) {
        if (*p == 'e' || *p == 'E') {
            return unexpected{decimal_error::exponent};
        }
        if (*p == '-' || *p == '+') {
            return unexpected{options.allow_sign ? decimal_error::bad_character
                                                 : decimal_error::sign_not_allowed};
        }
        return unexpected{decimal_error::bad_character};
    }
    if (digits == 0) {
        return unexpected{decimal_error::no_digits};
    }
    if (fraction_digits < options.decimals) {
        if (__builtin_mul_overflow(accumulated, pow10(options.decimals - fraction_digits),
                                   &accumulated)) {
            return unexpected{decimal_error::overflow};
        }
    }
    if (negative) {
        return accumulated;
    }
    std::int64_t positive = 0;
    if (__builtin_sub_overflow(std::int64_t{0}, accumulated, &positive)) {
        return unexpected{decimal_error::overflow};
    }
    return positive;
}

std::string_view format_decimal(std::int64_t scaled, int decimals, std::span<char> out) noexcept {
    // Work in unsigned so that INT64_MIN has a magnitude.
    const bool negative = scaled < 0;
    std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(scaled)
                                       : static_cast<std::uint64_t>(scaled);
    char digits[48];
    int length = 0;
    do {
        digits[length++] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0 || length <= decimals);

    std::size_t written = 0;
    const auto put = [&](char c) {
        if (written < out.size()) {
            out[written++] = c;
        }
    };
    if (negative) {
        put('-');
    }
    for (int i = length - 1; i >= 0; --i) {
        put(digits[i]);
        if (i == decimals && decimals > 0) {
            put('.');
        }
    }
    return {out.data(), written};
}

result<int, decimal_error> significant_decimals(std::string_view text) noexcept {
    int decimals = 0;
    if (const auto point = text.find('.'); point != std::string_view::npos) {
        for (std::size_t i = point + 1; i < text.size(); ++i) {
            if (text[i] >= '1' && text[i] <= '9') {
                decimals = static_cast<int>(i - point);
            }
        }
    }
    if (decimals > max_decimals) {
        return unexpected{decimal_error::too_many_decimals};
    }
    // Validates the whole text with exactly the precision found.
    if (const auto parsed = parse_decimal(text, {.decimals = decimals}); !parsed) {
        return unexpected{parsed.error()};
    }
    return decimals;
}

} // namespace quoter::core
