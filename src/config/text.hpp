// Text helpers for configuration messages and listings: TOML literals, units implied by key
// names, and "did you mean" suggestions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace quoter::config::detail {

/// "engine" and "mode" -> "engine.mode"; just the key when the path is empty.
[[nodiscard]] std::string join_key(std::string_view path, std::string_view key);
/// "mode" for "engine.mode".
[[nodiscard]] std::string_view leaf_of(std::string_view key) noexcept;
/// "engine" for "engine.mode"; empty for a top-level name.
[[nodiscard]] std::string_view parent_of(std::string_view key) noexcept;
/// Lower-case letters, digits and '_', not empty.
[[nodiscard]] bool is_snake_case(std::string_view name) noexcept;
[[nodiscard]] std::string lower_copy(std::string_view text);
/// Each name quoted, joined by `separator`: "\"sim\", \"live\"".
[[nodiscard]] std::string quoted_list(std::span<const std::string_view> names,
                                      std::string_view separator);

/// A TOML basic string literal, quotes and escapes included.
[[nodiscard]] std::string quote(std::string_view text);

/// quote(), shortened to about `limit` characters with "…" so that a long value cannot flood a
/// message.
[[nodiscard]] std::string quote_short(std::string_view text, std::size_t limit = 40);

/// A double as a TOML float literal: shortest round-trip form, always with a '.' or exponent.
[[nodiscard]] std::string float_literal(double value);

/// A double for messages and ranges: shortest round-trip form ("0", "0.5", "10000").
[[nodiscard]] std::string plain_number(double value);

/// "ENGINE_MODE" for "engine.mode".
[[nodiscard]] std::string env_suffix(std::string_view dotted_key);

/// The unit a key's name carries: _bps, _pct (%), _ms, _us, _ns, _s, _per_s (1/s), _ticks.
[[nodiscard]] std::string_view unit_from_name(std::string_view key) noexcept;

/// Edit distance with adjacent transpositions, case-insensitive.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `typed`, if it is close enough to be a likely typo.
[[nodiscard]] std::optional<std::string> closest(std::string_view typed,
                                                 std::span<const std::string> candidates);

} // namespace quoter::config::detail
