#include "quoter/ops/ops_config.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace quoter;

namespace {

struct read_result {
    ops::ops_settings settings;
    std::string problems;
};

read_result read(std::string_view text, std::map<std::string, std::string> env = {}) {
    auto doc = config::document::parse(
        text, "ops.toml", {.profile = "", .env = config::environment::from_map(std::move(env))});
    REQUIRE(doc.has_value());
    read_result out;
    ops::read_ops_sections(*doc, out.settings);
    doc->finish();
    for (const auto& problem : doc->problems()) {
        out.problems += problem.key + ": " + problem.message + "\n";
    }
    return out;
}

} // namespace

TEST_CASE("ops config: defaults are loopback, disabled and valid", "[ops_config]") {
    const auto r = read("");
    CHECK(r.problems.empty());
    CHECK_FALSE(r.settings.http.enabled);
    CHECK(r.settings.http.bind_address == "127.0.0.1");
    CHECK(r.settings.http.port == 9464);
    CHECK(r.settings.state.directory.empty());
    CHECK_FALSE(r.settings.alerts.any_target());
}

TEST_CASE("ops config: a non-loopback bind without a token is an error", "[ops_config]") {
    const std::string text = "[http]\nenabled = true\nbind_address = \"0.0.0.0\"\n";
    CHECK_THAT(read(text).problems,
               Catch::Contains("http.bind_address: 0.0.0.0 is not a loopback address"));
    const auto with_token = read(text, {{"QUOTER_HTTP_TOKEN", "0123456789abcdef0123"}});
    CHECK(with_token.problems.empty());
    CHECK(with_token.settings.http_token.reveal() == "0123456789abcdef0123");
    CHECK_THAT(read("[http]\nbind_address = \"localhost\"\n").problems,
               Catch::Contains("is not an IP address"));
}

TEST_CASE("ops config: alert destinations from keys and secrets", "[ops_config]") {
    const auto r = read("[alerts]\ntelegram_chat_id = \"-100\"\nfile = \"/tmp/a.jsonl\"\n"
                        "webhook_min_severity = \"critical\"\n",
                        {{"QUOTER_TELEGRAM_BOT_TOKEN", "123:abcdefghijklmnopqrstuvwxyz"},
                         {"QUOTER_ALERTS_WEBHOOK_URL", "https://hooks.example.com/T/B/secret"}});
    CHECK(r.problems.empty());
    const auto d = r.settings.alerts.dispatcher_settings("paper BTCUSDT");
    REQUIRE(d.targets.size() == 3);
    CHECK(d.targets[0].kind == ops::alert_target_kind::webhook);
    CHECK(d.targets[0].min_severity == risk::alert_severity::critical);
    CHECK(d.targets[1].kind == ops::alert_target_kind::telegram);
    CHECK(d.targets[1].chat_id == "-100");
    CHECK(d.targets[2].path == "/tmp/a.jsonl");
    CHECK(d.instance == "paper BTCUSDT");

    CHECK_THAT(read("[alerts]\ntelegram_chat_id = \"-100\"\n").problems,
               Catch::Contains("Telegram alerts need QUOTER_TELEGRAM_BOT_TOKEN"));
    const auto bad_url = read("", {{"QUOTER_ALERTS_WEBHOOK_URL", "ftp://host/secret-path"}});
    CHECK_THAT(bad_url.problems, Catch::Contains("is not an http(s) URL"));
    CHECK(bad_url.problems.find("secret-path") == std::string::npos);
}

TEST_CASE("ops config: state account names a file", "[ops_config]") {
    CHECK_THAT(read("[state]\naccount = \"../etc\"\n").problems,
               Catch::Contains("state.account: must be non-empty"));
    CHECK(
        read("[state]\ndirectory = \"/var/lib/quoter\"\naccount = \"main-1\"\n").problems.empty());
}

TEST_CASE("ops config: the paths the engine writes are relative to the configuration file",
          "[ops_config]") {
    // The same file names the same state, lock, journal and alert file wherever the engine is
    // started from: two engines started from different directories still meet at the lock.
    auto doc = config::document::parse("[state]\ndirectory = \"state\"\n[alerts]\nfile = "
                                       "\"../log/alerts.jsonl\"\n",
                                       "/etc/quoter/live.toml", {.profile = "", .env = {}});
    REQUIRE(doc.has_value());
    ops::ops_settings settings;
    ops::read_ops_sections(*doc, settings);
    CHECK(settings.state.directory == "/etc/quoter/state");
    CHECK(settings.alerts.file == "/etc/log/alerts.jsonl");
    CHECK(read("[state]\ndirectory = \"/var/lib/quoter\"\n").settings.state.directory ==
          "/var/lib/quoter");
}
