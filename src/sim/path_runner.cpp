// The owner thread hands a job to the workers by bumping a generation number under the mutex;
// workers then claim path indices with one atomic fetch_add each (dynamic scheduling, so long and
// short paths balance out) and the owner, instead of working, watches the finished count to
// draw the progress bar. The owner sleeps on a condition variable between redraws, so it costs
// nothing while paths run.
#include "quoter/sim/path_runner.hpp"

#include "quoter/sim/random.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unistd.h>

namespace quoter::sim {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

} // namespace

std::string render_progress_line(std::string_view label, std::size_t done, std::size_t total,
                                 double elapsed_s) {
    constexpr std::size_t bar_width = 24;
    const double fraction =
        total > 0 ? static_cast<double>(std::min(done, total)) / static_cast<double>(total) : 1.0;
    const auto filled = static_cast<std::size_t>(fraction * bar_width);
    std::string line = "[";
    line.append(filled, '#');
    line.append(bar_width - filled, '-');
    const int digits = static_cast<int>(fmt::formatted_size("{}", total));
    line += fmt::format("] {:>{}}/{} {} {:>3.0f}%  {:.1f} s", done, digits, total, label,
                        fraction * 100.0, elapsed_s);
    if (done > 0 && done < total) {
        const double remaining = elapsed_s / fraction - elapsed_s;
        line += fmt::format(", about {:.1f} s left", remaining);
    }
    return line;
}

path_runner::path_runner(path_runner_options options) : options_(std::move(options)) {
    unsigned count = options_.threads;
    if (count == 0) {
        count = std::max(1u, std::thread::hardware_concurrency());
    }
    workers_.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
        workers_.emplace_back([this] { worker_loop(); });
    }
}

path_runner::~path_runner() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    job_ready_.notify_all();
    for (auto& worker : workers_) {
        worker.join();
    }
}

void path_runner::worker_loop() {
    std::uint64_t seen_generation = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            job_ready_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
            if (stopping_) {
                return;
            }
            seen_generation = generation_;
        }
        work_on_current_job();
        {
            std::lock_guard lock(mutex_);
            --busy_workers_;
        }
        job_done_.notify_all();
    }
}

void path_runner::work_on_current_job() {
    for (;;) {
        const std::size_t index = next_path_.fetch_add(1, std::memory_order_relaxed);
        if (index >= path_count_) {
            return;
        }
        try {
            function_(job_, path_context{index, derive_path_seed(base_seed_, index)});
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!failure_) {
                failure_ = std::current_exception();
            }
            // Nobody starts another path; those already running finish normally.
            next_path_.store(path_count_, std::memory_order_relaxed);
        }
        finished_paths_.fetch_add(1, std::memory_order_release);
    }
}

void path_runner::execute(std::size_t path_count, std::uint64_t base_seed, job_function function,
                          void* job) {
    const auto start = clock_type::now();
    progress_shown_ = false;
    {
        std::lock_guard lock(mutex_);
        function_ = function;
        job_ = job;
        path_count_ = path_count;
        base_seed_ = base_seed;
        failure_ = nullptr;
        next_path_.store(0, std::memory_order_relaxed);
        finished_paths_.store(0, std::memory_order_relaxed);
        busy_workers_ = static_cast<unsigned>(workers_.size());
        ++generation_;
    }
    job_ready_.notify_all();

    const bool bar_allowed =
        options_.progress == progress_display::always ||
        (options_.progress == progress_display::automatic && options_.progress_stream != nullptr &&
         ::isatty(::fileno(options_.progress_stream)) != 0);
    auto last_draw = start;
    std::size_t last_drawn = static_cast<std::size_t>(-1);
    const auto draw = [&](std::size_t done) {
        const std::string line =
            render_progress_line(options_.progress_label, done, path_count, seconds_since(start));
        // Padding erases the tail of a longer previous line without terminal escape codes.
        std::fprintf(options_.progress_stream, "\r%-78s", line.c_str());
        std::fflush(options_.progress_stream);
        progress_shown_ = true;
        last_drawn = done;
        last_draw = clock_type::now();
    };

    std::unique_lock lock(mutex_);
    while (busy_workers_ != 0) {
        job_done_.wait_for(lock, options_.progress_interval);
        if (!bar_allowed || options_.progress_stream == nullptr) {
            continue;
        }
        const auto now = clock_type::now();
        const std::size_t done = finished_paths_.load(std::memory_order_acquire);
        if (now - start >= options_.progress_delay &&
            now - last_draw >= options_.progress_interval && done != last_drawn) {
            lock.unlock();
            draw(done);
            lock.lock();
        }
    }
    std::exception_ptr failure = std::exchange(failure_, nullptr);
    lock.unlock();
    if (progress_shown_) {
        draw(finished_paths_.load(std::memory_order_acquire));
        std::fputc('\n', options_.progress_stream);
        std::fflush(options_.progress_stream);
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

} // namespace quoter::sim
