#include "quoter/exec/order_index.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <unordered_map>

using namespace quoter::exec;

namespace {

using reference_map = std::unordered_map<std::uint64_t, std::uint32_t>;

/// The random-churn tests' insert: the index takes key unless it holds it already or is full,
/// and the reference follows.
void insert_both(order_index& index, reference_map& reference, std::size_t capacity,
                 std::uint64_t key, std::uint32_t slot) {
    const bool expected = reference.size() < capacity && !reference.contains(key);
    REQUIRE(index.insert(client_order_id{key}, slot) == expected);
    if (expected) {
        reference[key] = slot;
    }
}

/// Random churn on an index of 64 entries and its reference: each step inserts a key into both
/// (insert_both) or erases it with erase(index, reference, key), then check(index, reference,
/// rng) compares them. Few distinct keys, so that probe runs collide and erase has to shift
/// often.
template <class Erase, class Check>
void churn(std::uint64_t seed, int steps, Erase erase, Check check) {
    constexpr std::size_t capacity = 64;
    order_index index(capacity);
    reference_map reference;
    std::mt19937_64 rng(seed);
    for (int step = 0; step < steps; ++step) {
        const std::uint64_t key = 1 + rng() % 150;
        const auto slot = static_cast<std::uint32_t>(rng() % 1000);
        if (rng() % 2 == 0) {
            insert_both(index, reference, capacity, key, slot);
        } else {
            erase(index, reference, key);
        }
        check(index, reference, rng);
    }
}

} // namespace

TEST_CASE("the order index inserts, finds and erases ids", "[order_index]") {
    order_index index(4);
    CHECK(index.insert(client_order_id{10}, 0));
    CHECK(index.insert(client_order_id{11}, 1));
    CHECK_FALSE(index.insert(client_order_id{10}, 5)); // duplicate
    CHECK_FALSE(index.insert(client_order_id{0}, 5));  // reserved id
    CHECK(index.find(client_order_id{10}) == 0);
    CHECK(index.find(client_order_id{11}) == 1);
    CHECK(index.find(client_order_id{12}) == order_index::npos);
    CHECK(index.insert(client_order_id{12}, 2));
    CHECK(index.insert(client_order_id{13}, 3));
    CHECK_FALSE(index.insert(client_order_id{14}, 4)); // full
    CHECK(index.erase(client_order_id{11}));
    CHECK_FALSE(index.erase(client_order_id{11}));
    CHECK(index.find(client_order_id{11}) == order_index::npos);
    CHECK(index.insert(client_order_id{14}, 4));
    CHECK(index.size() == 4);
}

TEST_CASE("the order index agrees with a reference map under random churn", "[order_index]") {
    churn(
        5, 200'000,
        [](order_index& index, reference_map& reference, std::uint64_t key) {
            REQUIRE(index.erase(client_order_id{key}) == (reference.erase(key) == 1));
        },
        [](const order_index& index, const reference_map& reference, std::mt19937_64& rng) {
            const std::uint64_t probe = 1 + rng() % 150;
            const auto it = reference.find(probe);
            REQUIRE(index.find(client_order_id{probe}) ==
                    (it == reference.end() ? order_index::npos : it->second));
            REQUIRE(index.size() == reference.size());
        });
}

TEST_CASE("an entry located once erases without a second search", "[order_index]") {
    order_index index(4);
    CHECK_FALSE(index.locate(client_order_id{7}).found());
    CHECK_FALSE(index.locate(client_order_id{0}).found());
    CHECK_FALSE(index.erase(index.locate(client_order_id{7})));
    REQUIRE(index.insert(client_order_id{7}, 3));
    const order_index::entry seven = index.locate(client_order_id{7});
    REQUIRE(seven.found());
    CHECK(seven.slot == 3);
    CHECK(index.erase(seven));
    CHECK(index.find(client_order_id{7}) == order_index::npos);
    CHECK(index.size() == 0);
    // Any slot number is a slot, npos's value included: found() is whether there is a cell.
    REQUIRE(index.insert(client_order_id{8}, order_index::npos));
    CHECK(index.locate(client_order_id{8}).found());
    CHECK(index.erase(index.locate(client_order_id{8})));
    CHECK(index.size() == 0);
}

TEST_CASE("located erases agree with a reference map under random churn", "[order_index]") {
    churn(
        9, 40'000,
        [](order_index& index, reference_map& reference, std::uint64_t key) {
            const order_index::entry found = index.locate(client_order_id{key});
            const auto it = reference.find(key);
            REQUIRE(found.found() == (it != reference.end()));
            REQUIRE(found.slot == (it == reference.end() ? order_index::npos : it->second));
            REQUIRE(index.erase(found) == found.found());
            if (it != reference.end()) {
                reference.erase(it);
            }
        },
        [](const order_index& index, const reference_map& reference, std::mt19937_64&) {
            for (const auto& [k, s] : reference) {
                REQUIRE(index.find(client_order_id{k}) == s);
            }
            REQUIRE(index.size() == reference.size());
        });
}
