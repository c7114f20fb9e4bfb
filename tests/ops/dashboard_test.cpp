// The dashboard and the alert rules in the docs may only use metrics the engine exports.
#include "quoter/ops/engine_metrics.hpp"

#include "ops/ops_test_support.hpp"
#include "support/ci.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

using namespace quoter;
using quoter::ops::testing::read_all;
using quoter::ops::testing::scratch_dir;

namespace {

std::string source_file(const std::string& relative) {
    return std::string(QUOTER_SOURCE_DIR) + "/" + relative;
}

/// Every identifier starting with "quoter_" (a whole word) in text.
std::set<std::string> metric_names_in(const std::string& text) {
    const auto word_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    std::set<std::string> out;
    for (auto at = text.find("quoter_"); at != std::string::npos;
         at = text.find("quoter_", at + 1)) {
        if (at > 0 && word_char(text[at - 1])) {
            continue;
        }
        auto end = at;
        while (end < text.size() && word_char(text[end])) {
            ++end;
        }
        out.insert(text.substr(at, end - at));
    }
    return out;
}

std::set<std::string> exported() {
    ops::metrics_registry registry;
    const ops::engine_metrics metrics(registry);
    const ops::symbol_metrics symbol(registry, "BTCUSDT");
    const auto names = registry.sample_names();
    return {names.begin(), names.end()};
}

/// The rules file embedded in docs/operations.md between its markers, without the fence.
std::string rules_from_docs() {
    const std::string docs = read_all(source_file("docs/operations.md"));
    const auto begin = docs.find("<!-- quoter-rules:begin -->");
    const auto end = docs.find("<!-- quoter-rules:end -->");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::string block = docs.substr(begin, end - begin);
    const auto fence = block.find("```yaml\n");
    REQUIRE(fence != std::string::npos);
    block = block.substr(fence + 8);
    const auto close = block.rfind("```");
    REQUIRE(close != std::string::npos);
    return block.substr(0, close);
}

std::string find_promtool() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (::access((dir + "/promtool").c_str(), X_OK) == 0) {
            return dir + "/promtool";
        }
    }
    return {};
}

} // namespace

TEST_CASE("docs: every metric the Grafana dashboard uses is exported", "[metrics][docs]") {
    const std::string dashboard = read_all(source_file("docs/grafana-dashboard.json"));
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(dashboard);
    std::string expressions;
    for (const simdjson::dom::element panel : doc["panels"].get_array()) {
        for (const simdjson::dom::element target : panel["targets"].get_array()) {
            expressions += std::string(std::string_view(target["expr"])) + "\n";
        }
    }
    const auto used = metric_names_in(expressions + dashboard);
    const auto have = exported();
    CHECK(used.size() >= 15);
    for (const auto& name : used) {
        INFO("dashboard uses " << name);
        CHECK(have.contains(name));
    }
}

TEST_CASE("docs: every metric the alert rules use is exported; promtool accepts the rules",
          "[metrics][docs][promtool]") {
    const std::string rules = rules_from_docs();
    const auto used = metric_names_in(rules);
    const auto have = exported();
    for (const std::string required : {"quoter_kill_engaged", "quoter_book_synced",
                                       "quoter_fills_total", "quoter_api_errors_total"}) {
        CHECK(used.contains(required));
    }
    for (const auto& name : used) {
        INFO("rules use " << name);
        CHECK(have.contains(name));
    }
    // The metric table in the docs lists exactly the exported families.
    const std::string docs = read_all(source_file("docs/operations.md"));
    for (const auto& name : have) {
        const std::string family =
            name.ends_with("_bucket") ? name.substr(0, name.size() - 7)
            : name.ends_with("_sum") && name.find("_seconds_") != std::string::npos
                ? name.substr(0, name.size() - 4)
            : name.ends_with("_count") && name.find("_seconds_") != std::string::npos
                ? name.substr(0, name.size() - 6)
                : name;
        INFO("docs/operations.md metric table lacks " << family);
        CHECK(docs.find("| `" + family) != std::string::npos);
    }

    const std::string promtool = find_promtool();
    if (promtool.empty()) {
        quoter::test::skip_unless_ci("promtool not found, so the rules were not checked by it; "
                                     "install the Debian package prometheus (tools/setup does)");
        return;
    }
    scratch_dir dir;
    const std::string file = dir.file("quoter-rules.yml");
    std::ofstream(file) << rules;
    const std::string command =
        promtool + " check rules " + file + " > " + dir.file("out.txt") + " 2>&1";
    const int status = std::system(command.c_str());
    INFO(read_all(dir.file("out.txt")));
    CHECK(status == 0);
}
