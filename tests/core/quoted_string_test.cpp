#include "quoter/core/quoted_string.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using quoter::core::append_quoted;

namespace {

std::string quoted(std::string_view text) {
    std::string out;
    append_quoted(out, text);
    return out;
}

} // namespace

TEST_CASE("append_quoted escapes what JSON and TOML basic strings require", "[quoted_string]") {
    CHECK(quoted("") == R"("")");
    CHECK(quoted("BTCUSDT") == R"("BTCUSDT")");
    CHECK(quoted(R"(a"b\c)") == R"("a\"b\\c")");
    CHECK(quoted("line\nnext\r\ttab") == R"("line\nnext\r\ttab")");
    CHECK(quoted(std::string("\x01\x1f\x7f", 3)) == R"("\u0001\u001f\u007f")");
    CHECK(quoted(std::string("\0", 1)) == R"("\u0000")");
    // UTF-8 passes through unchanged.
    CHECK(quoted("\xe2\x80\xa6") == "\"\xe2\x80\xa6\"");
}

TEST_CASE("append_quoted appends to any container with push_back", "[quoted_string]") {
    std::vector<char> out{'x'};
    append_quoted(out, "a\"");
    CHECK(std::string(out.begin(), out.end()) == R"(x"a\"")");
}
