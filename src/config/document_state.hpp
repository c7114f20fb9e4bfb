// The private state behind config::document and its section handles: the merged tree, what
// has been declared so far, and every problem found. config.cpp loads and sweeps it;
// section.cpp's typed readers declare keys into it.
//
// Invariants: a key or table name is declared at most once and is never both; each declared
// key owns exactly one QUOTER_* variable; `root` never holds the "profile" table.
#pragma once

#include "quoter/config/config.hpp"

#include "text.hpp"
#include "tree.hpp"

#include <fmt/format.h>

#include <cassert>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quoter::config {

struct document::impl {
    std::string file;               ///< As given by the caller; used in every message.
    std::filesystem::path base_dir; ///< Relative paths in the file are relative to this.
    std::string profile;
    std::string profile_source;
    environment env;
    detail::node root; ///< Base file with the selected profile merged in; no "profile" table.
    std::vector<std::pair<std::string, detail::node>> other_profiles;
    std::vector<std::string> defined_profiles;
    std::vector<std::string> override_labels; ///< By node::override_index - 1.

    std::string secrets_file;     ///< Resolved path of the secrets file; empty when none.
    std::string secrets_file_key; ///< The key that names it, for messages.
    std::optional<detail::node> secrets_root;
    std::vector<std::string> secret_names;

    std::vector<key_info> keys;
    std::set<std::string, std::less<>> tables;
    std::set<std::string, std::less<>> declared;
    std::map<std::string, std::string, std::less<>> env_owner; ///< variable -> key
    std::set<std::string, std::less<>> consumed_env;
    diagnostics problems;
    bool finished = false;

    [[nodiscard]] const detail::node* lookup(std::string_view dotted) const {
        const detail::node* current = &root;
        while (!dotted.empty()) {
            if (current->kind != detail::node_kind::table) {
                return nullptr;
            }
            const auto dot = dotted.find('.');
            current = current->find(dotted.substr(0, dot));
            if (current == nullptr) {
                return nullptr;
            }
            dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        }
        return current;
    }

    [[nodiscard]] value_origin origin_of(const detail::node& value, detail::position where) const {
        value_origin origin;
        if (value.override_index != 0) {
            origin.kind = origin_kind::override_value;
            origin.name = override_labels[value.override_index - 1];
            return origin;
        }
        origin.kind = value.from_profile ? origin_kind::profile : origin_kind::file;
        origin.file = file;
        origin.line = where.line;
        origin.column = where.column;
        if (value.from_profile) {
            origin.name = profile;
        }
        return origin;
    }
    [[nodiscard]] value_origin origin_of(const detail::node& value) const {
        return origin_of(value, value.where);
    }

    void report(severity level, const value_origin& where, std::string key, std::string message) {
        diagnostic problem;
        problem.level = level;
        problem.key = std::move(key);
        problem.message = std::move(message);
        switch (where.kind) {
        case origin_kind::env:
            problem.env_var = where.name;
            break;
        case origin_kind::override_value:
            problem.file = where.name;
            break;
        case origin_kind::default_value:
            problem.file = file;
            break;
        case origin_kind::file:
        case origin_kind::profile:
        case origin_kind::secrets_file:
            problem.file = where.file;
            problem.line = where.line;
            problem.column = where.column;
            break;
        }
        problems.push_back(std::move(problem));
    }
    void error(const value_origin& where, std::string key, std::string message) {
        report(severity::error, where, std::move(key), std::move(message));
    }

    [[nodiscard]] const key_info* find_key(std::string_view full) const {
        for (const auto& info : keys) {
            if (info.key == full) {
                return &info;
            }
        }
        return nullptr;
    }

    /// Registers a key and its variable; both must be new (a clash is a programming error).
    std::string declare(const std::string& full, std::string env_var) {
        assert(!finished && "declare every key before finish()");
        [[maybe_unused]] const bool fresh = declared.insert(full).second;
        assert(fresh && "a key may be declared only once");
        assert(!tables.contains(full) && "a key cannot also be a table");
        [[maybe_unused]] const bool unique_var = env_owner.emplace(env_var, full).second;
        assert(unique_var && "two keys map to the same environment variable");
        return env_var;
    }

    void open_table(const std::string& full) {
        assert(!declared.contains(full) && "a table cannot also be a key");
        for (std::size_t dot = full.find('.'); dot != std::string::npos;
             dot = full.find('.', dot + 1)) {
            open_table(full.substr(0, dot));
        }
        if (!tables.insert(full).second) {
            return;
        }
        if (const detail::node* value = lookup(full);
            value != nullptr && value->kind != detail::node_kind::table) {
            error(origin_of(*value), full,
                  fmt::format("expected a table [{}], found {}", full,
                              detail::kind_name(value->kind)));
        }
    }
};

} // namespace quoter::config
