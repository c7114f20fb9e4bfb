#include "account_balances.hpp"

#include <cctype>
#include <cstdio>

namespace quoter::venue {

std::string format_e8(std::int64_t amount_e8) {
    const bool negative = amount_e8 < 0;
    const auto magnitude = negative ? 0 - static_cast<std::uint64_t>(amount_e8)
                                    : static_cast<std::uint64_t>(amount_e8);
    char text[48];
    std::snprintf(text, sizeof text, "%s%llu.%08llu", negative ? "-" : "",
                  static_cast<unsigned long long>(magnitude / 100'000'000),
                  static_cast<unsigned long long>(magnitude % 100'000'000));
    return text;
}

std::optional<std::pair<std::string, std::int64_t>> parse_balance(std::string_view text) {
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return std::nullopt;
    }
    std::string_view number = text.substr(eq + 1);
    const bool negative = number.starts_with('-');
    number.remove_prefix(negative ? 1 : 0);
    const std::size_t dot = number.find('.');
    const std::string_view whole = number.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
    if ((whole.empty() && fraction.empty()) || whole.size() > 10 || fraction.size() > 8) {
        return std::nullopt;
    }
    std::int64_t e8 = 0;
    for (const char c : whole) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return std::nullopt;
        }
        e8 = e8 * 10 + (c - '0');
    }
    for (std::size_t i = 0; i < 8; ++i) {
        const char c = i < fraction.size() ? fraction[i] : '0';
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return std::nullopt;
        }
        e8 = e8 * 10 + (c - '0');
    }
    return std::pair{std::string(text.substr(0, eq)), negative ? -e8 : e8};
}

std::int64_t& account_balances::of(const std::string& asset) {
    for (auto& [name, amount] : amounts_) {
        if (name == asset) {
            return amount;
        }
    }
    std::int64_t start = asset == "USDT" || asset == "USD" ? 100'000LL * 100'000'000LL : 0;
    for (const auto& [name, amount] : seeds_) {
        if (name == asset) {
            start = amount;
        }
    }
    amounts_.emplace_back(asset, start);
    return amounts_.back().second;
}

const std::vector<std::pair<std::string, std::int64_t>>& account_balances::all() {
    for (const auto& [name, amount] : seeds_) {
        (void)of(name);
    }
    return amounts_;
}

std::string account_balances::json() const {
    std::string out = "{";
    for (const auto& [asset, e8] : amounts_) {
        out += (out.size() > 1 ? ",\"" : "\"") + asset + "\":" + std::to_string(e8);
    }
    return out + "}";
}

} // namespace quoter::venue
