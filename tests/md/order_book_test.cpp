#include "quoter/md/order_book.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <vector>

using namespace quoter;
using quoter::core::price;
using quoter::core::qty;
using quoter::core::side;
using quoter::md::book_level;
using quoter::md::level_change;
using quoter::md::order_book;

TEST_CASE("an empty book has no levels and no best", "[order_book]") {
    const order_book book(16);
    CHECK(book.empty(side::buy));
    CHECK(book.empty(side::sell));
    CHECK(book.best_bid() == book_level{});
    CHECK(book.best_ask() == book_level{});
    CHECK_FALSE(book.crossed());
    CHECK(book.capacity() == 16);
}

TEST_CASE("set inserts, updates and erases levels on each side", "[order_book]") {
    order_book book(16);
    CHECK(book.set(side::buy, price{100}, qty{5}) == level_change::inserted);
    CHECK(book.set(side::buy, price{102}, qty{7}) == level_change::inserted);
    CHECK(book.set(side::buy, price{101}, qty{1}) == level_change::inserted);
    CHECK(book.set(side::sell, price{105}, qty{3}) == level_change::inserted);
    CHECK(book.set(side::sell, price{103}, qty{4}) == level_change::inserted);

    CHECK(book.best_bid() == book_level{price{102}, qty{7}});
    CHECK(book.best_ask() == book_level{price{103}, qty{4}});
    CHECK(book.depth(side::buy) == 3);
    CHECK(book.level(side::buy, 1) == book_level{price{101}, qty{1}});
    CHECK(book.level(side::buy, 2) == book_level{price{100}, qty{5}});
    CHECK(book.level(side::sell, 1) == book_level{price{105}, qty{3}});

    CHECK(book.set(side::buy, price{101}, qty{9}) == level_change::updated);
    CHECK(book.set(side::buy, price{101}, qty{9}) == level_change::none);
    CHECK(book.qty_at(side::buy, price{101}) == qty{9});
    CHECK(book.qty_at(side::buy, price{99}) == qty{0});

    CHECK(book.set(side::buy, price{102}, qty{0}) == level_change::erased);
    CHECK(book.set(side::buy, price{102}, qty{0}) == level_change::none);
    CHECK(book.best_bid() == book_level{price{101}, qty{9}});
    CHECK(book.erase(side::sell, price{103}));
    CHECK_FALSE(book.erase(side::sell, price{103}));
    CHECK(book.best_ask() == book_level{price{105}, qty{3}});
}

TEST_CASE("top copies the best levels, best first", "[order_book]") {
    order_book book(64);
    for (int i = 0; i < 30; ++i) {
        book.set(side::buy, price{1000 - i}, qty{i + 1});
        book.set(side::sell, price{1001 + i}, qty{i + 1});
    }
    std::array<book_level, 10> top{};
    REQUIRE(book.top(side::buy, top) == 10);
    for (std::size_t i = 0; i < 10; ++i) {
        CHECK(top[i].px == price{1000 - static_cast<int>(i)});
        CHECK(top[i].qty == qty{static_cast<int>(i) + 1});
    }
    REQUIRE(book.top(side::sell, top) == 10);
    for (std::size_t i = 0; i < 10; ++i) {
        CHECK(top[i].px == price{1001 + static_cast<int>(i)});
    }
    order_book shallow(8);
    shallow.set(side::sell, price{5}, qty{1});
    CHECK(shallow.top(side::sell, top) == 1);
    CHECK(shallow.top(side::buy, top) == 0);
}

TEST_CASE("crossed detects best bid at or above best ask", "[order_book]") {
    order_book book(8);
    book.set(side::buy, price{100}, qty{1});
    book.set(side::sell, price{101}, qty{1});
    CHECK_FALSE(book.crossed());
    book.set(side::buy, price{101}, qty{1});
    CHECK(book.crossed());
    book.erase(side::buy, price{101});
    book.set(side::sell, price{99}, qty{1});
    CHECK(book.crossed());
}

TEST_CASE("erase_better_than removes the levels ahead of a price", "[order_book]") {
    order_book book(16);
    for (int p = 100; p <= 105; ++p) {
        book.set(side::buy, price{p}, qty{1});
        book.set(side::sell, price{p + 10}, qty{1});
    }
    CHECK(book.erase_better_than(side::buy, price{103}) == 2);
    CHECK(book.best_bid().px == price{103});
    CHECK(book.erase_better_than(side::sell, price{112}) == 2);
    CHECK(book.best_ask().px == price{112});
    CHECK(book.erase_better_than(side::sell, price{100}) == 0);
}

TEST_CASE("a full side drops its worst level and counts it", "[order_book]") {
    order_book book(4);
    for (int p = 1; p <= 4; ++p) {
        book.set(side::buy, price{p * 10}, qty{p});
    }
    CHECK(book.set(side::buy, price{5}, qty{1}) == level_change::truncated); // worse than all
    CHECK(book.depth(side::buy) == 4);
    CHECK(book.qty_at(side::buy, price{5}) == qty{0});
    CHECK(book.set(side::buy, price{25}, qty{9}) == level_change::truncated);
    CHECK(book.depth(side::buy) == 4);
    CHECK(book.qty_at(side::buy, price{10}) == qty{0}); // the old worst went
    CHECK(book.qty_at(side::buy, price{25}) == qty{9});
    CHECK(book.best_bid().px == price{40});
    CHECK(book.truncated_levels() == 2);
    // Updating an existing level of a full side is not a truncation.
    CHECK(book.set(side::buy, price{40}, qty{1}) == level_change::updated);
}

TEST_CASE("assign loads a best-first snapshot and falls back for other orders", "[order_book]") {
    order_book book(8);
    const std::vector<book_level> bids{{price{100}, qty{1}}, {price{99}, qty{2}}, {price{97}, qty{3}}};
    const std::vector<book_level> asks{{price{103}, qty{1}}, {price{101}, qty{2}}, {price{102}, qty{0}}};
    book.assign(side::buy, bids);
    book.assign(side::sell, asks);
    CHECK(book.depth(side::buy) == 3);
    CHECK(book.best_bid() == book_level{price{100}, qty{1}});
    CHECK(book.level(side::buy, 2) == book_level{price{97}, qty{3}});
    CHECK(book.depth(side::sell) == 2); // the zero level is skipped
    CHECK(book.best_ask() == book_level{price{101}, qty{2}});

    std::vector<book_level> many;
    for (int i = 0; i < 12; ++i) {
        many.push_back({price{1000 - i}, qty{1}});
    }
    book.assign(side::buy, many);
    CHECK(book.depth(side::buy) == 8);
    CHECK(book.best_bid().px == price{1000});
    CHECK(book.level(side::buy, 7).px == price{993});
}

TEST_CASE("the flat book matches a std::map book under random updates", "[order_book]") {
    std::mt19937_64 rng(42);
    order_book book(6000);
    std::map<std::int64_t, std::int64_t, std::greater<>> bids;
    std::map<std::int64_t, std::int64_t> asks;
    for (int step = 0; step < 60000; ++step) {
        const bool bid = (rng() & 1U) != 0;
        // Mostly near the top, sometimes deep.
        const std::int64_t distance = (rng() % 8 == 0) ? static_cast<std::int64_t>(rng() % 5000)
                                                       : static_cast<std::int64_t>(rng() % 20);
        const std::int64_t px = bid ? 100000 - distance : 100001 + distance;
        const std::int64_t lots = (rng() % 3 == 0) ? 0 : static_cast<std::int64_t>(rng() % 1000 + 1);
        book.set(bid ? side::buy : side::sell, price{px}, qty{lots});
        if (bid) {
            lots == 0 ? (void)bids.erase(px) : (void)(bids[px] = lots);
        } else {
            lots == 0 ? (void)asks.erase(px) : (void)(asks[px] = lots);
        }
        if (step % 1000 == 0) {
            REQUIRE(book.depth(side::buy) == bids.size());
            REQUIRE(book.depth(side::sell) == asks.size());
        }
    }
    REQUIRE(book.depth(side::buy) == bids.size());
    REQUIRE(book.depth(side::sell) == asks.size());
    std::size_t i = 0;
    for (const auto& [px, lots] : bids) {
        REQUIRE(book.level(side::buy, i++) == book_level{price{px}, qty{lots}});
    }
    i = 0;
    for (const auto& [px, lots] : asks) {
        REQUIRE(book.level(side::sell, i++) == book_level{price{px}, qty{lots}});
    }
    CHECK(book.truncated_levels() == 0);
}

TEST_CASE("block splits, merges and truncation keep the book equal to a model", "[order_book]") {
    // Uniform prices over a wide range with many erases: exercises block splits and merges.
    // Capacity 500 with a 2000-price range: the model keeps the best 500 after every insert.
    std::mt19937_64 rng(1234);
    for (const std::size_t capacity : {std::size_t{500}, std::size_t{5000}}) {
        order_book book(capacity);
        std::map<std::int64_t, std::int64_t, std::greater<>> model;
        for (int step = 0; step < 200000; ++step) {
            const std::int64_t px = static_cast<std::int64_t>(rng() % 2000) + 1;
            const std::int64_t lots =
                (rng() % 2 == 0) ? 0 : static_cast<std::int64_t>(rng() % 100 + 1);
            book.set(side::buy, price{px}, qty{lots});
            if (lots == 0) {
                model.erase(px);
            } else {
                model[px] = lots;
                while (model.size() > capacity) {
                    model.erase(std::prev(model.end()));
                }
            }
            if (step % 5000 == 0 || step == 199999) {
                REQUIRE(book.depth(side::buy) == model.size());
                std::size_t i = 0;
                for (const auto& [p, l] : model) {
                    REQUIRE(book.level(side::buy, i++) == book_level{price{p}, qty{l}});
                }
            }
        }
        std::array<book_level, 10> top{};
        REQUIRE(book.top(side::buy, top) == 10);
        CHECK(top[0].px.ticks() == model.begin()->first);
        // A cleared book is as good as new.
        book.clear();
        CHECK(book.depth(side::buy) == 0);
        for (const auto& [p, l] : model) {
            book.set(side::buy, price{p}, qty{l});
        }
        REQUIRE(book.depth(side::buy) == model.size());
        REQUIRE(book.best_bid().px.ticks() == model.begin()->first);
        CHECK(book.erase_better_than(side::buy, price{1000}) ==
              static_cast<std::size_t>(std::count_if(model.begin(), model.end(),
                                                     [](const auto& e) { return e.first > 1000; })));
        CHECK(book.best_bid().px.ticks() <= 1000);
    }
}
