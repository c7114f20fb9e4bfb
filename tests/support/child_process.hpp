// child_process: a program run the way a user runs it, for tests of the real binaries. Its
// environment is the test's minus every QUOTER_* variable, plus the overrides given; stdout and
// stderr go to files in a private temp_dir. A child still running when the object goes is
// killed, so a failing test never leaves a process behind.
#pragma once

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace quoter::test {

/// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class child_process {
public:
    child_process(const std::string& program, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env = {},
                  std::string_view label = "child")
        : dir_(label) {
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
        std::vector<std::string> argv_strings{program};
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
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    void signal(int sig) const { REQUIRE(::kill(pid_, sig) == 0); }

    /// Waits for the exit, at most `limit`: the exit code, 128 + the signal that ended it, or -1
    /// after a timeout (the child is then killed).
    int wait(std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (pid_ > 0) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = 0;
        }
        return -1;
    }

    [[nodiscard]] std::string out() const { return slurp(out_path()); }
    [[nodiscard]] std::string err() const { return slurp(err_path()); }
    [[nodiscard]] std::filesystem::path out_path() const { return dir_.path() / "stdout"; }
    [[nodiscard]] std::filesystem::path err_path() const { return dir_.path() / "stderr"; }

private:
    temp_dir dir_;
    pid_t pid_ = 0;
};

/// What a finished run printed and returned.
struct run_result {
    int status = -1; ///< Exit code; 128 + signal; -1 when killed at the deadline.
    std::string out;
    std::string err;
};

/// Runs program to its end (at most `limit`).
inline run_result run_to_end(const std::string& program, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env = {},
                             std::chrono::seconds limit = std::chrono::seconds(120)) {
    child_process child(program, args, env);
    run_result result;
    result.status = child.wait(limit);
    result.out = child.out();
    result.err = child.err();
    return result;
}

} // namespace quoter::test
