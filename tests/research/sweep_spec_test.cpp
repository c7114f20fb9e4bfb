#include "quoter/research/sweep.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace quoter::research;

TEST_CASE("--set, --range and --random forms", "[research][spec]") {
    const auto set = parse_set("strategy.model=linear, glft");
    REQUIRE(set);
    CHECK(set->key == "strategy.model");
    CHECK(set->values == std::vector<std::string>{"linear", "glft"});

    const auto ints = parse_range("strategy.levels.count=1:5:2");
    REQUIRE(ints);
    CHECK(ints->values == std::vector<std::string>{"1", "3", "5"});
    const auto floats = parse_range("strategy.linear.spread_bps=0.1:0.3:0.1");
    REQUIRE(floats);
    CHECK(floats->values == std::vector<std::string>{"0.1", "0.2", "0.3"});

    const auto draw = parse_random("strategy.glft.gamma_per_tick=1e-5:2e-4");
    REQUIRE(draw);
    CHECK(draw->lo == 1e-5);
    CHECK_FALSE(draw->integer);
    CHECK(parse_random("a.b=1:9")->integer);

    CHECK_FALSE(parse_set("no_equals"));
    CHECK_FALSE(parse_set("Bad Key=1"));
    CHECK_FALSE(parse_set("a.b=1,,2"));
    CHECK_FALSE(parse_range("a.b=1:2"));
    CHECK_FALSE(parse_range("a.b=3:1:1"));
    CHECK_FALSE(parse_range("a.b=1:3:0"));
    CHECK_FALSE(parse_random("a.b=x:1"));
    CHECK(parse_range("a.b=3:1:1").error().find("lo <= hi") != std::string::npos);
}

TEST_CASE("shards are K/N counted from 0", "[research][spec]") {
    const auto s = parse_shard("1/4");
    REQUIRE(s);
    CHECK(s->index == 1);
    CHECK(s->count == 4);
    CHECK_FALSE(parse_shard("4/4"));
    CHECK_FALSE(parse_shard("0/0"));
    CHECK_FALSE(parse_shard("1"));
}

TEST_CASE("a grid expands first axis slowest, random draws are reproducible", "[research][spec]") {
    sweep_spec spec;
    set_axis(spec, *parse_set("a.x=1,2,3"));
    set_axis(spec, *parse_set("a.y=true,false"));
    spec.paths = 1;
    CHECK(validate(spec).empty());
    auto trials = expand(spec);
    REQUIRE(trials.size() == 6);
    CHECK(trials[0].parameters == std::vector<parameter>{{"a.x", "1"}, {"a.y", "true"}});
    CHECK(trials[1].parameters == std::vector<parameter>{{"a.x", "1"}, {"a.y", "false"}});
    CHECK(trials[5].parameters == std::vector<parameter>{{"a.x", "3"}, {"a.y", "false"}});

    set_axis(spec, *parse_random("a.z=0.5:1.5"));
    set_axis(spec, *parse_random("a.n=1:3"));
    spec.trials = 50;
    trials = expand(spec);
    REQUIRE(trials.size() == 300);
    std::set<std::string> integers;
    for (const auto& t : trials) {
        REQUIRE(t.parameters.size() == 4);
        const double z = std::stod(t.parameters[2].value);
        CHECK(z >= 0.5);
        CHECK(z <= 1.5);
        integers.insert(t.parameters[3].value);
    }
    CHECK(integers == std::set<std::string>{"1", "2", "3"});
    CHECK(expand(spec)[17].parameters == trials[17].parameters);
    spec.seed = 2;
    CHECK_FALSE(expand(spec)[17].parameters == trials[17].parameters);

    // Shards partition the trials.
    std::vector<std::size_t> seen;
    for (std::size_t k = 0; k < 3; ++k) {
        for (const auto& t : select_shard(trials, {k, 3})) {
            CHECK(t.index % 3 == k);
            seen.push_back(t.index);
        }
    }
    std::sort(seen.begin(), seen.end());
    REQUIRE(seen.size() == trials.size());
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i] == i);
    }
}

TEST_CASE("a spec that cannot run says why", "[research][spec]") {
    sweep_spec spec;
    auto problems = validate(spec);
    CHECK(problems.size() == 2); // nothing swept, no units
    set_axis(spec, *parse_random("a.z=0:1"));
    spec.paths = 2;
    problems = validate(spec);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("--trials") != std::string::npos);
    // A grid axis replaces a random axis of the same key.
    set_axis(spec, *parse_set("a.z=1"));
    CHECK(spec.random.empty());
    CHECK(validate(spec).empty());
}

TEST_CASE("the [sweep] table", "[research][spec]") {
    quoter::test::temp_dir dir("sweep-table");
    SECTION("every form") {
        const auto file = dir.write("s.toml", R"([engine]
symbol = "BTCUSDT"
[sweep]
paths = 4
seed = 9
trials = 3
objective = "sharpe"
data = ["cap.gz"]
[sweep.set]
"strategy.model" = ["linear", "glft"]
[sweep.range]
"strategy.linear.spread_bps" = [2, 6, 2]
[sweep.random]
"strategy.glft.gamma_per_tick" = [1e-5, 1e-4]
)");
        const auto spec = read_sweep_table(file);
        REQUIRE(spec);
        CHECK(spec->paths == 4);
        CHECK(spec->paths_set);
        CHECK(spec->seed == 9);
        CHECK(spec->trials == 3);
        CHECK(spec->goal == *objective::parse("sharpe"));
        REQUIRE(spec->data.size() == 1);
        CHECK(spec->data[0] == (dir.path() / "cap.gz").string());
        REQUIRE(spec->grid.size() == 2);
        CHECK(spec->grid[0].values == std::vector<std::string>{"\"linear\"", "\"glft\""});
        CHECK(spec->grid[1].values == std::vector<std::string>{"2", "4", "6"});
        REQUIRE(spec->random.size() == 1);
        CHECK(validate(*spec).empty());
        CHECK(expand(*spec).size() == 18);
    }
    SECTION("an expression objective") {
        const auto spec = read_sweep_table(dir.write("s.toml", R"([sweep]
objective = "sharpe - 0.5 * sharpe.sd"
[sweep.set]
"strategy.linear.spread_bps" = [1, 2]
)"));
        REQUIRE(spec);
        CHECK(spec->goal.text() == "sharpe - 0.5 * sharpe.sd");
        CHECK(spec->goal.metric().empty());
    }
    SECTION("a syntax error in the objective says where") {
        const auto spec = read_sweep_table(dir.write("s.toml", R"([sweep]
objective = "sharpe -* 2"
)"));
        REQUIRE_FALSE(spec);
        REQUIRE(spec.error().size() == 1);
        CHECK_THAT(spec.error().front(), Catch::Contains("sweep.objective: syntax error at "
                                                         "position 9 of \"sharpe -* 2\""));
    }
    SECTION("no table: an empty spec") {
        const auto spec = read_sweep_table(dir.write("s.toml", "[engine]\n"));
        REQUIRE(spec);
        CHECK(spec->grid.empty());
    }
    SECTION("every problem is reported") {
        const auto spec = read_sweep_table(dir.write("s.toml", R"([sweep]
pahts = 3
objective = "profit"
[sweep.range]
"a.b" = [1, 2]
)"));
        REQUIRE_FALSE(spec);
        REQUIRE(spec.error().size() == 3);
        const auto has = [&](std::string_view text) {
            return std::any_of(spec.error().begin(), spec.error().end(),
                               [&](const std::string& e) { return e.find(text) != e.npos; });
        };
        CHECK(has("sweep.pahts: unknown key"));
        CHECK(has("sweep.objective: unknown metric \"profit\" at position 1"));
        CHECK(has("sweep.range.\"a.b\": expected an array of 3 numbers"));
    }
}

TEST_CASE("the fingerprint covers the spec and the configuration", "[research][spec]") {
    sweep_spec spec;
    set_axis(spec, *parse_set("a.x=1,2"));
    spec.paths = 3;
    const auto base = fingerprint(canonical_text(spec, "x = 1", ""));
    CHECK(base.size() == 16);
    CHECK(fingerprint(canonical_text(spec, "x = 1", "")) == base);
    CHECK(fingerprint(canonical_text(spec, "x = 2", "")) != base);
    CHECK(fingerprint(canonical_text(spec, "x = 1", "dev")) != base);
    spec.paths = 4;
    CHECK(fingerprint(canonical_text(spec, "x = 1", "")) != base);
}

TEST_CASE("walk-forward folds: consecutive test windows to the end", "[research][spec][folds]") {
    // 3 folds, half of each window training: window 1/2, train 1/4, test 1/4.
    const auto rolling = fold_windows(3, 0.5, false);
    REQUIRE(rolling.size() == 3);
    CHECK(rolling[0].train_lo == 0.0);
    CHECK(rolling[0].train_hi == 0.25);
    CHECK(rolling[0].test_hi == 0.5);
    CHECK(rolling[1].train_lo == 0.25);
    CHECK(rolling[1].test_lo == 0.5);
    CHECK(rolling[2].train_lo == 0.5);
    CHECK(rolling[2].test_lo == 0.75);
    CHECK(rolling[2].test_hi == 1.0);
    const auto anchored = fold_windows(3, 0.5, true);
    REQUIRE(anchored.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
        CHECK(anchored[k].train_lo == 0.0);
        CHECK(anchored[k].train_hi == rolling[k].train_hi);
        CHECK(anchored[k].test_lo == rolling[k].test_lo);
        CHECK(anchored[k].test_hi == rolling[k].test_hi);
    }
    // Any count and share: the test windows tile the time after the first training window,
    // a fold's training window ends where its test window starts, and the share holds.
    for (const std::size_t folds : {2U, 5U, 17U}) {
        for (const double split : {0.3, 0.7, 0.9}) {
            const auto w = fold_windows(folds, split, false);
            REQUIRE(w.size() == folds);
            CHECK(w.back().test_hi == 1.0);
            for (std::size_t k = 0; k < folds; ++k) {
                CHECK(w[k].train_hi == w[k].test_lo);
                CHECK(w[k].train_lo < w[k].train_hi);
                CHECK(w[k].test_lo < w[k].test_hi);
                CHECK((w[k].train_hi - w[k].train_lo) / (w[k].test_hi - w[k].train_lo) ==
                      Approx(split));
                if (k > 0) {
                    CHECK(w[k].test_lo == Approx(w[k - 1].test_hi));
                }
            }
        }
    }
    CHECK(fold_windows(0, 0.5, false).empty());
    CHECK(fold_windows(3, 1.0, false).empty());
}

TEST_CASE("walk-forward folds: what cannot run says why", "[research][spec][folds]") {
    sweep_spec spec;
    set_axis(spec, *parse_set("a.x=1,2"));
    spec.data = {"cap.gz"};
    spec.split = 0.7;
    spec.folds = 1;
    auto problems = validate(spec);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains("--folds 1: a walk-forward needs at least 2 folds"));
    spec.folds = 3;
    CHECK(validate(spec).empty());
    spec.paths = 2;
    problems = validate(spec);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains("--folds ranks on windows of the captures' time: "
                                            "leave out --paths"));
    spec.paths = 0;
    spec.data.clear();
    CHECK_THAT(validate(spec).front(), Catch::Contains("--folds divides captures in time"));
    spec.data = {"cap.gz"};
    spec.folds = max_folds + 1;
    CHECK_THAT(validate(spec).front(), Catch::Contains("at most 100 folds"));
    spec.folds = 0;
    spec.anchored = true;
    CHECK_THAT(validate(spec).front(), Catch::Contains("--anchored applies to walk-forward"));
    // Folds are part of what a sweep is.
    spec.anchored = false;
    const auto split_only = fingerprint(canonical_text(spec, "", ""));
    spec.folds = 3;
    const auto rolling = fingerprint(canonical_text(spec, "", ""));
    spec.anchored = true;
    CHECK(split_only != rolling);
    CHECK(fingerprint(canonical_text(spec, "", "")) != rolling);
}

TEST_CASE("split, folds and anchored in the [sweep] table", "[research][spec][folds]") {
    quoter::test::temp_dir dir("sweep-table-folds");
    const auto spec = read_sweep_table(dir.write("s.toml", R"([sweep]
data = ["cap.gz"]
split = 0.6
folds = 4
anchored = true
[sweep.set]
"a.x" = [1, 2]
)"));
    REQUIRE(spec);
    CHECK(spec->split == 0.6);
    CHECK(spec->folds == 4);
    CHECK(spec->anchored);
    const auto bad = read_sweep_table(dir.write("s.toml", R"([sweep]
split = 1.5
folds = "many"
anchored = 1
)"));
    REQUIRE_FALSE(bad);
    REQUIRE(bad.error().size() == 3);
    const auto has = [&](std::string_view text) {
        return std::any_of(bad.error().begin(), bad.error().end(),
                           [&](const std::string& e) { return e.find(text) != e.npos; });
    };
    CHECK(has("sweep.split: expected the training share of a capture's time, a number in (0, 1)"));
    CHECK(has("sweep.folds: expected a non-negative integer"));
    CHECK(has("sweep.anchored: expected true or false"));
}
