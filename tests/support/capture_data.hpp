// capture_data: where the tests labelled `data` find the real Binance captures, and what happens
// without them. The captures are not part of the repository: they are read from QUOTER_DATA_DIR
// when it is set, else from ../shared/data/binance next to the checkout.
//
// A test that needs them calls require_captures() first. When the folder or a named file is
// missing:
//   - in CI the test FAILS, so that a pipeline that lost its data cannot pass by skipping what it
//     was meant to check;
//   - elsewhere the test is skipped with a warning saying what is missing and how to provide it
//   (support/ci.hpp).
#pragma once

#include "support/ci.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

namespace quoter::test {

/// The capture folder tests read: QUOTER_DATA_DIR, else ../shared/data/binance (which may not
/// exist).
inline std::filesystem::path capture_folder() {
    if (const char* env = std::getenv("QUOTER_DATA_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return std::filesystem::path(QUOTER_SOURCE_DIR) / ".." / "shared" / "data" / "binance";
}

/// The capture folder when it holds every file in `files`; otherwise FAILs the test in CI, or
/// records a skip (a warning) and returns an empty string, after which the test returns.
inline std::string require_captures(std::initializer_list<std::string_view> files) {
    const std::filesystem::path folder = capture_folder();
    std::string missing;
    if (!std::filesystem::is_directory(folder)) {
        missing = "the capture folder " + folder.string();
    } else {
        for (const std::string_view file : files) {
            if (!std::filesystem::is_regular_file(folder / file)) {
                missing += (missing.empty() ? "" : ", ") + (folder / file).string();
            }
        }
    }
    if (missing.empty()) {
        return folder.string();
    }
    const std::string how = " (set QUOTER_DATA_DIR to the folder of the Binance captures, or "
                            "provide ../shared/data/binance)";
    skip_unless_ci("test data: " + missing + " not found" + how);
    return {};
}

} // namespace quoter::test
