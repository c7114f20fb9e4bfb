// Configuration loading: a TOML file, an optional [profile.<name>] overlay, QUOTER_* environment
// overrides, and typed, validated reads of every key.
//
// How it is used: document::load() parses the file and applies the profile overlay; the program
// then declares each key exactly once through a section handle (name, type, default, allowed
// range or choices, one-line doc) and gets its final value back; document::finish() reports
// what was written but never declared. Nothing stops at the first problem: every error is
// collected with its file:line:column, full key, what was expected and what was found.
//
// Precedence, lowest first: the declared default, the file, the selected profile overlay, the
// environment variable QUOTER_<SECTION>_<KEY> (dots become '_', upper case). Secrets never come
// from the main file: only from their own environment variable or a separate secrets file that
// must not be readable by group or others.
//
// Thread ownership: a document and its sections are used by one thread at start-up; nothing
// here is meant for the hot path.
#pragma once

#include "quoter/config/secret.hpp"
#include "quoter/core/result.hpp"

#include <array>
#include <cassert>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace quoter::config {

/// The profiles a file may overlay with [profile.<name>] tables.
inline constexpr std::array<std::string_view, 3> profile_names{"dev", "staging", "prod"};

/// Environment variable that selects the profile when none is given explicitly.
inline constexpr std::string_view profile_env_var = "QUOTER_PROFILE";

// ---------------------------------------------------------------------------------------------
// Diagnostics and origins

enum class severity : std::uint8_t { error, warning };

/// One problem: where it is, which key, and a message saying what was expected and found.
struct diagnostic {
    severity level = severity::error;
    std::string file;         ///< Config or secrets file; empty when the value came from env.
    std::uint32_t line = 0;   ///< 1-based; 0 when there is no position in a file.
    std::uint32_t column = 0; ///< 1-based; 0 when there is no position in a file.
    std::string env_var;      ///< The environment variable the value came from, if any.
    std::string key;          ///< Full dotted key ("strategy.spread_bps"); may be empty.
    std::string message;
};

using diagnostics = std::vector<diagnostic>;

/// "file:line:col: key: message"; "env VAR: key: message" for environment values; warnings
/// read "...: key: warning: message".
[[nodiscard]] std::string to_string(const diagnostic& problem);
[[nodiscard]] bool has_errors(const diagnostics& problems) noexcept;

enum class origin_kind : std::uint8_t {
    default_value,
    file,
    profile,
    env,
    secrets_file,
    override_value, ///< A key_override of load_options (a sweep trial, --set).
};

/// Where a resolved value came from.
struct value_origin {
    origin_kind kind = origin_kind::default_value;
    std::string file;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string name; ///< Profile name (profile), variable name (env) or override label.
};

/// "default", "config/sim.toml:12", "profile prod, config/sim.toml:40", "env QUOTER_X",
/// "secrets file config/secrets.toml:2".
[[nodiscard]] std::string to_string(const value_origin& origin);

/// Everything declared about one key and the value it resolved to.
struct key_info {
    std::string key;          ///< Full dotted key; secrets are listed as "secrets.<name>".
    std::string type;         ///< number, integer, boolean, string, decimal, choice, duration,
                              ///< string list, path, secret.
    std::string constraint;   ///< "[0, 10000]", "sim, paper_exchange, live"; empty: any value.
    std::string unit;         ///< "bps", "ms", "%", ...; empty when unitless.
    std::string default_text; ///< The default as a TOML literal.
    std::string doc;          ///< One line.
    std::string env_var;      ///< The variable that overrides it.
    std::string value_text;   ///< The resolved value as a TOML literal; secrets masked.
    value_origin origin;
};

/// A loaded configuration described for people: every declared key, in declaration order.
struct resolved_config {
    std::string file;
    std::string profile;                       ///< Empty when no profile was applied.
    std::string profile_source;                ///< "--profile" or the variable it came from.
    std::vector<std::string> defined_profiles; ///< The [profile.<name>] tables in the file.
    std::vector<key_info> keys;
    diagnostics warnings;
};

/// The resolved configuration as commented TOML: one line per key with its value and origin.
[[nodiscard]] std::string format_resolved(const resolved_config& config);

/// One Markdown table row per key (key, type, default, range or choices, unit, description),
/// in the form docs/config.md uses.
[[nodiscard]] std::string format_reference_row(const key_info& key);

// ---------------------------------------------------------------------------------------------
// Inputs

/// A snapshot of the QUOTER_* environment variables, or a fixed set in tests.
class environment {
public:
    environment() = default;
    [[nodiscard]] static environment from_process();
    [[nodiscard]] static environment from_map(std::map<std::string, std::string> vars);

    /// The value of `name`, or nullptr when it is not set.
    [[nodiscard]] const std::string* find(std::string_view name) const;
    [[nodiscard]] const std::map<std::string, std::string, std::less<>>& vars() const noexcept {
        return vars_;
    }

private:
    std::map<std::string, std::string, std::less<>> vars_;
};

/// One key set from outside the file (a parameter sweep's trial, a command-line setting). It is
/// written into the parsed tree after the profile overlay, so the key is validated exactly as if
/// the file held it: an unknown key or a bad value is an error naming `label`. It also wins over
/// the key's QUOTER_* environment variable.
struct key_override {
    std::string key;   ///< Full dotted key, e.g. "strategy.linear.spread_bps".
    std::string value; ///< A TOML value ("0.5", "true", "[1, 2]", "\"glft\""); text that does
                       ///< not parse as one is taken as a string (glft).
    std::string label; ///< Where it came from, for messages; empty: "override key=value".
};

struct load_options {
    /// dev, staging or prod; empty: the QUOTER_PROFILE variable if set, else no overlay.
    std::string profile;
    environment env = environment::from_process();
    /// Applied in order after the profile overlay (a later one for the same key wins).
    std::vector<key_override> overrides{};
    /// Top-level tables another reader owns (a sweep's [sweep]): dropped before validation.
    std::vector<std::string> foreign_tables{};
};

// ---------------------------------------------------------------------------------------------
// Declarations

/// Allowed range of a floating-point key. Bounds are inclusive unless exclusive_min is set.
/// The unit defaults to the one the key name carries (_bps, _pct, _ms, _per_s, ...).
struct number_limits {
    std::optional<double> min{};
    std::optional<double> max{};
    bool exclusive_min = false;
    std::string_view unit{};
};

/// Allowed range of an integer key (inclusive); unit as for number_limits.
struct integer_limits {
    std::optional<std::int64_t> min{};
    std::optional<std::int64_t> max{};
    std::string_view unit{};
};

/// One accepted spelling of an enum-like key.
template <class E> struct choice_option {
    std::string_view name;
    E value;
};

class section;

/// A configuration being read: the merged tree, the declarations made so far, the problems.
class document {
public:
    document();
    document(document&&) noexcept;
    document& operator=(document&&) noexcept;
    document(const document&) = delete;
    document& operator=(const document&) = delete;
    ~document();

    /// Reads and parses `file` and applies the profile overlay. Fails only when there is nothing
    /// to validate: unreadable file, TOML syntax error, unknown profile name.
    [[nodiscard]] static core::result<document, diagnostics> load(const std::filesystem::path& file,
                                                                  load_options options);
    /// As load(), from text; `file_name` labels positions and anchors relative paths.
    [[nodiscard]] static core::result<document, diagnostics>
    parse(std::string_view text, const std::string& file_name, load_options options);

    /// The handle for [name] (dotted for nested tables). Declares the table; cheap to repeat.
    [[nodiscard]] config::section section(std::string_view name);

    /// Declares a secret: from the variable QUOTER_<NAME> (empty counts as unset), else from the
    /// secrets file if one was declared with section::secrets_file(), else empty.
    [[nodiscard]] secret read_secret(std::string_view name, std::string_view doc);

    /// Ends the declarations: reports keys, tables, profile keys, secrets-file keys and
    /// QUOTER_<SECTION>_* variables that match nothing declared. Call once, after every read.
    void finish();

    /// No errors so far (warnings allowed).
    [[nodiscard]] bool ok() const noexcept;
    /// Errors and warnings, in file order (environment problems last).
    [[nodiscard]] diagnostics problems() const;
    /// Every declared key with its value and origin, plus the warnings.
    [[nodiscard]] resolved_config resolved() const;

    struct impl;

private:
    explicit document(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

/// A table of the document, by which keys are declared and read. A light handle: copy it
/// freely; it must not outlive its document. Each read returns the final value (the default when
/// the given value is invalid, after recording the error).
class section {
public:
    /// Full dotted name ("exchange.spot").
    [[nodiscard]] const std::string& name() const noexcept { return path_; }
    /// The nested table [name.child]; child is snake_case, or upper-case letters and digits
    /// for a table named by data ([symbol.BTCUSDT]).
    [[nodiscard]] section sub(std::string_view child) const;

    /// A floating-point value; TOML integers are accepted. NaN and infinities are refused.
    [[nodiscard]] double number(std::string_view key, double fallback, number_limits limits,
                                std::string_view doc);

    /// An integer that must also fit I.
    template <std::integral I>
    [[nodiscard]] I integer(std::string_view key, I fallback, integer_limits limits,
                            std::string_view doc) {
        static_assert(!std::is_same_v<I, bool>, "use boolean()");
        constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
        constexpr std::int64_t type_min =
            std::is_signed_v<I> ? static_cast<std::int64_t>(std::numeric_limits<I>::min()) : 0;
        constexpr std::int64_t type_max =
            static_cast<std::uint64_t>(std::numeric_limits<I>::max()) >
                    static_cast<std::uint64_t>(int64_max)
                ? int64_max
                : static_cast<std::int64_t>(std::numeric_limits<I>::max());
        return static_cast<I>(read_integer(key, static_cast<std::int64_t>(fallback), limits, doc,
                                           type_min, type_max, "integer"));
    }

    /// A duration written as an integer number of milliseconds; the key must end in "_ms".
    [[nodiscard]] std::chrono::milliseconds duration_ms(std::string_view key,
                                                        std::chrono::milliseconds fallback,
                                                        integer_limits limits,
                                                        std::string_view doc);

    [[nodiscard]] bool boolean(std::string_view key, bool fallback, std::string_view doc);

    [[nodiscard]] std::string string(std::string_view key, std::string_view fallback,
                                     std::string_view doc);

    /// An array of strings; from the environment, a comma-separated list.
    [[nodiscard]] std::vector<std::string>
    string_list(std::string_view key, std::vector<std::string> fallback, std::string_view doc);

    /// An exact decimal written as a TOML string ("0.01"), so that it never passes through a
    /// double. Unsigned; checked for syntax; returned as written.
    [[nodiscard]] std::string decimal(std::string_view key, std::string_view fallback,
                                      std::string_view doc);

    /// An enum-like string that must be one of `options`.
    template <class E>
    [[nodiscard]] E choice(std::string_view key, E fallback,
                           std::type_identity_t<std::span<const choice_option<E>>> options,
                           std::string_view doc) {
        std::vector<std::string_view> names;
        names.reserve(options.size());
        std::size_t fallback_index = options.size();
        for (std::size_t i = 0; i < options.size(); ++i) {
            names.push_back(options[i].name);
            if (fallback_index == options.size() && options[i].value == fallback) {
                fallback_index = i;
            }
        }
        assert(fallback_index < options.size() && "the default must be one of the options");
        if (fallback_index == options.size()) {
            fallback_index = 0;
        }
        return options[read_choice(key, fallback_index, names, doc)].value;
    }
    template <class E>
    [[nodiscard]] E choice(std::string_view key, E fallback,
                           std::initializer_list<choice_option<std::type_identity_t<E>>> options,
                           std::string_view doc) {
        return choice(key, fallback,
                      std::span<const choice_option<E>>(options.begin(), options.size()), doc);
    }

    /// The path of a secrets file (relative paths are relative to the config file). When set,
    /// the file must be a regular file without group or other permissions; its keys are the
    /// names given to document::read_secret(). Returns the path as resolved, or empty.
    [[nodiscard]] std::string secrets_file(std::string_view key, std::string_view doc);

    /// A readable file's path (relative paths are relative to the config file), resolved;
    /// empty when not set. A file that cannot be opened is an error.
    [[nodiscard]] std::string file_path(std::string_view key, std::string_view doc);

    /// A path the engine writes (a directory or a file it creates); relative paths are relative
    /// to the config file, so the same file names the same place wherever it is started from.
    /// Empty when not set; nothing is checked on disk.
    [[nodiscard]] std::string output_path(std::string_view key, std::string_view doc);

    /// Reports a problem found by a check across keys, at the place `key` got its value from.
    void error(std::string_view key, std::string message);
    void warning(std::string_view key, std::string message);
    /// True when `key` (already declared) got its value from the file, a profile or the env.
    [[nodiscard]] bool is_set(std::string_view key) const;

private:
    friend class document;
    section(document::impl* state, std::string path) : state_(state), path_(std::move(path)) {}

    std::int64_t read_integer(std::string_view key, std::int64_t fallback, integer_limits limits,
                              std::string_view doc, std::int64_t type_min, std::int64_t type_max,
                              std::string_view type_name);
    std::size_t read_choice(std::string_view key, std::size_t fallback_index,
                            std::span<const std::string_view> names, std::string_view doc);
    /// The text of a path-typed key as written (empty when not set).
    std::string path_text(std::string_view key, std::string_view doc);
    /// written, relative to the config file's directory when relative; normalised.
    [[nodiscard]] std::string relative_to_file(std::string_view written) const;

    document::impl* state_;
    std::string path_;
};

} // namespace quoter::config
