#include "quoter/ops/journal.hpp"

#include "ops/ops_test_support.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <limits>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace quoter;
using namespace quoter::ops;
using namespace quoter::ops::testing;

namespace {

core::symbol_spec btcusdt() {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    return *spec;
}

std::unique_ptr<journal> open_journal(const std::string& path, bool with_symbols = true,
                                      std::int64_t fdatasync_interval_ms = 0) {
    journal_config config;
    config.path = path;
    config.fdatasync_interval_ms = fdatasync_interval_ms;
    config.idle_sleep_us = 50;
    if (with_symbols) {
        config.symbols.push_back(btcusdt());
    }
    auto opened = journal::open(std::move(config));
    REQUIRE(opened.has_value());
    return std::move(*opened);
}

order_intent_entry intent(std::uint64_t id) {
    order_intent_entry e;
    e.client_order_id = id;
    e.side = core::side::buy;
    e.post_only = true;
    e.price = core::price{6'173'763}; // 61737.63
    e.qty = core::qty{150};           // 0.0015
    e.best_bid = core::price{6'173'764};
    e.best_ask = core::price{6'173'765};
    e.inventory = core::qty{-300};
    e.mid = 61'737.645;
    e.volatility = 0.00012;
    e.reservation_price = 61'737.5;
    e.half_spread = 0.12;
    e.skew = -0.03;
    return e;
}

/// Parses every line as JSON; checks seq runs 1, 2, 3, ... and returns the documents' types.
std::vector<std::string> parse_lines(const std::vector<std::string>& lines,
                                     std::vector<simdjson::dom::element>* out = nullptr,
                                     simdjson::dom::parser* keep = nullptr) {
    std::vector<std::string> types;
    simdjson::dom::parser local;
    std::uint64_t expected_seq = 1;
    for (const auto& line : lines) {
        simdjson::dom::parser& parser = keep != nullptr ? keep[types.size()] : local;
        simdjson::dom::element doc;
        const auto error = parser.parse(line).get(doc);
        INFO(line);
        REQUIRE(error == simdjson::SUCCESS);
        std::uint64_t seq = 0;
        REQUIRE(doc["seq"].get(seq) == simdjson::SUCCESS);
        CHECK(seq == expected_seq++);
        std::int64_t ts = 0;
        CHECK(doc["ts"].get(ts) == simdjson::SUCCESS);
        std::string_view type;
        REQUIRE(doc["type"].get(type) == simdjson::SUCCESS);
        types.emplace_back(type);
        if (out != nullptr) {
            out->push_back(doc);
        }
    }
    return types;
}

template <class Predicate> bool wait_until(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace

TEST_CASE("every record type is written as one valid JSON line, in order", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    {
        auto j = open_journal(path);
        REQUIRE(j->start());
        CHECK(j->append(1'000, intent(7)));

        risk::rejection_record reject;
        reject.time = 1'001;
        reject.reason = risk::reject_reason::price_band;
        reject.limit_value = 50.0;
        reject.actual_value = 62.5;
        reject.client_order_id = 8;
        reject.side = core::side::sell;
        reject.price = core::price{6'200'000};
        reject.qty = core::qty{100};
        CHECK(j->append(reject));

        CHECK(j->append(1'002, ack_entry{.client_order_id = 7,
                                         .exchange_order_id = 991,
                                         .latency = 350'000,
                                         .symbol_id = 0}));
        fill_entry fill;
        fill.client_order_id = 7;
        fill.price = core::price{6'173'763};
        fill.qty = core::qty{150};
        fill.position_after = core::qty{-150};
        fill.fee = -0.0023;
        CHECK(j->append(1'003, fill));
        CHECK(j->append(1'004, cancel_entry{.client_order_id = 7,
                                            .symbol_id = 0,
                                            .cause = cancel_cause::kill,
                                            .stage = cancel_stage::requested}));
        CHECK(j->append(risk::state_change{.time = 1'005,
                                           .from = risk::trading_state::running,
                                           .to = risk::trading_state::killed,
                                           .event = risk::state_event::kill,
                                           .reason = risk::halt_reason::manual_kill}));
        CHECK(j->append(risk::alert{.time = 1'006,
                                    .kind = risk::alert_kind::slippage,
                                    .severity = risk::alert_severity::warning,
                                    .value = 4.0,
                                    .threshold = 3.0}));
        CHECK(j->append(1'007, command_entry{.command = control_command::kill,
                                             .source = command_source::signal}));
        j->stop();
        CHECK(j->dropped() == 0);
    }
    const auto lines = read_lines(path);
    std::vector<simdjson::dom::element> docs;
    std::vector<simdjson::dom::parser> parsers(lines.size());
    const auto types = parse_lines(lines, &docs, parsers.data());
    CHECK(types == std::vector<std::string>{"journal_open", "order_intent", "risk_reject", "ack",
                                            "fill", "cancel", "state", "alert", "command",
                                            "journal_close"});
    REQUIRE(docs.size() == 10);

    const auto& order = docs[1];
    CHECK(std::string_view(order["symbol"]) == "BTCUSDT");
    CHECK(std::int64_t(order["ts"]) == 1'000);
    CHECK(std::string_view(order["side"]) == "buy");
    CHECK(double(order["price"]) == 61'737.63);
    CHECK(double(order["qty"]) == 0.0015);
    CHECK(bool(order["post_only"]));
    CHECK(double(order["inputs"]["mid"]) == 61'737.645);
    CHECK(double(order["inputs"]["best_ask"]) == 61'737.65);
    CHECK(double(order["inputs"]["inventory"]) == -0.003);
    CHECK(double(order["inputs"]["volatility"]) == 0.00012);
    CHECK(double(order["model"]["skew"]) == -0.03);
    CHECK(lines[1].find("\"price\":61737.63,") != std::string::npos); // exact decimal text

    const auto& rejected = docs[2];
    CHECK(std::string_view(rejected["reason"]) == "price_band");
    CHECK(std::string_view(rejected["unit"]) == "bps");
    CHECK(double(rejected["limit"]) == 50.0);
    CHECK(double(rejected["actual"]) == 62.5);
    CHECK(std::string_view(rejected["side"]) == "sell");
    CHECK(double(rejected["price"]) == 62'000.0);

    CHECK(std::uint64_t(docs[3]["exchange_order_id"]) == 991);
    CHECK(std::int64_t(docs[3]["latency_ns"]) == 350'000);
    CHECK(double(docs[4]["position"]) == -0.0015);
    CHECK(double(docs[4]["fee"]) == -0.0023);
    CHECK(std::string_view(docs[5]["cause"]) == "kill");
    CHECK(std::string_view(docs[6]["event"]) == "kill");
    CHECK(std::string_view(docs[6]["to"]) == "killed");
    CHECK(std::string_view(docs[6]["reason"]) == "manual_kill");
    CHECK(std::string_view(docs[7]["kind"]) == "slippage");
    CHECK(std::string_view(docs[8]["source"]) == "signal");
    CHECK(std::uint64_t(docs[9]["dropped"]) == 0);
}

TEST_CASE("flushed lines are in the file while the journal is still open", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    auto j = open_journal(path, true, 1'000);
    REQUIRE(j->start());
    for (std::uint64_t i = 0; i < 100; ++i) {
        REQUIRE(j->append(static_cast<core::timestamp_ns>(i), intent(i)));
    }
    REQUIRE(wait_until([&] { return j->lines_flushed() >= 101; }));
    const auto lines = read_lines(path); // read while the writer is alive
    REQUIRE(lines.size() == 101);
    const auto types = parse_lines(lines);
    CHECK(types.front() == "journal_open");
    CHECK(types.back() == "order_intent");
}

TEST_CASE("lines survive the writer object and a killed process", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    {
        auto j = open_journal(path);
        REQUIRE(j->start());
        for (std::uint64_t i = 0; i < 50; ++i) {
            j->append(static_cast<core::timestamp_ns>(i), intent(i));
        }
    }                                     // destroyed without an explicit stop
    CHECK(read_lines(path).size() == 52); // open, 50 intents, close

    const std::string crashed = dir.file("crashed.jsonl");
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        journal_config config;
        config.path = crashed;
        config.fdatasync_interval_ms = -1;
        auto opened = journal::open(std::move(config));
        if (!opened || !(*opened)->start()) {
            ::_exit(3);
        }
        auto& j = **opened;
        for (std::uint64_t i = 0; i < 100; ++i) {
            j.append(static_cast<core::timestamp_ns>(i), intent(i));
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (j.lines_flushed() < 101 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ::raise(SIGKILL); // no destructor, no stop, no atexit
        ::_exit(4);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    const auto lines = read_lines(crashed);
    REQUIRE(lines.size() == 101);
    const auto types = parse_lines(lines);
    CHECK(std::count(types.begin(), types.end(), "order_intent") == 100);
    CHECK(std::count(types.begin(), types.end(), "journal_close") == 0);
}

TEST_CASE("a full ring drops records, counts them and journals the count", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    auto j = open_journal(path);
    // No writer thread yet: the ring fills up.
    for (std::uint64_t i = 0; i < journal::ring_capacity; ++i) {
        REQUIRE(j->append(static_cast<core::timestamp_ns>(i), intent(i)));
    }
    for (int i = 0; i < 5; ++i) {
        CHECK_FALSE(j->append(0, intent(0)));
    }
    CHECK(j->dropped() == 5);
    CHECK(j->drain() == journal::ring_capacity + 1); // the records and one `dropped` line
    CHECK(j->append(9'000'000, intent(1)));
    j->stop();

    const auto lines = read_lines(path);
    std::vector<simdjson::dom::element> docs;
    std::vector<simdjson::dom::parser> parsers(lines.size());
    const auto types = parse_lines(lines, &docs, parsers.data());
    REQUIRE(types.size() == journal::ring_capacity + 4);
    const auto dropped =
        static_cast<std::size_t>(std::find(types.begin(), types.end(), "dropped") - types.begin());
    REQUIRE(dropped < types.size());
    CHECK(std::uint64_t(docs[dropped]["count"]) == 5);
    CHECK(std::uint64_t(docs[dropped]["total"]) == 5);
    CHECK(types.back() == "journal_close");
    CHECK(std::uint64_t(docs.back()["dropped"]) == 5);
}

TEST_CASE("the journal appends to an existing file", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    {
        auto j = open_journal(path);
        j->append(1, intent(1));
    }
    {
        auto j = open_journal(path);
        j->append(2, intent(2));
    }
    const auto lines = read_lines(path);
    REQUIRE(lines.size() == 6);
    CHECK(lines[0].find("\"type\":\"journal_open\"") != std::string::npos);
    CHECK(lines[3].find("\"seq\":1,") != std::string::npos); // a new journal starts at 1
}

TEST_CASE("symbols without a spec are written in ticks and lots", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    {
        auto j = open_journal(path, false);
        j->append(1, intent(1));
    }
    const auto lines = read_lines(path);
    REQUIRE(lines.size() == 3);
    parse_lines(lines);
    CHECK(lines[1].find("\"price_ticks\":6173763") != std::string::npos);
    CHECK(lines[1].find("\"qty_lots\":150") != std::string::npos);
    CHECK(lines[1].find("\"symbol\"") == std::string::npos);
}

TEST_CASE("names are escaped and non-finite numbers become null", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    {
        journal_config config;
        config.path = path;
        const auto spec = core::symbol_spec::from_text(
            {.name = "A\"B\\C\n", .tick_size = "1", .step_size = "1", .min_notional = ""});
        REQUIRE(spec.has_value());
        config.symbols.push_back(*spec);
        auto opened = journal::open(std::move(config));
        REQUIRE(opened.has_value());
        auto e = intent(1);
        e.volatility = std::numeric_limits<double>::quiet_NaN();
        e.mid = std::numeric_limits<double>::infinity();
        (*opened)->append(1, e);
    }
    const auto lines = read_lines(path);
    REQUIRE(lines.size() == 3);
    std::vector<simdjson::dom::element> docs;
    std::vector<simdjson::dom::parser> parsers(lines.size());
    parse_lines(lines, &docs, parsers.data());
    CHECK(std::string_view(docs[1]["symbol"]) == "A\"B\\C\n");
    CHECK(docs[1]["inputs"]["volatility"].is_null());
    CHECK(docs[1]["inputs"]["mid"].is_null());
}

TEST_CASE("opening a journal in a missing folder fails with errno", "[journal]") {
    journal_config config;
    config.path = "/nonexistent-quoter-folder/journal.jsonl";
    const auto opened = journal::open(std::move(config));
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().error_number == ENOENT);
}

TEST_CASE("lines stamped with the wall clock carry it in readable UTC too", "[journal]") {
    scratch_dir dir;
    const std::string path = dir.file("journal.jsonl");
    journal_config config;
    config.path = path;
    config.idle_sleep_us = 50;
    config.stamp_wall_clock = true;
    config.symbols.push_back(btcusdt());
    auto opened = journal::open(std::move(config));
    REQUIRE(opened.has_value());
    auto j = std::move(*opened);
    REQUIRE(j->start());
    REQUIRE(j->append(7, intent(1)));
    REQUIRE(wait_until([&] { return j->lines_flushed() >= 2; }));
    j->stop();
    const auto lines = read_lines(path);
    REQUIRE(lines.size() >= 2);
    std::vector<simdjson::dom::element> docs;
    simdjson::dom::parser parsers[8];
    (void)parse_lines(lines, &docs, parsers);
    REQUIRE(docs.size() >= 2);
    std::int64_t wall = 0;
    REQUIRE(docs[1]["wall_ns"].get(wall) == simdjson::SUCCESS);
    std::string_view utc;
    REQUIRE(docs[1]["wall_utc"].get(utc) == simdjson::SUCCESS);
    // The same instant: yyyy-mm-ddThh:mm:ss.nnnnnnnnnZ, the seconds and nanoseconds of wall_ns.
    const std::time_t seconds = static_cast<std::time_t>(wall / 1'000'000'000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char expected[96]; // room for any int the compiler cannot rule out
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(wall % 1'000'000'000));
    CHECK(utc == std::string_view(expected));
}
