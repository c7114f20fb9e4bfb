// config/as2008.toml through the real `quoter`: the shipped experiment runs, and its inventory
// strategy holds less inventory and less profit risk than the symmetric one (a small version of
// the 1000-path table in docs/research.md).
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split(const std::string& row) {
    std::vector<std::string> out;
    std::stringstream stream(row);
    for (std::string cell; std::getline(stream, cell, ',');) {
        out.push_back(cell);
    }
    return out;
}

} // namespace

TEST_CASE("config/as2008.toml: the inventory strategy against the symmetric one",
          "[research][as2008]") {
    quoter::test::temp_dir dir("as2008");
    const std::string config = (fs::path(QUOTER_SOURCE_DIR) / "config" / "as2008.toml").string();
    const auto run = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", config, "--paths", "50", "--threads", "2", "--set",
                     "strategy.symmetric=false,true", "--out", (dir.path() / "s").string()});
    INFO(run.err);
    REQUIRE(run.status == 0);
    std::stringstream csv(quoter::test::slurp(dir.path() / "s" / "trials.csv"));
    std::string line;
    REQUIRE(std::getline(csv, line));
    const auto header = split(line);
    const auto column = [&](const std::string& name) {
        for (std::size_t i = 0; i < header.size(); ++i) {
            if (header[i] == name) {
                return i;
            }
        }
        FAIL("no column " << name);
        return std::size_t{0};
    };
    std::vector<std::vector<std::string>> rows;
    while (std::getline(csv, line)) {
        rows.push_back(split(line));
    }
    REQUIRE(rows.size() == 2);
    const auto& inventory = rows[0][column("strategy.symmetric")] == "false" ? rows[0] : rows[1];
    const auto& symmetric = rows[0][column("strategy.symmetric")] == "false" ? rows[1] : rows[0];
    const auto value = [&](const std::vector<std::string>& row, const std::string& name) {
        return std::stod(row[column(name)]);
    };
    CHECK(value(inventory, "final_inventory_sd") < value(symmetric, "final_inventory_sd"));
    CHECK(value(inventory, "total_pnl_sd") < value(symmetric, "total_pnl_sd"));
    CHECK(value(inventory, "total_pnl_mean") > 0.0);
    CHECK(value(inventory, "rejects_mean") == 0.0);
    // The time average of the AS spread gamma sigma^2 (T - t) + (2 / gamma) ln(1 + gamma / k)
    // over the 200 draws, with gamma = 0.1: about 0.2 + 1.29.
    CHECK(value(inventory, "mean_quoted_spread_mean") ==
          Approx(0.2 + 20.0 * std::log(1.0 + 0.1 / 1.5)).margin(0.01));
}
