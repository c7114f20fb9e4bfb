// symbol_registry: name lookups as the decoders use them ("s" exactly, stream names in any case),
// for every name length the packed word comparison handles.
#include "quoter/md/instrument.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace quoter;
using namespace quoter::md;

namespace {

symbol_id add(symbol_registry& registry, std::string_view name) {
    const auto spec = make_book_spec(name, "0.01", 8);
    REQUIRE(spec.has_value());
    return registry.add({.book_spec = *spec, .trading_spec = *spec});
}

} // namespace

TEST_CASE("registry lookups match every name length exactly", "[instrument]") {
    // Names of 1 to 23 characters (symbol_name's capacity) that differ only in their last
    // character, so that every word of the packed comparison matters.
    symbol_registry registry;
    std::vector<std::string> names;
    for (std::size_t length = 1; length <= core::symbol_name::capacity; ++length) {
        for (const char last : {'A', 'B'}) {
            std::string name(length, 'Q');
            name.back() = last;
            REQUIRE(add(registry, name) == names.size());
            names.push_back(name);
        }
    }
    for (std::size_t id = 0; id < names.size(); ++id) {
        const std::string& name = names[id];
        INFO(name);
        CHECK(registry.find(name) == id);
        std::string lower = name;
        for (char& c : lower) {
            c = static_cast<char>(c - 'A' + 'a');
        }
        CHECK(registry.find_lower(lower) == id);
        CHECK(registry.find(lower) == invalid_symbol); // "s" is matched exactly
        CHECK(registry.find(name + "Q") == invalid_symbol);
        CHECK(registry.find(name.substr(0, name.size() - 1)) == invalid_symbol);
        std::string other = name;
        other.back() = 'C';
        CHECK(registry.find(other) == invalid_symbol);
        CHECK(registry.find_lower(other) == invalid_symbol);
    }
    CHECK(registry.find("") == invalid_symbol);
    CHECK(registry.find(std::string(core::symbol_name::capacity + 1, 'Q')) == invalid_symbol);
}

TEST_CASE("only ASCII letters fold; other bytes match exactly", "[instrument]") {
    symbol_registry registry;
    REQUIRE(add(registry, "BTC-USDT_1") == 0);
    REQUIRE(add(registry, "\xC3\xA9TH@X") == 1);
    REQUIRE(add(registry, "1000PEPEUSDT") == 2);
    CHECK(add(registry, "btc-usdt_1") == invalid_symbol); // duplicate in another case
    CHECK(registry.find_lower("btc-usdt_1") == 0);
    CHECK(registry.find_lower("BTC-USDT_1") == 0);
    CHECK(registry.find_lower("btc-usdt_2") == invalid_symbol);
    CHECK(registry.find_lower("btc-usdt\x7F" "1") == invalid_symbol);
    CHECK(registry.find_lower("\xC3\xA9th@x") == 1);
    CHECK(registry.find_lower("\xE3\xA9TH@X") == invalid_symbol); // 0xC3 is not a letter
    CHECK(registry.find_lower("\xC3\x89TH@X") == invalid_symbol);
    CHECK(registry.find_lower("1000pepeusdt") == 2);
    CHECK(registry.find("1000PEPEUSDT") == 2);
    CHECK(registry.find("1000pepeusdt") == invalid_symbol);
}
