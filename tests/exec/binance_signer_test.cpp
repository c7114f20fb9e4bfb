#include "quoter/exec/binance_signer.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <string_view>

using namespace quoter::exec;

namespace {

// Binance's published example secret (spot REST and WebSocket API documentation).
constexpr std::string_view spot_secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

} // namespace

TEST_CASE("HMAC signs Binance's spot REST example", "[binance_signer]") {
    const hmac_signer signer(spot_secret);
    const auto signature = signer.sign(
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
        "timestamp=1499827319559");
    CHECK(signature.view() == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

TEST_CASE("HMAC signs Binance's WebSocket API example", "[binance_signer]") {
    const hmac_signer signer(spot_secret);
    const auto signature = signer.sign(
        "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&"
        "quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp="
        "1645423376532&type=LIMIT");
    CHECK(signature.view() == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24");
}

TEST_CASE("HMAC signs Binance's USD-M futures example", "[binance_signer]") {
    const hmac_signer signer("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9");
    const auto signature =
        signer.sign("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&"
                    "recvWindow=5000&timestamp=1591702613943");
    CHECK(signature.view() == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
}

TEST_CASE("HMAC over parts equals HMAC over their concatenation", "[binance_signer]") {
    const hmac_signer signer(spot_secret);
    // Binance's REST example split into query string and body: Binance signs their plain
    // concatenation, so the separator belongs to one of the parts.
    const std::array<std::string_view, 2> parts{
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&",
        "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"};
    CHECK(signer.sign(parts).view() ==
          "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
    // The signer keeps no state between calls.
    CHECK(signer.sign(parts).view() == signer.sign(parts).view());
}

TEST_CASE("HMAC with keys longer than a block and with the empty key", "[binance_signer]") {
    // RFC 4231 test case 6: a 131-byte key (0xaa) is hashed before use.
    const std::string long_key(131, '\xaa');
    const hmac_signer long_signer(long_key);
    CHECK(long_signer.sign("Test Using Larger Than Block-Size Key - Hash Key First").view() ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // RFC 4231 test case 2.
    const hmac_signer jefe("Jefe");
    CHECK(jefe.sign("what do ya want for nothing?").view() ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    const hmac_signer empty;
    CHECK(empty.sign("").view() ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("Ed25519 signs Binance's FIX API example", "[binance_signer]") {
    auto signer = ed25519_signer::from_private_key(
        "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u");
    REQUIRE(signer.has_value());
    REQUIRE(signer->loaded());
    const std::string_view payload = "A\x01"
                                     "EXAMPLE\x01"
                                     "SPOT\x01"
                                     "1\x01"
                                     "20240627-11:17:25.223";
    constexpr std::string_view expected =
        "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA==";
    CHECK(signer->sign(payload).view() == expected);
    // The signing context is reused: a second signature is the same (Ed25519 is deterministic).
    CHECK(signer->sign(payload).view() == expected);
    CHECK(signer->sign("other").view() != expected);
}

TEST_CASE("Ed25519 keys load from PEM too and bad keys are refused", "[binance_signer]") {
    const std::string pem = "-----BEGIN PRIVATE KEY-----\n"
                            "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
                            "-----END PRIVATE KEY-----\n";
    auto signer = ed25519_signer::from_private_key(pem);
    REQUIRE(signer.has_value());
    CHECK(signer->sign("A").view() ==
          ed25519_signer::from_private_key(
              "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n")
              ->sign("A")
              .view());

    auto garbage = ed25519_signer::from_private_key("not a key");
    REQUIRE_FALSE(garbage.has_value());
    CHECK(garbage.error() == key_error::bad_encoding);

    // A valid PKCS#8 key of another type (P-256) is not an Ed25519 key.
    const std::string ec_pem = "-----BEGIN PRIVATE KEY-----\n"
                               "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2RAMaLfqYdcXtNEX\n"
                               "GgPII+X8epNwMs9OcEcpvGgfYIihRANCAAQD+Mwo87GIJdph2he2IKaefospDqLp\n"
                               "nWZ7JgXMiDuYKROLks95XxdzqUB7lj2JLHS3E4lmfOJTJpGgYpiD6OoF\n"
                               "-----END PRIVATE KEY-----\n";
    auto ec = ed25519_signer::from_private_key(ec_pem);
    REQUIRE_FALSE(ec.has_value());
    CHECK(ec.error() == key_error::not_ed25519);

    ed25519_signer unloaded;
    CHECK(unloaded.sign("A").view() == std::string(88, '='));
}

TEST_CASE("base64 encoding pads like the standard", "[binance_signer]") {
    std::array<char, 16> out{};
    const auto encode = [&](std::string_view text) {
        return std::string(
            encode_base64({reinterpret_cast<const unsigned char*>(text.data()), text.size()}, out));
    };
    CHECK(encode("").empty());
    CHECK(encode("f") == "Zg==");
    CHECK(encode("fo") == "Zm8=");
    CHECK(encode("foo") == "Zm9v");
    CHECK(encode("foobar") == "Zm9vYmFy");
    CHECK(encode("foob") == "Zm9vYg==");
    std::array<char, 3> small{};
    const std::string_view text = "foo";
    CHECK(encode_base64({reinterpret_cast<const unsigned char*>(text.data()), text.size()}, small)
              .empty());
}
