#include "quoter/ops/state_file.hpp"

#include "ops/ops_test_support.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

using namespace quoter;
using quoter::ops::testing::scratch_dir;

namespace {

ops::engine_state sample_state() {
    ops::engine_state s;
    s.account = "paper-1";
    s.symbol = "BTCUSDT";
    s.session = "live:spot:testnet.binance.vision";
    s.saved_ns = 1'796'000'000'123'456'789;
    s.price_decimals = 2;
    s.qty_decimals = 5;
    s.positions = {{"BTCUSDT", -1234, -98'765'432}, {"ETHUSDT", 7, 21'000}};
    s.open_orders = {{"q-17-b0", "BTCUSDT", true, 6'543'210, 100, 25},
                     {"q-18-a0", "BTCUSDT", false, 6'543'300, 100, 0}};
    s.cash = 99'876'543'210;
    s.trading_day = 20'426;
    s.daily_pnl_base = -1'000'000'000;
    s.day_start_equity = 100'000'000'000;
    s.peak_equity = 104'000'000'000;
    s.kill_latched = true;
    s.kill_reason = "daily_loss: 5% limit, operator note\n(second line)";
    s.flatten_attempts = 7;
    s.manual_pause = true;
    s.unsaved_activity_ms = 1'250;
    s.last_md_update_id = 77'000'000'123ULL;
    s.last_journal_seq = 4242;
    s.last_client_order_seq = 18;
    s.rate_buckets = {{"orders_per_day", 1'795'996'400'000'000'000, 120},
                      {"orders_per_day", 1'795'999'999'999'999'999 - 3'599'999'999'999, 7},
                      {"ratio_cancels", 1'796'000'000'000'000'000, 3}};
    return s;
}

/// `body` (every line before the trailer) followed by the checksum trailer a quoter writes.
std::string checksummed(const std::string& body) {
    const auto crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(body.data()),
                           static_cast<uInt>(body.size()));
    return body + fmt::format("crc32 {:08x}\n", crc);
}

/// The sample's file with its line `line` (newline included) replaced by `replacement`, and
/// checksummed again, as an edit that keeps the file's checksum right.
std::string sample_with(const std::string& line, const std::string& replacement) {
    std::string text = ops::serialize_state(sample_state());
    const auto at = text.find(line);
    REQUIRE(at != std::string::npos);
    text.replace(at, line.size(), replacement);
    return checksummed(text.substr(0, text.rfind("crc32 ")));
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

} // namespace

TEST_CASE("state file: save and load round trip", "[state]") {
    scratch_dir dir;
    const std::string path = dir.file("state");
    const ops::engine_state saved = sample_state();
    REQUIRE(ops::save_state(path, saved).empty());

    const auto loaded = ops::load_state(path);
    REQUIRE(loaded.has_value());
    CHECK(loaded->found);
    CHECK(loaded->state == saved);
    // No temporary file is left behind.
    CHECK_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));

    // A second save replaces the first whole.
    ops::engine_state next = saved;
    next.kill_latched = false;
    next.kill_reason.clear();
    next.open_orders.clear();
    REQUIRE(ops::save_state(path, next).empty());
    const auto reloaded = ops::load_state(path);
    REQUIRE(reloaded.has_value());
    CHECK(reloaded->state == next);
}

TEST_CASE("state file: a missing file is not an error", "[state]") {
    scratch_dir dir;
    const auto loaded = ops::load_state(dir.file("absent"));
    REQUIRE(loaded.has_value());
    CHECK_FALSE(loaded->found);
}

TEST_CASE("state file: a corrupt file is refused as a whole", "[state]") {
    scratch_dir dir;
    const std::string path = dir.file("state");
    std::string text = ops::serialize_state(sample_state());

    SECTION("one flipped digit in a position") {
        const auto at = text.find("-1234");
        REQUIRE(at != std::string::npos);
        text[at + 1] = '9';
    }
    SECTION("one flipped byte in the kill latch") {
        const auto at = text.find("kill_latched 1");
        REQUIRE(at != std::string::npos);
        text[at + 13] = '0';
    }
    write_text(path, text);
    const auto loaded = ops::load_state(path);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().find("checksum mismatch") != std::string::npos);
    CHECK(loaded.error().find(path) != std::string::npos);
    CHECK(loaded.error().find("Nothing was loaded") != std::string::npos);
}

TEST_CASE("state file: a truncated file is refused", "[state]") {
    scratch_dir dir;
    const std::string path = dir.file("state");
    const std::string text = ops::serialize_state(sample_state());
    // Every proper prefix, as a crash mid-write without the rename would leave (were the file
    // written in place): none of them loads.
    for (std::size_t length = 0; length < text.size(); ++length) {
        write_text(path, text.substr(0, length));
        const auto loaded = ops::load_state(path);
        INFO("length " << length);
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().find("refused") != std::string::npos);
    }
    write_text(path, text.substr(0, text.size() / 2));
    CHECK(ops::load_state(path).error().find("truncated") != std::string::npos);
}

TEST_CASE("state file: content with a valid checksum is still checked", "[state]") {
    // A well-formed trailer over a body with a missing key: refused, never defaulted.
    const std::string body = "quoter-state 2\naccount a\nsymbol B\nend 0 0\n";
    const auto parsed = ops::parse_state(checksummed(body));
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error() == "missing saved_ns");

    // And the same check passes for a complete body, so the checksum above was right.
    const std::string full = ops::serialize_state(sample_state());
    CHECK(ops::parse_state(full).has_value());
}

TEST_CASE("state file: a file of the first format is refused, saying why", "[state]") {
    // Format 1 had no paper cash and no start-of-day equity: loading it would restart the
    // paper account's PnL and the daily loss from zero.
    std::string text = ops::serialize_state(sample_state());
    text.replace(0, std::string_view("quoter-state 2").size(), "quoter-state 1");
    const std::string body = text.substr(0, text.rfind("crc32 "));
    const auto parsed = ops::parse_state(checksummed(body));
    REQUIRE_FALSE(parsed.has_value());
    CHECK_THAT(parsed.error(), Catch::Contains("older quoter (format 1"));
}

TEST_CASE("state file: identifiers that cannot round trip are refused on save", "[state]") {
    scratch_dir dir;
    ops::engine_state s = sample_state();
    s.open_orders[0].client_id = "has space";
    CHECK(ops::save_state(dir.file("state"), s).find("outside") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("state")));
    s = sample_state();
    s.rate_buckets[1].window = "orders per day";
    CHECK(ops::save_state(dir.file("state"), s).find("outside") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("state")));
}

TEST_CASE("state file: a file without rate windows (an earlier quoter's) still loads",
          "[state]") {
    ops::engine_state s = sample_state();
    s.rate_buckets.clear();
    const auto parsed = ops::parse_state(ops::serialize_state(s));
    REQUIRE(parsed.has_value());
    CHECK(parsed->rate_buckets.empty());
    CHECK(*parsed == s);
}

TEST_CASE("state file: a file without the equity peak, the flatten attempts, the session or the "
          "unsaved activity (an earlier quoter's) still loads",
          "[state]") {
    const ops::engine_state s = sample_state();
    std::string text = ops::serialize_state(s);
    // Drop the lines and the trailer, and checksum the rest as an earlier quoter did.
    for (const char* key : {"peak_equity ", "flatten_attempts ", "session ",
                            "unsaved_activity_ms ", "price_decimals ", "qty_decimals "}) {
        const auto at = text.find(key);
        REQUIRE(at != std::string::npos);
        text.erase(at, text.find('\n', at) + 1 - at);
    }
    const std::string body = text.substr(0, text.rfind("crc32 "));
    const auto parsed = ops::parse_state(checksummed(body));
    REQUIRE(parsed.has_value());
    CHECK(parsed->peak_equity == 0);
    CHECK(parsed->flatten_attempts == 0);
    CHECK(parsed->session.empty());
    CHECK(parsed->unsaved_activity_ms == 0);
    CHECK(parsed->price_decimals == -1);
    CHECK(parsed->qty_decimals == -1);
}

TEST_CASE("state file: decimals come in a pair and within range", "[state]") {
    const auto alone = ops::parse_state(sample_with("qty_decimals 5\n", ""));
    REQUIRE_FALSE(alone.has_value());
    CHECK(alone.error() == "bad qty_decimals");
    const auto wide = ops::parse_state(sample_with("price_decimals 2\n", "price_decimals 19\n"));
    REQUIRE_FALSE(wide.has_value());
    CHECK(wide.error() == "bad price_decimals");
}

TEST_CASE("state file: a state saved at other decimals is counted in the symbol's new ones",
          "[state]") {
    SECTION("a finer step: lots and money multiplied") {
        ops::engine_state s = sample_state(); // 2 price and 5 quantity decimals
        REQUIRE(ops::rescale_state(s, 2, 6).empty());
        CHECK(s.qty_decimals == 6);
        CHECK(s.cash == 998'765'432'100);
        CHECK(s.day_start_equity == 1'000'000'000'000);
        CHECK(s.peak_equity == 1'040'000'000'000);
        CHECK(s.daily_pnl_base == -10'000'000'000);
        CHECK(s.positions[0].qty_lots == -12'340);
        CHECK(s.positions[0].entry_notional == -987'654'320);
        CHECK(s.open_orders[0].price_ticks == 6'543'210);
        CHECK(s.open_orders[0].qty_lots == 1'000);
        CHECK(s.open_orders[0].filled_lots == 250);
    }
    SECTION("a coarser tick: ticks and money divided, toward zero") {
        ops::engine_state s = sample_state();
        REQUIRE(ops::rescale_state(s, 1, 5).empty());
        CHECK(s.price_decimals == 1);
        CHECK(s.cash == 9'987'654'321);
        CHECK(s.positions[0].entry_notional == -9'876'543);
        CHECK(s.open_orders[0].price_ticks == 654'321);
        CHECK(s.positions[0].qty_lots == -1234);
    }
    SECTION("the same decimals, or a file that names none: unchanged") {
        ops::engine_state s = sample_state();
        REQUIRE(ops::rescale_state(s, 2, 5).empty());
        CHECK(s == sample_state());
        ops::engine_state earlier = sample_state();
        earlier.price_decimals = -1;
        earlier.qty_decimals = -1;
        const ops::engine_state before = earlier;
        REQUIRE(ops::rescale_state(earlier, 8, 8).empty());
        CHECK(earlier == before);
    }
    SECTION("a value that would overflow is refused") {
        ops::engine_state s = sample_state();
        CHECK(ops::rescale_state(s, 10, 13) == "cash overflows at the symbol's new decimals");
    }
}

TEST_CASE("state file: a negative unsaved activity is refused", "[state]") {
    const auto parsed =
        ops::parse_state(sample_with("unsaved_activity_ms 1250\n", "unsaved_activity_ms -1\n"));
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error() == "bad unsaved_activity_ms");
}

TEST_CASE("state file: a malformed rate line is refused with its line number", "[state]") {
    const auto parsed = ops::parse_state(sample_with("rate ratio_cancels 1796000000000000000 3\n",
                                                     "rate ratio_cancels 1796000000000000000 0\n"));
    REQUIRE_FALSE(parsed.has_value());
    CHECK_THAT(parsed.error(), Catch::Contains("expected: rate <window> <start_ns> <events>"));
}

TEST_CASE("instance lock: a second engine on the same account and symbol is refused",
          "[state][lock]") {
    scratch_dir dir;
    auto first = ops::instance_lock::acquire(dir.file(""), "main", "BTCUSDT");
    REQUIRE(first.has_value());
    CHECK(first->held());
    CHECK(first->path().ends_with("quoter-main-BTCUSDT.lock"));

    SECTION("from a second descriptor in this process") {
        const auto second = ops::instance_lock::acquire(dir.file(""), "main", "BTCUSDT");
        REQUIRE_FALSE(second.has_value());
        CHECK(second.error().find("another quoter engine is running on account main symbol "
                                  "BTCUSDT (pid " +
                                  std::to_string(::getpid())) != std::string::npos);
        // Another symbol is another lock.
        CHECK(ops::instance_lock::acquire(dir.file(""), "main", "ETHUSDT").has_value());
    }
    SECTION("from a second process") {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            const auto second = ops::instance_lock::acquire(dir.file(""), "main", "BTCUSDT");
            ::_exit(second.has_value()                                                  ? 1
                    : second.error().find("another quoter engine") != std::string::npos ? 0
                                                                                        : 2);
        }
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    SECTION("released, it can be taken again") {
        first->release();
        CHECK(ops::instance_lock::acquire(dir.file(""), "main", "BTCUSDT").has_value());
    }
    SECTION("names that would escape the directory are refused") {
        CHECK_FALSE(ops::instance_lock::acquire(dir.file(""), "../x", "BTCUSDT").has_value());
    }
}
