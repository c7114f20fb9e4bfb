// ci: what a test does when this machine lacks something it needs (a tool, the captures).
// In CI (the environment variable CI is set, to anything) the test FAILS, so that a pipeline that
// lost an input or a package cannot pass by skipping what it was meant to check; elsewhere it is
// skipped with a warning saying what is missing and how to provide it.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace quoter::test {

/// True when the environment variable CI is set.
inline bool in_ci() {
    return std::getenv("CI") != nullptr;
}

/// `missing` (what is absent, and how to provide it) is missing: FAILs the test in CI (FAIL ends
/// the test case there), else records the skip as a warning and a pass and returns; the caller
/// then returns.
inline void skip_unless_ci(const std::string& missing) {
    if (in_ci()) {
        FAIL("missing in CI: " << missing);
    }
    WARN("skipped: " << missing);
    SUCCEED("skipped outside CI");
}

} // namespace quoter::test
