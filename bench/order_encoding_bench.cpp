// Benchmark suite "order_encoding": the cost of turning one order into a signed Binance request,
// the step between the core's order ring and the socket on the live order path.
//
// quoter: spot_request_encoder::place (sorted params written once into a fixed buffer, price and
// quantity printed from ticks and lots, HMAC from precomputed key states) and
// futures_request_encoder::place (signed REST target). Baseline: the obvious way, built the same
// run on the same orders: params in a std::map<std::string, std::string>, price and quantity
// printed from double with fmt::format, the payload and the JSON frame concatenated as strings,
// and OpenSSL's one-shot HMAC() (which sets the key up again for every message). Signing alone
// is also measured both ways. Every output is checked byte for byte against the baseline's
// before timing, so both sides do the same work.
#include "quoter/bench/suite.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_futures_requests.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/binance_spot_requests.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace quoter::bench {
namespace {

constexpr std::string_view api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

struct order_input {
    exec::order_request order;
    std::string client_id;
    std::int64_t timestamp_ms = 0;
};

core::symbol_spec spot_btcusdt() {
    return core::symbol_spec::from_text({.name = "BTCUSDT",
                                         .tick_size = "0.01000000",
                                         .step_size = "0.00001000",
                                         .min_notional = "5.00000000"})
        .value_or(core::symbol_spec{});
}

std::vector<order_input> make_orders(std::size_t count) {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> price(6'000'000, 6'100'000);
    std::uniform_int_distribution<std::int64_t> lots(1, 5'000);
    std::vector<order_input> orders(count);
    for (std::size_t i = 0; i < count; ++i) {
        order_input& in = orders[i];
        in.order.side = (i & 1U) != 0 ? core::side::sell : core::side::buy;
        in.order.post_only = true;
        in.order.price = core::price{price(rng)};
        in.order.qty = core::qty{lots(rng)};
        in.client_id = fmt::format("q0bXyZ12ab{:016x}", i + 1);
        in.timestamp_ms = 1'733'300'000'000 + static_cast<std::int64_t>(i);
    }
    return orders;
}

// ---------------------------------------------------------------------------------------------
// Baseline: the obvious implementation.

std::string naive_hmac_hex(std::string_view key, std::string_view payload) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &size);
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
        hex += fmt::format("{:02x}", digest[i]);
    }
    return hex;
}

std::string naive_place(const core::symbol_spec& spec, const order_input& in) {
    std::map<std::string, std::string> params; // sorted by name, as the signature wants
    params["apiKey"] = std::string(api_key);
    params["symbol"] = std::string(spec.name().view());
    params["side"] = in.order.side == core::side::buy ? "BUY" : "SELL";
    params["type"] = "LIMIT_MAKER";
    params["price"] = fmt::format("{:.{}f}", spec.to_double(in.order.price), spec.price_decimals());
    params["quantity"] = fmt::format("{:.{}f}", spec.to_double(in.order.qty), spec.qty_decimals());
    params["newClientOrderId"] = in.client_id;
    params["newOrderRespType"] = "ACK";
    params["recvWindow"] = "5000";
    params["timestamp"] = std::to_string(in.timestamp_ms);
    std::string payload;
    for (const auto& [name, value] : params) {
        if (!payload.empty()) {
            payload += '&';
        }
        payload += name + "=" + value;
    }
    const std::string signature = naive_hmac_hex(secret, payload);
    std::string json = "{\"id\":1,\"method\":\"order.place\",\"params\":{";
    for (const auto& [name, value] : params) {
        const bool number = name == "recvWindow" || name == "timestamp";
        json += number ? fmt::format("\"{}\":{},", name, value)
                       : fmt::format("\"{}\":\"{}\",", name, value);
    }
    json += fmt::format("\"signature\":\"{}\"}}}}", signature);
    return json;
}

// ---------------------------------------------------------------------------------------------
// Timing.

struct measurement {
    double ns_per_op = 0;
    std::uint64_t checksum = 0;
};

template <class Fn> measurement best_of(int runs, std::size_t count, Fn&& fn) {
    measurement best{1e30, 0};
    for (int run = 0; run < runs; ++run) {
        std::uint64_t checksum = 0;
        const auto begin = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            checksum += fn(i);
        }
        const auto elapsed = std::chrono::steady_clock::now() - begin;
        const double ns =
            static_cast<double>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
            static_cast<double>(count);
        if (ns < best.ns_per_op) {
            best = {ns, checksum};
        }
    }
    return best;
}

} // namespace

int run_order_encoding_bench(const bench_options& options) {
    const auto count = static_cast<std::size_t>(std::max(1000.0, 200'000.0 * options.scale));
    constexpr int runs = 5;
    const core::symbol_spec spec = spot_btcusdt();
    const std::vector<order_input> orders = make_orders(count);
    const exec::hmac_signer signer(secret);
    exec::spot_request_encoder spot(api_key, signer, 5000);
    const exec::futures_request_encoder futures(signer, 5000);
    std::array<char, exec::max_request_bytes> out{};

    // Both sides must write the same bytes (the baseline's request id is fixed at 1).
    for (std::size_t i = 0; i < std::min<std::size_t>(count, 1000); ++i) {
        const auto frame = spot.place(out, 1, spec, orders[i].order, orders[i].client_id,
                                      exec::order_response_type::ack, orders[i].timestamp_ms);
        if (frame != naive_place(spec, orders[i])) {
            std::fprintf(stderr, "order_encoding: quoter and baseline disagree on order %zu\n", i);
            return 1;
        }
    }

    const measurement quoter_place = best_of(runs, count, [&](std::size_t i) {
        const auto frame = spot.place(out, 1, spec, orders[i].order, orders[i].client_id,
                                      exec::order_response_type::ack, orders[i].timestamp_ms);
        return static_cast<std::uint64_t>(frame.size()) +
               static_cast<unsigned char>(frame[frame.size() - 5]);
    });
    const measurement naive = best_of(runs, count, [&](std::size_t i) {
        const std::string frame = naive_place(spec, orders[i]);
        return static_cast<std::uint64_t>(frame.size()) +
               static_cast<unsigned char>(frame[frame.size() - 5]);
    });
    const measurement quoter_futures = best_of(runs, count, [&](std::size_t i) {
        const auto request = futures.place(out, spec, orders[i].order, orders[i].client_id,
                                           exec::order_response_type::ack, orders[i].timestamp_ms);
        return static_cast<std::uint64_t>(request.target.size());
    });
    const std::string payload =
        "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&newClientOrderId="
        "q0bXyZ12ab0000000000000001&newOrderRespType=ACK&price=60512.34&quantity=0.01234&"
        "recvWindow=5000&side=BUY&symbol=BTCUSDT&timestamp=1733300000000&type=LIMIT_MAKER";
    const measurement quoter_sign = best_of(runs, count, [&](std::size_t i) {
        return static_cast<std::uint64_t>(signer.sign(payload).chars[i & 63U]);
    });
    const measurement naive_sign = best_of(runs, count, [&](std::size_t i) {
        return static_cast<std::uint64_t>(naive_hmac_hex(secret, payload)[i & 63U]);
    });
    if (quoter_place.checksum != naive.checksum) {
        std::fprintf(stderr, "order_encoding: checksums differ\n");
    }

    std::printf("\nsigned order request, best of %d runs of %zu orders (BTCUSDT LIMIT_MAKER)\n",
                runs, count);
    std::printf("%-44s %12s %9s\n", "implementation", "ns/request", "speedup");
    const auto row = [&](const char* name, const measurement& m, const measurement& base) {
        std::printf("%-44s %12.1f %8.1fx\n", name, m.ns_per_op, base.ns_per_op / m.ns_per_op);
    };
    row("quoter spot order.place (encode + HMAC)", quoter_place, naive);
    row("baseline std::map + fmt + double + HMAC()", naive, naive);
    row("quoter futures POST /fapi/v1/order", quoter_futures, naive);
    std::printf("\nHMAC-SHA256 of a %zu-byte payload to hex\n", payload.size());
    std::printf("%-44s %12s %9s\n", "implementation", "ns/sign", "speedup");
    row("quoter hmac_signer (precomputed key state)", quoter_sign, naive_sign);
    row("OpenSSL HMAC() one-shot + fmt hex", naive_sign, naive_sign);
    return 0;
}

} // namespace quoter::bench
