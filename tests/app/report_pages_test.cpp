// The report pages as a user sees them: the real `quoter backtest` and `quoter sweep` write
// report.html, and headless Chromium opens each one. report_page_probe.html loads the page in a
// frame and reports what the browser built (elements, namespaces, references, text, tables) and
// laid out (every chart's size, the points and length of its lines, what its canvas cuts off,
// labels drawn over each other); a screenshot shows that the top of the page is not blank.
//
// Without chromium the tests are skipped with a warning, and fail in CI (support/
// headless_chromium.hpp); the replay needs the Binance captures (support/capture_data.hpp).
#include "support/capture_data.hpp"
#include "support/child_process.hpp"
#include "support/headless_chromium.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using quoter::test::slurp;
using quoter::test::temp_dir;

namespace {

const fs::path probe_page =
    fs::path(QUOTER_SOURCE_DIR) / "tests" / "app" / "report_page_probe.html";
const std::string sim_toml = std::string(QUOTER_SOURCE_DIR) + "/config/sim.toml";

quoter::test::run_result run_quoter(const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& env = {}) {
    auto result = quoter::test::run_to_end(QUOTER_EXE, args, env, std::chrono::seconds(300));
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    return result;
}

/// The element tree an HTML source writes, as the browser's probe reports it: one path of names
/// from the root per element, in document order ("html>body>table>tr"). Void elements and
/// elements closed with "/>" have no content; style and script text is skipped. A closing tag
/// that does not close the innermost open element, and an element left open, are `problems`.
struct markup_tree {
    std::vector<std::string> paths;
    std::vector<std::string> problems;
};

markup_tree tree_of(std::string_view html) {
    static const std::set<std::string, std::less<>> void_elements{
        "area",  "base", "br",   "col",    "embed", "hr", "img",
        "input", "link", "meta", "source", "track", "wbr"};
    const auto lower = [](std::string_view text) {
        std::string out(text);
        std::transform(out.begin(), out.end(), out.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return out;
    };
    const auto path_with = [](const std::vector<std::string>& open, const std::string& name) {
        std::string path;
        for (const auto& element : open) {
            path += element + ">";
        }
        return path + name;
    };
    markup_tree tree;
    std::vector<std::string> open;
    std::size_t at = 0;
    while ((at = html.find('<', at)) != std::string_view::npos) {
        if (html.substr(at, 4) == "<!--") {
            at = html.find("-->", at);
            continue;
        }
        const auto end = html.find('>', at);
        if (end == std::string_view::npos) {
            tree.problems.push_back("an unterminated tag at byte " + std::to_string(at));
            break;
        }
        const std::string_view tag = html.substr(at + 1, end - at - 1);
        at = end + 1;
        if (tag.empty() || tag[0] == '!' || tag[0] == '?') {
            continue; // <!DOCTYPE html>
        }
        const bool closing = tag[0] == '/';
        const auto name_begin = closing ? 1 : 0;
        const auto name_end = tag.find_first_of(" \t\n/", static_cast<std::size_t>(name_begin));
        const std::string name = lower(tag.substr(
            name_begin, (name_end == std::string_view::npos ? tag.size() : name_end) - name_begin));
        if (closing) {
            if (open.empty() || open.back() != name) {
                tree.problems.push_back("</" + name + "> closes <" +
                                        (open.empty() ? std::string("nothing") : open.back()) +
                                        "> in " + path_with(open, ""));
            } else {
                open.pop_back();
            }
            continue;
        }
        tree.paths.push_back(path_with(open, name));
        if (void_elements.count(name) != 0 || tag.back() == '/') {
            continue;
        }
        if (name == "style" || name == "script") {
            at = html.find("</" + name, at);
            if (at == std::string_view::npos) {
                tree.problems.push_back("<" + name + "> is never closed");
                break;
            }
        }
        open.push_back(name);
    }
    if (!open.empty()) {
        tree.problems.push_back("left open: " + path_with(open, ""));
    }
    return tree;
}

/// The browser built the tree the markup writes: markup it cannot take as written is dropped,
/// moved or closed early, and the trees differ. The one element it may add is a table's implied
/// tbody. `built_tree`: the probe's paths of names, in document order.
void check_built_as_written(std::string_view html, simdjson::dom::element built_tree) {
    const markup_tree written = tree_of(html);
    CHECK(written.problems == std::vector<std::string>{});
    const bool writes_tbody =
        std::any_of(written.paths.begin(), written.paths.end(), [](const std::string& path) {
            return path.find("tbody") != std::string::npos;
        });
    std::vector<std::string> built;
    for (const auto element : simdjson::dom::array(built_tree)) {
        auto path = std::string(std::string_view(element));
        if (!writes_tbody) {
            if (path.ends_with(">tbody")) {
                continue;
            }
            for (auto at = path.find(">tbody>"); at != std::string::npos;
                 at = path.find(">tbody>")) {
                path.erase(at, 6);
            }
        }
        built.push_back(std::move(path));
    }
    const auto [written_at, built_at] =
        std::mismatch(written.paths.begin(), written.paths.end(), built.begin(), built.end());
    INFO("elements written " << written.paths.size() << ", built " << built.size());
    INFO("first difference at element "
         << (written_at - written.paths.begin()) << ": written "
         << (written_at == written.paths.end() ? "nothing" : *written_at) << ", built "
         << (built_at == built.end() ? "nothing" : *built_at));
    const bool same_tree = written.paths == built;
    CHECK(same_tree);
}

/// Whether `word` occurs in `text` on its own (not inside a longer word), in any case.
bool contains_word(std::string_view text, std::string_view word) {
    const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
    const auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (std::size_t at = 0; at + word.size() <= text.size(); ++at) {
        if (!std::equal(word.begin(), word.end(), text.begin() + static_cast<std::ptrdiff_t>(at),
                        [&](char a, char b) { return lower(a) == lower(b); })) {
            continue;
        }
        const bool starts = at == 0 || !is_word(text[at - 1]);
        const bool ends = at + word.size() == text.size() || !is_word(text[at + word.size()]);
        if (starts && ends) {
            return true;
        }
    }
    return false;
}

/// Whether `text` is `shape` with every '0' of the shape a digit.
bool fits_shape(std::string_view text, std::string_view shape) {
    return text.size() == shape.size() &&
           std::equal(shape.begin(), shape.end(), text.begin(), [](char want, char got) {
               return want == '0' ? std::isdigit(static_cast<unsigned char>(got)) != 0
                                  : want == got;
           });
}

std::string text_of(simdjson::dom::element element) {
    return std::string(std::string_view(element));
}

std::vector<std::string> strings_of(simdjson::dom::element array) {
    std::vector<std::string> out;
    for (const auto item : simdjson::dom::array(array)) {
        out.push_back(text_of(item));
    }
    return out;
}

bool has(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

/// A report page as Chromium showed it: the probe's facts, and a screenshot's verdict.
class shown_page {
public:
    shown_page(const quoter::test::headless_chromium& browser, fs::path page)
        : page_(std::move(page)) {
        INFO(page_.string());
        REQUIRE(fs::is_regular_file(page_));
        const std::string dom = browser.dump_dom(quoter::test::file_url(probe_page) + "?" +
                                                     quoter::test::file_url(page_),
                                                 /*read_frames=*/true);
        const std::string open = "<pre id=\"facts\">";
        const auto begin = dom.find(open);
        const auto end = dom.find("</pre>", begin);
        INFO(dom.substr(0, 2000));
        REQUIRE(begin != std::string::npos);
        REQUIRE(end != std::string::npos);
        json_ = simdjson::padded_string(dom.substr(begin + open.size(), end - begin - open.size()));
        REQUIRE(parser_.parse(json_).get(facts_) == simdjson::SUCCESS);
        INFO(json_.data());
        REQUIRE(bool(facts_["loaded"]));
        screenshot_ = browser.take_screenshot(quoter::test::file_url(page_));
    }

    [[nodiscard]] simdjson::dom::element facts() const { return facts_; }
    [[nodiscard]] std::string title() const { return text_of(facts_["title"]); }
    [[nodiscard]] std::vector<std::string> headings() const {
        return strings_of(facts_["headings"]);
    }
    [[nodiscard]] std::string text() const { return text_of(facts_["text"]); }

    /// The chart whose title (aria-label) is `label`; FAILs when there is none.
    [[nodiscard]] simdjson::dom::element chart(std::string_view label) const {
        for (const auto c : simdjson::dom::array(facts_["charts"])) {
            if (std::string_view(c["label"]) == label) {
                return c;
            }
        }
        FAIL("no chart titled \"" << label << "\" on " << page_.string());
        return {};
    }

    /// The rows of the table that follows the heading `heading` (first of them).
    [[nodiscard]] std::vector<std::vector<std::string>> table(std::string_view heading) const {
        for (const auto t : simdjson::dom::array(facts_["tables"])) {
            if (std::string_view(t["heading"]) == heading) {
                std::vector<std::vector<std::string>> rows;
                for (const auto row : simdjson::dom::array(t["rows"])) {
                    rows.push_back(strings_of(row));
                }
                return rows;
            }
        }
        FAIL("no table under \"" << heading << "\" on " << page_.string());
        return {};
    }

    /// The value cell of the row labelled `label` in a two-column table.
    [[nodiscard]] std::string table_value(std::string_view heading, std::string_view label) const {
        for (const auto& row : table(heading)) {
            if (row.size() == 2 && row[0] == label) {
                return row[1];
            }
        }
        FAIL("no row \"" << label << "\" under \"" << heading << "\"");
        return {};
    }

    [[nodiscard]] std::string card(std::string_view label) const {
        for (const auto c : simdjson::dom::array(facts_["cards"])) {
            const auto pair = strings_of(c);
            if (pair.size() == 2 && pair[0] == label) {
                return pair[1];
            }
        }
        FAIL("no card \"" << label << "\"");
        return {};
    }

    /// What every page must be: parsed as written, self-contained, every chart drawn inside its
    /// canvas with readable labels, tables with whole rows, no NaN shown, and not blank.
    void check_shown_as_written() const {
        INFO(page_.string());
        const std::vector<std::string> none;
        check_built_as_written(slurp(page_), facts_["tree"]);
        CHECK(strings_of(facts_["misplaced"]) == none);
        // Nothing to fetch: no reference to another file or site, and nothing was loaded.
        CHECK(strings_of(facts_["references"]) == none);
        CHECK(strings_of(facts_["resources"]) == none);
        CHECK_FALSE(contains_word(text(), "nan"));

        const auto charts = simdjson::dom::array(facts_["charts"]);
        CHECK(charts.size() > 0);
        for (const auto c : charts) {
            INFO("chart \"" << std::string_view(c["label"]) << "\" under \""
                            << std::string_view(c["heading"]) << "\"");
            const auto rendered = simdjson::dom::array(c["rendered"]);
            CHECK(double(rendered.at(2)) >= 200.0); // laid out at a readable size
            CHECK(double(rendered.at(3)) >= 100.0);
            CHECK(strings_of(c["clipped"]) == none);
            CHECK(strings_of(c["overlapping_text"]) == none);
            for (const auto shape : simdjson::dom::array(c["shapes"])) {
                const std::string_view tag = shape["tag"];
                INFO(tag << " " << std::string_view(shape["class"]));
                if (tag == "path") {
                    CHECK(std::uint64_t(shape["points"]) >= 2);
                    CHECK(double(shape["length"]) > 0.0);
                } else if (tag == "polygon") {
                    CHECK(std::uint64_t(shape["points"]) >= 3);
                    CHECK(double(shape["area"]) > 0.0);
                } else if (tag == "rect" || tag == "circle") {
                    CHECK(double(shape["area"]) > 0.0);
                }
            }
        }
        for (const auto t : simdjson::dom::array(facts_["tables"])) {
            INFO("table under \"" << std::string_view(t["heading"]) << "\"");
            const auto rows = simdjson::dom::array(t["rows"]);
            REQUIRE(rows.size() > 0);
            const auto columns = simdjson::dom::array(rows.at(0)).size();
            for (const auto row : rows) {
                CHECK(simdjson::dom::array(row).size() == columns);
            }
        }

        // The top of the page as the window shows it: text and charts in colour, not blank.
        std::size_t inked = 0;
        std::size_t coloured = 0;
        const auto& rgb = screenshot_.rgb;
        for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
            const auto [lo, hi] = std::minmax({rgb[i], rgb[i + 1], rgb[i + 2]});
            inked += lo < 235 ? 1 : 0;
            coloured += hi - lo >= 80 ? 1 : 0;
        }
        const std::size_t pixels = rgb.size() / 3;
        INFO("screenshot " << screenshot_.width << "x" << screenshot_.height << ": " << inked
                           << " inked pixels, " << coloured << " coloured");
        CHECK(pixels == std::size_t{1000} * 1400);
        CHECK(inked * 100 >= pixels); // at least 1% of the window
        CHECK(coloured >= 500);
    }

    /// "config <file> · quoter <version> · generated <date> UTC" under the title.
    void check_provenance(const std::string& config) const {
        INFO(page_.string());
        REQUIRE(facts_["provenance"].is_string());
        const std::string provenance = text_of(facts_["provenance"]);
        INFO(provenance);
        CHECK(provenance.find("config " + config) != std::string::npos);
        CHECK(provenance.find(std::string("quoter ") + QUOTER_VERSION) != std::string::npos);
        const auto generated = provenance.find("generated ");
        REQUIRE(generated != std::string::npos);
        CHECK(fits_shape(std::string_view(provenance).substr(generated + 10),
                         "0000-00-00 00:00:00 UTC"));
    }

private:
    fs::path page_;
    simdjson::padded_string json_;
    simdjson::dom::parser parser_;
    simdjson::dom::element facts_;
    quoter::test::screenshot screenshot_;
};

std::size_t count_shapes(simdjson::dom::element chart, std::string_view tag,
                         std::string_view css_class = {}) {
    std::size_t n = 0;
    for (const auto shape : simdjson::dom::array(chart["shapes"])) {
        if (std::string_view(shape["tag"]) == tag &&
            (css_class.empty() || std::string_view(shape["class"]) == css_class)) {
            ++n;
        }
    }
    return n;
}

/// The most points of any line of the chart.
std::uint64_t longest_line(simdjson::dom::element chart) {
    std::uint64_t most = 0;
    for (const auto shape : simdjson::dom::array(chart["shapes"])) {
        if (std::string_view(shape["tag"]) == "path") {
            most = std::max(most, std::uint64_t(shape["points"]));
        }
    }
    return most;
}

struct fill_sides {
    std::size_t buys = 0;
    std::size_t sells = 0;
};

fill_sides count_fills(const fs::path& fills_csv) {
    std::istringstream lines(slurp(fills_csv));
    std::string line;
    std::getline(lines, line); // header: time_ns,order_id,side,...
    fill_sides sides;
    while (std::getline(lines, line)) {
        const auto first = line.find(',');
        const auto second = line.find(',', first + 1);
        const auto side = line.substr(second + 1, line.find(',', second + 1) - second - 1);
        (side == "buy" ? sides.buys : sides.sells) += 1;
    }
    return sides;
}

std::size_t data_rows(const fs::path& csv) {
    const std::string text = slurp(csv);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) - 1;
}

/// A single run's page (a replay, or one path of a synthetic run) beside its CSV files.
void check_single_run_page(const shown_page& page, const fs::path& dir, const std::string& config) {
    page.check_shown_as_written();
    page.check_provenance(config);
    CHECK(strings_of(page.facts()["h1"]) == std::vector<std::string>{page.title()});
    const auto headings = page.headings();
    for (const auto* heading : {"Equity", "Drawdown", "Inventory", "Quotes around the mid",
                                "Returns and risk", "Trading", "PnL attribution and costs"}) {
        INFO(heading);
        CHECK(has(headings, heading));
    }

    const std::size_t samples = data_rows(dir / "pnl.csv");
    REQUIRE(samples >= 20);
    // Every line drawn through (nearly) every sample: lines drop only points that fall on the
    // same tenth of a pixel as the one before.
    for (const auto* label :
         {"Equity (quote units)", "Drawdown from the running peak (quote units)",
          "Inventory (base units)"}) {
        INFO(label);
        const auto chart = page.chart(label);
        CHECK(count_shapes(chart, "path") == 1);
        CHECK(longest_line(chart) >= samples / 2);
    }
    // The quotes around the mid: ask, mid and bid lines, and a marker for each fill.
    const auto quotes = page.chart("Mid, quoted bid/ask and fills");
    CHECK(count_shapes(quotes, "path") == 3);
    const fill_sides fills = count_fills(dir / "fills.csv");
    REQUIRE(fills.buys > 0);
    REQUIRE(fills.sells > 0);
    CHECK(count_shapes(quotes, "polygon", "fill-buy") == fills.buys);
    CHECK(count_shapes(quotes, "polygon", "fill-sell") == fills.sells);
    CHECK(count_shapes(page.chart("Quote distance from the mid"), "path") == 2);

    // The metrics a user reads: the cards and the tables agree with the files.
    const std::string fill_count = std::to_string(fills.buys + fills.sells);
    CHECK(page.card("Fills") == fill_count);
    CHECK(page.table_value("Trading", "Fills") == fill_count);
    CHECK(page.table_value("Trading", "Buy fills") == std::to_string(fills.buys));
    CHECK(page.card("Total PnL") == page.table_value("Returns and risk", "Total PnL"));
    CHECK(page.table("Returns and risk").size() >= 10);
}

} // namespace

TEST_CASE("a synthetic backtest over several paths: both pages as a browser shows them",
          "[report][html][browser]") {
    const std::string chromium = quoter::test::require_chromium();
    if (chromium.empty()) {
        return;
    }
    temp_dir out("report-pages-paths");
    // 400 s of 4 paths: enough fills on both sides, and more samples than the 300 of the zoomed
    // quote chart.
    run_quoter({"backtest", "--config", sim_toml, "--paths", "4", "--seed", "5", "--out",
                out.path().string()},
               {{"QUOTER_BACKTEST_DURATION_S", "400"}});
    const quoter::test::headless_chromium browser(chromium);

    const shown_page paths(browser, out.path() / "report.html");
    paths.check_shown_as_written();
    paths.check_provenance(sim_toml);
    CHECK_THAT(paths.title(), Catch::Contains("4 paths"));
    const auto headings = paths.headings();
    for (const auto* heading :
         {"Across paths", "Final PnL", "Final inventory", "PnL spread across paths", "Paths"}) {
        INFO(heading);
        CHECK(has(headings, heading));
    }
    CHECK(std::any_of(headings.begin(), headings.end(),
                      [](const std::string& h) { return h.starts_with("Example path: path 0"); }));
    // Histograms: the canvas, the frame and at least two bars.
    CHECK(count_shapes(paths.chart("Distribution of final PnL"), "rect") >= 4);
    CHECK(count_shapes(paths.chart("Distribution of final inventory"), "rect") >= 4);
    // The equity spread across paths: two bands around the median, over the whole run.
    const auto spread =
        paths.chart("PnL across paths over time: median, 25-75% and 5-95% of paths");
    CHECK(count_shapes(spread, "polygon", "band") == 2);
    CHECK(count_shapes(spread, "path") == 1);
    CHECK(longest_line(spread) >= 100);
    for (const auto shape : simdjson::dom::array(spread["shapes"])) {
        if (std::string_view(shape["class"]) == "band") {
            CHECK(std::uint64_t(shape["points"]) >= 200); // both edges
        }
    }
    const auto per_path = paths.table("Paths");
    CHECK(per_path.size() == 5); // header and one row per path
    CHECK(paths.table("Across paths").size() >= 6);
    CHECK(paths.card("Paths") == "4");

    const shown_page path_0(browser, out.path() / "path_0" / "report.html");
    check_single_run_page(path_0, out.path() / "path_0", sim_toml);
    // Longer than 300 samples: the last stretch is drawn again at full resolution.
    const auto zoom = path_0.chart("Mid and quoted bid/ask, last 300 samples");
    CHECK(count_shapes(zoom, "path") == 3);
}

TEST_CASE("a replay of a capture slice: its page as a browser shows it",
          "[report][html][browser][data]") {
    const std::string chromium = quoter::test::require_chromium();
    if (chromium.empty()) {
        return;
    }
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    temp_dir dir("report-pages-replay");
    // The first 20,000 lines (about 3 minutes of the book and trades).
    const std::string slice = (dir.path() / "slice.gz").string();
    REQUIRE(quoter::test::run_to_end("/bin/sh",
                                     {"-c", "gzip -dc \"$0\" | head -n 20000 | gzip -c > \"$1\"",
                                      folder + "/spot-btcusdt-20240808.gz", slice})
                .status == 0);
    // A tight spread on a liquid book, so that the queue model fills on both sides.
    const auto config = dir.write("replay.toml", "[engine]\nsymbol = \"BTCUSDT\"\n\n"
                                                 "[strategy.linear]\nspread_bps = 0.5\n\n"
                                                 "[quotes]\nrefresh_tolerance_bps = 0.5\n");
    const fs::path out = dir.path() / "report";
    run_quoter({"backtest", "--config", config.string(), "--data", slice, "--out", out.string()});
    const quoter::test::headless_chromium browser(chromium);
    const shown_page replay(browser, out / "report.html");
    check_single_run_page(replay, out, config.string());
    CHECK_THAT(replay.title(), Catch::Contains("replay"));
    CHECK(has(replay.headings(), "Run counts"));
}

TEST_CASE("a sweep's page as a browser shows it", "[report][html][browser]") {
    const std::string chromium = quoter::test::require_chromium();
    if (chromium.empty()) {
        return;
    }
    temp_dir dir("report-pages-sweep");
    std::string config_text = slurp(sim_toml);
    const std::string from = "duration_s = 3600.0";
    const auto at = config_text.find(from);
    REQUIRE(at != std::string::npos);
    config_text.replace(at, from.size(), "duration_s = 60.0");
    const auto config = dir.write("sweep.toml", config_text);
    const fs::path out = dir.path() / "sweep";
    run_quoter({"sweep", "-c", config.string(), "--set", "strategy.linear.spread_bps=2,6,12",
                "--range", "strategy.order_size_pct=0.5:1.0:0.5", "--paths", "2", "--out",
                out.string()});
    const quoter::test::headless_chromium browser(chromium);
    const shown_page sweep(browser, out / "report.html");
    sweep.check_shown_as_written();
    CHECK(sweep.title() == "quoter sweep: sweep.toml");
    // What was swept and how it is identified: the configuration's name and the fingerprint.
    const std::string trials = slurp(out / "trials.json");
    const auto fingerprint_at = trials.find("\"fingerprint\": \"");
    REQUIRE(fingerprint_at != std::string::npos);
    const std::string fingerprint = trials.substr(fingerprint_at + 16, 16);
    CHECK_THAT(sweep.text(), Catch::Contains("Fingerprint " + fingerprint));
    CHECK_THAT(sweep.text(), Catch::Contains("6 of 6 trials"));

    CHECK(simdjson::dom::array(sweep.facts()["charts"]).size() == 2);
    // The heat map: one cell per trial, and both keys named in full.
    const auto heat_map = sweep.chart("Mean PnL: columns: strategy.linear.spread_bps; "
                                      "rows: strategy.order_size_pct");
    CHECK(std::string_view(heat_map["heading"]) == "Mean PnL over the two swept keys");
    CHECK(count_shapes(heat_map, "rect") == 6);
    const auto labels = strings_of(heat_map["texts"]);
    CHECK(has(labels, "columns: strategy.linear.spread_bps"));
    CHECK(has(labels, "rows: strategy.order_size_pct"));
    // PnL against drawdown: one dot per trial.
    const auto scatter = sweep.chart("Mean PnL against mean max drawdown, one dot per trial");
    CHECK(std::string_view(scatter["heading"]) == "PnL against drawdown");
    CHECK(count_shapes(scatter, "circle") == 6);
    const auto ranking = sweep.table("Ranking (best 50)");
    CHECK(ranking.size() == 7); // header and six trials
    CHECK(ranking.at(0).at(2) == "strategy.linear.spread_bps");
}
