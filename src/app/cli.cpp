// The quoter command line. Every subcommand has its own --help; subcommands whose engine part is
// not built yet say so in one line and exit non-zero rather than pretending to work.
// Built: `config check`, `bench`, `backtest` (synthetic market or `--data` captures), `record`,
// `sweep` (and `sweep merge`), `calibrate`, `run --mode sim`, `run --mode paper_exchange` and
// `run --mode live`.
#include "quoter/app/cli.hpp"

#include "backtest_command.hpp"
#include "calibrate_command.hpp"
#include "exit_codes.hpp"
#include "live_run_command.hpp"
#include "paper_run_command.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/bench/suite.hpp"
#include "record_command.hpp"
#include "replay_command.hpp"
#include "report_output.hpp"
#include "sim_run_command.hpp"
#include "sweep_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

namespace quoter::app {
namespace {

int not_built(const char* what) {
    std::fprintf(stderr, "quoter %s: not built yet\n", what);
    return exit_not_built;
}

struct run_options {
    std::string mode = "sim";
    std::string config_path;
    std::string profile;
    std::string symbol;
    double speed = 1.0;
    double duration_s = 0.0;
    std::string out_dir; ///< empty: out/paper or out/sim, by mode
    std::vector<std::string> market_from;
    bool mainnet = false;
};

struct backtest_options {
    std::string config_path;
    std::string profile;
    std::vector<std::string> data_files;
    std::vector<std::string> market_from;
    int paths = 1;
    std::uint64_t seed = 1;
    std::string out_dir = "out/backtest";
};

struct record_options {
    std::string symbols;
    std::string out_dir;
    double duration_s = 0.0;
    std::string config_path;
};

struct config_check_options {
    std::string path;
    std::string profile;
};

} // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"quoter: low-latency market making on Binance spot and USD-M futures.\n"
                 "Run against a simulated market, paper-trade on live data, or trade live "
                 "(testnet by default)."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "quoter 0.1.0");

    run_options run;
    auto* run_cmd = app.add_subcommand("run", "Run the engine: sim, paper_exchange or live");
    auto* mode_opt =
        run_cmd
            ->add_option("--mode", run.mode, "sim | paper_exchange | live (default: engine.mode)")
            ->check(CLI::IsMember({"sim", "paper_exchange", "live"}));
    run_cmd->add_option("-c,--config", run.config_path, "TOML configuration file")->required();
    run_cmd->add_option("--profile", run.profile, "Profile overlay: dev | staging | prod");
    run_cmd->add_option("--symbol", run.symbol, "Symbol to trade (overrides the config)");
    auto* speed_opt =
        run_cmd
            ->add_option("--speed", run.speed,
                         "sim: simulated seconds per wall second (default: backtest.speed)")
            ->check(CLI::PositiveNumber);
    run_cmd->add_option("--out", run.out_dir,
                        "sim, paper_exchange: report folder written at exit (default: out/sim, "
                        "out/paper)");
    run_cmd
        ->add_option("--duration", run.duration_s,
                     "Stop after this many wall-clock seconds (0: until Ctrl-C)")
        ->check(CLI::NonNegativeNumber);
    run_cmd->add_option("--market-from", run.market_from,
                        "sim: fit the synthetic market of a symbol without a start price to "
                        "these captures");
    run_cmd->add_flag("--mainnet", run.mainnet,
                      "live: trade on Binance mainnet with real funds; needed as well as "
                      "engine.testnet = false and engine.mainnet = true in the configuration");

    backtest_options backtest;
    auto* backtest_cmd = app.add_subcommand(
        "backtest", "Backtest on a simulated market (--paths) or on recorded data (--data)");
    backtest_cmd->add_option("-c,--config", backtest.config_path, "TOML configuration file")
        ->required();
    backtest_cmd->add_option("--profile", backtest.profile,
                             "Profile overlay: dev | staging | prod");
    backtest_cmd->add_option("--data", backtest.data_files, "Recorded capture files to replay");
    backtest_cmd->add_option("--market-from", backtest.market_from,
                             "Fit the synthetic market of a symbol without a start price to "
                             "these captures");
    auto* paths_opt = backtest_cmd
                          ->add_option("--paths", backtest.paths,
                                       "Independent simulated paths (default: backtest.paths)")
                          ->check(CLI::Range(1, 1'000'000));
    auto* seed_opt =
        backtest_cmd->add_option("--seed", backtest.seed, "Random seed (default: backtest.seed)");
    backtest_cmd->add_option("--out", backtest.out_dir, "Report folder")->capture_default_str();

    sweep_command sweep;
    std::size_t sweep_trials = 0;
    std::size_t sweep_paths = 0;
    std::uint64_t sweep_seed = 1;
    std::string sweep_objective;
    auto* sweep_cmd = app.add_subcommand(
        "sweep", "Parameter sweep over backtests: grid or random, synthetic paths and/or "
                 "captures, every core; see docs/research.md");
    sweep_cmd->add_option("-c,--config", sweep.config_path,
                          "TOML configuration; its [sweep] table, if any, sets the sweep");
    sweep_cmd->add_option("--profile", sweep.profile, "Profile overlay: dev | staging | prod");
    sweep_cmd
        ->add_option("--set", sweep.sets,
                     "key=v1,v2,...: sweep a configuration key over listed values")
        ->take_all();
    sweep_cmd->add_option("--range", sweep.ranges, "key=lo:hi:step: values lo, lo+step, ..., hi")
        ->take_all();
    sweep_cmd
        ->add_option("--random", sweep.randoms,
                     "key=lo:hi: draw uniformly (whole numbers when lo and hi are) per trial")
        ->take_all();
    auto* trials_opt =
        sweep_cmd->add_option("--trials", sweep_trials, "Random trials (per grid point)")
            ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    auto* sweep_paths_opt =
        sweep_cmd
            ->add_option("--paths", sweep_paths,
                         "Synthetic paths per trial (default: backtest.paths; 0 with --data)")
            ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}));
    auto* sweep_seed_opt = sweep_cmd->add_option(
        "--seed", sweep_seed, "Base seed of the paths and random draws (default: backtest.seed)");
    sweep_cmd->add_option("--data", sweep.data, "Captures: each is replayed as one unit per trial")
        ->take_all();
    sweep_cmd->add_option("--train", sweep.train, "Walk-forward: captures trials are ranked on")
        ->take_all();
    sweep_cmd
        ->add_option("--market-from", sweep.market_from,
                     "Fit the synthetic paths' market of a symbol without a start price to these "
                     "captures")
        ->take_all();
    sweep_cmd
        ->add_option("--test", sweep.test,
                     "Walk-forward: captures the best trials are run on afterwards")
        ->take_all();
    sweep_cmd->add_option("--split", sweep.split,
                          "Walk-forward on time: rank on the first F (0 < F < 1) of each --data "
                          "capture's time, test the best on the rest; with --folds the training "
                          "share of each fold's window (default 0.7)");
    sweep_cmd->add_option("--folds", sweep.folds,
                          "Rolling walk-forward: cut each --data capture's time into N >= 2 "
                          "folds (train window, then test window; test windows end to end), "
                          "rank on each train window, run the best on its test window");
    sweep_cmd->add_flag("--anchored", sweep.anchored,
                        "With --folds: every training window starts at the capture's start "
                        "(expanding) instead of rolling");
    auto* objective_opt = sweep_cmd->add_option(
        "--objective", sweep_objective,
        "Rank by pnl | sharpe | pnl_drawdown, or an expression over the metrics, e.g. "
        "\"sharpe - 0.5 * sharpe.sd\" (default: [sweep] objective, else pnl)");
    sweep_cmd->add_option("--threads", sweep.threads,
                          "Worker threads (default: backtest.threads; 0 there: every core)");
    sweep_cmd->add_option("--shard", sweep.shard,
                          "K/N: run only trials i with i % N == K (K from 0); join with merge");
    sweep_cmd->add_flag("--resume", sweep.resume,
                        "Skip the trials already in <out>/trials.jsonl (after Ctrl-C)");
    sweep_cmd->add_option("--out", sweep.out_dir, "Report folder")->capture_default_str();
    calibrate_command calibrate;
    auto* calibrate_cmd = app.add_subcommand(
        "calibrate", "Fit tick, step, volatility and the fill intensity A, k to captures; writes "
                     "a [symbol]/[market]/[strategy.intensity] TOML fragment");
    calibrate_cmd->add_option("--data", calibrate.data, "Capture files (in time order)")
        ->required()
        ->take_all();
    calibrate_cmd->add_option("--symbol", calibrate.symbol,
                              "Symbol to fit (default: the first one in the captures)");
    calibrate_cmd
        ->add_option("--bucket-ticks", calibrate.bucket_ticks,
                     "Distance grid of the intensity fit, in ticks")
        ->capture_default_str();
    calibrate_cmd
        ->add_option("--interval-s", calibrate.interval_s,
                     "Mid sampling interval of the volatility estimate, seconds")
        ->capture_default_str();
    calibrate_cmd->add_option("--out", calibrate.out_path,
                              "TOML fragment to write (default: standard output)");
    sweep_merge_command merge;
    auto* merge_cmd = sweep_cmd->add_subcommand(
        "merge", "Join the results of sweep shards (folders or trials.jsonl) into one report");
    merge_cmd->add_option("inputs", merge.inputs, "Shard report folders or trials.jsonl files")
        ->required();
    merge_cmd->add_option("--out", merge.out_dir, "Report folder")->capture_default_str();

    record_options record;
    auto* record_cmd = app.add_subcommand("record", "Record Binance market data to gzip files");
    record_cmd
        ->add_option("--symbols", record.symbols, "Comma-separated symbols, e.g. btcusdt,ethusdt")
        ->required();
    record_cmd->add_option("--out", record.out_dir, "Output folder")->required();
    record_cmd->add_option("--duration", record.duration_s, "Stop after this many seconds")
        ->check(CLI::NonNegativeNumber);
    record_cmd->add_option("-c,--config", record.config_path, "TOML configuration (endpoints)");

    std::string bench_suite = "all";
    bench::bench_options bench_opts;
    auto* bench_cmd = app.add_subcommand("bench", "Latency and throughput benchmarks");
    std::string suite_help = "Suite to run: all";
    for (const auto& s : bench::all_suites()) {
        suite_help += " | ";
        suite_help += s.name;
    }
    bench_cmd->add_option("suite", bench_suite, suite_help)->capture_default_str();
    bench_cmd->add_option("--scale", bench_opts.scale, "Work scale factor (1 = default run)")
        ->check(CLI::PositiveNumber);
    bench_cmd->add_option("--producer-cpu", bench_opts.producer_cpu,
                          "CPU for the producer thread (-1: do not pin)");
    bench_cmd->add_option("--consumer-cpu", bench_opts.consumer_cpu,
                          "CPU for the consumer thread (-1: do not pin)");
    bench_cmd->add_option("--data", bench_opts.data_dir, "Folder with Binance captures");
    bench_cmd->add_option("--symbols", bench_opts.symbols,
                          "tick_to_order: this many synthetic symbols in one process, next to "
                          "one (0: the captured BTCUSDT replay)");
    bench_cmd
        ->add_option("--warm-order-path-us", bench_opts.warm_order_path_us,
                     "tick_to_order: the core loop's order path warm-up period in us (0: off)")
        ->check(CLI::NonNegativeNumber);

    config_check_options check;
    auto* config_cmd = app.add_subcommand("config", "Configuration tools");
    config_cmd->require_subcommand(1);
    auto* check_cmd = config_cmd->add_subcommand(
        "check", "Validate a configuration file and print it resolved (exit 2 on error)");
    check_cmd->add_option("file", check.path, "TOML configuration file")->required();
    check_cmd->add_option("--profile", check.profile, "Profile overlay: dev | staging | prod");

    CLI11_PARSE(app, argc, argv);

    if (*run_cmd) {
        bool mode_given = mode_opt->count() > 0;
        if (!mode_given) {
            // engine.mode decides; a configuration that does not load is reported by the sim
            // path below, with every error.
            if (const auto loaded = load_engine_config(
                    run.config_path,
                    config::load_options{.profile = run.profile, .foreign_tables = {"sweep"}});
                loaded && loaded->engine.mode != engine_mode::sim) {
                run.mode = loaded->engine.mode == engine_mode::live ? "live" : "paper_exchange";
                mode_given = true;
            }
        }
        if (!run.market_from.empty() && mode_given && run.mode != "sim") {
            std::fprintf(stderr,
                         "quoter run: --market-from fits the synthetic market of --mode sim; "
                         "%s%s trades on Binance's market data\n",
                         mode_opt->count() > 0 ? "--mode " : "engine.mode = ", run.mode.c_str());
            return exit_invalid;
        }
        if (mode_given && run.mode == "live") {
            live_run_command command;
            command.config_path = run.config_path;
            command.profile = run.profile;
            command.symbol = run.symbol;
            command.duration_s = run.duration_s;
            command.mainnet_confirmed = run.mainnet;
            return run_live_command(command);
        }
        if (mode_given && run.mode == "paper_exchange") {
            paper_run_command command;
            command.config_path = run.config_path;
            command.profile = run.profile;
            command.symbol = run.symbol;
            command.duration_s = run.duration_s;
            command.out_dir = run.out_dir.empty() ? "out/paper" : run.out_dir;
            return run_paper_command(command);
        }
        if (mode_given && run.mode != "sim") {
            return not_built(("run --mode " + run.mode).c_str());
        }
        sim_run_command command;
        command.config_path = run.config_path;
        command.profile = run.profile;
        command.symbol = run.symbol;
        if (speed_opt->count() > 0) {
            command.speed = run.speed;
        }
        command.duration_s = run.duration_s;
        command.mode_from_config = !mode_given;
        command.market_from = run.market_from;
        if (!run.out_dir.empty()) {
            command.out_dir = run.out_dir;
        }
        return run_sim_command(command);
    }
    if (*backtest_cmd) {
        if (!backtest.data_files.empty()) {
            if (paths_opt->count() > 0 || seed_opt->count() > 0) {
                // A replay is one path of recorded data: nothing to draw paths or seeds from.
                std::fprintf(stderr, "quoter backtest: --paths and --seed apply to synthetic "
                                     "backtests, not to a replay of --data\n");
                return exit_invalid;
            }
            if (!backtest.market_from.empty()) {
                std::fprintf(stderr, "quoter backtest: --market-from fits a synthetic market; "
                                     "--data replays the captures themselves\n");
                return exit_invalid;
            }
            if (!remove_earlier_report(backtest.out_dir, "quoter backtest")) {
                return exit_failed;
            }
            replay_command command;
            command.config_path = backtest.config_path;
            command.profile = backtest.profile;
            command.data_files = backtest.data_files;
            command.out_dir = backtest.out_dir;
            return run_replay_command(command);
        }
        backtest_command command;
        command.config_path = backtest.config_path;
        command.profile = backtest.profile;
        if (paths_opt->count() > 0) {
            command.paths = static_cast<std::uint32_t>(backtest.paths);
        }
        if (seed_opt->count() > 0) {
            command.seed = backtest.seed;
        }
        command.out_dir = backtest.out_dir;
        command.market_from = backtest.market_from;
        return run_backtest_command(command);
    }
    if (*merge_cmd) {
        return run_sweep_merge_command(merge);
    }
    if (*calibrate_cmd) {
        return run_calibrate_command(calibrate);
    }
    if (*sweep_cmd) {
        if (sweep.config_path.empty()) {
            std::fprintf(stderr, "quoter sweep: --config is required\n");
            return exit_invalid;
        }
        if (trials_opt->count() > 0) {
            sweep.trials = sweep_trials;
        }
        if (sweep_paths_opt->count() > 0) {
            sweep.paths = sweep_paths;
        }
        if (sweep_seed_opt->count() > 0) {
            sweep.seed = sweep_seed;
        }
        if (objective_opt->count() > 0) {
            sweep.objective = sweep_objective;
        }
        return run_sweep_command(sweep);
    }
    if (*record_cmd) {
        record_command command;
        command.symbols = record.symbols;
        command.out_dir = record.out_dir;
        command.duration_s = record.duration_s;
        command.config_path = record.config_path;
        return run_record_command(command);
    }
    if (*bench_cmd) {
        return bench::run_suite(bench_suite, bench_opts);
    }
    if (*check_cmd) {
        return check_config(check.path, check.profile);
    }
    return 0;
}

} // namespace quoter::app
