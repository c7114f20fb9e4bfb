// The Binance order path allocates nothing per request once set up: encoding, signing, id
// formatting, answer and event decoding and the rate limiter are checked against a counting
// global operator new (OpenSSL's own allocator is outside its view; the HMAC path does not use
// it, the SHA-256 state being a plain value).
#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_client_id.hpp"
#include "quoter/exec/binance_futures_requests.hpp"
#include "quoter/exec/binance_rate_limits.hpp"
#include "quoter/exec/binance_spot_requests.hpp"
#include "quoter/exec/binance_user_data.hpp"
#include "support/counting_allocator.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::uint64_t> allocations{0};

} // namespace

void quoter::test::count_allocation() noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
}

using namespace quoter;
using namespace quoter::exec;

TEST_CASE("the order path does not allocate per request", "[binance_allocation]") {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    const std::array symbols{*spec};
    const hmac_signer signer("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j");
    spot_request_encoder spot("apikey", signer, 5000);
    const futures_request_encoder futures(signer, 5000);
    client_id_factory ids("q", 1'733'300'000'000'000);
    answer_decoder answers(symbols);
    user_data_decoder events(symbols);
    order_rate_limiter limiter;
    REQUIRE(limiter.add_rule({rate_limit_type::request_weight, 60 * core::ns_per_s, 6000}));
    std::array<char, max_request_bytes> out{};
    order_request order;
    order.price = core::price{6'000'000};
    order.qty = core::qty{100};
    constexpr std::string_view answer =
        R"({"id":1,"status":200,"result":{"symbol":"BTCUSDT","orderId":5,"orderListId":-1,"clientOrderId":"q1","transactTime":1,"price":"60000.00000000","origQty":"0.00100000","executedQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT_MAKER","side":"BUY"},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":3}]})";
    constexpr std::string_view list =
        R"({"id":2,"status":200,"result":[{"symbol":"BTCUSDT","orderId":5,"clientOrderId":"q1","price":"60000.00000000","origQty":"0.00100000","executedQty":"0.00000000","status":"NEW","side":"BUY","updateTime":1}]})";
    constexpr std::string_view event =
        R"({"subscriptionId":0,"event":{"e":"executionReport","E":1,"s":"BTCUSDT","c":"q1","S":"BUY","o":"LIMIT_MAKER","f":"GTC","q":"0.00100000","p":"60000.00000000","C":"","x":"TRADE","X":"FILLED","r":"NONE","i":5,"l":"0.00100000","z":"0.00100000","L":"60000.00000000","n":"0.00000100","N":"BTC","T":1,"t":9,"m":true}})";

    const std::uint64_t before = allocations.load();
    std::uint64_t work = 0;
    for (int i = 0; i < 100; ++i) {
        const auto text = ids.format(ids.next());
        work += spot.place(out, 1, *spec, order, text.view(), order_response_type::ack, 1).size();
        work += spot.cancel(out, 2, "BTCUSDT", text.view(), "", 1).size();
        work += futures.place(out, *spec, order, text.view(), order_response_type::ack, 1)
                    .target.size();
        work += signer.sign("payload").chars[0] != 0 ? 1 : 0;
        work += answers.decode_ws(answer).has_order ? 1 : 0;
        work += answers.decode_ws(list).outcome == answer_outcome::ok ? 1 : 0;
        work += events.decode(event).kind == user_event_kind::order_update ? 1 : 0;
        work += limiter.try_send(request_class::new_order, 1, i) == admit_result::ok ? 1 : 0;
        limiter.on_usage(answers.decode_ws(answer).usage, i);
    }
    const std::uint64_t after = allocations.load();
    CHECK(work > 0);
    CHECK(after - before == 0);
}
