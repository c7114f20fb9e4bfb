// status_line_printer: a terminal gets the line redrawn in place (padded to the widest line so
// far, no newline) and erased at the end; a log gets whole lines; due() spaces the lines by the
// period of the output it writes to.
#include "quoter/ops/status_line.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

namespace {

/// Everything written to a temporary FILE so far.
std::string contents(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string out;
    char buffer[256];
    while (const std::size_t n = std::fread(buffer, 1, sizeof(buffer), file)) {
        out.append(buffer, n);
    }
    return out;
}

} // namespace

TEST_CASE("on a terminal the status line is redrawn in place and erased at the end",
          "[status_line]") {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    {
        quoter::ops::status_line_printer printer(file, true);
        printer.show("sim 00:00:01 long line");
        printer.show("short");
        CHECK(printer.width() == 22);
        printer.clear();
    }
    const std::string text = contents(file);
    // The shorter line is padded over the longer one; nothing ends with a newline.
    CHECK(text ==
          "\rsim 00:00:01 long line\rshort                 \r" + std::string(22, ' ') + "\r");
    std::fclose(file);
}

TEST_CASE("into a log each status line is a whole line and nothing is erased", "[status_line]") {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    quoter::ops::status_line_printer printer(file, false);
    printer.show("paper 5s running");
    printer.show("paper 10s running");
    printer.clear();
    CHECK(contents(file) == "paper 5s running\npaper 10s running\n");
    std::fclose(file);
}

TEST_CASE("due() answers once per period of the output's kind", "[status_line]") {
    constexpr quoter::core::duration_ns second = quoter::core::ns_per_s;
    quoter::ops::status_line_printer terminal(stderr, true, second, 5 * second);
    terminal.arm(0);
    CHECK_FALSE(terminal.due(second - 1));
    CHECK(terminal.due(second));
    CHECK_FALSE(terminal.due(second + 1));
    CHECK(terminal.due(2 * second));

    quoter::ops::status_line_printer log(stderr, false, second, 5 * second);
    log.arm(0);
    CHECK_FALSE(log.due(4 * second));
    CHECK(log.due(5 * second));
    CHECK_FALSE(log.due(9 * second));
    CHECK(log.due(10 * second));
}
