// Typed reads of configuration keys. Every read follows one path (read_typed): the environment
// variable first, then the merged file tree, then the default. A value that fails its type or
// range check becomes a diagnostic and the read falls back to the default, so that checking
// goes on and reports everything at once.
#include "quoter/config/config.hpp"

#include "quoter/core/decimal.hpp"

#include "document_state.hpp"
#include "text.hpp"
#include "tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <variant>

namespace quoter::config {

namespace fs = std::filesystem;
using detail::describe_found;
using detail::is_snake_case;
using detail::join_key;
using detail::lower_copy;
using detail::node;
using detail::node_kind;
using detail::quoted_list;

namespace {

/// How a value was found wanting: the "found ..." text and, for array elements, where.
struct rejection {
    std::string found;
    const node* at = nullptr;
};

template <class T> using node_outcome = std::variant<T, rejection>;

struct declaration {
    std::string_view key;
    std::string type;
    std::string constraint;
    std::string unit;
    std::string default_text;
    std::string_view doc;
    std::string expectation; ///< "a number in [0, 10000] (bps)": the "expected ..." part.
};

/// The common read path. from_node: node -> value or rejection; from_env: text -> optional
/// value; check: value -> optional "found" text when out of range; literal: value -> TOML text.
template <class T, class FromNode, class FromEnv, class Check, class Literal>
T read_typed(document::impl& state, const std::string& path, const declaration& decl, T fallback,
             FromNode&& from_node, FromEnv&& from_env, Check&& check, Literal&& literal) {
    assert(is_snake_case(decl.key) && "keys are snake_case");
    const std::string full = join_key(path, decl.key);
    const std::string env_var = state.declare(full, "QUOTER_" + detail::env_suffix(full));

    key_info info;
    info.key = full;
    info.type = decl.type;
    info.constraint = decl.constraint;
    info.unit = decl.unit;
    info.default_text = decl.default_text;
    info.doc = std::string(decl.doc);
    info.env_var = env_var;

    T value = fallback;
    const auto expected = [&](const std::string& found) {
        return fmt::format("expected {}, found {}", decl.expectation, found);
    };
    const node* overridden = state.lookup(full);
    if (overridden != nullptr && overridden->override_index == 0) {
        overridden = nullptr;
    }
    const std::string* text = state.env.find(env_var);
    if (text != nullptr) {
        state.consumed_env.insert(env_var); // even when an override wins over it
    }
    if (text != nullptr && overridden == nullptr) {
        value_origin origin;
        origin.kind = origin_kind::env;
        origin.name = env_var;
        std::optional<T> parsed = from_env(*text);
        if (!parsed) {
            state.error(origin, full, expected(detail::quote_short(*text)));
        } else if (std::optional<std::string> bad = check(*parsed); bad) {
            state.error(origin, full, expected(*bad));
        } else {
            value = std::move(*parsed);
            info.origin = origin;
        }
    } else if (const node* found = state.lookup(full); found != nullptr) {
        node_outcome<T> parsed = from_node(*found);
        if (auto* rejected = std::get_if<rejection>(&parsed); rejected != nullptr) {
            const node& at = rejected->at != nullptr ? *rejected->at : *found;
            state.error(state.origin_of(at), full, expected(rejected->found));
        } else if (std::optional<std::string> bad = check(std::get<T>(parsed)); bad) {
            state.error(state.origin_of(*found), full, expected(*bad));
        } else {
            value = std::move(std::get<T>(parsed));
            info.origin = state.origin_of(*found);
        }
    }
    info.value_text = literal(value);
    state.keys.push_back(std::move(info));
    return value;
}

const auto no_check = [](const auto&) { return std::optional<std::string>{}; };

std::string unit_for(std::string_view key, std::string_view declared_unit) {
    return std::string(declared_unit.empty() ? detail::unit_from_name(key) : declared_unit);
}

std::string with_unit(std::string text, const std::string& unit) {
    if (!unit.empty()) {
        text += fmt::format(" ({})", unit);
    }
    return text;
}

std::string number_interval(const number_limits& limits) {
    if (limits.min && limits.max) {
        return fmt::format("{}{}, {}]", limits.exclusive_min ? '(' : '[',
                           detail::plain_number(*limits.min), detail::plain_number(*limits.max));
    }
    if (limits.min) {
        return fmt::format("{} {}",
                           limits.exclusive_min ? ">" : ">=", detail::plain_number(*limits.min));
    }
    if (limits.max) {
        return fmt::format("<= {}", detail::plain_number(*limits.max));
    }
    return {};
}

std::string integer_interval(std::optional<std::int64_t> min, std::optional<std::int64_t> max) {
    if (min && max) {
        return fmt::format("[{}, {}]", *min, *max);
    }
    if (min) {
        return fmt::format(">= {}", *min);
    }
    if (max) {
        return fmt::format("<= {}", *max);
    }
    return {};
}

std::string in_interval(const std::string& interval) {
    if (interval.empty()) {
        return {};
    }
    return interval.front() == '[' || interval.front() == '(' ? " in " + interval : " " + interval;
}

std::optional<double> parse_double(std::string_view text) {
    double value = 0.0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}
std::string list_literal(const std::vector<std::string>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += i == 0 ? "" : ", ";
        out += detail::quote(values[i]);
    }
    out += ']';
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// section

section section::sub(std::string_view child) const {
    // Code names tables in snake_case; a table named by data (a symbol: [symbol.BTCUSDT]) may
    // also use upper-case letters.
    assert(is_snake_case(child) ||
           (!child.empty() && std::all_of(child.begin(), child.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
           })));
    std::string full = join_key(path_, child);
    state_->open_table(full);
    return section(state_, std::move(full));
}

double section::number(std::string_view key, double fallback, number_limits limits,
                       std::string_view doc) {
    const std::string unit = unit_for(key, limits.unit);
    const std::string interval = number_interval(limits);
    declaration decl{key,
                     "number",
                     interval,
                     unit,
                     detail::float_literal(fallback),
                     doc,
                     with_unit("a number" + in_interval(interval), unit)};
    const auto from_node = [](const node& value) -> node_outcome<double> {
        if (value.kind == node_kind::integer) {
            return static_cast<double>(value.integer);
        }
        if (value.kind == node_kind::floating && std::isfinite(value.floating)) {
            return value.floating;
        }
        return rejection{describe_found(value)};
    };
    const auto check = [limits](double value) -> std::optional<std::string> {
        const bool below =
            limits.min && (limits.exclusive_min ? value <= *limits.min : value < *limits.min);
        const bool above = limits.max && value > *limits.max;
        if (below || above) {
            return detail::plain_number(value);
        }
        return std::nullopt;
    };
    return read_typed<double>(*state_, path_, decl, fallback, from_node, parse_double, check,
                              detail::float_literal);
}

std::int64_t section::read_integer(std::string_view key, std::int64_t fallback,
                                   integer_limits limits, std::string_view doc,
                                   std::int64_t type_min, std::int64_t type_max,
                                   std::string_view type_name) {
    // The type's own bounds apply too; they are shown only when tighter than int64's.
    constexpr auto int64_min = std::numeric_limits<std::int64_t>::min();
    constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
    std::optional<std::int64_t> min = limits.min;
    std::optional<std::int64_t> max = limits.max;
    if (type_min != int64_min && (!min || *min < type_min)) {
        min = type_min;
    }
    if (type_max != int64_max && (!max || *max > type_max)) {
        max = type_max;
    }
    const std::string unit =
        type_name == "duration" ? std::string("ms") : unit_for(key, limits.unit);
    const std::string interval = integer_interval(min, max);
    const std::string what =
        type_name == "duration" ? "an integer number of milliseconds" : "an integer";
    declaration decl{key,
                     std::string(type_name),
                     interval,
                     unit,
                     fmt::format("{}", fallback),
                     doc,
                     with_unit(what + in_interval(interval), type_name == "duration" ? "" : unit)};
    const auto from_node = [](const node& value) -> node_outcome<std::int64_t> {
        if (value.kind == node_kind::integer) {
            return value.integer;
        }
        return rejection{describe_found(value)};
    };
    const auto check = [min, max](std::int64_t value) -> std::optional<std::string> {
        if ((min && value < *min) || (max && value > *max)) {
            return fmt::format("{}", value);
        }
        return std::nullopt;
    };
    const auto literal = [](std::int64_t value) { return fmt::format("{}", value); };
    return read_typed<std::int64_t>(*state_, path_, decl, fallback, from_node, parse_int64, check,
                                    literal);
}

std::chrono::milliseconds section::duration_ms(std::string_view key,
                                               std::chrono::milliseconds fallback,
                                               integer_limits limits, std::string_view doc) {
    assert(key.ends_with("_ms") && "duration keys carry their unit: <name>_ms");
    return std::chrono::milliseconds(
        read_integer(key, fallback.count(), limits, doc, std::numeric_limits<std::int64_t>::min(),
                     std::numeric_limits<std::int64_t>::max(), "duration"));
}

bool section::boolean(std::string_view key, bool fallback, std::string_view doc) {
    declaration decl{
        key, "boolean", "", "", fallback ? "true" : "false", doc, "a boolean (true or false)"};
    const auto from_node = [](const node& value) -> node_outcome<bool> {
        if (value.kind == node_kind::boolean) {
            return value.boolean;
        }
        return rejection{describe_found(value)};
    };
    const auto from_env = [](const std::string& text) -> std::optional<bool> {
        const std::string word = lower_copy(text);
        if (word == "true" || word == "1") {
            return true;
        }
        if (word == "false" || word == "0") {
            return false;
        }
        return std::nullopt;
    };
    const auto literal = [](bool value) { return std::string(value ? "true" : "false"); };
    return read_typed<bool>(*state_, path_, decl, fallback, from_node, from_env, no_check, literal);
}

std::string section::string(std::string_view key, std::string_view fallback, std::string_view doc) {
    declaration decl{key, "string", "", "", detail::quote(fallback), doc, "a string"};
    const auto from_node = [](const node& value) -> node_outcome<std::string> {
        if (value.kind == node_kind::string) {
            return value.text;
        }
        return rejection{describe_found(value)};
    };
    const auto from_env = [](const std::string& text) { return std::optional<std::string>(text); };
    return read_typed<std::string>(*state_, path_, decl, std::string(fallback), from_node, from_env,
                                   no_check,
                                   [](const std::string& value) { return detail::quote(value); });
}

std::vector<std::string> section::string_list(std::string_view key,
                                              std::vector<std::string> fallback,
                                              std::string_view doc) {
    declaration decl{key, "string list",        "", "", list_literal(fallback),
                     doc, "an array of strings"};
    const auto from_node = [](const node& value) -> node_outcome<std::vector<std::string>> {
        if (value.kind != node_kind::array) {
            return rejection{describe_found(value)};
        }
        std::vector<std::string> out;
        for (std::size_t i = 0; i < value.elements.size(); ++i) {
            const node& element = value.elements[i];
            if (element.kind != node_kind::string) {
                return rejection{fmt::format("{} at element {}", describe_found(element), i + 1),
                                 &element};
            }
            out.push_back(element.text);
        }
        return out;
    };
    const auto from_env = [](const std::string& text) {
        std::vector<std::string> out;
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t comma = text.find(',', start);
            if (comma == std::string::npos) {
                comma = text.size();
            }
            std::string item = text.substr(start, comma - start);
            const auto first = item.find_first_not_of(" \t");
            const auto last = item.find_last_not_of(" \t");
            if (first != std::string::npos) {
                out.push_back(item.substr(first, last - first + 1));
            }
            start = comma + 1;
        }
        return std::optional<std::vector<std::string>>(std::move(out));
    };
    return read_typed<std::vector<std::string>>(*state_, path_, decl, std::move(fallback),
                                                from_node, from_env, no_check, list_literal);
}

std::string section::decimal(std::string_view key, std::string_view fallback,
                             std::string_view doc) {
    declaration decl{key,
                     "decimal",
                     ">= 0",
                     unit_for(key, {}),
                     detail::quote(fallback),
                     doc,
                     "a decimal string such as \"0.01\" (quoted, so that it stays exact)"};
    const auto from_node = [](const node& value) -> node_outcome<std::string> {
        if (value.kind == node_kind::string) {
            return value.text;
        }
        return rejection{describe_found(value)};
    };
    const auto from_env = [](const std::string& text) { return std::optional<std::string>(text); };
    const auto check = [](const std::string& text) -> std::optional<std::string> {
        const auto decimals = core::significant_decimals(text);
        core::decimal_error problem = decimals ? core::decimal_error::none : decimals.error();
        if (decimals) {
            const auto parsed = core::parse_decimal(text, {.decimals = *decimals});
            if (!parsed) {
                problem = parsed.error();
            }
        }
        if (problem == core::decimal_error::none) {
            return std::nullopt;
        }
        return fmt::format("{} ({})", detail::quote_short(text), core::describe(problem));
    };
    return read_typed<std::string>(*state_, path_, decl, std::string(fallback), from_node, from_env,
                                   check,
                                   [](const std::string& value) { return detail::quote(value); });
}

std::size_t section::read_choice(std::string_view key, std::size_t fallback_index,
                                 std::span<const std::string_view> names, std::string_view doc) {
    std::string constraint;
    for (const auto name : names) {
        constraint += constraint.empty() ? "" : ", ";
        constraint += name;
    }
    declaration decl{key,
                     "choice",
                     constraint,
                     "",
                     detail::quote(names[fallback_index]),
                     doc,
                     "one of " + quoted_list(names, ", ")};
    const std::vector<std::string> candidates(names.begin(), names.end());
    const auto index_of = [names](std::string_view text) {
        return static_cast<std::size_t>(std::find(names.begin(), names.end(), text) -
                                        names.begin());
    };
    const auto from_node = [](const node& value) -> node_outcome<std::string> {
        if (value.kind == node_kind::string) {
            return value.text;
        }
        return rejection{describe_found(value)};
    };
    const auto from_env = [](const std::string& text) { return std::optional<std::string>(text); };
    const auto check = [&](const std::string& text) -> std::optional<std::string> {
        if (index_of(text) < names.size()) {
            return std::nullopt;
        }
        std::string found = detail::quote_short(text);
        if (auto guess = detail::closest(text, candidates); guess) {
            found += fmt::format("; did you mean {}?", detail::quote(*guess));
        }
        return found;
    };
    const std::string chosen = read_typed<std::string>(
        *state_, path_, decl, std::string(names[fallback_index]), from_node, from_env, check,
        [](const std::string& value) { return detail::quote(value); });
    return index_of(chosen);
}

std::string section::path_text(std::string_view key, std::string_view doc) {
    declaration decl{key, "path", "", "", "\"\"", doc, "a string (a file path)"};
    const auto from_node = [](const node& value) -> node_outcome<std::string> {
        if (value.kind == node_kind::string) {
            return value.text;
        }
        return rejection{describe_found(value)};
    };
    const auto from_env = [](const std::string& text) { return std::optional<std::string>(text); };
    return read_typed<std::string>(*state_, path_, decl, std::string{}, from_node, from_env,
                                   no_check,
                                   [](const std::string& value) { return detail::quote(value); });
}

std::string section::relative_to_file(std::string_view written) const {
    fs::path path(written);
    if (path.is_relative()) {
        path = state_->base_dir / path;
    }
    return path.lexically_normal().string();
}

std::string section::file_path(std::string_view key, std::string_view doc) {
    const std::string written = path_text(key, doc);
    if (written.empty()) {
        return {};
    }
    const std::string resolved = relative_to_file(written);
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec)) {
        error(key, fmt::format("cannot read {}: {}", resolved,
                               ec ? ec.message() : std::string("not a regular file")));
    }
    return resolved;
}

std::string section::output_path(std::string_view key, std::string_view doc) {
    const std::string written = path_text(key, doc);
    return written.empty() ? std::string() : relative_to_file(written);
}

std::string section::secrets_file(std::string_view key, std::string_view doc) {
    const std::string written = path_text(key, doc);
    document::impl& state = *state_;
    assert(state.secret_names.empty() && "declare the secrets file before reading secrets");
    const std::string full = join_key(path_, key);
    state.secrets_file_key = full;
    if (written.empty()) {
        return {};
    }
    fs::path path(written);
    if (path.is_relative()) {
        path = state.base_dir / path;
    }
    const std::string resolved = path.lexically_normal().string();

    // Group and other bits refuse the file before a byte of it is read.
    auto contents = detail::read_file(resolved, 077U);
    if (!contents) {
        error(key, fmt::format("cannot read the secrets file {}: {}", resolved, contents.error()));
        return resolved;
    }
    if (!contents->regular) {
        error(key, fmt::format("the secrets file {} is not a regular file", resolved));
        return resolved;
    }
    if (contents->refused) {
        error(key,
              fmt::format("refusing the secrets file {}: its mode is {:04o} but it must not be "
                          "accessible to group or others (chmod 600 {})",
                          resolved, contents->mode, resolved));
        return resolved;
    }
    auto tree = detail::parse_toml(contents->text, resolved);
    if (!tree) {
        // The parser's description can quote the text around the error: a piece of a secret.
        value_origin origin;
        origin.kind = origin_kind::secrets_file;
        origin.file = resolved;
        origin.line = tree.error().where.line;
        origin.column = tree.error().where.column;
        state.error(origin, "", "TOML syntax error in the secrets file (details not shown)");
        return resolved;
    }
    state.secrets_file = resolved;
    state.secrets_root = std::move(*tree);
    return resolved;
}

void section::error(std::string_view key, std::string message) {
    const std::string full = join_key(path_, key);
    const key_info* info = state_->find_key(full);
    state_->report(severity::error, info != nullptr ? info->origin : value_origin{}, full,
                   std::move(message));
}

void section::warning(std::string_view key, std::string message) {
    const std::string full = join_key(path_, key);
    const key_info* info = state_->find_key(full);
    state_->report(severity::warning, info != nullptr ? info->origin : value_origin{}, full,
                   std::move(message));
}

bool section::is_set(std::string_view key) const {
    const key_info* info = state_->find_key(join_key(path_, key));
    return info != nullptr && info->origin.kind != origin_kind::default_value;
}

} // namespace quoter::config
