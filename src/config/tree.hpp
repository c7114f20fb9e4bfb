// The configuration tree: parsed TOML turned into plain nodes that remember where each key and
// value was written, so that a profile overlay can be merged in while every value keeps its
// exact file position for error messages and the resolved listing.
#pragma once

#include "quoter/core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::config::detail {

/// 1-based line and column; 0:0 when a table was created implicitly.
struct position {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

enum class node_kind : std::uint8_t { table, array, string, integer, floating, boolean, date_time };

struct member;

struct node {
    node_kind kind = node_kind::table;
    position where;            ///< The value, or the table header.
    bool from_profile = false; ///< Set on everything a profile overlay contributed.
    /// 1-based index of the load_options override that wrote it; 0: the file or a profile.
    std::uint32_t override_index = 0;
    std::string text; ///< String value; date-times in their TOML form.
    std::int64_t integer = 0;
    double floating = 0.0;
    bool boolean = false;
    std::vector<member> members; ///< Table entries, in key order.
    std::vector<node> elements;  ///< Array elements.

    [[nodiscard]] const node* find(std::string_view key) const;
    [[nodiscard]] node* find(std::string_view key);
    /// Removes the entry `key` of a table; returns whether it existed.
    bool erase(std::string_view key);
};

struct member {
    std::string key;
    position key_where;
    node value;
};

/// "string", "integer", "float", "boolean", "table", "array", "date-time".
[[nodiscard]] std::string_view kind_name(node_kind kind) noexcept;

/// A value as an error message's "found ..." part: "string \"abc\"", "integer 5",
/// "float 0.5", "boolean true", "a table", "an array", "date-time 1979-05-27".
[[nodiscard]] std::string describe_found(const node& value);

struct syntax_error {
    position where;
    std::string description;
};

/// Parses TOML text; `source_name` labels positions inside the parser's messages.
[[nodiscard]] core::result<node, syntax_error> parse_toml(std::string_view text,
                                                          const std::string& source_name);

/// Deep-merges overlay into base: tables merge key by key, anything else replaces. Nodes taken
/// from the overlay are marked from_profile.
void merge_overlay(node& base, const node& overlay);

struct file_contents {
    std::string text;
    unsigned mode = 0; ///< Permission bits (st_mode & 07777).
    bool regular = false;
    bool refused = false; ///< A forbidden permission bit was set; nothing was read.
};

/// Reads a whole regular file; on failure, the reason (strerror text). The permissions are
/// checked on the open descriptor before reading: when any of `forbidden_mode_bits` is set, or
/// the file is not regular, the text stays empty.
[[nodiscard]] core::result<file_contents, std::string> read_file(const std::string& path,
                                                                 unsigned forbidden_mode_bits = 0);

} // namespace quoter::config::detail
