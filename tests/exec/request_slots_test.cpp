#include "quoter/exec/request_slots.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using quoter::exec::request_slots;

namespace {

struct request {
    std::uint64_t request_id = 0;
    bool active = false;
    int payload = 0;
};

} // namespace

TEST_CASE("request slots: a request is found by its id until it is resolved", "[request_slots]") {
    request_slots<request, 8> slots;
    request* sent = slots.claim(3);
    REQUIRE(sent != nullptr);
    CHECK(sent->request_id == 3);
    CHECK_FALSE(sent->active);
    CHECK(slots.find(3) == nullptr); // claimed, not yet sent
    sent->active = true;
    sent->payload = 7;
    REQUIRE(slots.find(3) == sent);
    CHECK(slots.find(11) == nullptr); // the same home slot, another id
    sent->active = false;
    CHECK(slots.find(3) == nullptr);
}

TEST_CASE("request slots: an id that wraps onto a waiting request's slot takes the next free one",
          "[request_slots]") {
    request_slots<request, 8> slots;
    request* waiting = slots.claim(1);
    waiting->active = true;
    waiting->payload = 1;
    // 9 and 17 have slot 1 as their home too.
    request* second = slots.claim(9);
    REQUIRE(second != nullptr);
    REQUIRE(second != waiting);
    second->active = true;
    request* third = slots.claim(17);
    REQUIRE(third != nullptr);
    third->active = true;
    CHECK(slots.longest_probe() == 2);
    CHECK(slots.find(1) == waiting);
    CHECK(waiting->payload == 1);
    CHECK(slots.find(9) == second);
    CHECK(slots.find(17) == third);

    // The first one answered: the next id of that home slot reuses it, the others stay found.
    waiting->active = false;
    request* fourth = slots.claim(25);
    CHECK(fourth == waiting);
    fourth->active = true;
    CHECK(slots.find(9) == second);
    CHECK(slots.find(17) == third);
    CHECK(slots.find(25) == fourth);
}

TEST_CASE("request slots: a full table refuses rather than overwrite", "[request_slots]") {
    request_slots<request, 4> slots;
    for (std::uint64_t id = 0; id < 4; ++id) {
        request* r = slots.claim(id * 2 + 1);
        REQUIRE(r != nullptr);
        r->active = true;
    }
    CHECK_FALSE(slots.has_free(1));
    CHECK(slots.has_free(0));
    CHECK(slots.claim(9) == nullptr);
    for (std::uint64_t id = 0; id < 4; ++id) {
        CHECK(slots.find(id * 2 + 1) != nullptr);
    }
    slots.find(5)->active = false;
    CHECK(slots.has_free(1));
    CHECK_FALSE(slots.has_free(2));
    request* reused = slots.claim(9);
    REQUIRE(reused != nullptr);
    reused->active = true;
    CHECK(slots.find(9) == reused);
    CHECK(slots.find(5) == nullptr);
}

TEST_CASE("request slots: a recount brings the lookup's reach back once displaced requests are "
          "answered",
          "[request_slots]") {
    request_slots<request, 8> slots;
    request* first = slots.claim(6);
    first->active = true;
    request* second = slots.claim(14); // home 6 is taken: slot 7
    second->active = true;
    request* third = slots.claim(22); // slots 6 and 7 taken: wraps to slot 0
    third->active = true;
    CHECK(slots.longest_probe() == 2);
    slots.recount();
    CHECK(slots.longest_probe() == 2); // still waiting
    third->active = false;
    slots.recount();
    CHECK(slots.longest_probe() == 1);
    CHECK(slots.find(14) == second);
    second->active = false;
    slots.recount();
    CHECK(slots.longest_probe() == 0);
    CHECK(slots.find(6) == first);
}

TEST_CASE("request slots: room beyond a reserve counts the waiting requests of the last recount "
          "and every claim since",
          "[request_slots]") {
    request_slots<request, 8> slots;
    CHECK(slots.has_room(7));
    CHECK_FALSE(slots.has_room(8));
    for (std::uint64_t id = 1; id <= 5; ++id) {
        slots.claim(id)->active = true;
    }
    CHECK(slots.has_room(2));       // 5 claimed + 2 kept < 8
    CHECK_FALSE(slots.has_room(3)); // 5 + 3 leaves none
    // Two answered: the table learns of it at the next recount only.
    slots.find(1)->active = false;
    slots.find(2)->active = false;
    CHECK_FALSE(slots.has_room(3));
    slots.recount();
    CHECK(slots.has_room(4)); // 3 waiting
    CHECK_FALSE(slots.has_room(5));
}
