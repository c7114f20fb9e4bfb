// path_runner: runs N independent simulation paths on a pool of worker threads and returns their
// results in path order, with an optional progress bar on stderr.
//
// Invariants:
// - Path i always gets seed derive_path_seed(base_seed, i) and its result lands in slot i, so
//   the output is identical for any thread count and any scheduling, provided the callable
//   itself depends only on its path_context.
// - The workers are created once and reused by every run(); run() is called from one thread at
//   a time (the owner), and the callable runs concurrently on the workers, so it must not share
//   mutable state between paths.
// - If a path throws, the remaining unstarted paths are skipped and run() rethrows the first
//   exception after every worker is idle again.
// - The progress bar appears only once a run has lasted progress_delay (one second), only when
//   the stream is a terminal unless forced, and redraws at most every progress_interval.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace quoter::sim {

/// What a path callable receives.
struct path_context {
    std::size_t index = 0;  ///< 0-based path number
    std::uint64_t seed = 0; ///< derive_path_seed(base_seed, index)
};

enum class progress_display : std::uint8_t {
    automatic, ///< only when the stream is a terminal
    always,    ///< also into files and pipes (for logs and tests)
    never,
};

struct path_runner_options {
    /// Worker threads; 0 uses every hardware thread.
    unsigned threads = 0;
    progress_display progress = progress_display::automatic;
    /// Runs shorter than this never show the bar.
    std::chrono::milliseconds progress_delay{1000};
    /// Minimum time between two redraws of the bar.
    std::chrono::milliseconds progress_interval{100};
    /// Where the bar goes.
    std::FILE* progress_stream = stderr;
    /// Word after the counts ("paths").
    std::string progress_label = "paths";
};

/// One line of the progress bar, without the leading carriage return, e.g.
/// "[############------------]  512/1000 paths  51%  3.2 s, about 3.0 s left".
[[nodiscard]] std::string render_progress_line(std::string_view label, std::size_t done,
                                               std::size_t total, double elapsed_s);

class path_runner {
public:
    explicit path_runner(path_runner_options options = {});
    ~path_runner();
    path_runner(const path_runner&) = delete;
    path_runner& operator=(const path_runner&) = delete;

    [[nodiscard]] unsigned threads() const noexcept {
        return static_cast<unsigned>(workers_.size());
    }

    /// Runs fn(path_context) for paths 0..path_count-1 on the workers and returns the results in
    /// path order (nothing for a void callable). Blocks until every path has finished.
    template <class Fn> auto run(std::size_t path_count, std::uint64_t base_seed, Fn&& fn) {
        using result_type = std::invoke_result_t<Fn&, const path_context&>;
        if constexpr (std::is_void_v<result_type>) {
            auto job = [&fn](const path_context& context) { fn(context); };
            execute(path_count, base_seed, &invoke_job<decltype(job)>, &job);
        } else {
            std::vector<std::optional<result_type>> slots(path_count);
            auto job = [&fn, &slots](const path_context& context) {
                slots[context.index].emplace(fn(context));
            };
            execute(path_count, base_seed, &invoke_job<decltype(job)>, &job);
            std::vector<result_type> results;
            results.reserve(path_count);
            for (auto& slot : slots) {
                results.push_back(std::move(*slot));
            }
            return results;
        }
    }

    /// Whether the last run drew the progress bar.
    [[nodiscard]] bool progress_shown() const noexcept { return progress_shown_; }

private:
    using job_function = void (*)(void*, const path_context&);

    template <class Job> static void invoke_job(void* job, const path_context& context) {
        (*static_cast<Job*>(job))(context);
    }

    void execute(std::size_t path_count, std::uint64_t base_seed, job_function function, void* job);
    void worker_loop();
    void work_on_current_job();

    path_runner_options options_;
    std::vector<std::thread> workers_;

    // Job hand-off; every field below is guarded by mutex_ except the two counters, which the
    // workers update lock-free while the job runs.
    std::mutex mutex_;
    std::condition_variable job_ready_;
    std::condition_variable job_done_;
    std::uint64_t generation_ = 0;
    bool stopping_ = false;
    unsigned busy_workers_ = 0;
    job_function function_ = nullptr;
    void* job_ = nullptr;
    std::size_t path_count_ = 0;
    std::uint64_t base_seed_ = 0;
    std::exception_ptr failure_;
    std::atomic<std::size_t> next_path_{0};
    std::atomic<std::size_t> finished_paths_{0};
    bool progress_shown_ = false;
};

} // namespace quoter::sim
