#include "quoter/ops/alerts.hpp"

#include "ops/ops_test_support.hpp"

#include <catch2/catch.hpp>

#include <string>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

using namespace quoter;
using namespace quoter::ops;
using namespace quoter::ops::testing;

namespace {

struct counting_sink final : risk::alert_sink {
    int raised = 0;
    void raise(const risk::alert& /*a*/) noexcept override { ++raised; }
};

} // namespace

TEST_CASE("the stderr sink writes one readable line per alert", "[alerts]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    stderr_alert_sink sink(fds[1]);
    sink.raise({.time = 123,
                .kind = risk::alert_kind::kill,
                .severity = risk::alert_severity::critical,
                .reason = risk::halt_reason::daily_loss,
                .value = 1'001.0,
                .threshold = 1'000.0});
    ::close(fds[1]);
    char buffer[512] = {};
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer - 1);
    ::close(fds[0]);
    REQUIRE(n > 0);
    const std::string line(buffer, static_cast<std::size_t>(n));
    // Not a terminal: nothing to clear. The wall clock in UTC stands next to the raw ts.
    CHECK(line.starts_with("quoter alert: critical kill reason=daily_loss symbol_id=0 value=1001 "
                           "threshold=1000 utc=20"));
    CHECK(line.ends_with("Z ts=123\n"));
    CHECK(line.find('\r') == std::string::npos);
}

TEST_CASE("on a terminal an alert clears the status line before it", "[alerts][pty]") {
    // The status line is drawn with \r and no newline; an alert written after it used to run
    // on from it ("... p99 14.3 usquoter alert: ...").
    int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    REQUIRE(slave >= 0);
    termios raw{};
    REQUIRE(::tcgetattr(slave, &raw) == 0);
    ::cfmakeraw(&raw);
    REQUIRE(::tcsetattr(slave, TCSANOW, &raw) == 0);
    {
        stderr_alert_sink sink(slave);
        sink.raise({.time = 5,
                    .kind = risk::alert_kind::kill,
                    .severity = risk::alert_severity::critical,
                    .reason = risk::halt_reason::manual_kill});
    }
    std::string out;
    char buffer[512];
    pollfd p{.fd = master, .events = POLLIN, .revents = 0};
    while (out.find('\n') == std::string::npos && ::poll(&p, 1, 2'000) > 0) {
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(slave);
    ::close(master);
    INFO(out);
    CHECK(out.starts_with("\r\033[Kquoter alert: critical kill reason=manual_kill"));
}

TEST_CASE("the journal sinks journal rejections and alerts and pass alerts on", "[alerts]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    counting_sink next;
    {
        journal_config config;
        config.path = path;
        auto opened = journal::open(std::move(config));
        REQUIRE(opened.has_value());
        journal& j = **opened;
        journal_alert_sink alerts(j, &next);
        journal_rejection_sink rejections(j);
        alerts.raise({.time = 5, .kind = risk::alert_kind::pause});
        risk::rejection_record r;
        r.time = 6;
        r.reason = risk::reject_reason::killed;
        rejections.on_rejection(r);
    }
    CHECK(next.raised == 1);
    const auto lines = read_lines(path);
    REQUIRE(lines.size() == 4);
    CHECK(lines[1].find("\"type\":\"alert\"") != std::string::npos);
    CHECK(lines[1].find("\"kind\":\"pause\"") != std::string::npos);
    CHECK(lines[2].find("\"type\":\"risk_reject\"") != std::string::npos);
    CHECK(lines[2].find("\"reason\":\"killed\"") != std::string::npos);
}
