// `quoter run --mode live` with an Ed25519 API key against quoter-venue: the key pair is made by
// the test (OpenSSL), the venue holds the public key, quoter the private one (a 0600 PEM file or
// the environment). Each connection logs on once (session.logon); every other request goes
// without apiKey and signature, which the venue accepts only on a logged-on connection.
#include "live_test_support.hpp"
#include "net/ed25519_test_keys.hpp"
#include "net/venue_process.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using quoter::net::testing::venue_process;
using namespace quoter::test::live;

std::string ed25519_config(const venue_process& venue, const std::string& exchange_keys) {
    return "[engine]\nmode = \"live\"\nmarket = \"spot\"\nsymbol = \"BTCUSDT\"\n"
           "testnet = true\n\n[exchange]\nkey_type = \"ed25519\"\n" +
           exchange_keys + "\n[exchange.spot_testnet]\nrest_url = \"" + venue.http_url() +
           "\"\nws_url = \"" + venue.ws_url() + "\"\nws_api_url = \"" + venue.ws_url() +
           "/ws-api/v3\"\n\n[strategy.linear]\nspread_bps = 1.0\n";
}

/// The PEM body on one line: the base64 of the PKCS#8 DER, as QUOTER_API_PRIVATE_KEY takes it.
std::string der_base64(const std::string& pem) {
    std::string out;
    std::size_t start = 0;
    while (start < pem.size()) {
        std::size_t end = pem.find('\n', start);
        end = end == std::string::npos ? pem.size() : end;
        const std::string line = pem.substr(start, end - start);
        if (!line.starts_with("-----")) {
            out += line;
        }
        start = end + 1;
    }
    return out;
}

} // namespace

TEST_CASE("live with an Ed25519 key: logs on, quotes, fills come by the user stream, a stop "
          "cancels everything",
          "[app][venue][live][ed25519]") {
    const quoter::testing::ed25519_test_keys keys;
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "43",
                         "--api-ed25519-key", keys.public_file()});
    quoter::test::temp_dir dir("app-live-ed25519");
    const fs::path config = write_config(
        dir, ed25519_config(venue, "ed25519_key_file = \"" + keys.private_file() + "\"\n"));
    quoter::test::child_process quoter(
        QUOTER_EXE, {"run", "--mode", "live", "-c", config.string(), "--duration", "90"},
        {{"QUOTER_API_KEY", api_key}}, "app-live-ed25519");
    venue_stats stats(venue);

    CHECK(stats.wait_for(
              "open_orders", [](long long n) { return n >= 1; }, 30s) >= 1);
    CHECK(stats.wait_for(
              "trades", [](long long n) { return n >= 1; }, 60s) >= 1);
    CHECK(stats.get("logons") >= 1);
    CHECK(stats.get("user_subscriptions") >= 1);
    quoter.signal(SIGTERM);
    REQUIRE(quoter.wait(30s) == 0);
    const std::string out = quoter.out();
    INFO(out << quoter.err());
    CHECK(stats.get("open_orders") == 0);
    CHECK(out.find("open orders at stop: none") != std::string::npos);
    // Every request after the logon went unsigned and was accepted on the logged-on session.
    CHECK(stats.get("unauthenticated_requests") == 0);
    CHECK(stats.get("ws_api_signature_failures") == 0);
    CHECK(summary_count(out, "fills") == stats.get("trades"));
    // The private key is never printed.
    CHECK(quoter.err().find(der_base64(keys.private_pem()).substr(0, 40)) == std::string::npos);
}

TEST_CASE("live with an Ed25519 key the venue does not know: the logon is refused, the run stops "
          "with logon_failed, nothing is placed",
          "[app][venue][live][ed25519]") {
    const quoter::testing::ed25519_test_keys venue_keys;
    const quoter::testing::ed25519_test_keys wrong_keys;
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "20", "--seed", "44",
                         "--api-ed25519-key", venue_keys.public_file()});
    quoter::test::temp_dir dir("app-live-ed25519");
    const fs::path config = write_config(dir, ed25519_config(venue, ""));
    // The private key from the environment this time.
    const auto refused = quoter::test::run_to_end(
        QUOTER_EXE, {"run", "--mode", "live", "-c", config.string(), "--duration", "60"},
        {{"QUOTER_API_KEY", api_key},
         {"QUOTER_API_PRIVATE_KEY", der_base64(wrong_keys.private_pem())}},
        60s);
    INFO(refused.out << refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.err.find("logon_failed") != std::string::npos);
    venue_stats stats(venue);
    CHECK(stats.get("ws_api_signature_failures") == 1);
    CHECK(stats.get("logons") == 0);
    CHECK(stats.get("place_requests") == 0);
    CHECK(stats.get("orders_placed") == 0);
}

TEST_CASE("live with an Ed25519 key file others can read, or no private key, never connects",
          "[app][live][ed25519]") {
    const quoter::testing::ed25519_test_keys keys;
    quoter::test::temp_dir dir("app-live-ed25519");
    const fs::path open_key = dir.path() / "open.pem";
    fs::copy_file(keys.private_file(), open_key);
    fs::permissions(open_key, fs::perms::owner_read | fs::perms::owner_write |
                                  fs::perms::group_read | fs::perms::others_read);
    const std::string endpoints =
        "[engine]\nmode = \"live\"\nmarket = \"spot\"\nsymbol = \"BTCUSDT\"\ntestnet = true\n"
        "\n[exchange.spot_testnet]\nrest_url = \"http://127.0.0.1:9\"\n"
        "ws_url = \"ws://127.0.0.1:9\"\nws_api_url = \"ws://127.0.0.1:9/ws-api/v3\"\n";
    const fs::path config = write_config(
        dir, endpoints + "\n[exchange]\nkey_type = \"ed25519\"\ned25519_key_file = \"" +
                 open_key.string() + "\"\n");
    const auto refused =
        quoter::test::run_to_end(QUOTER_EXE, {"run", "--mode", "live", "-c", config.string()},
                                 {{"QUOTER_API_KEY", api_key}}, 60s);
    CHECK(refused.status == 2);
    CHECK(refused.err.find("chmod 600") != std::string::npos);

    const fs::path no_key = write_config(dir, endpoints + "\n[exchange]\nkey_type = \"ed25519\"\n");
    const auto missing =
        quoter::test::run_to_end(QUOTER_EXE, {"run", "--mode", "live", "-c", no_key.string()},
                                 {{"QUOTER_API_KEY", api_key}}, 60s);
    CHECK(missing.status == 2);
    CHECK(missing.err.find("QUOTER_API_PRIVATE_KEY") != std::string::npos);
}
