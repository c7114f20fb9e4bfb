// Test support for the net integration tests: runs quoter-venue as a child process on
// 127.0.0.1 (port 0, so suites can run in parallel), creates the throw-away TLS certificates
// once per test program, and drives an io_loop until a condition holds or a deadline passes.
#pragma once

#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef QUOTER_VENUE_PATH
#error "QUOTER_VENUE_PATH must name the quoter-venue executable"
#endif

namespace quoter::net::testing {

/// Runs the loop until done() or the timeout; returns done().
template <class Predicate>
bool run_until(io_loop& loop, Predicate done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        loop.run_for(std::chrono::milliseconds(5));
        if (loop.stopped()) {
            loop.restart();
        }
    }
    return true;
}

/// Runs the loop for a fixed time.
inline void run_for(io_loop& loop, std::chrono::milliseconds duration) {
    run_until(
        loop, [] { return false; }, duration);
}

struct test_certificates {
    std::filesystem::path dir;
    std::string ca;
    std::string server_cert;
    std::string server_key;
    std::string wrong_host_cert;
    std::string wrong_host_key;

    ~test_certificates() {
        std::error_code ignored;
        if (!dir.empty()) {
            std::filesystem::remove_all(dir, ignored);
        }
    }
};

/// Certificates made by tools/make-test-cert in a private temporary folder.
inline const test_certificates& certificates() {
    static const test_certificates certs = [] {
        test_certificates made;
        std::string pattern =
            (std::filesystem::temp_directory_path() / "quoter-net-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        made.dir = pattern;
        const std::string command = std::string(QUOTER_SOURCE_DIR "/tools/make-test-cert ") +
                                    made.dir.string() + " > /dev/null";
        if (std::system(command.c_str()) != 0) {
            throw std::runtime_error("tools/make-test-cert failed");
        }
        made.ca = (made.dir / "ca.pem").string();
        made.server_cert = (made.dir / "server.pem").string();
        made.server_key = (made.dir / "server.key").string();
        made.wrong_host_cert = (made.dir / "wrong-host.pem").string();
        made.wrong_host_key = (made.dir / "wrong-host.key").string();
        return made;
    }();
    return certs;
}

/// quoter-venue running as a child process; killed when this object goes away.
class venue_process {
public:
    explicit venue_process(std::vector<std::string> arguments, bool tls = false) : tls_(tls) {
        arguments.insert(arguments.begin(), {QUOTER_VENUE_PATH, "--port", "0"});
        arguments.emplace_back("--exit-after-ms");
        arguments.emplace_back("120000"); // never outlive a hung test for long
        if (tls) {
            arguments.emplace_back("--tls-cert");
            arguments.emplace_back(certificates().server_cert);
            arguments.emplace_back("--tls-key");
            arguments.emplace_back(certificates().server_key);
        }
        start(arguments);
    }

    /// A TLS venue using the given certificate and key.
    venue_process(std::vector<std::string> arguments, const std::string& cert,
                  const std::string& key)
        : tls_(true) {
        arguments.insert(arguments.begin(), {QUOTER_VENUE_PATH, "--port", "0"});
        arguments.insert(arguments.end(),
                         {"--exit-after-ms", "120000", "--tls-cert", cert, "--tls-key", key});
        start(arguments);
    }

    ~venue_process() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            bool exited = false;
            for (int i = 0; i < 500 && !exited; ++i) { // up to 5 s
                exited = waitpid(pid_, &status, WNOHANG) == pid_;
                if (!exited) {
                    usleep(10'000);
                }
            }
            if (!exited) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
            }
        }
        if (stdout_fd_ >= 0) {
            close(stdout_fd_);
        }
    }

    venue_process(const venue_process&) = delete;
    venue_process& operator=(const venue_process&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string ws_url(const std::string& host = "127.0.0.1") const {
        return (tls_ ? "wss://" : "ws://") + host + ":" + std::to_string(port_);
    }
    [[nodiscard]] std::string http_url(const std::string& host = "127.0.0.1") const {
        return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_);
    }

private:
    void start(const std::vector<std::string>& arguments) {
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0) {
            throw std::runtime_error("pipe failed");
        }
        // Everything the child needs is prepared before fork: after it, only async-signal-safe
        // calls (no allocation) until exec.
        std::vector<char*> argv;
        for (const auto& argument : arguments) {
            argv.push_back(const_cast<char*>(argument.c_str()));
        }
        argv.push_back(nullptr);
        const pid_t parent = getpid();
        pid_ = fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) {
                _exit(127);
            }
            dup2(pipe_fds[1], STDOUT_FILENO);
            close(pipe_fds[0]);
            close(pipe_fds[1]);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(pipe_fds[1]);
        stdout_fd_ = pipe_fds[0];

        // First line: "listening 127.0.0.1:PORT".
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (line.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                throw std::runtime_error("quoter-venue did not report its port");
            }
            pollfd readable{stdout_fd_, POLLIN, 0};
            if (poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char buffer[256];
            const ssize_t got = read(stdout_fd_, buffer, sizeof buffer);
            if (got <= 0) {
                throw std::runtime_error("quoter-venue exited before listening");
            }
            line.append(buffer, static_cast<std::size_t>(got));
        }
        const std::size_t colon = line.rfind(':', line.find('\n'));
        if (!line.starts_with("listening ") || colon == std::string::npos) {
            throw std::runtime_error("unexpected first line from quoter-venue: " + line);
        }
        port_ = std::stoi(line.substr(colon + 1));
    }

    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    int port_ = 0;
    bool tls_ = false;
};

/// Sends a control request (e.g. "/control/drop") to a venue and waits for the answer.
inline rest_response control(io_loop& loop, rest_client& client, const std::string& target) {
    rest_request request;
    request.method = http_method::post;
    request.target = target;
    rest_response answer;
    bool done = false;
    client.send(std::move(request), [&](rest_response&& response) {
        answer = std::move(response);
        done = true;
    });
    if (!run_until(
            loop, [&] { return done; }, std::chrono::seconds(10))) {
        FAIL("control request " << target << " timed out");
    }
    return answer;
}

/// A REST client for a venue; trusts the test CA.
inline rest_config venue_rest_config(const venue_process& venue) {
    rest_config config;
    config.base_url = venue.http_url();
    config.tls.extra_ca_file = certificates().ca;
    config.request_timeout_ms = 10'000;
    return config;
}

/// Integer value of "key": in a JSON text, or -1.
inline long long json_int(std::string_view json, std::string_view key) {
    std::string pattern;
    pattern.reserve(key.size() + 3);
    pattern.append("\"").append(key).append("\":");
    const std::size_t at = json.find(pattern);
    if (at == std::string_view::npos) {
        return -1;
    }
    return std::atoll(std::string(json.substr(at + pattern.size(), 24)).c_str());
}

} // namespace quoter::net::testing
