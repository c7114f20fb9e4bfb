#include "quoter/exec/binance_client_id.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <unordered_set>

using namespace quoter::exec;

namespace {

// 2026-12-04 18:00:00 UTC in microseconds.
constexpr std::int64_t start_us = 1'796'407'200'000'000;

} // namespace

TEST_CASE("client ids use Binance's alphabet and fit 36 characters", "[binance_client_id]") {
    client_id_factory factory("qtr", start_us);
    CHECK(factory.prefix().size() == 3 + client_id_factory::start_digits);
    CHECK(factory.tag() == "qtr");
    for (int i = 0; i < 1000; ++i) {
        const auto text = factory.format(factory.next());
        INFO(std::string(text.view()));
        CHECK(is_valid_client_id(text.view()));
        CHECK(text.view().size() <= 36);
    }
    // The longest form: a 4-character tag and the largest counter.
    client_id_factory longest("abcdefgh", start_us);
    CHECK(longest.tag() == "abcd");
    const auto text = longest.format(client_order_id{~std::uint64_t{0}});
    CHECK(text.view().size() == 29);
    CHECK(is_valid_client_id(text.view()));
    // Characters Binance refuses in a tag are replaced rather than sent.
    client_id_factory odd("a b\"", start_us);
    CHECK(odd.tag() == "a_b_");
    CHECK(is_valid_client_id(odd.format(client_order_id{1}).view()));
}

TEST_CASE("the alphabet check matches Binance's pattern", "[binance_client_id]") {
    CHECK(is_valid_client_id("abc.XYZ:09/_-"));
    CHECK_FALSE(is_valid_client_id(""));
    CHECK_FALSE(is_valid_client_id(std::string(37, 'a')));
    CHECK(is_valid_client_id(std::string(36, 'a')));
    CHECK_FALSE(is_valid_client_id("a b"));
    CHECK_FALSE(is_valid_client_id("a+b"));
    CHECK_FALSE(is_valid_client_id("é"));
}

TEST_CASE("ids of two runs never collide, even when both counters restart", "[binance_client_id]") {
    client_id_factory first("q", start_us);
    client_id_factory second("q", start_us + 1); // a restart one microsecond later
    CHECK(first.prefix() != second.prefix());
    std::unordered_set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        CHECK(seen.insert(std::string(first.format(first.next()).view())).second);
    }
    for (int i = 0; i < 1000; ++i) {
        CHECK(seen.insert(std::string(second.format(second.next()).view())).second);
    }
    // Later start times sort later, so a listing of open orders shows runs in order.
    CHECK(first.prefix() < second.prefix());
    client_id_factory much_later("q", start_us + 86'400'000'000);
    CHECK(second.prefix() < much_later.prefix());
}

TEST_CASE("a million ids of one run are distinct and parse back", "[binance_client_id]") {
    client_id_factory factory("q", start_us);
    std::unordered_set<std::string> seen;
    seen.reserve(1'000'000);
    bool all_unique = true;
    bool all_parse = true;
    for (int i = 0; i < 1'000'000; ++i) {
        const client_order_id id = factory.next();
        const auto text = factory.format(id);
        all_unique = seen.emplace(text.view()).second && all_unique;
        const auto parsed = factory.parse(text.view());
        all_parse = parsed.has_value() && *parsed == id && all_parse;
    }
    CHECK(all_unique);
    CHECK(all_parse);
    CHECK(seen.size() == 1'000'000);
}

TEST_CASE("open orders are told apart by who placed them", "[binance_client_id]") {
    client_id_factory earlier("q", start_us);
    client_id_factory current("q", start_us + 5'000'000);
    const auto mine = current.format(current.next());
    const auto leftover = earlier.format(earlier.next());
    CHECK(current.owner(mine.view()) == client_id_owner::this_run);
    CHECK(current.owner(leftover.view()) == client_id_owner::earlier_run);
    CHECK(current.owner("web_8f2c1d9a0b") == client_id_owner::foreign);
    client_id_factory other_instance("x", start_us);
    CHECK(current.owner(other_instance.format(client_order_id{1}).view()) ==
          client_id_owner::foreign);
    // This run's prefix with a reserved id 0 is not an order this run placed.
    CHECK(current.owner(current.format(client_order_id{0}).view()) == client_id_owner::foreign);
}
