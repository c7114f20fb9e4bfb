// Listings of a resolved configuration: the commented-TOML view `quoter config check` prints,
// and the Markdown rows docs/config.md is checked against. Both take values from key_info, in
// which secrets are already masked.
#include "quoter/config/config.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace quoter::config {
namespace {

/// Width in terminal columns, counting each UTF-8 sequence ("…") as one.
std::size_t display_width(std::string_view text) noexcept {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

std::string_view table_of(std::string_view key) {
    const auto dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : key.substr(0, dot);
}

std::string_view leaf_of(std::string_view key) {
    const auto dot = key.rfind('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

std::string escape_cell(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '|') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

std::string origin_text(const key_info& key) {
    if (key.type == "secret" && key.origin.kind == origin_kind::default_value) {
        return "not set";
    }
    return to_string(key.origin);
}

} // namespace

std::string format_resolved(const resolved_config& config) {
    constexpr std::size_t max_column = 64;
    std::string out = fmt::format("# quoter configuration: {}\n", config.file);
    std::string defined;
    for (const auto& name : config.defined_profiles) {
        defined += defined.empty() ? "" : ", ";
        defined += name;
    }
    if (config.profile.empty()) {
        out += "# profile: none";
    } else {
        out += fmt::format("# profile: {} (from {})", config.profile, config.profile_source);
    }
    out += defined.empty() ? std::string("; the file defines no profiles\n")
                           : fmt::format("; the file defines {}\n", defined);
    out += "# Each value is followed by where it came from: default, file:line, profile, env, or\n"
           "# secrets file. Secrets are masked.\n";

    std::size_t begin = 0;
    while (begin < config.keys.size()) {
        const std::string_view table = table_of(config.keys[begin].key);
        std::size_t end = begin;
        std::size_t width = 0;
        while (end < config.keys.size() && table_of(config.keys[end].key) == table) {
            const auto& key = config.keys[end];
            width = std::max(width,
                             display_width(leaf_of(key.key)) + 3 + display_width(key.value_text));
            ++end;
        }
        width = std::min(width, max_column);
        out += fmt::format("\n[{}]\n", table);
        for (std::size_t i = begin; i < end; ++i) {
            const auto& key = config.keys[i];
            std::string line = fmt::format("{} = {}", leaf_of(key.key), key.value_text);
            const std::size_t used = display_width(line);
            line.append(used < width ? width - used : 0, ' ');
            out += fmt::format("{}  # {}\n", line, origin_text(key));
        }
        begin = end;
    }
    return out;
}

std::string format_reference_row(const key_info& key) {
    return fmt::format("| `{}` | {} | `{}` | {} | {} | {} |", key.key, key.type,
                       escape_cell(key.default_text), escape_cell(key.constraint), key.unit,
                       escape_cell(key.doc));
}

} // namespace quoter::config
