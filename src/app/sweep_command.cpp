// `quoter sweep` and `quoter sweep merge` (see sweep_command.hpp).
#include "sweep_command.hpp"
#include "exit_codes.hpp"
#include "live_settings.hpp"
#include "replay_registry.hpp"
#include "report_output.hpp"
#include "stop_signals.hpp"

#include "quoter/app/app_config.hpp"
#include "quoter/app/market_fit.hpp"
#include "quoter/engine/backtest.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/research/results.hpp"
#include "quoter/research/sweep.hpp"
#include "quoter/research/trial_pool.hpp"
#include "quoter/sim/random.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>

#include <unistd.h>

namespace quoter::app {
namespace {

constexpr std::size_t walk_forward_candidates = 5;

namespace fs = std::filesystem;

/// The core loop of a replay unit, as `quoter backtest --data` configures it (the first
/// symbol's [symbol.<NAME>] tables over the shared ones), without a journal or a pinned core:
/// units run side by side on the sweep's threads.
engine::core_loop_config replay_loop_config(const engine_config& config) {
    engine::core_loop_config out = make_core_loop_config(config);
    const engine::core_loop_config unjournaled;
    out.journal_path = unjournaled.journal_path;
    out.journal_flush_interval_ms = unjournaled.journal_flush_interval_ms;
    out.core_cpu = unjournaled.core_cpu;
    return out;
}

/// How one capture is replayed: the registry of the symbol it trades and that symbol's loop.
struct capture_replay {
    md::symbol_registry registry;
    engine::core_loop_config loop;
};

/// One trial's loaded configuration, ready to run units.
struct prepared_trial {
    engine::backtest_config run;
    core::symbol_spec spec;
    /// With several symbols (engine.symbols): a synthetic unit runs them all in one loop, each
    /// with its [symbol.<NAME>] tables, and its metrics are the portfolio's, as `quoter
    /// backtest` reports them.
    std::vector<engine::backtest_symbol> symbols;
    std::vector<std::string> symbol_names;
    sim::metrics_config portfolio_settings;
    engine::core_loop_config loop;
    std::optional<md::symbol_registry> registry;
    /// With several symbols (engine.symbols): each capture file replays the configured symbol
    /// it holds, with that symbol's strategy and limits ([symbol.<NAME>]).
    std::map<std::string, capture_replay> by_capture;
    core::duration_ns record_interval_ns = core::ns_per_s;
};

config::load_options trial_options(const std::string& profile, const research::trial* t) {
    config::load_options options;
    options.profile = profile;
    options.foreign_tables = {"sweep"};
    if (t != nullptr) {
        for (const auto& p : t->parameters) {
            options.overrides.push_back(
                {p.key, p.value, fmt::format("sweep trial {}: {}={}", t->index, p.key, p.value)});
        }
    }
    return options;
}

void print_problems(const config::diagnostics& problems) {
    for (const auto& problem : problems) {
        std::fprintf(stderr, "  %s\n", config::to_string(problem).c_str());
    }
}

/// Loads every trial's configuration (all of them before anything runs, so a bad value fails
/// at once); empty when one is invalid, after saying which and why. synthetic: the trials run
/// synthetic paths, whose market the configuration must price, or market_from fit (each
/// symbol's captures read once for every trial; the first trial's fit is printed).
std::optional<std::vector<prepared_trial>>
prepare(const std::string& path, const std::string& profile,
        std::span<const research::trial> trials, const std::vector<std::string>& captures,
        bool synthetic, const std::vector<std::string>& market_from) {
    std::vector<prepared_trial> out;
    out.reserve(trials.size());
    std::map<std::string, std::vector<std::string>> held; // capture file -> symbols it holds
    calibrations_by_symbol calibrations;
    for (const auto& t : trials) {
        auto loaded = load_engine_config(path, trial_options(profile, &t));
        if (!loaded) {
            std::fprintf(stderr, "quoter sweep: trial %zu has an invalid configuration:\n",
                         t.index);
            print_problems(loaded.error());
            return std::nullopt;
        }
        if (synthetic && !market_from.empty()) {
            const auto fitted = fit_synthetic_markets(*loaded, market_from, calibrations);
            if (!fitted) {
                std::fprintf(stderr, "quoter sweep: trial %zu: %s\n", t.index,
                             fitted.error().c_str());
                return std::nullopt;
            }
            if (out.empty()) {
                for (const std::string& line : *fitted) {
                    std::fprintf(stderr, "quoter sweep: %s\n", line.c_str());
                }
            }
        }
        if (synthetic) {
            if (const std::string problem =
                    synthetic_market_problem(*loaded, synthetic_command::sweep);
                !problem.empty()) {
                std::fprintf(stderr, "quoter sweep: trial %zu: %s\n", t.index, problem.c_str());
                return std::nullopt;
            }
        }
        prepared_trial p;
        p.run = make_backtest_config(*loaded);
        p.spec = loaded->spec;
        if (loaded->symbols.size() > 1) {
            p.symbols = make_backtest_symbols(*loaded);
            for (const symbol_entry& entry : loaded->symbols) {
                p.symbol_names.push_back(entry.name);
            }
            p.portfolio_settings = portfolio_metrics_settings(loaded->strategy.bands);
        }
        p.loop = replay_loop_config(*loaded);
        p.record_interval_ns = p.run.record_interval_ns;
        if (!captures.empty() && loaded->symbols.size() > 1) {
            for (const std::string& file : captures) {
                if (p.by_capture.count(file) != 0) {
                    continue;
                }
                if (held.count(file) == 0) {
                    held[file] = capture_symbols({file});
                }
                const auto entry = std::find_if(
                    loaded->symbols.begin(), loaded->symbols.end(), [&](const symbol_entry& e) {
                        const auto& names = held[file];
                        return std::find(names.begin(), names.end(), e.name) != names.end();
                    });
                if (entry == loaded->symbols.end()) {
                    std::string names;
                    for (const std::string& name : held[file]) {
                        names += (names.empty() ? "" : ", ") + name;
                    }
                    std::fprintf(stderr,
                                 "quoter sweep: %s holds market data for %s, none of the "
                                 "symbols in engine.symbols\n",
                                 file.c_str(), names.empty() ? "no symbol" : names.c_str());
                    return std::nullopt;
                }
                auto registry = replay_registry(*loaded, *entry, file);
                if (!registry) {
                    std::fprintf(stderr, "quoter sweep: trial %zu: invalid filters for %s\n",
                                 t.index, entry->name.c_str());
                    return std::nullopt;
                }
                engine::core_loop_config loop = replay_loop_config(*loaded);
                loop.strategy = entry->strategy;
                loop.risk.limits = entry->limits;
                p.by_capture.emplace(file, capture_replay{std::move(*registry), loop});
            }
        } else if (!captures.empty()) {
            p.registry = replay_registry(*loaded, captures.front());
            if (!p.registry) {
                std::fprintf(stderr, "quoter sweep: trial %zu: invalid filters for %s\n", t.index,
                             loaded->engine.symbol.c_str());
                return std::nullopt;
            }
        }
        out.push_back(std::move(p));
    }
    return out;
}

/// A capture a unit replays, with the window of its time it trades (capture time, ns).
struct capture_unit {
    std::string file;
    core::timestamp_ns start_ns = 0;
    core::timestamp_ns end_ns = std::numeric_limits<core::timestamp_ns>::max();
};

std::vector<capture_unit> whole_captures(const std::vector<std::string>& files) {
    std::vector<capture_unit> out;
    for (const auto& file : files) {
        out.push_back({.file = file});
    }
    return out;
}

/// The capture time of a file's first and last lines, ns; nullopt when it holds none.
std::optional<std::pair<core::timestamp_ns, core::timestamp_ns>>
capture_time_range(const std::string& file) {
    md::gzip_line_reader reader;
    if (!reader.open(file)) {
        return std::nullopt;
    }
    md::capture_line line;
    core::timestamp_ns first = 0;
    core::timestamp_ns last = 0;
    while (reader.next(line)) {
        first = first == 0 ? line.local_ns : first;
        last = line.local_ns;
    }
    if (first == 0 || last <= first) {
        return std::nullopt;
    }
    return std::pair{first, last};
}

/// Runs unit `unit` of a prepared trial: a synthetic path below `paths`, else a capture.
sim::run_metrics run_unit(const prepared_trial& p, std::size_t paths, std::uint64_t seed,
                          const std::vector<capture_unit>& captures, std::size_t unit) {
    if (unit < paths && p.symbols.size() > 1) {
        const std::vector<engine::backtest_result> results =
            engine::run_backtest(p.run, p.symbols, sim::derive_path_seed(seed, unit));
        std::vector<symbol_records> parts;
        for (std::size_t i = 0; i < results.size(); ++i) {
            parts.push_back(
                synthetic_symbol_records(results[i], p.symbol_names[i],
                                         p.run.initial_cash / static_cast<double>(results.size())));
        }
        return combine_portfolio(parts, p.portfolio_settings).metrics;
    }
    if (unit < paths) {
        const auto run = std::make_unique<engine::synthetic_run>(
            p.run, p.spec, sim::derive_path_seed(seed, unit),
            engine::record_options{.pnl = true, .fills = true, .orders = false});
        run->run();
        return run->metrics();
    }
    const capture_unit& capture = captures.at(unit - paths);
    const std::string& file = capture.file;
    engine::replay_options options;
    options.start_ns = capture.start_ns;
    options.end_ns = capture.end_ns;
    options.record_interval_ns = p.record_interval_ns;
    options.keep = engine::record_options{.pnl = true, .fills = true, .orders = false};
    const auto summary = [&] {
        if (const auto it = p.by_capture.find(file); it != p.by_capture.end()) {
            return engine::run_replay_backtest(it->second.registry, {file}, it->second.loop,
                                               options);
        }
        return engine::run_replay_backtest(*p.registry, {file}, p.loop, options);
    }();
    if (!summary.ok) {
        throw std::runtime_error(fmt::format("replay of {}: {}", file, summary.error));
    }
    return summary.metrics;
}

std::string unit_names(std::size_t paths, std::size_t captures) {
    std::string out;
    if (paths != 0) {
        out = fmt::format("{} synthetic path{}", paths, paths == 1 ? "" : "s");
    }
    if (captures != 0) {
        out += fmt::format("{}{} capture{}", out.empty() ? "" : " and ", captures,
                           captures == 1 ? "" : "s");
    }
    return out;
}

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string parameters_text(const std::vector<research::parameter>& parameters) {
    std::string out;
    for (const auto& p : parameters) {
        out += fmt::format("{}{}={}", out.empty() ? "" : ", ", p.key, p.value);
    }
    return out;
}

int write_and_print_report(const fs::path& out_dir, const research::results_file& results) {
    const auto written = research::write_report(out_dir, results);
    if (!written) {
        std::fprintf(stderr, "quoter sweep: %s\n", written.error().c_str());
        return exit_failed;
    }
    const auto order = research::rank(results);
    if (!order.empty()) {
        const auto& best = results.rows[order.front()];
        const research::objective& goal = results.header.goal;
        const auto metric = research::metric_index(goal.metric());
        if (metric < best.stats.size()) {
            std::printf("  best: trial %zu (%s): mean %s %.6g (sd %.6g)\n", best.index,
                        parameters_text(best.parameters).c_str(),
                        std::string(research::to_string(goal)).c_str(), best.stats[metric].mean,
                        best.stats[metric].stddev);
        } else {
            std::printf("  best: trial %zu (%s): objective %s = %.6g\n", best.index,
                        parameters_text(best.parameters).c_str(),
                        std::string(research::to_string(goal)).c_str(), goal.value(best.stats));
        }
    }
    std::printf("report: %s (trials.csv, trials.json, ranking.md, best.toml beside it)\n",
                (out_dir / "report.html").string().c_str());
    return 0;
}

/// Lines of a capture whose time falls in [lo, hi) for each window (capture time, ns).
std::vector<std::size_t>
lines_in_windows(const std::string& file,
                 const std::vector<std::pair<core::timestamp_ns, core::timestamp_ns>>& windows) {
    std::vector<std::size_t> out(windows.size(), 0);
    md::gzip_line_reader reader;
    if (!reader.open(file)) {
        return out;
    }
    md::capture_line line;
    while (reader.next(line)) {
        for (std::size_t w = 0; w < windows.size(); ++w) {
            out[w] += line.local_ns >= windows[w].first && line.local_ns < windows[w].second;
        }
    }
    return out;
}

/// A window of a capture's time [first, last] as capture times; the end of the last window is
/// open, so its last line is in it.
std::pair<core::timestamp_ns, core::timestamp_ns>
window_ns(std::pair<core::timestamp_ns, core::timestamp_ns> range, double lo, double hi) {
    const auto at = [&](double share) {
        return range.first + static_cast<core::timestamp_ns>(
                                 share * static_cast<double>(range.second - range.first));
    };
    return {lo <= 0.0 ? 0 : at(lo),
            hi >= 1.0 ? std::numeric_limits<core::timestamp_ns>::max() : at(hi)};
}

/// A capture window must hold at least this many lines to be ranked or tested on.
constexpr std::size_t min_window_lines = 100;

/// Runs this process's trials of one ranked sweep into out_dir (results file, --resume, the
/// report) and reads the results back into `results`. Returns 0, or the exit code: 130 when
/// interrupted (the report of the finished trials is written).
int run_ranked(const sweep_command& command, const research::sweep_spec& spec,
               const engine_config& base, const research::results_header& header,
               const std::vector<research::trial>& mine, research::shard part,
               const std::vector<capture_unit>& captures, const fs::path& out_dir,
               research::results_file& results) {
    std::error_code error;
    fs::create_directories(out_dir, error);
    const fs::path results_path = out_dir / "trials.jsonl";
    std::map<std::size_t, bool> finished;
    bool append = false;
    if (command.resume && fs::exists(results_path)) {
        const auto earlier = research::read_results(results_path);
        if (!earlier) {
            std::fprintf(stderr, "quoter sweep: --resume: %s\n", earlier.error().c_str());
            return exit_invalid;
        }
        if (!(earlier->header == header)) {
            std::fprintf(stderr,
                         "quoter sweep: --resume: %s is from another sweep (fingerprint %s, "
                         "this one %s); leave out --resume to start over\n",
                         results_path.c_str(), earlier->header.fingerprint.c_str(),
                         header.fingerprint.c_str());
            return exit_invalid;
        }
        for (const auto& row : earlier->rows) {
            finished[row.index] = true;
        }
        append = true;
    }
    std::vector<research::trial> todo;
    for (const auto& t : mine) {
        if (!finished.contains(t.index)) {
            todo.push_back(t);
        }
    }
    const auto prepared = prepare(command.config_path, command.profile, todo, spec.data,
                                  spec.paths > 0, command.market_from);
    if (!prepared) {
        return exit_invalid;
    }
    auto writer = research::results_writer::open(results_path, header, append);
    if (!writer) {
        std::fprintf(stderr, "quoter sweep: %s\n", writer.error().c_str());
        return exit_failed;
    }
    const unsigned threads = command.threads != 0 ? command.threads : base.backtest.threads;
    std::fprintf(stderr,
                 "quoter sweep: %zu trial%s%s%s on %s each (fingerprint %s); Ctrl-C stops and "
                 "keeps finished trials\n",
                 todo.size(), todo.size() == 1 ? "" : "s",
                 part.count > 1 ? fmt::format(" of shard {}/{}", part.index, part.count).c_str()
                                : "",
                 finished.empty() ? "" : fmt::format(", {} already done", finished.size()).c_str(),
                 header.unit_names.c_str(), header.fingerprint.c_str());

    bool write_failed = false;
    research::pool_outcome outcome;
    try {
        const stop_signals signals;
        outcome = research::run_trials(
            todo, header.units,
            [&](std::size_t slot, std::size_t unit) {
                return run_unit((*prepared)[slot], spec.paths, spec.seed, captures, unit);
            },
            [&](const research::trial_row& row) { write_failed |= !writer->append(row); },
            research::pool_options{.threads = threads,
                                   .stop = &stop_signalled,
                                   .progress = stderr,
                                   .progress_is_terminal = ::isatty(STDERR_FILENO) != 0});
    } catch (const std::exception& failure) {
        // A unit that cannot run (a capture without the symbol's data, ...): the finished
        // trials stay in the results file.
        std::fprintf(stderr, "quoter sweep: %s\n", failure.what());
        return exit_failed;
    }
    *writer = research::results_writer();
    if (write_failed) {
        std::fprintf(stderr, "quoter sweep: cannot write %s\n", results_path.c_str());
        return exit_failed;
    }
    const std::size_t units = header.units;
    const double steps_per_unit =
        static_cast<double>(base.backtest.duration_s) * 1000.0 /
        static_cast<double>(std::max<std::int64_t>(1, base.market.step_ms.count()));
    std::printf(
        "quoter sweep: %zu trial%s x %zu unit%s in %.2f s on %u thread%s: %.2f trials/s",
        outcome.trials_done, outcome.trials_done == 1 ? "" : "s", units, units == 1 ? "" : "s",
        outcome.wall_s, outcome.threads, outcome.threads == 1 ? "" : "s",
        outcome.wall_s > 0 ? static_cast<double>(outcome.trials_done) / outcome.wall_s : 0.0);
    if (spec.paths != 0 && outcome.wall_s > 0) {
        std::printf(", about %.3g synthetic steps/s",
                    static_cast<double>(outcome.trials_done * spec.paths) * steps_per_unit /
                        outcome.wall_s);
    }
    std::printf("\n");

    auto read = research::read_results(results_path);
    if (!read) {
        std::fprintf(stderr, "quoter sweep: %s\n", read.error().c_str());
        return exit_failed;
    }
    results = std::move(*read);
    if (const int code = write_and_print_report(out_dir, results); code != 0) {
        return code;
    }
    if (outcome.stopped) {
        std::fprintf(stderr,
                     "quoter sweep: interrupted; %zu of %zu trials are in %s: run the same "
                     "command with --resume to finish\n",
                     results.rows.size(), mine.size(), results_path.c_str());
        return exit_interrupted;
    }
    return 0;
}

/// The rows of `candidates` run on the test captures, in the candidates' order; empty when a
/// configuration fails to load or a unit fails to run (said on stderr).
std::optional<std::vector<research::trial_row>>
run_on_test(const sweep_command& command, const research::sweep_spec& spec, unsigned threads,
            const std::vector<research::trial>& candidates,
            const std::vector<capture_unit>& test_units) {
    std::vector<std::string> test_files;
    for (const auto& unit : test_units) {
        test_files.push_back(unit.file);
    }
    const auto prepared =
        prepare(command.config_path, command.profile, candidates, test_files, false, {});
    if (!prepared) {
        return std::nullopt;
    }
    std::vector<research::trial_row> rows(candidates.size());
    try {
        (void)research::run_trials(
            candidates, test_units.size(),
            [&](std::size_t slot, std::size_t unit) {
                return run_unit((*prepared)[slot], 0, spec.seed, test_units, unit);
            },
            [&](const research::trial_row& row) {
                for (std::size_t i = 0; i < candidates.size(); ++i) {
                    if (candidates[i].index == row.index) {
                        rows[i] = row;
                    }
                }
            },
            research::pool_options{.threads = threads});
    } catch (const std::exception& failure) {
        std::fprintf(stderr, "quoter sweep: %s\n", failure.what());
        return std::nullopt;
    }
    return rows;
}

/// The rolling (or anchored) walk-forward over folds of the captures' time: per fold a ranked
/// sweep on the training window in <out>/fold<k>, the best trial run on the test window; then
/// walkforward.md and walkforward.json.
int run_folds(const sweep_command& command, const research::sweep_spec& spec,
              const engine_config& base, const std::string& config_text) {
    const auto windows = research::fold_windows(spec.folds, spec.split, spec.anchored);
    // Every window of every capture must hold enough of it to rank or test on.
    std::vector<std::pair<core::timestamp_ns, core::timestamp_ns>> ranges;
    for (const auto& file : spec.data) {
        const auto range = capture_time_range(file);
        if (!range) {
            std::fprintf(stderr, "quoter sweep: --folds: %s holds no time range to split\n",
                         file.c_str());
            return exit_invalid;
        }
        std::vector<std::pair<core::timestamp_ns, core::timestamp_ns>> cuts;
        for (const auto& w : windows) {
            cuts.push_back(window_ns(*range, w.train_lo, w.train_hi));
            cuts.push_back(window_ns(*range, w.test_lo, w.test_hi));
        }
        const auto counts = lines_in_windows(file, cuts);
        for (std::size_t c = 0; c < cuts.size(); ++c) {
            if (counts[c] < min_window_lines) {
                const auto& w = windows[c / 2];
                const double lo = c % 2 == 0 ? w.train_lo : w.test_lo;
                const double hi = c % 2 == 0 ? w.train_hi : w.test_hi;
                std::fprintf(stderr,
                             "quoter sweep: --folds %zu: the %s window of fold %zu of %s "
                             "(%.1f-%.1f %% of its %.1f s) holds %zu capture lines, fewer than "
                             "%zu: give fewer folds or a larger --split\n",
                             spec.folds, c % 2 == 0 ? "training" : "test", c / 2 + 1, file.c_str(),
                             100.0 * lo, 100.0 * hi,
                             static_cast<double>(range->second - range->first) / 1e9, counts[c],
                             min_window_lines);
                return exit_invalid;
            }
        }
        ranges.push_back(*range);
    }
    const std::vector<research::trial> all = research::expand(spec);
    const std::string canonical = research::canonical_text(spec, config_text, command.profile);
    const unsigned threads = command.threads != 0 ? command.threads : base.backtest.threads;
    const fs::path out_dir = command.out_dir;
    research::walk_forward_folds walk;
    walk.goal = spec.goal;
    walk.keys = research::swept_keys(spec);
    walk.unit_names = unit_names(0, spec.data.size());
    walk.split = spec.split;
    walk.anchored = spec.anchored;
    for (std::size_t k = 0; k < windows.size(); ++k) {
        const auto& w = windows[k];
        std::vector<capture_unit> train_units;
        std::vector<capture_unit> test_units;
        for (std::size_t c = 0; c < spec.data.size(); ++c) {
            const auto train = window_ns(ranges[c], w.train_lo, w.train_hi);
            const auto test = window_ns(ranges[c], w.test_lo, w.test_hi);
            train_units.push_back(
                {.file = spec.data[c], .start_ns = train.first, .end_ns = train.second});
            test_units.push_back(
                {.file = spec.data[c], .start_ns = test.first, .end_ns = test.second});
        }
        research::results_header header;
        header.fingerprint = research::fingerprint(fmt::format("{}\nfold {}\n", canonical, k + 1));
        header.goal = spec.goal;
        header.keys = walk.keys;
        header.total_trials = all.size();
        header.units = spec.data.size();
        header.unit_names =
            fmt::format("{} (fold {} of {}: training window {:.1f}-{:.1f} % of {} time)",
                        walk.unit_names, k + 1, windows.size(), 100.0 * w.train_lo,
                        100.0 * w.train_hi, spec.data.size() == 1 ? "its" : "their");
        header.config_name = fs::path(command.config_path).filename().string();
        header.config_text = config_text;
        header.profile = command.profile;
        header.grid_only = spec.random.empty();
        std::printf("fold %zu of %zu: train on %.1f-%.1f %%, test on %.1f-%.1f %%\n", k + 1,
                    windows.size(), 100.0 * w.train_lo, 100.0 * w.train_hi, 100.0 * w.test_lo,
                    100.0 * w.test_hi);
        research::results_file results;
        const fs::path fold_dir = out_dir / fmt::format("fold{}", k + 1);
        if (const int code = run_ranked(command, spec, base, header, all, research::shard{},
                                        train_units, fold_dir, results);
            code != 0) {
            return code;
        }
        const auto order = research::rank(results);
        if (order.empty()) {
            std::fprintf(stderr, "quoter sweep: fold %zu ranked no trial\n", k + 1);
            return exit_failed;
        }
        const auto& best = results.rows[order.front()];
        const auto tested = run_on_test(command, spec, threads,
                                        {research::trial{best.index, best.parameters}}, test_units);
        if (!tested) {
            return exit_invalid;
        }
        walk.folds.push_back({.window = w,
                              .trials_ranked = results.rows.size(),
                              .train = best,
                              .test = tested->front()});
    }
    const std::string markdown = research::walk_forward_markdown(walk);
    std::ofstream(out_dir / "walkforward.md", std::ios::trunc) << markdown;
    std::ofstream(out_dir / "walkforward.json", std::ios::trunc)
        << research::walk_forward_json(walk);
    std::printf("%s", markdown.c_str());
    std::printf("walk-forward: %s (walkforward.json beside it; each fold's sweep in %s)\n",
                (out_dir / "walkforward.md").string().c_str(),
                (out_dir / "fold<k>").string().c_str());
    return 0;
}

} // namespace

int run_sweep_command(const sweep_command& command) {
    const auto config_text = read_text(command.config_path);
    if (!config_text) {
        std::fprintf(stderr, "quoter sweep: cannot read %s\n", command.config_path.c_str());
        return exit_invalid;
    }
    auto table = research::read_sweep_table(command.config_path);
    if (!table) {
        for (const auto& problem : table.error()) {
            std::fprintf(stderr, "quoter sweep: %s\n", problem.c_str());
        }
        return exit_invalid;
    }
    research::sweep_spec spec = std::move(*table);
    std::vector<std::string> problems;
    for (const auto& text : command.sets) {
        auto axis = research::parse_set(text);
        axis ? research::set_axis(spec, std::move(*axis))
             : problems.push_back(fmt::format("--set {}", axis.error()));
    }
    for (const auto& text : command.ranges) {
        auto axis = research::parse_range(text);
        axis ? research::set_axis(spec, std::move(*axis))
             : problems.push_back(fmt::format("--range {}", axis.error()));
    }
    for (const auto& text : command.randoms) {
        auto axis = research::parse_random(text);
        axis ? research::set_axis(spec, std::move(*axis))
             : problems.push_back(fmt::format("--random {}", axis.error()));
    }
    if (command.objective) {
        auto goal = research::parse_objective(*command.objective);
        goal ? void(spec.goal = *goal)
             : problems.push_back(fmt::format("--objective: {}", goal.error()));
    }
    if (!command.data.empty() && !command.train.empty()) {
        problems.emplace_back("--data and --train both name the captures trials run on; give one");
    }
    if (command.split) {
        if (!(*command.split > 0.0 && *command.split < 1.0)) {
            problems.push_back(fmt::format(
                "--split {}: the share of each capture's time to train on must lie in (0, 1)",
                *command.split));
        } else {
            spec.split = *command.split;
        }
    }
    if (command.folds) {
        spec.folds = *command.folds;
    }
    if (command.anchored) {
        spec.anchored = true;
    }
    if (spec.folds != 0 && spec.split == 0.0) {
        spec.split = research::default_fold_split;
    }
    if ((spec.split > 0.0 || spec.folds != 0) &&
        (!command.train.empty() || !command.test.empty())) {
        problems.push_back(fmt::format(
            "{} the --data captures in time; --train/--test name separate captures: give one "
            "or the other",
            spec.folds != 0 ? "--folds (or sweep.folds) cuts" : "--split (or sweep.split) splits"));
    }
    if (spec.folds != 0 && !command.shard.empty()) {
        problems.emplace_back("--folds ranks every trial of a fold before testing the best: it "
                              "does not shard (run one fold set per process)");
    }
    if (!command.test.empty() && command.train.empty()) {
        problems.emplace_back("--test needs --train: trials are ranked on the training captures");
    }
    if (command.trials) {
        spec.trials = *command.trials;
    }
    if (!command.data.empty()) {
        spec.data = command.data;
    }
    if (!command.train.empty()) {
        spec.data = command.train;
    }
    if (command.seed) {
        spec.seed = *command.seed;
        spec.seed_set = true;
    }
    if (command.paths) {
        spec.paths = *command.paths;
        spec.paths_set = true;
    }
    research::shard part;
    if (!command.shard.empty()) {
        auto parsed = research::parse_shard(command.shard);
        parsed ? void(part = *parsed) : problems.push_back(parsed.error());
    }
    // The base configuration (no trial's overrides) gives the paths and seed when not swept.
    const auto base =
        load_engine_config(command.config_path, trial_options(command.profile, nullptr));
    if (!base) {
        std::fprintf(stderr, "quoter sweep: invalid configuration %s:\n",
                     command.config_path.c_str());
        print_problems(base.error());
        return exit_invalid;
    }
    if (!spec.paths_set) {
        spec.paths = spec.data.empty() ? base->backtest.paths : 0;
    }
    if (!command.market_from.empty() && (spec.paths == 0 || spec.folds != 0)) {
        problems.emplace_back("--market-from fits the market of the synthetic paths, and this "
                              "sweep runs none (--paths 0, or captures only)");
    }
    if (!command.market_from.empty()) {
        // The fit replaces these keys in every trial: swept, they would make identical trials.
        for (const std::string& key : research::swept_keys(spec)) {
            if (std::find(fitted_market_keys.begin(), fitted_market_keys.end(), key) !=
                fitted_market_keys.end()) {
                problems.push_back(fmt::format("--market-from fits {} to the captures, so "
                                               "sweeping it changes nothing; leave one out",
                                               key));
            }
        }
    }
    if (!spec.seed_set) {
        spec.seed = base->backtest.seed;
    }
    for (auto& problem : research::validate(spec)) {
        problems.push_back(std::move(problem));
    }
    const auto check_captures = [&](const std::vector<std::string>& files) {
        for (const auto& file : files) {
            if (const auto bad = md::check_capture_file(file); bad != md::capture_error::none) {
                problems.push_back(fmt::format("capture file {}: {}", file, md::describe(bad)));
            }
        }
    };
    check_captures(spec.data);
    check_captures(command.test);
    if (!problems.empty()) {
        for (const auto& problem : problems) {
            std::fprintf(stderr, "quoter sweep: %s\n", problem.c_str());
        }
        return exit_invalid;
    }

    if (spec.folds != 0) {
        return run_folds(command, spec, *base, *config_text);
    }
    // Units on captures: whole, or with --split the first part of each capture's time (the
    // rest is the test set).
    std::vector<capture_unit> train_units = whole_captures(spec.data);
    std::vector<capture_unit> test_units = whole_captures(command.test);
    if (spec.split > 0.0) {
        test_units.clear();
        for (auto& unit : train_units) {
            const auto range = capture_time_range(unit.file);
            if (!range) {
                std::fprintf(stderr, "quoter sweep: --split: %s holds no time range to split\n",
                             unit.file.c_str());
                return exit_invalid;
            }
            const auto cut =
                range->first + static_cast<core::timestamp_ns>(
                                   spec.split * static_cast<double>(range->second - range->first));
            unit.end_ns = cut;
            test_units.push_back({.file = unit.file, .start_ns = cut});
        }
    }

    const std::vector<research::trial> all = research::expand(spec);
    const std::vector<research::trial> mine = research::select_shard(all, part);
    const std::size_t units = spec.paths + spec.data.size();
    research::results_header header;
    // A market fitted to other captures is another sweep: resume must not mix their trials.
    std::string market_sources;
    for (const std::string& file : command.market_from) {
        market_sources += "\n--market-from " + fs::path(file).filename().string();
    }
    header.fingerprint = research::fingerprint(
        research::canonical_text(spec, *config_text, command.profile) + market_sources);
    header.goal = spec.goal;
    header.keys = research::swept_keys(spec);
    header.total_trials = all.size();
    header.units = units;
    header.unit_names = unit_names(spec.paths, spec.data.size());
    if (spec.split > 0.0) {
        header.unit_names += fmt::format(" (the first {:g} % of {} time)", 100.0 * spec.split,
                                         spec.data.size() == 1 ? "its" : "their");
    }
    header.config_name = fs::path(command.config_path).filename().string();
    header.config_text = *config_text;
    header.profile = command.profile;
    header.grid_only = spec.random.empty();

    const fs::path out_dir = command.out_dir;
    research::results_file results;
    if (const int code =
            run_ranked(command, spec, *base, header, mine, part, train_units, out_dir, results);
        code != 0) {
        return code;
    }
    if (test_units.empty()) {
        return 0;
    }
    // Walk-forward: the best trials on the training captures, run again on the test captures.
    const auto order = research::rank(results);
    std::vector<research::trial> candidates;
    for (std::size_t r = 0; r < order.size() && r < walk_forward_candidates; ++r) {
        const auto& row = results.rows[order[r]];
        candidates.push_back({row.index, row.parameters});
    }
    const unsigned threads = command.threads != 0 ? command.threads : base->backtest.threads;
    const auto test_rows = run_on_test(command, spec, threads, candidates, test_units);
    if (!test_rows) {
        return exit_invalid;
    }
    research::results_file train_part{results.header, {}};
    research::results_file test_part{results.header, {}};
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        train_part.rows.push_back(results.rows[order[i]]);
        test_part.rows.push_back((*test_rows)[i]);
    }
    std::string walk = research::walk_forward_markdown(train_part, test_part);
    if (spec.split > 0.0) {
        // Say what train and test are: two parts of the same captures' time.
        walk.insert(walk.find("\n\n") + 2,
                    fmt::format("Time split of {}: train on the first {:g} % of each capture's "
                                "time, test on the last {:g} % (the test replay builds its book "
                                "over the training part without trading).\n\n",
                                unit_names(0, spec.data.size()), 100.0 * spec.split,
                                100.0 * (1.0 - spec.split)));
    }
    std::ofstream(out_dir / "walkforward.md", std::ios::trunc) << walk;
    std::printf("%s", walk.c_str());
    std::printf("walk-forward: %s\n", (out_dir / "walkforward.md").string().c_str());
    return 0;
}

int run_sweep_merge_command(const sweep_merge_command& command) {
    std::vector<research::results_file> parts;
    for (const auto& input : command.inputs) {
        const fs::path file =
            fs::is_directory(input) ? fs::path(input) / "trials.jsonl" : fs::path(input);
        auto part = research::read_results(file);
        if (!part) {
            std::fprintf(stderr, "quoter sweep merge: %s\n", part.error().c_str());
            return exit_invalid;
        }
        parts.push_back(std::move(*part));
    }
    const auto merged = research::merge_results(parts);
    if (!merged) {
        std::fprintf(stderr, "quoter sweep merge: %s\n", merged.error().c_str());
        return exit_invalid;
    }
    const fs::path out_dir = command.out_dir;
    std::error_code error;
    fs::create_directories(out_dir, error);
    {
        auto writer =
            research::results_writer::open(out_dir / "trials.jsonl", merged->header, false);
        bool ok = static_cast<bool>(writer);
        for (const auto& row : merged->rows) {
            ok = ok && writer->append(row);
        }
        if (!ok) {
            std::fprintf(stderr, "quoter sweep merge: cannot write %s\n",
                         (out_dir / "trials.jsonl").c_str());
            return exit_failed;
        }
    }
    std::printf("quoter sweep merge: %zu of %zu trials from %zu files\n", merged->rows.size(),
                merged->header.total_trials, parts.size());
    if (merged->rows.size() < merged->header.total_trials) {
        std::fprintf(stderr,
                     "quoter sweep merge: warning: %zu trials are missing (a shard not run or "
                     "not finished?)\n",
                     merged->header.total_trials - merged->rows.size());
    }
    return write_and_print_report(out_dir, *merged);
}

} // namespace quoter::app
