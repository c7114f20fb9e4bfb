// One trading loop: the pieces that turn market data into orders (a strategy that quotes and a
// quote manager that places its quotes) are owned by engine::core_loop alone. Every mode
// (synthetic backtests, quoter run --mode sim, capture replays, paper sessions) must drive that
// loop; a second owner in the sources is a second trading loop.
#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// Whether text declares an object of type `type`: the type name, an identifier, then one of
/// `;`, `(` or `{` (a member, a local or a constructor call).
bool declares(const std::string& text, const std::string& type) {
    for (auto at = text.find(type); at != std::string::npos; at = text.find(type, at + 1)) {
        if (at > 0 &&
            (std::isalnum(static_cast<unsigned char>(text[at - 1])) != 0 || text[at - 1] == '_')) {
            continue; // part of a longer name
        }
        std::size_t i = at + type.size();
        const std::size_t spaces = i;
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        if (i == spaces) {
            continue;
        }
        const std::size_t name = i;
        while (i < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[i])) != 0 || text[i] == '_')) {
            ++i;
        }
        if (i == name) {
            continue;
        }
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        if (i < text.size() && (text[i] == ';' || text[i] == '(' || text[i] == '{')) {
            return true;
        }
    }
    return false;
}

/// Source files under src/ and include/ for which match(text) holds.
template <class Match> std::vector<std::string> files_where(Match&& match) {
    std::vector<std::string> found;
    const std::filesystem::path root = QUOTER_SOURCE_DIR;
    for (const char* dir : {"src", "include"}) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
            const auto ext = entry.path().extension();
            if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) {
                continue;
            }
            std::ifstream in(entry.path());
            std::stringstream text;
            text << in.rdbuf();
            if (match(text.str())) {
                found.push_back(std::filesystem::relative(entry.path(), root).string());
            }
        }
    }
    return found;
}

} // namespace

TEST_CASE("one trading loop: only core_loop owns a quoting strategy and a quote manager",
          "[engine][one_loop]") {
    // A member (or a local) of either type is what a trading loop is made of.
    const std::vector<std::string> expected{"include/quoter/engine/core_loop.hpp"};
    CHECK(files_where([](const std::string& text) {
              return declares(text, "strategy::quoting_strategy");
          }) == expected);
    CHECK(files_where([](const std::string& text) {
              return declares(text, "exec::quote_manager");
          }) == expected);
    // The second loop and its risk seam are gone.
    CHECK(files_where([](const std::string& text) {
              return text.find("class risk_hook") != std::string::npos ||
                     text.find("class backtest_engine") != std::string::npos ||
                     text.find("class sim_risk") != std::string::npos;
          }).empty());
}
