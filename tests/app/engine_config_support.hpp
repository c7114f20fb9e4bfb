// Loading engine configurations in the app tests: a file written into a temporary folder, read
// with an empty environment (no QUOTER_* variable of the machine running the tests leaks in).
#pragma once

#include "quoter/app/app_config.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <string_view>

namespace quoter::test {

/// Load options with the given environment variables only, and a profile.
inline config::load_options config_options(std::map<std::string, std::string> env = {},
                                           std::string profile = {}) {
    return config::load_options{.profile = std::move(profile),
                                .env = config::environment::from_map(std::move(env))};
}

/// Every problem of a failed load, one a line.
inline std::string messages(const config::diagnostics& problems) {
    std::string out;
    for (const auto& problem : problems) {
        out += config::to_string(problem) + "\n";
    }
    return out;
}

/// Loads `text` written to a file in `dir`; the test fails, with the problems, when it is not
/// valid.
inline app::engine_config valid_config(const temp_dir& dir, std::string_view text) {
    const auto loaded =
        app::load_engine_config(dir.write("quoter.toml", text).string(), config_options());
    INFO((loaded ? std::string() : messages(loaded.error())));
    REQUIRE(loaded.has_value());
    return *loaded;
}

} // namespace quoter::test
