// Configuration documents: loading the file, the profile overlay, secrets, and the final sweep
// for anything written but never declared. Typed reads live in section.cpp.
// One piece (about 600 lines): each step reads and writes the same document state
// (document_state.hpp), and the final sweep must see every step's declarations.
#include "quoter/config/config.hpp"

#include "document_state.hpp"
#include "text.hpp"
#include "tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <unistd.h>

namespace quoter::config {

namespace fs = std::filesystem;
using detail::describe_found;
using detail::is_snake_case;
using detail::join_key;
using detail::leaf_of;
using detail::lower_copy;
using detail::node;
using detail::node_kind;
using detail::parent_of;
using detail::quoted_list;

// ---------------------------------------------------------------------------------------------
// Diagnostics, origins, environment

std::string to_string(const diagnostic& problem) {
    std::string out;
    if (!problem.env_var.empty()) {
        out = fmt::format("env {}: ", problem.env_var);
    } else if (!problem.file.empty() && problem.line > 0) {
        out = fmt::format("{}:{}:{}: ", problem.file, problem.line, problem.column);
    } else if (!problem.file.empty()) {
        out = fmt::format("{}: ", problem.file);
    }
    if (!problem.key.empty()) {
        out += problem.key;
        out += ": ";
    }
    if (problem.level == severity::warning) {
        out += "warning: ";
    }
    out += problem.message;
    return out;
}

bool has_errors(const diagnostics& problems) noexcept {
    return std::any_of(problems.begin(), problems.end(),
                       [](const diagnostic& d) { return d.level == severity::error; });
}

std::string to_string(const value_origin& origin) {
    switch (origin.kind) {
    case origin_kind::default_value:
        return "default";
    case origin_kind::file:
        return fmt::format("{}:{}", origin.file, origin.line);
    case origin_kind::profile:
        return fmt::format("profile {}, {}:{}", origin.name, origin.file, origin.line);
    case origin_kind::env:
        return fmt::format("env {}", origin.name);
    case origin_kind::secrets_file:
        return fmt::format("secrets file {}:{}", origin.file, origin.line);
    case origin_kind::override_value:
        return origin.name;
    }
    return "unknown";
}

environment environment::from_process() {
    environment env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        if (text.substr(0, 7) != "QUOTER_") {
            continue;
        }
        const auto equals = text.find('=');
        if (equals == std::string_view::npos) {
            continue;
        }
        env.vars_.emplace(std::string(text.substr(0, equals)),
                          std::string(text.substr(equals + 1)));
    }
    return env;
}

environment environment::from_map(std::map<std::string, std::string> vars) {
    environment env;
    for (auto& [name, value] : vars) {
        env.vars_.emplace(name, std::move(value));
    }
    return env;
}

const std::string* environment::find(std::string_view name) const {
    const auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &it->second;
}

namespace {

/// Secrets are printable ASCII without spaces; a trailing newline from `$(cat file)` is the
/// usual way to break that, and it would make every signature wrong.
bool valid_secret_text(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string join_key_prefix(const std::vector<std::string_view>& parts, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0) {
            out += '.';
        }
        out += parts[i];
    }
    return out;
}

bool looks_secret(std::string_view leaf) {
    const std::string name = lower_copy(leaf);
    for (const std::string_view marker :
         {"secret", "password", "passphrase", "private_key", "api_key", "apikey", "token"}) {
        if (name.find(marker) != std::string::npos) {
            return true;
        }
    }
    return false;
}

void mark_override(node& target, std::uint32_t index) {
    target.override_index = index;
    for (auto& entry : target.members) {
        mark_override(entry.value, index);
    }
    for (auto& element : target.elements) {
        mark_override(element, index);
    }
}

/// Writes one override into the tree (creating its tables), or records why it cannot be.
void apply_override(document::impl& state, key_override change) {
    if (change.label.empty()) {
        change.label = fmt::format("override {}={}", change.key, change.value);
    }
    state.override_labels.push_back(change.label);
    const auto index = static_cast<std::uint32_t>(state.override_labels.size());
    value_origin where;
    where.kind = origin_kind::override_value;
    where.name = change.label;

    std::vector<std::string_view> parts;
    for (std::string_view rest = change.key;;) {
        const auto dot = rest.find('.');
        parts.push_back(rest.substr(0, dot));
        if (dot == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(dot + 1);
    }
    if (std::any_of(parts.begin(), parts.end(),
                    [](std::string_view part) { return !is_snake_case(part); })) {
        state.error(where, change.key,
                    "expected a dotted key of snake_case names (strategy.linear.spread_bps)");
        return;
    }
    if (parts.front() == "profile") {
        state.error(where, change.key, "profiles cannot be overridden; use --profile");
        return;
    }
    // The value as TOML when it is one ("0.5", "[1, 2]", "\"x\""), else as a bare string.
    node value;
    if (auto parsed = detail::parse_toml("v = " + change.value, change.label);
        parsed && parsed->members.size() == 1) {
        value = std::move(parsed->members.front().value);
    } else {
        value.kind = node_kind::string;
        value.text = change.value;
    }
    mark_override(value, index);

    node* table = &state.root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        node* next = table->find(parts[i]);
        if (next == nullptr) {
            node created;
            created.override_index = index;
            table->members.push_back(detail::member{std::string(parts[i]), {}, std::move(created)});
            next = &table->members.back().value;
        } else if (next->kind != node_kind::table) {
            state.error(where, change.key,
                        fmt::format("{} is a {}, not a table", join_key_prefix(parts, i + 1),
                                    detail::kind_name(next->kind)));
            return;
        }
        table = next;
    }
    if (node* existing = table->find(parts.back()); existing != nullptr) {
        if (existing->kind == node_kind::table && value.kind != node_kind::table) {
            state.error(where, change.key,
                        fmt::format("{} is a table; override one of its keys", change.key));
            return;
        }
        *existing = std::move(value);
    } else {
        table->members.push_back(detail::member{std::string(parts.back()), {}, std::move(value)});
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// document

document::document() : impl_(std::make_unique<impl>()) {}
document::document(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
document::document(document&&) noexcept = default;
document& document::operator=(document&&) noexcept = default;
document::~document() = default;

core::result<document, diagnostics> document::load(const fs::path& file, load_options options) {
    const std::string name = file.string();
    auto contents = detail::read_file(name);
    if (!contents) {
        diagnostic problem;
        problem.file = name;
        problem.message = "cannot read the configuration file: " + contents.error();
        return core::unexpected{diagnostics{std::move(problem)}};
    }
    if (!contents->regular) {
        diagnostic problem;
        problem.file = name;
        problem.message = "not a regular file";
        return core::unexpected{diagnostics{std::move(problem)}};
    }
    return parse(contents->text, name, std::move(options));
}

core::result<document, diagnostics>
document::parse(std::string_view text, const std::string& file_name, load_options options) {
    auto state = std::make_unique<impl>();
    state->file = file_name;
    state->base_dir = fs::path(file_name).parent_path();
    state->env = std::move(options.env);

    diagnostics fatal;
    state->profile = std::move(options.profile);
    state->profile_source = "--profile";
    if (state->profile.empty()) {
        if (const std::string* chosen = state->env.find(profile_env_var); chosen != nullptr) {
            state->profile = *chosen;
            state->profile_source = std::string(profile_env_var);
        }
    }
    state->consumed_env.insert(std::string(profile_env_var));
    if (!state->profile.empty() && std::find(profile_names.begin(), profile_names.end(),
                                             state->profile) == profile_names.end()) {
        diagnostic problem;
        if (state->profile_source == profile_env_var) {
            problem.env_var = state->profile_source;
        } else {
            problem.file = file_name;
        }
        problem.message =
            fmt::format("unknown profile {}; expected one of {}",
                        detail::quote_short(state->profile), quoted_list(profile_names, ", "));
        fatal.push_back(std::move(problem));
    }

    auto tree = detail::parse_toml(text, file_name);
    if (!tree) {
        diagnostic problem;
        problem.file = file_name;
        problem.line = tree.error().where.line;
        problem.column = tree.error().where.column;
        problem.message = "TOML syntax error: " + tree.error().description;
        fatal.push_back(std::move(problem));
    }
    if (!fatal.empty()) {
        return core::unexpected{std::move(fatal)};
    }
    state->root = std::move(*tree);
    for (const auto& table : options.foreign_tables) {
        state->root.erase(table);
    }

    // [profile.<name>] tables: validated here, the selected one merged, the others kept aside
    // so that finish() can still flag unknown keys in them.
    if (node* profiles = state->root.find("profile"); profiles != nullptr) {
        if (profiles->kind != node_kind::table) {
            state->error(
                state->origin_of(*profiles), "profile",
                "expected tables [profile.dev], [profile.staging], [profile.prod], found " +
                    describe_found(*profiles));
            state->root.erase("profile");
        } else {
            const std::vector<std::string> known(profile_names.begin(), profile_names.end());
            for (auto& entry : profiles->members) {
                const std::string full = "profile." + entry.key;
                value_origin where = state->origin_of(entry.value, entry.key_where);
                if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
                    std::string message = fmt::format("unknown profile [{}]; profiles are {}", full,
                                                      quoted_list(profile_names, ", "));
                    if (auto guess = detail::closest(entry.key, known); guess) {
                        message += fmt::format("; did you mean [profile.{}]?", *guess);
                    }
                    state->error(where, full, std::move(message));
                } else if (entry.value.kind != node_kind::table) {
                    state->error(state->origin_of(entry.value), full,
                                 "expected a table, found " + describe_found(entry.value));
                } else {
                    state->defined_profiles.push_back(entry.key);
                    if (entry.key != state->profile) {
                        state->other_profiles.emplace_back(entry.key, std::move(entry.value));
                    }
                }
            }
            node selected;
            bool have_selected = false;
            if (node* chosen = profiles->find(state->profile);
                chosen != nullptr && chosen->kind == node_kind::table) {
                selected = std::move(*chosen);
                have_selected = true;
            }
            state->root.erase("profile");
            if (have_selected) {
                detail::merge_overlay(state->root, selected);
            }
        }
    }
    if (!state->profile.empty() &&
        std::find(state->defined_profiles.begin(), state->defined_profiles.end(), state->profile) ==
            state->defined_profiles.end()) {
        diagnostic problem;
        problem.level = severity::warning;
        problem.file = file_name;
        problem.message = fmt::format("profile {} is selected but the file has no [profile.{}] "
                                      "tables; the base values apply",
                                      state->profile, state->profile);
        state->problems.push_back(std::move(problem));
    }
    for (auto& change : options.overrides) {
        apply_override(*state, std::move(change));
    }
    return document(std::move(state));
}

config::section document::section(std::string_view name) {
    const std::string full(name);
    impl_->open_table(full);
    return config::section(impl_.get(), full);
}

secret document::read_secret(std::string_view name, std::string_view doc) {
    impl& state = *impl_;
    assert(is_snake_case(name));
    const std::string full = "secrets." + std::string(name);
    const std::string env_var = state.declare(full, "QUOTER_" + detail::env_suffix(name));
    state.secret_names.emplace_back(name);

    key_info info;
    info.key = full;
    info.type = "secret";
    info.default_text = "\"\"";
    info.doc = std::string(doc);
    info.env_var = env_var;

    secret value;
    const std::string* from_env = state.env.find(env_var);
    if (from_env != nullptr && !from_env->empty()) {
        state.consumed_env.insert(env_var);
        value_origin origin;
        origin.kind = origin_kind::env;
        origin.name = env_var;
        if (!valid_secret_text(*from_env)) {
            state.error(origin, full,
                        "contains spaces or control characters (a trailing newline?); the value "
                        "is not shown");
        } else {
            value = secret(*from_env);
            info.origin = origin;
        }
    } else if (state.secrets_root) {
        if (from_env != nullptr) {
            state.consumed_env.insert(env_var);
        }
        if (const node* stored = state.secrets_root->find(name); stored != nullptr) {
            value_origin origin;
            origin.kind = origin_kind::secrets_file;
            origin.file = state.secrets_file;
            origin.line = stored->where.line;
            origin.column = stored->where.column;
            if (stored->kind != node_kind::string) {
                state.error(
                    origin, full,
                    fmt::format("expected a string, found {}", detail::kind_name(stored->kind)));
            } else if (!valid_secret_text(stored->text)) {
                state.error(origin, full,
                            "contains spaces or control characters; the value is not shown");
            } else {
                value = secret(stored->text);
                info.origin = origin;
            }
        }
    }
    info.value_text = value.empty() ? "\"\"" : detail::quote(value.masked());
    state.keys.push_back(std::move(info));
    return value;
}

void document::finish() {
    impl& state = *impl_;
    assert(!state.finished && "finish() runs once");
    state.finished = true;

    const auto secret_env_for = [&](std::string_view leaf) -> std::string {
        for (const auto& name : state.secret_names) {
            if (name == leaf) {
                return "QUOTER_" + detail::env_suffix(name);
            }
        }
        return {};
    };

    // Candidates for "did you mean": the keys and tables declared directly under `table`.
    const auto children_of = [&](std::string_view table) {
        std::vector<std::string> names;
        for (const auto& key : state.declared) {
            if (parent_of(key) == table && !key.starts_with("secrets.")) {
                names.emplace_back(leaf_of(key));
            }
        }
        for (const auto& name : state.tables) {
            if (parent_of(name) == table) {
                names.emplace_back(leaf_of(name));
            }
        }
        return names;
    };

    const auto unknown_message = [&](const std::string& full, bool is_table,
                                     const std::string& in_profile) {
        const std::string_view leaf = leaf_of(full);
        const std::string_view table = parent_of(full);
        std::string message;
        const auto candidates = children_of(table);
        const auto guess = detail::closest(leaf, candidates);
        if (!guess && (looks_secret(leaf) || !secret_env_for(leaf).empty())) {
            const std::string env_var = secret_env_for(leaf);
            message = "secrets do not belong in the configuration file";
            if (!env_var.empty()) {
                message += fmt::format("; set {}", env_var);
                if (!state.secrets_file_key.empty()) {
                    message += fmt::format(" or put {} in the file named by {} (mode 0600)", leaf,
                                           state.secrets_file_key);
                }
            }
            if (!in_profile.empty()) {
                message += fmt::format(" (found in [profile.{}])", in_profile);
            }
            message += "; the value is not shown";
        } else {
            if (is_table) {
                message = table.empty() ? fmt::format("unknown section [{}]", full)
                                        : fmt::format("unknown table [{}]", full);
            } else {
                message = "unknown key";
            }
            if (!in_profile.empty()) {
                message += fmt::format(" in [profile.{}]", in_profile);
            }
            if (guess) {
                message += fmt::format("; did you mean {}?", join_key(table, *guess));
            } else if (!is_table) {
                // The right name in the wrong table ("spread_bps" under [engine]).
                for (const auto& key : state.declared) {
                    if (leaf_of(key) == leaf && !key.starts_with("secrets.")) {
                        message += fmt::format("; did you mean {}?", key);
                        break;
                    }
                }
            }
        }
        return message;
    };

    const auto sweep = [&](const auto& self, const node& table, const std::string& prefix,
                           const std::string& in_profile) -> void {
        for (const auto& entry : table.members) {
            const std::string full = join_key(prefix, entry.key);
            const bool is_table = entry.value.kind == node_kind::table;
            if (state.declared.contains(full)) {
                continue; // its value was checked when it was read
            }
            if (state.tables.contains(full)) {
                if (is_table) {
                    self(self, entry.value, full, in_profile);
                }
                continue; // a non-table here was reported when the section was opened
            }
            detail::position where = entry.key_where;
            if (where.line == 0) {
                where = entry.value.where;
            }
            if (where.line == 0 && !entry.value.members.empty()) {
                where = entry.value.members.front().key_where;
            }
            const std::string profile = entry.value.from_profile ? state.profile : in_profile;
            state.error(state.origin_of(entry.value, where), full,
                        unknown_message(full, is_table, profile));
        }
    };
    sweep(sweep, state.root, "", "");
    for (const auto& [name, overlay] : state.other_profiles) {
        sweep(sweep, overlay, "", name);
    }

    if (state.secrets_root) {
        for (const auto& entry : state.secrets_root->members) {
            if (std::find(state.secret_names.begin(), state.secret_names.end(), entry.key) !=
                state.secret_names.end()) {
                continue;
            }
            value_origin origin;
            origin.kind = origin_kind::secrets_file;
            origin.file = state.secrets_file;
            origin.line = entry.key_where.line;
            origin.column = entry.key_where.column;
            std::vector<std::string_view> names(state.secret_names.begin(),
                                                state.secret_names.end());
            std::string message =
                fmt::format("unknown secret; expected {}", quoted_list(names, ", "));
            if (auto guess = detail::closest(entry.key, state.secret_names); guess) {
                message += fmt::format("; did you mean {}?", *guess);
            }
            state.error(origin, entry.key, std::move(message));
        }
    }

    // QUOTER_<SECTION>_* variables that override nothing: most likely a misspelt name, which
    // would otherwise be ignored without a word.
    std::vector<std::string> known_vars;
    for (const auto& [var, key] : state.env_owner) {
        known_vars.push_back(var);
    }
    for (const auto& [var, value] : state.env.vars()) {
        if (state.consumed_env.contains(var) || state.env_owner.contains(var)) {
            continue;
        }
        bool targets_config = false;
        for (const auto& table : state.tables) {
            if (table.find('.') == std::string::npos &&
                var.starts_with("QUOTER_" + detail::env_suffix(table) + "_")) {
                targets_config = true;
                break;
            }
        }
        if (!targets_config) {
            continue;
        }
        value_origin origin;
        origin.kind = origin_kind::env;
        origin.name = var;
        std::string message = "matches no configuration key";
        if (auto guess = detail::closest(var, known_vars); guess) {
            message += fmt::format("; did you mean {}?", *guess);
        }
        state.error(origin, "", std::move(message));
    }
}

bool document::ok() const noexcept {
    return !has_errors(impl_->problems);
}

diagnostics document::problems() const {
    diagnostics sorted = impl_->problems;
    std::stable_sort(sorted.begin(), sorted.end(), [](const diagnostic& a, const diagnostic& b) {
        const auto rank = [](const diagnostic& d) {
            return std::make_tuple(d.line == 0 ? 1 : 0, d.line == 0 ? std::string_view{} : d.file,
                                   d.line, d.column);
        };
        return rank(a) < rank(b);
    });
    return sorted;
}

resolved_config document::resolved() const {
    resolved_config out;
    out.file = impl_->file;
    out.profile = impl_->profile;
    out.profile_source = impl_->profile.empty() ? std::string{} : impl_->profile_source;
    out.defined_profiles = impl_->defined_profiles;
    out.keys = impl_->keys;
    for (auto& problem : problems()) {
        if (problem.level == severity::warning) {
            out.warnings.push_back(std::move(problem));
        }
    }
    return out;
}

} // namespace quoter::config
