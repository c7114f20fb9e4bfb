// The sweep's worker pool (see trial_pool.hpp).
#include "quoter/research/trial_pool.hpp"

#include "quoter/sim/path_runner.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace quoter::research {

pool_outcome run_trials(std::span<const trial> trials, std::size_t units_per_trial,
                        const unit_function& unit, const trial_done_function& on_trial,
                        const pool_options& options) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    pool_outcome outcome;
    const std::size_t total_units = trials.size() * units_per_trial;
    unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
    threads = std::max(1U, threads);
    if (total_units < threads) {
        threads = static_cast<unsigned>(std::max<std::size_t>(1, total_units));
    }
    outcome.threads = threads;

    // Results of unfinished trials; a trial's slots are freed when its row is made.
    std::vector<std::vector<sim::run_metrics>> slots(trials.size());
    std::unique_ptr<std::atomic<std::size_t>[]> left(new std::atomic<std::size_t>[trials.size()]);
    for (std::size_t t = 0; t < trials.size(); ++t) {
        slots[t].resize(units_per_trial);
        left[t].store(units_per_trial, std::memory_order_relaxed);
    }
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> units_done{0};
    std::atomic<std::size_t> trials_done{0};
    std::atomic<bool> failed{false};
    std::exception_ptr failure;
    std::mutex mutex; // guards failure, on_trial calls and the wake-up below
    std::condition_variable changed;
    const auto stop_requested = [&] {
        return failed.load(std::memory_order_relaxed) ||
               (options.stop != nullptr && options.stop->load(std::memory_order_relaxed));
    };

    const auto work = [&] {
        for (;;) {
            if (stop_requested()) {
                return;
            }
            const std::size_t item = next.fetch_add(1, std::memory_order_relaxed);
            if (item >= total_units) {
                return;
            }
            // Trial-major order: the first trials finish first, so an interrupted sweep keeps
            // as many whole trials as it can.
            const std::size_t t = item / units_per_trial;
            const std::size_t u = item % units_per_trial;
            try {
                slots[t][u] = unit(t, u);
            } catch (...) {
                const std::lock_guard lock(mutex);
                if (!failure) {
                    failure = std::current_exception();
                }
                failed.store(true);
                changed.notify_all();
                return;
            }
            units_done.fetch_add(1, std::memory_order_relaxed);
            if (left[t].fetch_sub(1, std::memory_order_acq_rel) == 1) {
                trial_row row = summarize_trial(trials[t], slots[t]);
                std::vector<sim::run_metrics>().swap(slots[t]);
                const std::lock_guard lock(mutex);
                on_trial(row);
                trials_done.fetch_add(1, std::memory_order_relaxed);
                changed.notify_all();
            }
        }
    };

    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        workers.emplace_back(work);
    }
    // The calling thread draws the progress while the workers run.
    const auto elapsed = [&] {
        return std::chrono::duration<double>(clock::now() - start).count();
    };
    double last_line = 0.0;
    bool drawn = false;
    {
        std::unique_lock lock(mutex);
        while (trials_done.load() < trials.size() && !stop_requested()) {
            changed.wait_for(lock, std::chrono::milliseconds(250));
            if (options.progress == nullptr) {
                continue;
            }
            const double now = elapsed();
            if (options.progress_is_terminal ? now < 1.0 : now - last_line < 10.0) {
                continue;
            }
            last_line = now;
            // The bar and its estimate count units, so they move within long trials too.
            const std::string line =
                sim::render_progress_line("units", units_done.load(), total_units, now);
            std::fprintf(options.progress,
                         options.progress_is_terminal ? "\r%s, %zu/%zu trials  "
                                                      : "%s, %zu/%zu trials\n",
                         line.c_str(), trials_done.load(), trials.size());
            std::fflush(options.progress);
            drawn = true;
        }
    }
    for (auto& worker : workers) {
        worker.join();
    }
    if (drawn && options.progress_is_terminal) {
        std::fprintf(options.progress, "\n");
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    outcome.trials_done = trials_done.load();
    outcome.units_done = units_done.load();
    outcome.stopped = outcome.trials_done < trials.size();
    outcome.wall_s = elapsed();
    return outcome;
}

} // namespace quoter::research
