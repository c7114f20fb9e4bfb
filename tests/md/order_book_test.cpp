// Tests of md::order_book: the dense window and the deep blocks, window moves, depth limits
// and the book's invariants under random updates. One component, so one file.
#include "quoter/md/order_book.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <random>
#include <vector>

using namespace quoter;
using quoter::core::book_level;
using quoter::core::price;
using quoter::core::qty;
using quoter::core::side;
using quoter::md::level_change;
using quoter::md::order_book;

TEST_CASE("an empty book has no levels and no best", "[order_book]") {
    const order_book book(16);
    CHECK(book.empty(side::buy));
    CHECK(book.empty(side::sell));
    CHECK(book.best_bid() == core::book_level{});
    CHECK(book.best_ask() == core::book_level{});
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

    CHECK(book.best_bid() == core::book_level{price{102}, qty{7}});
    CHECK(book.best_ask() == core::book_level{price{103}, qty{4}});
    CHECK(book.depth(side::buy) == 3);
    CHECK(book.level(side::buy, 1) == core::book_level{price{101}, qty{1}});
    CHECK(book.level(side::buy, 2) == core::book_level{price{100}, qty{5}});
    CHECK(book.level(side::sell, 1) == core::book_level{price{105}, qty{3}});

    CHECK(book.set(side::buy, price{101}, qty{9}) == level_change::updated);
    CHECK(book.set(side::buy, price{101}, qty{9}) == level_change::none);
    CHECK(book.qty_at(side::buy, price{101}) == qty{9});
    CHECK(book.qty_at(side::buy, price{99}) == qty{0});

    CHECK(book.set(side::buy, price{102}, qty{0}) == level_change::erased);
    CHECK(book.set(side::buy, price{102}, qty{0}) == level_change::none);
    CHECK(book.best_bid() == core::book_level{price{101}, qty{9}});
    CHECK(book.erase(side::sell, price{103}));
    CHECK_FALSE(book.erase(side::sell, price{103}));
    CHECK(book.best_ask() == core::book_level{price{105}, qty{3}});
}

TEST_CASE("top copies the best levels, best first", "[order_book]") {
    order_book book(64);
    for (int i = 0; i < 30; ++i) {
        book.set(side::buy, price{1000 - i}, qty{i + 1});
        book.set(side::sell, price{1001 + i}, qty{i + 1});
    }
    std::array<core::book_level, 10> top{};
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

TEST_CASE("a top past the levels a side dropped or a cut snapshot left out is not complete",
          "[order_book]") {
    order_book book(3);
    CHECK(book.top_complete(side::buy)); // empty, and nothing was ever left out
    book.assign(side::buy, std::vector<book_level>{{price{100}, qty{1}},
                                                   {price{99}, qty{1}},
                                                   {price{98}, qty{1}},
                                                   {price{97}, qty{1}}}); // 97 does not fit
    CHECK(book.top_complete(side::buy));
    CHECK(book.erase_better_than(side::buy, price{98}) == 2);
    CHECK(book.top_complete(side::buy)); // 98 is the best: nothing better was dropped
    book.erase(side::buy, price{98});
    CHECK_FALSE(book.top_complete(side::buy)); // empty, but 97 may still be there
    book.set(side::buy, price{96}, qty{1});
    CHECK_FALSE(book.top_complete(side::buy)); // 97 would be better
    book.set(side::buy, price{97}, qty{2});
    CHECK(book.top_complete(side::buy)); // now it is known

    SECTION("an insert into a full side drops its worst level") {
        book.clear();
        CHECK(book.top_complete(side::buy));
        for (const std::int64_t px : {200, 201, 202, 203}) { // 200 goes when 203 comes
            book.set(side::buy, price{px}, qty{1});
        }
        book.erase(side::buy, price{203});
        book.erase(side::buy, price{202});
        CHECK(book.top_complete(side::buy));
        book.erase(side::buy, price{201});
        CHECK_FALSE(book.top_complete(side::buy));
    }
    SECTION("a snapshot cut at its limit: levels beyond its last may exist") {
        book.assign(side::sell,
                    std::vector<book_level>{{price{110}, qty{1}}, {price{111}, qty{1}}});
        book.mark_incomplete_beyond(side::sell, price{111});
        book.erase(side::sell, price{110});
        CHECK(book.top_complete(side::sell)); // 111 is the snapshot's own
        book.set(side::sell, price{113}, qty{1});
        book.erase(side::sell, price{111});
        CHECK_FALSE(book.top_complete(side::sell)); // 112 may rest unseen
        book.assign(side::sell, std::vector<book_level>{{price{113}, qty{1}}});
        CHECK(book.top_complete(side::sell)); // a new snapshot starts afresh
    }
}

TEST_CASE("assign loads a best-first snapshot and falls back for other orders", "[order_book]") {
    order_book book(8);
    const std::vector<core::book_level> bids{
        {price{100}, qty{1}}, {price{99}, qty{2}}, {price{97}, qty{3}}};
    const std::vector<core::book_level> asks{
        {price{103}, qty{1}}, {price{101}, qty{2}}, {price{102}, qty{0}}};
    book.assign(side::buy, bids);
    book.assign(side::sell, asks);
    CHECK(book.depth(side::buy) == 3);
    CHECK(book.best_bid() == core::book_level{price{100}, qty{1}});
    CHECK(book.level(side::buy, 2) == core::book_level{price{97}, qty{3}});
    CHECK(book.depth(side::sell) == 2); // the zero level is skipped
    CHECK(book.best_ask() == core::book_level{price{101}, qty{2}});

    std::vector<core::book_level> many;
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
        const std::int64_t lots =
            (rng() % 3 == 0) ? 0 : static_cast<std::int64_t>(rng() % 1000 + 1);
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
        REQUIRE(book.level(side::buy, i++) == core::book_level{price{px}, qty{lots}});
    }
    i = 0;
    for (const auto& [px, lots] : asks) {
        REQUIRE(book.level(side::sell, i++) == core::book_level{price{px}, qty{lots}});
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
                    REQUIRE(book.level(side::buy, i++) == core::book_level{price{p}, qty{l}});
                }
            }
        }
        std::array<core::book_level, 10> top{};
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
              static_cast<std::size_t>(std::count_if(
                  model.begin(), model.end(), [](const auto& e) { return e.first > 1000; })));
        CHECK(book.best_bid().px.ticks() <= 1000);
    }
}

// -- dense window and deep part ---------------------------------------------------------------

namespace {

/// Reference book: one std::map per side, best first, with order_book's capacity rule (a new
/// level into a full side drops the worst level, or itself when it is the worst). The best
/// dropped price of each side tells whether its top is complete.
class model_book {
public:
    explicit model_book(std::size_t capacity) : capacity_(capacity) {}

    /// A snapshot of side s: the side starts afresh.
    void assign(side s, const std::vector<core::book_level>& levels) {
        if (s == side::buy) {
            bids_.side.clear();
            bids_.dropped.reset();
        } else {
            asks_.side.clear();
            asks_.dropped.reset();
        }
        for (const core::book_level& level : levels) {
            set(s, level.px.ticks(), level.qty.lots());
        }
    }
    /// No level better than the best stored one was dropped (or is still dropped).
    [[nodiscard]] bool top_complete(side s) const {
        const auto complete = [](const auto& levels) {
            return !levels.dropped ||
                   (!levels.side.empty() &&
                    !levels.side.key_comp()(*levels.dropped, levels.side.begin()->first));
        };
        return s == side::buy ? complete(bids_) : complete(asks_);
    }

    void set(side s, std::int64_t px, std::int64_t lots) {
        s == side::buy ? set_in(bids_, px, lots) : set_in(asks_, px, lots);
    }
    std::size_t erase_better_than(side s, std::int64_t px) {
        const auto erase = [px](auto& map) {
            std::size_t removed = 0;
            while (!map.empty() && map.key_comp()(map.begin()->first, px)) {
                map.erase(map.begin());
                ++removed;
            }
            return removed;
        };
        return s == side::buy ? erase(bids_.side) : erase(asks_.side);
    }
    void clear() {
        bids_ = {};
        asks_ = {};
    }
    [[nodiscard]] std::vector<core::book_level> levels(side s) const {
        std::vector<core::book_level> out;
        const auto copy = [&](const auto& map) {
            for (const auto& [px, lots] : map) {
                out.push_back({price{px}, qty{lots}});
            }
        };
        s == side::buy ? copy(bids_.side) : copy(asks_.side);
        return out;
    }
    [[nodiscard]] std::int64_t qty_at(side s, std::int64_t px) const {
        const auto find = [&](const auto& map) {
            const auto it = map.find(px);
            return it == map.end() ? std::int64_t{0} : it->second;
        };
        return s == side::buy ? find(bids_.side) : find(asks_.side);
    }

private:
    template <class Book> void set_in(Book& book, std::int64_t px, std::int64_t lots) {
        auto& map = book.side;
        if (lots <= 0) {
            map.erase(px);
            return;
        }
        if (const auto it = map.find(px); it != map.end()) {
            it->second = lots;
            return;
        }
        if (map.size() == capacity_) {
            const auto worst = std::prev(map.end());
            const bool new_is_worst = !map.key_comp()(px, worst->first);
            const std::int64_t dropped = new_is_worst ? px : worst->first;
            if (!book.dropped || map.key_comp()(dropped, *book.dropped)) {
                book.dropped = dropped;
            }
            if (new_is_worst) {
                return; // worse than every stored level
            }
            map.erase(worst);
        }
        map[px] = lots;
    }

    std::size_t capacity_;
    template <class Map> struct side_book {
        Map side;
        std::optional<std::int64_t> dropped; ///< Best price dropped for want of room.
    };
    side_book<std::map<std::int64_t, std::int64_t, std::greater<>>> bids_;
    side_book<std::map<std::int64_t, std::int64_t>> asks_;
};

void require_same_top(const order_book& book, const model_book& model, side s) {
    const auto expected = model.levels(s);
    REQUIRE(book.depth(s) == expected.size());
    std::array<core::book_level, 12> top{};
    const std::size_t n = book.top(s, top);
    REQUIRE(n == std::min(top.size(), expected.size()));
    for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(top[i] == expected[i]);
    }
    REQUIRE(book.best(s) == (expected.empty() ? core::book_level{} : expected.front()));
    REQUIRE(book.top_complete(s) == model.top_complete(s));
}

void require_same_book(const order_book& book, const model_book& model) {
    for (const side s : {side::buy, side::sell}) {
        const auto expected = model.levels(s);
        REQUIRE(book.depth(s) == expected.size());
        std::vector<core::book_level> all(expected.size() + 3);
        REQUIRE(book.top(s, all) == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            REQUIRE(all[i] == expected[i]);
        }
        // level() walks the window and the deep part: sample both.
        for (std::size_t i = 0; i < expected.size(); i += 1 + expected.size() / 16) {
            REQUIRE(book.level(s, i) == expected[i]);
        }
        if (!expected.empty()) {
            REQUIRE(book.level(s, expected.size() - 1) == expected.back());
        }
        REQUIRE(book.window_depth(s) <= book.depth(s));
        // The best level always lives in the window.
        REQUIRE((expected.empty() || book.window_depth(s) > 0));
    }
}

/// Top levels a watcher copied and the versions it copied them at, as the md publisher keeps.
struct top_watch {
    std::array<core::book_level, 10> levels{};
    std::size_t count = 0;
    std::uint64_t version = 0;
    std::uint64_t layout = 0;

    void check_and_rewatch(const order_book& book, side s) {
        std::array<core::book_level, 10> now{};
        const std::size_t n = book.top(s, now);
        if (book.top_version(s) == version) {
            // No watched change: the copy is still exact.
            REQUIRE(n == count);
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(now[i] == levels[i]);
            }
            return;
        }
        if (book.top_layout_version(s) == layout) {
            // Only quantities changed: same prices, and refresh_quantities() makes it exact.
            REQUIRE(n == count);
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(now[i].px == levels[i].px);
            }
            book.refresh_quantities(s, std::span<core::book_level>(levels.data(), count));
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(now[i] == levels[i]);
            }
            version = book.top_version(s);
            return;
        }
        count = book.watch_top(s, levels);
        version = book.top_version(s);
        layout = book.top_layout_version(s);
    }
};

} // namespace

TEST_CASE("the window width is a power of two within its bounds", "[order_book]") {
    CHECK(order_book(8, 5000).window_ticks() == 8192);
    CHECK(order_book(8, 1).window_ticks() == order_book::min_window_ticks);
    CHECK(order_book(8, std::size_t{1} << 30U).window_ticks() == order_book::max_window_ticks);
    CHECK(order_book(8, order_book::default_window_ticks).window_ticks() == 65536);
}

TEST_CASE("by default the window is sized from the first price: BTCUSDT keeps 65536 ticks, a "
          "low-priced symbol gets the minimum",
          "[order_book]") {
    CHECK(order_book::window_ticks_for(6'000'000) == 65536); // 60,000.00 at a 0.01 tick
    CHECK(order_book::window_ticks_for(1'000) == order_book::min_window_ticks);
    CHECK(order_book::window_ticks_for(-300'000'000) == order_book::max_window_ticks);

    order_book btc(8192);
    CHECK(btc.window_ticks() == order_book::min_window_ticks); // nothing seen yet
    const std::array snapshot{core::book_level{price{6'000'000}, qty{5}},
                              core::book_level{price{5'999'999}, qty{7}}};
    btc.assign(side::buy, snapshot);
    CHECK(btc.window_ticks() == 65536);
    CHECK(btc.best_bid() == snapshot[0]);
    CHECK(btc.depth(side::buy) == 2);

    order_book cheap(8192);
    const std::array diff{core::book_level{price{1'000}, qty{3}}};
    cheap.apply(side::sell, diff);
    CHECK(cheap.window_ticks() == order_book::min_window_ticks);
    CHECK(cheap.best_ask() == diff[0]);
    // Sized once: a later, higher price does not resize it.
    cheap.set(side::buy, price{900'000}, qty{1});
    CHECK(cheap.window_ticks() == order_book::min_window_ticks);
    // The windows' quantities, bitmap and summary words are what differ, on both sides.
    constexpr std::size_t fewer = 65536 - 4096;
    CHECK(btc.memory_bytes() - cheap.memory_bytes() == 2 * 8 * (fewer + fewer / 64 + fewer / 4096));
}

TEST_CASE("an auto-sized book follows a price walking far out of its window", "[order_book]") {
    order_book book(10'000);
    model_book model(10'000);
    // First price 100,000 ticks: the minimum window (4096 ticks); the price then walks 200
    // windows up and back down, levels left behind going deep.
    std::int64_t px = 100'000;
    for (std::int64_t i = 0; i < 400; ++i) {
        px += i < 200 ? 4'000 : -3'000;
        book.set(side::buy, price{px}, qty{i + 1});
        model.set(side::buy, px, i + 1);
        book.set(side::sell, price{px + 1}, qty{i + 1});
        model.set(side::sell, px + 1, i + 1);
        require_same_top(book, model, side::buy);
        require_same_top(book, model, side::sell);
    }
    CHECK(book.window_ticks() == order_book::min_window_ticks);
    require_same_book(book, model);
    CHECK(book.window_depth(side::buy) < book.depth(side::buy));
}

TEST_CASE("a rising top moves the window up and keeps every level", "[order_book]") {
    order_book book(10'000, 4096);
    model_book model(10'000);
    // Bids rising by 700 ticks a step cross the 4096-tick window many times.
    for (std::int64_t i = 0; i < 200; ++i) {
        const std::int64_t px = 1'000'000 + i * 700;
        book.set(side::buy, price{px}, qty{i + 1});
        model.set(side::buy, px, i + 1);
        REQUIRE(book.best_bid() == core::book_level{price{px}, qty{i + 1}});
    }
    require_same_book(book, model);
    CHECK(book.window_depth(side::buy) < book.depth(side::buy)); // older levels went deep
    // Asks falling the same way (their keys rise).
    for (std::int64_t i = 0; i < 200; ++i) {
        const std::int64_t px = 3'000'000 - i * 700;
        book.set(side::sell, price{px}, qty{i + 1});
        model.set(side::sell, px, i + 1);
    }
    require_same_book(book, model);
}

TEST_CASE("a falling top moves the window down and takes deep levels back", "[order_book]") {
    order_book book(10'000, 4096);
    model_book model(10'000);
    // One level every 100 ticks over 40 windows.
    for (std::int64_t i = 0; i < 1600; ++i) {
        book.set(side::buy, price{500'000 + i * 100}, qty{i + 1});
        model.set(side::buy, 500'000 + i * 100, i + 1);
    }
    require_same_book(book, model);
    // Erase from the top down: each erase of the best may move the window down.
    for (std::int64_t i = 1599; i >= 0; i -= 3) {
        book.erase(side::buy, price{500'000 + i * 100});
        model.set(side::buy, 500'000 + i * 100, 0);
        require_same_top(book, model, side::buy);
        REQUIRE((book.empty(side::buy) || book.window_depth(side::buy) > 0));
    }
    require_same_book(book, model);
    // erase_better_than far below the window empties the window and reloads it from deep.
    CHECK(book.erase_better_than(side::buy, price{520'000}) ==
          model.erase_better_than(side::buy, 520'000));
    require_same_book(book, model);
}

TEST_CASE("asks near price zero use negative keys across the window", "[order_book]") {
    order_book book(100'000, 4096);
    model_book model(100'000);
    for (std::int64_t px = 1; px <= 20'000; px += 7) {
        book.set(side::sell, price{px}, qty{px});
        model.set(side::sell, px, px);
    }
    require_same_book(book, model);
    for (std::int64_t px = 1; px <= 15'000; px += 7) {
        book.set(side::sell, price{px}, qty{0});
        model.set(side::sell, px, 0);
    }
    require_same_book(book, model);
    CHECK(book.qty_at(side::sell, price{15'009}) == qty{15'009});
}

TEST_CASE("apply equals set level by level", "[order_book]") {
    std::mt19937_64 rng(99);
    order_book by_apply(3000, 4096);
    order_book by_set(3000, 4096);
    std::vector<core::book_level> batch;
    for (int message = 0; message < 3000; ++message) {
        const side s = (rng() & 1U) != 0 ? side::buy : side::sell;
        batch.clear();
        const std::int64_t mid = 2'000'000 + static_cast<std::int64_t>(message) * 3;
        for (std::size_t i = 0, n = rng() % 30; i < n; ++i) {
            const auto distance =
                static_cast<std::int64_t>(rng() % 8 == 0 ? rng() % 20'000 : rng() % 200);
            const std::int64_t px = s == side::buy ? mid - distance : mid + 1 + distance;
            batch.push_back(
                {price{px}, qty{rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % 50 + 1)}});
        }
        by_apply.apply(s, batch);
        for (const core::book_level& level : batch) {
            by_set.set(s, level.px, level.qty);
        }
        REQUIRE(by_apply.depth(s) == by_set.depth(s));
        REQUIRE(by_apply.best(s) == by_set.best(s));
    }
    for (const side s : {side::buy, side::sell}) {
        std::vector<core::book_level> a(by_apply.depth(s));
        std::vector<core::book_level> b(by_set.depth(s));
        REQUIRE(by_apply.top(s, a) == by_set.top(s, b));
        CHECK(a == b);
    }
    CHECK(by_apply.truncated_levels() == by_set.truncated_levels());
}

TEST_CASE("set_best_qty equals set at the best price", "[order_book]") {
    std::mt19937_64 rng(7);
    order_book fast(3000, 4096);
    order_book general(3000, 4096);
    std::array<book_level, 10> watched_fast{};
    std::array<book_level, 10> watched_general{};
    for (int step = 0; step < 20'000; ++step) {
        const side s = (rng() & 1U) != 0 ? side::buy : side::sell;
        const std::int64_t distance = static_cast<std::int64_t>(rng() % 40);
        const std::int64_t px = s == side::buy ? 2'000'000 - distance : 2'000'001 + distance;
        const qty q{rng() % 4 == 0 ? 0 : static_cast<std::int64_t>(rng() % 5 + 1)};
        if (rng() % 2 == 0 && !fast.empty(s) && q.lots() > 0) {
            // The best level's quantity, sometimes the same again.
            const price best = fast.best(s).px;
            REQUIRE(fast.set_best_qty(s, q) == general.set(s, best, q));
        } else {
            REQUIRE(fast.set(s, price{px}, q) == general.set(s, price{px}, q));
        }
        REQUIRE(fast.top_version(s) == general.top_version(s));
        REQUIRE(fast.top_layout_version(s) == general.top_layout_version(s));
        REQUIRE(fast.best(s) == general.best(s));
        if (step % 7 == 0) {
            REQUIRE(fast.watch_top(s, watched_fast) == general.watch_top(s, watched_general));
            REQUIRE(watched_fast == watched_general);
        }
    }
    for (const side s : {side::buy, side::sell}) {
        std::vector<book_level> a(fast.depth(s));
        std::vector<book_level> b(general.depth(s));
        REQUIRE(fast.top(s, a) == general.top(s, b));
        CHECK(a == b);
    }
}

TEST_CASE("each book object has its own identity", "[order_book]") {
    order_book a(16);
    const order_book b(a);
    order_book c(16);
    CHECK(a.instance_id() != b.instance_id());
    CHECK(a.instance_id() != c.instance_id());
    const auto before = c.instance_id();
    c = a;
    CHECK(c.instance_id() != before);
    CHECK(c.instance_id() != a.instance_id());
}

TEST_CASE("the windowed book matches a std::map book under random operations",
          "[order_book][property]") {
    // A drifting, sometimes jumping mid price; levels near the top and far from it (several
    // windows away); erases, diffs, top-of-book refreshes, snapshots and clears; small and large
    // capacities. After every operation the top levels and the watched top copy are checked,
    // and the whole book every few hundred operations.
    for (const std::size_t capacity : {std::size_t{60}, std::size_t{6000}}) {
        std::mt19937_64 rng(capacity);
        order_book book(capacity, 4096);
        model_book model(capacity);
        top_watch bid_watch;
        top_watch ask_watch;
        std::int64_t mid = 5'000'000;
        std::vector<core::book_level> batch;
        const auto random_px = [&](side s) {
            std::int64_t distance = 0;
            switch (rng() % 10) {
            case 0:
                distance = static_cast<std::int64_t>(rng() % 30'000);
                break; // deep
            case 1:
                distance = -static_cast<std::int64_t>(rng() % 50);
                break; // through
            default:
                distance = static_cast<std::int64_t>(rng() % 300);
                break; // near
            }
            return s == side::buy ? mid - 1 - distance : mid + 1 + distance;
        };
        const auto random_lots = [&] {
            return rng() % 3 == 0 ? std::int64_t{0} : static_cast<std::int64_t>(rng() % 100 + 1);
        };
        for (int step = 0; step < 30'000; ++step) {
            mid += static_cast<std::int64_t>(rng() % 21) - 10;
            if (rng() % 2000 == 0) {
                mid += (rng() & 1U) != 0 ? 15'000 : -15'000; // jump past the window
            }
            const side s = (rng() & 1U) != 0 ? side::buy : side::sell;
            const unsigned op = static_cast<unsigned>(rng() % 1000);
            if (op < 700) {
                const std::int64_t px = random_px(s);
                const std::int64_t lots = random_lots();
                book.set(s, price{px}, qty{lots});
                model.set(s, px, lots);
            } else if (op < 930) {
                batch.clear();
                for (std::size_t i = 0, n = rng() % 25; i < n; ++i) {
                    batch.push_back({price{random_px(s)}, qty{random_lots()}});
                }
                book.apply(s, batch);
                for (const core::book_level& level : batch) {
                    model.set(s, level.px.ticks(), level.qty.lots());
                }
            } else if (op < 990) {
                // A bookTicker refresh: erase everything better, then set the level.
                const std::int64_t px = random_px(s);
                REQUIRE(book.erase_better_than(s, price{px}) == model.erase_better_than(s, px));
                const std::int64_t lots = random_lots() + 1;
                book.set(s, price{px}, qty{lots});
                model.set(s, px, lots);
            } else if (op < 998) {
                // A snapshot: best first, sometimes longer than the capacity.
                batch.clear();
                const std::int64_t step_ticks = 1 + static_cast<std::int64_t>(rng() % 40);
                for (std::size_t i = 0, n = rng() % (capacity + 40); i < n; ++i) {
                    const auto offset = static_cast<std::int64_t>(i) * step_ticks;
                    batch.push_back({price{s == side::buy ? mid - 1 - offset : mid + 1 + offset},
                                     qty{static_cast<std::int64_t>(rng() % 100 + 1)}});
                }
                book.assign(s, batch);
                model.assign(s, batch);
            } else {
                book.clear();
                model.clear();
            }
            require_same_top(book, model, side::buy);
            require_same_top(book, model, side::sell);
            bid_watch.check_and_rewatch(book, side::buy);
            ask_watch.check_and_rewatch(book, side::sell);
            if (step % 500 == 0) {
                require_same_book(book, model);
                for (int probe = 0; probe < 20; ++probe) {
                    const side ps = (rng() & 1U) != 0 ? side::buy : side::sell;
                    const std::int64_t px = random_px(ps);
                    REQUIRE(book.qty_at(ps, price{px}) == qty{model.qty_at(ps, px)});
                }
            }
        }
        require_same_book(book, model);
    }
}

TEST_CASE("a full windowed side truncates like the model, in and below the window",
          "[order_book]") {
    std::mt19937_64 rng(5);
    order_book book(100, 4096);
    model_book model(100);
    for (int step = 0; step < 20'000; ++step) {
        // Half the levels in the window, half far below it.
        const auto distance =
            static_cast<std::int64_t>(rng() % 2 == 0 ? rng() % 2000 : 5000 + rng() % 20'000);
        const std::int64_t px = 1'000'000 - distance;
        const std::int64_t lots = rng() % 4 == 0 ? 0 : static_cast<std::int64_t>(rng() % 9 + 1);
        book.set(side::buy, price{px}, qty{lots});
        model.set(side::buy, px, lots);
        require_same_top(book, model, side::buy);
    }
    require_same_book(book, model);
    CHECK(book.truncated_levels() > 0);
}
