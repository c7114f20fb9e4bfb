// io_loop and timer over Boost.Asio. The context is created with a concurrency hint of 1: one
// thread runs it, which lets Asio skip internal locking it would otherwise need.
#include "quoter/net/io_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <utility>

namespace quoter::net {

io_loop::io_loop() : context_(std::make_unique<boost::asio::io_context>(1)) {}

io_loop::~io_loop() = default;

std::size_t io_loop::run() {
    return context_->run();
}

std::size_t io_loop::run_for(std::chrono::milliseconds duration) {
    return context_->run_for(duration);
}

std::size_t io_loop::poll() {
    return context_->poll();
}

void io_loop::stop() {
    context_->stop();
}

void io_loop::restart() {
    context_->restart();
}

bool io_loop::stopped() const {
    return context_->stopped();
}

void io_loop::post(std::function<void()> fn) {
    boost::asio::post(*context_, std::move(fn));
}

boost::asio::io_context& io_loop::context() noexcept {
    return *context_;
}

// The callback is kept in the impl and the wait handler only carries a generation number, so
// a re-armed or destroyed timer never runs a stale callback even if its cancelled wait
// completes later with success (the expiry raced the cancel).
struct timer::impl {
    explicit impl(boost::asio::io_context& context) : steady(context) {}

    boost::asio::steady_timer steady;
    std::function<void()> callback;
    std::uint64_t generation = 0;
    bool pending = false;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

timer::timer(io_loop& loop) : impl_(std::make_unique<impl>(loop.context())) {}

timer::~timer() {
    *impl_->alive = false;
    impl_->steady.cancel();
}

void timer::start(std::chrono::milliseconds delay, std::function<void()> fn) {
    impl* const self = impl_.get();
    self->steady.expires_after(delay);
    self->callback = std::move(fn);
    self->pending = true;
    const std::uint64_t generation = ++self->generation;
    self->steady.async_wait([self, generation, alive = self->alive](boost::system::error_code) {
        if (!*alive || generation != self->generation || !self->pending) {
            return;
        }
        self->pending = false;
        auto callback = std::move(self->callback);
        self->callback = nullptr;
        if (callback) {
            callback();
        }
    });
}

void timer::cancel() {
    impl_->pending = false;
    impl_->callback = nullptr;
    ++impl_->generation;
    impl_->steady.cancel();
}

bool timer::pending() const noexcept {
    return impl_->pending;
}

} // namespace quoter::net
