#include "quoter/config/config.hpp"
#include "quoter/config/secret.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>

using namespace quoter::config;

namespace {

// Looks like a Binance key: 64 alphanumerics.
const std::string api_key = "AbCdEfGh0123456789ijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVyZ9876";
const std::string api_secret = "Zq9xSecretPart0fTheKeyThatMustNeverBePrinted1234567890abcdefWxYz";

load_options options(std::map<std::string, std::string> env = {}) {
    return load_options{.profile = {}, .env = environment::from_map(std::move(env))};
}

std::string all_messages(const diagnostics& problems) {
    std::string out;
    for (const auto& problem : problems) {
        out += to_string(problem);
        out += '\n';
    }
    return out;
}

struct secrets_read {
    secret key;
    secret value;
    diagnostics problems;
    resolved_config resolved;
};

/// Loads `config_text` from a file in `dir` (so relative secrets paths resolve there), declares
/// [exchange].secrets_file and the two secrets.
secrets_read read_secrets(const quoter::test::temp_dir& dir, std::string_view config_text,
                          std::map<std::string, std::string> env = {}) {
    const auto file = dir.write("quoter.toml", config_text);
    auto doc = document::load(file, options(std::move(env)));
    REQUIRE(doc.has_value());
    (void)doc->section("exchange").secrets_file("secrets_file", "d");
    secrets_read out;
    out.key = doc->read_secret("api_key", "d");
    out.value = doc->read_secret("api_secret", "d");
    doc->finish();
    out.problems = doc->problems();
    out.resolved = doc->resolved();
    return out;
}

} // namespace

TEST_CASE("secrets mask themselves as first four and last four characters", "[secret]") {
    CHECK(secret(api_key).masked() == "AbCd\u20269876");
    CHECK(secret("0123456789abcdef").masked() ==
          "0123\u2026cdef");                             // 16: the shortest shown in part
    CHECK(secret("0123456789abcde").masked() == "****"); // 15: fully masked
    CHECK(secret("abc").masked() == "****");
    CHECK(secret("").masked().empty());
    CHECK(secret("0123456789abcdef\xC3\xA9").masked() == "****"); // not printable ASCII
    CHECK(secret(api_key).reveal() == api_key);
    CHECK(secret(api_key).size() == 64);
    CHECK(secret().empty());
}

TEST_CASE("every way of printing a secret prints it masked", "[secret]") {
    const secret key(api_key);
    CHECK(fmt::format("{}", key) == "AbCd\u20269876");
    CHECK(fmt::format("[{:>10}]", key) == "[ AbCd\u20269876]");
    std::ostringstream stream;
    stream << key;
    CHECK(stream.str() == "AbCd\u20269876");
    CHECK(Catch::Detail::stringify(key) == "AbCd\u20269876");
    CHECK(fmt::format("{}", key).find(api_key.substr(4, 8)) == std::string::npos);
}

TEST_CASE("a secret does not convert to text implicitly", "[secret]") {
    STATIC_REQUIRE_FALSE(std::is_convertible_v<secret, std::string>);
    STATIC_REQUIRE_FALSE(std::is_convertible_v<secret, std::string_view>);
    STATIC_REQUIRE_FALSE(std::is_convertible_v<secret, const char*>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<std::string, secret>);
    STATIC_REQUIRE_FALSE(std::is_convertible_v<std::string, secret>); // explicit construction only
}

TEST_CASE("moving a secret leaves nothing behind in the source", "[secret]") {
    secret source(api_key);
    secret target(std::move(source));
    CHECK(target.reveal() == api_key);
    CHECK(source.empty()); // NOLINT(bugprone-use-after-move): the wipe is the point
    secret assigned;
    assigned = std::move(target);
    CHECK(assigned.reveal() == api_key);
    CHECK(target.empty()); // NOLINT(bugprone-use-after-move)
    const secret copy = assigned;
    CHECK(copy.reveal() == api_key);
}

TEST_CASE("secrets come from QUOTER_<NAME>; empty counts as unset", "[secret]") {
    auto doc = document::parse("", "test.toml",
                               options({{"QUOTER_API_KEY", api_key}, {"QUOTER_API_SECRET", ""}}));
    REQUIRE(doc.has_value());
    const secret key = doc->read_secret("api_key", "d");
    const secret value = doc->read_secret("api_secret", "d");
    doc->finish();
    CHECK(doc->ok());
    CHECK(key.reveal() == api_key);
    CHECK(value.empty());
    const auto resolved = doc->resolved();
    const auto& info = resolved.keys.front();
    CHECK(info.key == "secrets.api_key");
    CHECK(info.type == "secret");
    CHECK(info.env_var == "QUOTER_API_KEY");
    CHECK(info.value_text == "\"AbCd\u20269876\"");
    CHECK(to_string(info.origin) == "env QUOTER_API_KEY");
    CHECK(resolved.keys.back().value_text == "\"\"");
}

TEST_CASE("a secret with a trailing newline is refused without being shown", "[secret]") {
    auto doc = document::parse("", "test.toml", options({{"QUOTER_API_KEY", api_key + "\n"}}));
    REQUIRE(doc.has_value());
    CHECK(doc->read_secret("api_key", "d").empty());
    doc->finish();
    const auto text = all_messages(doc->problems());
    CHECK_THAT(text, Catch::StartsWith("env QUOTER_API_KEY: secrets.api_key: contains spaces"));
    CHECK(text.find(api_key.substr(4, 56)) == std::string::npos);
}

TEST_CASE("a secrets file readable by its owner only provides the secrets", "[secret]") {
    quoter::test::temp_dir dir("secrets");
    dir.write("secrets.toml",
              fmt::format("api_key = \"{}\"\napi_secret = \"{}\"\n", api_key, api_secret), 0600);
    const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"secrets.toml\"\n");
    INFO(all_messages(read.problems));
    CHECK(read.problems.empty());
    CHECK(read.key.reveal() == api_key);
    CHECK(read.value.reveal() == api_secret);
    const auto& info = read.resolved.keys.back();
    CHECK(info.key == "secrets.api_secret");
    CHECK(info.origin.kind == origin_kind::secrets_file);
    CHECK(info.origin.line == 2);
    CHECK(to_string(info.origin) ==
          "secrets file " + (dir.path() / "secrets.toml").string() + ":2");
    CHECK(info.value_text == "\"Zq9x\u2026WxYz\"");
}

TEST_CASE("owner-read-only (0400) secrets files are accepted too", "[secret]") {
    quoter::test::temp_dir dir("secrets");
    dir.write("s.toml", fmt::format("api_key = \"{}\"\n", api_key), 0400);
    const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"s.toml\"\n");
    CHECK(read.problems.empty());
    CHECK(read.key.reveal() == api_key);
}

TEST_CASE("the environment overrides the secrets file", "[secret]") {
    quoter::test::temp_dir dir("secrets");
    dir.write("s.toml", fmt::format("api_key = \"{}\"\n", api_secret), 0600);
    const auto read =
        read_secrets(dir, "[exchange]\nsecrets_file = \"s.toml\"\n", {{"QUOTER_API_KEY", api_key}});
    CHECK(read.problems.empty());
    CHECK(read.key.reveal() == api_key);
}

TEST_CASE("a secrets file that group or others can access is refused", "[secret]") {
    for (const unsigned mode : {0644U, 0640U, 0604U, 0660U}) {
        quoter::test::temp_dir dir("secrets");
        const auto path = dir.write("s.toml", fmt::format("api_key = \"{}\"\n", api_key), mode);
        const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"s.toml\"\n");
        INFO("mode " << std::oct << mode);
        REQUIRE(read.problems.size() == 1);
        const auto text = to_string(read.problems.front());
        CHECK_THAT(text,
                   Catch::StartsWith((dir.path() / "quoter.toml").string() +
                                     ":2:16: exchange.secrets_file: refusing the secrets file"));
        CHECK_THAT(text, Catch::Contains(fmt::format("its mode is {:04o}", mode)));
        CHECK_THAT(text, Catch::Contains("chmod 600 " + path.string()));
        CHECK(read.key.empty()); // nothing was read from it
        CHECK(text.find(api_key) == std::string::npos);
    }
}

TEST_CASE("a missing secrets file, unknown names and syntax errors are reported", "[secret]") {
    quoter::test::temp_dir dir("secrets");
    SECTION("missing") {
        const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"nope.toml\"\n");
        REQUIRE(read.problems.size() == 1);
        CHECK_THAT(read.problems.front().message, Catch::Contains("cannot read the secrets file") &&
                                                      Catch::Contains("No such file or directory"));
    }
    SECTION("unknown name") {
        dir.write("s.toml", fmt::format("api_sekret = \"{}\"\n", api_secret), 0600);
        const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"s.toml\"\n");
        REQUIRE(read.problems.size() == 1);
        CHECK(to_string(read.problems.front()) ==
              (dir.path() / "s.toml").string() +
                  ":1:1: api_sekret: unknown secret; expected \"api_key\", \"api_secret\"; did you "
                  "mean api_secret?");
    }
    SECTION("syntax error: no details, since they could quote the secret") {
        dir.write("s.toml", fmt::format("api_key = \"{}\nx\n", api_key), 0600);
        const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"s.toml\"\n");
        REQUIRE(read.problems.size() == 1);
        const auto text = to_string(read.problems.front());
        CHECK_THAT(text,
                   Catch::Contains("TOML syntax error in the secrets file (details not shown)"));
        CHECK(text.find(api_key.substr(0, 8)) == std::string::npos);
    }
    SECTION("wrong type") {
        dir.write("s.toml", "api_key = 5\n", 0600);
        const auto read = read_secrets(dir, "[exchange]\nsecrets_file = \"s.toml\"\n");
        REQUIRE(read.problems.size() == 1);
        CHECK(read.problems.front().message == "expected a string, found integer");
    }
}

TEST_CASE("a secret written in the main configuration file is an error", "[secret]") {
    quoter::test::temp_dir dir("secrets");
    const auto read = read_secrets(dir, fmt::format("api_secret = \"{}\"\n"
                                                    "[exchange]\n"
                                                    "api_key = \"{}\"\n"
                                                    "password = \"hunter2hunter2\"\n"
                                                    "[profile.prod.exchange]\n"
                                                    "api_key = \"{}\"\n",
                                                    api_secret, api_key, api_key));
    REQUIRE(read.problems.size() == 4);
    const auto text = all_messages(read.problems);
    const std::string file = (dir.path() / "quoter.toml").string();
    CHECK_THAT(text, Catch::Contains(file + ":1:1: api_secret: secrets do not belong in the "
                                            "configuration file; set QUOTER_API_SECRET or put "
                                            "api_secret in the file named by "
                                            "exchange.secrets_file (mode 0600)"));
    CHECK_THAT(text, Catch::Contains(file + ":3:1: exchange.api_key: secrets do not belong"));
    CHECK_THAT(text, Catch::Contains(file + ":4:1: exchange.password: secrets do not belong"));
    CHECK_THAT(text, Catch::Contains(file + ":6:1: exchange.api_key: secrets do not belong in the "
                                            "configuration file; set QUOTER_API_KEY"));
    CHECK_THAT(text, Catch::Contains("(found in [profile.prod])"));
    CHECK(text.find(api_key.substr(2, 20)) == std::string::npos);
    CHECK(text.find(api_secret.substr(2, 20)) == std::string::npos);
    CHECK(text.find("hunter2") == std::string::npos);
    CHECK(read.key.empty()); // never taken from the main file
}

TEST_CASE("the resolved listing shows secrets masked", "[secret]") {
    auto doc = document::parse(
        "", "test.toml", options({{"QUOTER_API_KEY", api_key}, {"QUOTER_API_SECRET", api_secret}}));
    REQUIRE(doc.has_value());
    (void)doc->read_secret("api_key", "d");
    (void)doc->read_secret("api_secret", "d");
    doc->finish();
    const auto listing = format_resolved(doc->resolved());
    CHECK_THAT(listing, Catch::Contains("api_key = \"AbCd\u20269876\"     # env QUOTER_API_KEY"));
    CHECK_THAT(listing,
               Catch::Contains("api_secret = \"Zq9x\u2026WxYz\"  # env QUOTER_API_SECRET"));
    CHECK(listing.find(api_key) == std::string::npos);
    CHECK(listing.find(api_secret) == std::string::npos);
    CHECK(listing.find(api_key.substr(4, 8)) == std::string::npos);
}
