#include "quoter/exec/latency_model.hpp"
#include "quoter/exec/order_types.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using namespace quoter;
using namespace quoter::exec;

TEST_CASE("client order ids round-trip through their Binance text form", "[order_types]") {
    const client_order_id id{0x0123456789abcdefULL};
    const auto text = format_client_order_id(id, "qtr-");
    CHECK(text.view() == "qtr-0123456789abcdef");
    CHECK(text.view().size() <= 36);
    const auto parsed = parse_client_order_id(text.view(), "qtr-");
    REQUIRE(parsed.has_value());
    CHECK(*parsed == id);

    // Every character is in Binance's newClientOrderId alphabet.
    const auto full = format_client_order_id(client_order_id{~0ULL}, "a.b:c/d_e-F");
    for (const char c : full.view()) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '/' ||
                             c == '_' || c == '-';
        CHECK(allowed);
    }
}

TEST_CASE("a long prefix is cut so the text stays within 36 characters", "[order_types]") {
    const std::string prefix(40, 'x');
    const auto text = format_client_order_id(client_order_id{7}, prefix);
    CHECK(text.view().size() == 36);
    CHECK(text.view().substr(20) == "0000000000000007");
    CHECK(*parse_client_order_id(text.view(), prefix) == client_order_id{7});
}

TEST_CASE("foreign or malformed client order ids are refused", "[order_types]") {
    CHECK(parse_client_order_id("web_abcdef", "qtr-").error() ==
          client_order_id_error::wrong_prefix);
    CHECK(parse_client_order_id("qtr-123", "qtr-").error() == client_order_id_error::bad_digits);
    CHECK(parse_client_order_id("qtr-0123456789ABCDEF", "qtr-").error() ==
          client_order_id_error::bad_digits);
    CHECK(parse_client_order_id("qtr-0000000000000000", "qtr-").error() ==
          client_order_id_error::zero);
}

TEST_CASE("terminal report kinds", "[order_types]") {
    exec_report report;
    for (const auto kind : {exec_kind::reject, exec_kind::fill, exec_kind::cancelled}) {
        report.kind = kind;
        CHECK(report.is_terminal());
    }
    for (const auto kind :
         {exec_kind::ack, exec_kind::partial_fill, exec_kind::cancel_reject, exec_kind::unknown}) {
        report.kind = kind;
        CHECK_FALSE(report.is_terminal());
    }
    CHECK(describe(exec_kind::cancel_reject) == "cancel_reject");
    CHECK(describe(exec_kind::unknown) == "unknown");
    CHECK(!describe(reject_reason::post_only_would_cross).empty());
}

TEST_CASE("a latency sampler draws the floor plus the scaled jitter of one random number",
          "[latency]") {
    const latency_sampler uniform(latency_config{latency_distribution::uniform, 1000, 500});
    const latency_sampler exponential(latency_config{latency_distribution::exponential, 2000, 300});
    sim_rng rng(11);
    sim_rng reference(11);
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(uniform.draw(rng) ==
                1000 + static_cast<core::duration_ns>(reference.uniform() * 500.0));
        REQUIRE(exponential.draw(rng) == 2000 + static_cast<core::duration_ns>(exponential_jitter(
                                                    reference.uniform(), 300.0)));
    }
    // Without jitter, or constant, no random number is used; a negative floor counts as 0.
    const latency_sampler constant(latency_config{latency_distribution::constant, 1000, 500});
    const latency_sampler no_jitter(latency_config{latency_distribution::uniform, -5, 0});
    const latency_sampler defaulted;
    CHECK(constant.draw(rng) == 1000);
    CHECK(no_jitter.draw(rng) == 0);
    CHECK(defaulted.draw(rng) == 0);
    CHECK(rng.next() == reference.next());
}

TEST_CASE("latency models draw deterministically within their range", "[latency]") {
    const latency_config constant{latency_distribution::constant, 1000, 500};
    const latency_config uniform{latency_distribution::uniform, 1000, 500};
    const latency_config exponential{latency_distribution::exponential, 1000, 500};
    sim_rng rng(42);
    for (int i = 0; i < 1000; ++i) {
        CHECK(sample_latency(constant, rng) == 1000);
        const auto u = sample_latency(uniform, rng);
        CHECK(u >= 1000);
        CHECK(u <= 1500);
        CHECK(sample_latency(exponential, rng) >= 1000);
    }

    // The exponential jitter has the configured mean.
    sim_rng mean_rng(7);
    double sum = 0;
    constexpr int draws = 100'000;
    for (int i = 0; i < draws; ++i) {
        sum += static_cast<double>(sample_latency(exponential, mean_rng) - 1000);
    }
    CHECK(sum / draws == Approx(500).epsilon(0.02));

    sim_rng a(3);
    sim_rng b(3);
    sim_rng c(4);
    bool differs = false;
    for (int i = 0; i < 16; ++i) {
        const auto x = a.next();
        CHECK(x == b.next());
        differs = differs || x != c.next();
    }
    CHECK(differs);
}
