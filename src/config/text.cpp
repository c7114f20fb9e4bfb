#include "text.hpp"

#include "quoter/core/quoted_string.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace quoter::config::detail {
namespace {

char lower(char c) noexcept {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool ends_with(std::string_view text, std::string_view suffix) noexcept {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

std::string join_key(std::string_view path, std::string_view key) {
    if (path.empty()) {
        return std::string(key);
    }
    return fmt::format("{}.{}", path, key);
}

bool is_snake_case(std::string_view name) noexcept {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}
std::string_view leaf_of(std::string_view full) noexcept {
    const auto dot = full.rfind('.');
    return dot == std::string_view::npos ? full : full.substr(dot + 1);
}

std::string_view parent_of(std::string_view full) noexcept {
    const auto dot = full.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : full.substr(0, dot);
}

std::string lower_copy(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string quoted_list(std::span<const std::string_view> names, std::string_view separator) {
    std::string out;
    for (const auto name : names) {
        if (!out.empty()) {
            out += separator;
        }
        out += quote(name);
    }
    return out;
}
std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    core::append_quoted(out, text);
    return out;
}

std::string quote_short(std::string_view text, std::size_t limit) {
    if (text.size() <= limit) {
        return quote(text);
    }
    std::size_t cut = limit;
    // Never split a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    std::string out = quote(text.substr(0, cut));
    out.insert(out.size() - 1, "\u2026");
    return out;
}

std::string float_literal(double value) {
    std::string out = fmt::format("{}", value);
    if (out.find_first_of(".eEni") == std::string::npos) {
        out += ".0";
    }
    return out;
}

std::string plain_number(double value) {
    return fmt::format("{}", value);
}

std::string env_suffix(std::string_view dotted_key) {
    std::string out;
    out.reserve(dotted_key.size());
    for (const char c : dotted_key) {
        out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string_view unit_from_name(std::string_view key) noexcept {
    if (ends_with(key, "_per_s")) {
        return "1/s";
    }
    if (ends_with(key, "_bps")) {
        return "bps";
    }
    if (ends_with(key, "_pct")) {
        return "%";
    }
    if (ends_with(key, "_ms")) {
        return "ms";
    }
    if (ends_with(key, "_us")) {
        return "us";
    }
    if (ends_with(key, "_ns")) {
        return "ns";
    }
    if (ends_with(key, "_s")) {
        return "s";
    }
    if (ends_with(key, "_ticks")) {
        return "ticks";
    }
    return {};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment: Levenshtein plus swaps of two neighbours ("sprad" / "spard").
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::vector<std::size_t> d((n + 1) * (m + 1));
    const auto at = [m](std::size_t i, std::size_t j) { return i * (m + 1) + j; };
    for (std::size_t i = 0; i <= n; ++i) {
        d[at(i, 0)] = i;
    }
    for (std::size_t j = 0; j <= m; ++j) {
        d[at(0, j)] = j;
    }
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            std::size_t best =
                std::min({d[at(i - 1, j)] + 1, d[at(i, j - 1)] + 1, d[at(i - 1, j - 1)] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1])) {
                best = std::min(best, d[at(i - 2, j - 2)] + 1);
            }
            d[at(i, j)] = best;
        }
    }
    return d[at(n, m)];
}

std::optional<std::string> closest(std::string_view typed,
                                   std::span<const std::string> candidates) {
    // A third of the name may be wrong, at least one character and at most three.
    const std::size_t allowed = std::clamp<std::size_t>(typed.size() / 3, 1, 3);
    std::optional<std::string> best;
    std::size_t best_distance = allowed + 1;
    for (const auto& candidate : candidates) {
        const std::size_t distance = edit_distance(typed, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

} // namespace quoter::config::detail
