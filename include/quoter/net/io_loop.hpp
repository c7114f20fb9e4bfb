// io_loop: the event loop that owns every socket and timer of the net module. One io_loop runs
// on one thread (the md thread); the caller decides how (run, run_for, or a poll() busy loop)
// and pins that thread. Every net object built on an io_loop is used from that thread only.
//
// Boost.Asio stays out of this header: io_context is only forward-declared, so modules that do
// their own Asio work in .cpp files can reach it through context() while everything else sees a
// plain class.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace quoter::net {

class io_loop {
public:
    /// Creates a loop tuned for use by a single thread.
    io_loop();
    ~io_loop();
    io_loop(const io_loop&) = delete;
    io_loop& operator=(const io_loop&) = delete;

    /// Runs handlers until stop() or until no work is left. Returns the number of handlers run.
    std::size_t run();
    /// Runs handlers for at most `duration`, returning earlier on stop() or when idle.
    std::size_t run_for(std::chrono::milliseconds duration);
    /// Runs the handlers that are ready now without blocking (for busy-polling threads).
    std::size_t poll();
    /// Makes run()/run_for() return as soon as possible. Thread-safe.
    void stop();
    /// Must be called before running again after stop() or after running out of work.
    void restart();
    [[nodiscard]] bool stopped() const;

    /// Queues fn to run on the loop's thread. Thread-safe; allocates, so not for hot paths.
    void post(std::function<void()> fn);

    /// The underlying Asio context, for modules that use Asio directly in their .cpp files.
    [[nodiscard]] boost::asio::io_context& context() noexcept;

private:
    std::unique_ptr<boost::asio::io_context> context_;
};

/// A one-shot timer on an io_loop. Used from the loop's thread only. Destroying or re-arming
/// the timer cancels the pending callback, which then never runs.
class timer {
public:
    explicit timer(io_loop& loop);
    ~timer();
    timer(const timer&) = delete;
    timer& operator=(const timer&) = delete;

    /// Runs fn once, `delay` from now, unless cancelled or re-armed first.
    void start(std::chrono::milliseconds delay, std::function<void()> fn);
    void cancel();
    [[nodiscard]] bool pending() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace quoter::net
