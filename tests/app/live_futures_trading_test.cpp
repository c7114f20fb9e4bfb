// `quoter run --mode live` on USD-M futures end to end: the real quoter binary trades against the
// real quoter-venue binary on 127.0.0.1 (futures REST orders, listenKey stream, countdown, market
// data in the futures flavour), with the endpoints overridden in the configuration and the
// venue's documented example key in the environment. Every child runs under a deadline.
#include "live_test_support.hpp"
#include "net/venue_process.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using quoter::net::testing::json_int;
using quoter::net::testing::venue_process;
using namespace quoter::test::live;

/// A live USD-M futures testnet configuration whose endpoints point at the local venue.
std::string live_config(const venue_process& venue, const std::string& extra = {}) {
    return "[engine]\nmode = \"live\"\nmarket = \"usdm_futures\"\nsymbol = \"BTCUSDT\"\n"
           "testnet = true\n\n[exchange]\n" +
           extra + "\n[exchange.usdm_futures_testnet]\nrest_url = \"" + venue.http_url() +
           "\"\nws_url = \"" + venue.ws_url() + "\"\nws_api_url = \"" + venue.ws_url() +
           "/ws-fapi/v1\"\n\n[strategy.linear]\nspread_bps = 1.0\n";
}

} // namespace

TEST_CASE("live futures: quotes rest and fill, fills are booked once, SIGUSR1 leaves no order; "
          "the account's cash is the venue's wallet",
          "[app][venue][live]") {
    // A wallet of 50,000 USDT, not the configured 100,000.
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "51", "--futures",
                         "--balance", "USDT=50000"});
    quoter::test::temp_dir dir("app-live-futures");
    const fs::path config = write_config(dir, live_config(venue));
    auto quoter = start_live_quoter(config, "app-live-futures");
    venue_stats stats(venue);

    CHECK(stats.wait_for(
              "futures_open_orders", [](long long n) { return n >= 1; }, 30s) >= 1);
    CHECK(stats.wait_for(
              "futures_trades", [](long long n) { return n >= 2; }, 60s) >= 2);
    CHECK(stats.get("futures_user_streams") == 1);
    CHECK(stats.get("countdowns_armed") == 1); // the dead-man's switch runs
    CHECK(stats.get("futures_signature_failures") == 0);

    quoter.signal(SIGUSR1);
    CHECK(stats.wait_for(
              "futures_open_orders", [](long long n) { return n == 0; }, 20s) == 0);
    const long long placed = stats.get("futures_orders_placed");
    std::this_thread::sleep_for(500ms);
    CHECK(stats.get("futures_open_orders") == 0);
    CHECK(stats.get("futures_orders_placed") == placed);

    quoter.signal(SIGTERM);
    REQUIRE(quoter.wait(30s) == 0);
    const std::string out = quoter.out();
    INFO(out << quoter.err());
    CHECK(out.find("final state killed") != std::string::npos);
    CHECK(out.find("open orders at stop: none") != std::string::npos);
    // Every venue trade reached the account exactly once: none lost, none doubled.
    CHECK(summary_count(out, "fills") == stats.get("futures_trades"));
    // The account started from the venue's wallet (GET /fapi/v2/balance).
    CHECK(quoter.err().find("account: starting from the venue's balances: wallet USDT 50000") !=
          std::string::npos);
    const std::size_t equity_at = out.find(", equity ");
    REQUIRE(equity_at != std::string::npos);
    const double equity = std::atof(out.c_str() + equity_at + 9);
    CHECK(equity > 45'000.0);
    CHECK(equity < 55'000.0);
}

TEST_CASE("live futures: an account in hedge mode is never traded: the session says so and "
          "refuses to start",
          "[app][venue][live]") {
    // Hedge mode: every order without a LONG or SHORT positionSide is rejected (-4061).
    venue_process venue(
        {"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "53", "--futures", "--hedge-mode"});
    quoter::test::temp_dir dir("app-live-futures");
    const fs::path config = write_config(dir, live_config(venue));
    const auto run = quoter::test::run_to_end(
        QUOTER_EXE, {"run", "--mode", "live", "-c", config.string(), "--duration", "20"},
        credentials, 60s);
    INFO(run.out << run.err);
    CHECK(run.status == 1);
    CHECK_THAT(run.err, Catch::Contains("the USD-M futures account is in hedge mode"));
    venue_stats stats(venue);
    CHECK(stats.get("futures_orders_placed") == 0);
    CHECK(stats.get("futures_orders_rejected") == 0);
}

TEST_CASE("live futures: after kill -9 the venue's countdown cancels the dead run's orders; a "
          "restart reconciles and adopts the position",
          "[app][venue][live]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "52", "--futures"});
    quoter::test::temp_dir dir("app-live-futures");
    venue_stats stats(venue);

    // A short countdown: the dead run's orders die on the venue by themselves.
    const fs::path config = write_config(
        dir, live_config(venue, "futures_heartbeat_ms = 200\nfutures_countdown_ms = 1500\n"));
    {
        auto first = start_live_quoter(config, "app-live-futures");
        REQUIRE(stats.wait_for(
                    "futures_open_orders", [](long long n) { return n >= 1; }, 30s) >= 1);
        first.signal(SIGKILL);
        REQUIRE(first.wait(10s) == 128 + SIGKILL);
    }
    REQUIRE(stats.get("futures_open_orders") >= 1); // nobody cancelled them yet
    CHECK(stats.wait_for(
              "futures_open_orders", [](long long n) { return n == 0; }, 20s) == 0);
    CHECK(stats.get("countdown_cancels") >= 1);

    // A long countdown: the dead run's orders stay until the restart reconciles them away.
    const fs::path patient = write_config(dir, live_config(venue));
    std::vector<std::string> left;
    {
        auto second = start_live_quoter(patient, "app-live-futures");
        REQUIRE(stats.wait_for(
                    "futures_open_orders", [](long long n) { return n >= 1; }, 30s) >= 1);
        second.signal(SIGKILL);
        REQUIRE(second.wait(10s) == 128 + SIGKILL);
        left = json_strings(stats.read(), "futures_open_client_ids");
    }
    REQUIRE_FALSE(left.empty());
    auto third = start_live_quoter(patient, "app-live-futures");
    (void)wait_for_err(third, "reconciled:", 30s);
    const std::string err = third.err();
    INFO(err);
    // Every open order the restart found was an earlier run's and was cancelled. The count
    // need not equal `left`: a dead run's order may still fill on the venue, or one it wrote
    // just before the kill may arrive, between that listing and the restart's reconciliation.
    const reconciled_counts reconciled = reconciliation_of(err);
    CHECK(reconciled.found >= 1);
    CHECK(reconciled.cancelled == reconciled.found);
    const std::vector<std::string> open_now = json_strings(stats.read(), "futures_open_client_ids");
    for (const std::string& id : left) {
        CHECK(std::find(open_now.begin(), open_now.end(), id) == open_now.end());
    }
    third.signal(SIGTERM);
    REQUIRE(third.wait(30s) == 0);
    CHECK(stats.get("futures_open_orders") == 0);
}

TEST_CASE("live futures: a reconciliation after a new listenKey adopts the venue's wallet and "
          "position, so an outside transfer reaches the account",
          "[app][venue][live]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "53", "--futures",
                         "--balance", "USDT=50000"});
    quoter::test::temp_dir dir("app-live-futures");
    const fs::path config = write_config(dir, live_config(venue));
    auto quoter = start_live_quoter(config, "app-live-futures");
    venue_stats stats(venue);
    REQUIRE(stats.wait_for(
                "futures_open_orders", [](long long n) { return n >= 1; }, 30s) >= 1);
    // A fill or two first, so there is a position (and fills of its own) to reconcile.
    (void)stats.wait_for(
        "futures_trades", [](long long n) { return n >= 2; }, 60s);
    // Killed, so no fill moves the wallet or the position while the test changes the wallet.
    quoter.signal(SIGUSR1);
    REQUIRE(stats.wait_for(
                "futures_open_orders", [](long long n) { return n == 0; }, 20s) == 0);
    std::this_thread::sleep_for(300ms);
    const auto venue_wallet_e8 = [&] {
        const std::string text = stats.read();
        const std::size_t at = text.find("\"futures_wallet\":");
        return at == std::string::npos ? -1LL : json_int(text.substr(at), "USDT");
    };
    // 1,000 USDT transferred in, which no order report tells; then the listenKey expires, and
    // the gateway makes a new one and reconciles.
    const long long wallet_e8 = venue_wallet_e8() + 1'000LL * 100'000'000;
    quoter::net::io_loop loop;
    quoter::net::rest_client client(loop, quoter::net::testing::venue_rest_config(venue));
    REQUIRE(
        quoter::net::testing::control(
            loop, client,
            "/control/balance?wallet=futures&set=USDT=" + decimal_e8(wallet_e8))
            .status == 200);
    REQUIRE(venue_wallet_e8() == wallet_e8);
    REQUIRE(quoter::net::testing::control(loop, client, "/control/listen_key_expire").status ==
            200);
    (void)wait_for_err(quoter, "account: reconciliation", 20s);
    quoter.signal(SIGTERM);
    REQUIRE(quoter.wait(30s) == 0);
    const std::string out = quoter.out();
    INFO(out << quoter.err());
    CHECK(quoter.err().find("account: reconciliation") != std::string::npos);
    CHECK(stats.get("listen_keys_created") >= 2);
    // The account holds what the venue holds: the transfer in its equity (the wallet, up to the
    // open position's unrealized PnL and the fees the account charged since), and every fill
    // once in its position.
    const std::size_t equity_at = out.find(", equity ");
    REQUIRE(equity_at != std::string::npos);
    const double equity = std::atof(out.c_str() + equity_at + 9);
    CHECK(equity == Approx(static_cast<double>(wallet_e8) / 1e8).margin(50.0));
    CHECK(summary_count(out, "fills") == stats.get("futures_trades"));
}
