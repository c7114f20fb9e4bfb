// Runs the real `quoter backtest` and `quoter run --mode sim`, as a user would: exit codes, the
// report files, the summary, determinism through the command line, and a graceful stop on
// SIGINT. Runs are shortened through QUOTER_BACKTEST_DURATION_S.
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const std::string sim_toml = std::string(QUOTER_SOURCE_DIR) + "/config/sim.toml";

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A running quoter process with stdout and stderr in files.
class quoter_process {
public:
    quoter_process(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env)
        : dir_("sim-commands") {
        std::vector<std::string> env_strings;
        for (char** entry = environ; *entry != nullptr; ++entry) {
            if (std::string_view(*entry).substr(0, 7) != "QUOTER_") {
                env_strings.emplace_back(*entry);
            }
        }
        for (const auto& [name, value] : env) {
            env_strings.push_back(name + "=" + value);
        }
        std::vector<char*> envp;
        for (auto& entry : env_strings) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);
        std::vector<std::string> argv_strings{QUOTER_EXE};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& arg : argv_strings) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path().c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path().c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int spawned =
            posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(spawned == 0);
    }
    quoter_process(const quoter_process&) = delete;
    quoter_process& operator=(const quoter_process&) = delete;
    ~quoter_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    void signal(int sig) const { REQUIRE(::kill(pid_, sig) == 0); }

    /// Waits for the exit (at most `limit`); returns the exit code, -1 after a timeout.
    int wait(std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            const pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_) {
                pid_ = 0;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

    [[nodiscard]] std::string out() const { return slurp(out_path()); }
    [[nodiscard]] std::string err() const { return slurp(err_path()); }
    [[nodiscard]] std::filesystem::path out_path() const { return dir_.path() / "stdout"; }
    [[nodiscard]] std::filesystem::path err_path() const { return dir_.path() / "stderr"; }

private:
    quoter::test::temp_dir dir_;
    pid_t pid_ = 0;
};

struct run_result {
    int status = -1;
    std::string out;
    std::string err;
};

run_result run_quoter(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {}) {
    quoter_process process(args, env);
    run_result result;
    result.status = process.wait(std::chrono::seconds(120));
    result.out = process.out();
    result.err = process.err();
    return result;
}

const std::map<std::string, std::string> short_run{{"QUOTER_BACKTEST_DURATION_S", "60"}};

} // namespace

TEST_CASE("quoter backtest --paths 50 writes the multi-path report with charts", "[sim_commands]") {
    quoter::test::temp_dir out("backtest-paths");
    const auto result = run_quoter({"backtest", "--config", sim_toml, "--paths", "50", "--seed",
                                    "5", "--out", out.path().string()},
                                   short_run);
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    CHECK_THAT(result.out, Catch::Contains("quoter backtest: 50 paths of 60 s simulated"));
    CHECK_THAT(result.out, Catch::Contains("final inventory"));
    CHECK_THAT(result.out, Catch::Contains("report: " + (out.path() / "report.html").string()));
    const std::string html = slurp(out.path() / "report.html");
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos); // self-contained, nothing to fetch
    const std::string paths = slurp(out.path() / "paths.csv");
    CHECK(std::count(paths.begin(), paths.end(), '\n') == 51); // header + one row per path
    CHECK(std::filesystem::exists(out.path() / "report.json"));
    CHECK(std::filesystem::exists(out.path() / "report.md"));
    CHECK(std::filesystem::exists(out.path() / "path_0" / "fills.csv"));
}

TEST_CASE("quoter backtest: one path writes every file; the same seed gives the same fills.csv",
          "[sim_commands]") {
    quoter::test::temp_dir a("backtest-a");
    quoter::test::temp_dir b("backtest-b");
    quoter::test::temp_dir c("backtest-c");
    const auto run = [&](const quoter::test::temp_dir& out, const char* seed) {
        return run_quoter(
            {"backtest", "--config", sim_toml, "--seed", seed, "--out", out.path().string()},
            short_run);
    };
    const auto first = run(a, "11");
    INFO(first.out << first.err);
    REQUIRE(first.status == 0);
    CHECK_THAT(first.out, Catch::Contains("quoter backtest: 1 path, 60 s simulated (600 steps)"));
    for (const char* file :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        CHECK(std::filesystem::exists(a.path() / file));
    }
    REQUIRE(run(b, "11").status == 0);
    REQUIRE(run(c, "12").status == 0);
    const std::string fills = slurp(a.path() / "fills.csv");
    CHECK(fills.find('\n') != fills.rfind('\n')); // more than the header
    CHECK(fills == slurp(b.path() / "fills.csv"));
    CHECK(fills != slurp(c.path() / "fills.csv"));
    CHECK(slurp(a.path() / "report.html").find("<svg") != std::string::npos);
}

TEST_CASE("quoter backtest: invalid configuration, replay not built", "[sim_commands]") {
    const auto invalid = run_quoter({"backtest", "--config", sim_toml},
                                    {{"QUOTER_STRATEGY_BANDS_HARD_LIMIT_PCT", "10"}});
    CHECK(invalid.status == 2);
    CHECK_THAT(invalid.err, Catch::Contains("strategy.bands.hard_limit_pct: must be at least "
                                            "soft_limit_pct"));
    const auto replay = run_quoter({"backtest", "--config", sim_toml, "--data", "x.gz"});
    CHECK(replay.status == 3);
    CHECK_THAT(replay.err, Catch::Contains("not built yet"));
}

TEST_CASE("quoter run --mode sim --duration 2 --speed 100 exits 0 with a summary",
          "[sim_commands]") {
    const auto result = run_quoter(
        {"run", "--mode", "sim", "--config", sim_toml, "--duration", "2", "--speed", "100"});
    INFO(result.out << result.err);
    CHECK(result.status == 0);
    CHECK_THAT(result.out, Catch::Contains("quoter run --mode sim: stopped by --duration"));
    CHECK_THAT(result.out, Catch::Contains("tick-to-quote"));
    CHECK_THAT(result.out, Catch::Contains("open orders after the final cancel-all: 0"));
}

TEST_CASE("SIGINT stops quoter run --mode sim gracefully: summary, exit 0", "[sim_commands]") {
    quoter_process process({"run", "--config", sim_toml, "--speed", "50"}, {});
    // The start-up line comes once the signal handlers are in place.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (process.err().find("Ctrl-C stops") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE_THAT(process.err(), Catch::Contains("Ctrl-C stops"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // let it trade a little
    process.signal(SIGINT);
    const int status = process.wait(std::chrono::seconds(30));
    INFO(process.out() << process.err());
    CHECK(status == 0);
    CHECK_THAT(process.out(), Catch::Contains("stopped by SIGINT"));
    CHECK_THAT(process.out(), Catch::Contains("fills"));
}

TEST_CASE("modes other than sim are not built yet", "[sim_commands]") {
    for (const char* mode : {"paper_exchange", "live"}) {
        const auto result = run_quoter({"run", "--mode", mode, "--config", sim_toml});
        CHECK(result.status == 3);
        CHECK_THAT(result.err, Catch::Contains("not built yet"));
    }
    const auto paper =
        run_quoter({"run", "--config", std::string(QUOTER_SOURCE_DIR) + "/config/paper.toml"});
    CHECK(paper.status == 3);
    CHECK_THAT(paper.err, Catch::Contains("quoter run --mode paper_exchange: not built yet"));
}
