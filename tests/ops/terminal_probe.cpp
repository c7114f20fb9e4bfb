// A program the terminal tests run on a pseudo-terminal. It reads keys like `quoter run` does and
// prints every command it receives ("cmd kill"), then leaves in the way its argument asks:
//   return  on `q`, by returning from main (destructors restore the terminal)
//   exit    on `q`, by std::exit without stopping the reader (the atexit hook restores it)
//   wait    never on its own: the test ends it with a fatal signal (SIGQUIT), or with two
//           SIGTERMs (the second one restores the terminal and ends the process)
// It gives up after 10 s so that a broken test cannot leave it running.
#include "quoter/ops/control.hpp"
#include "quoter/ops/terminal.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

int main(int argc, char** argv) {
    using namespace quoter::ops;
    const std::string_view mode = argc > 1 ? argv[1] : "return";
    control_channel channel;
    if (!install_signal_handlers(channel)) {
        std::puts("error signals");
        return 2;
    }
    struct handlers_guard {
        ~handlers_guard() { remove_signal_handlers(); }
    } handlers;
    terminal_key_reader reader(channel);
    if (const auto error = reader.start(); error != terminal_error::none) {
        std::printf("error %.*s\n", static_cast<int>(describe(error).size()),
                    describe(error).data());
        return 2;
    }
    std::puts("ready");
    std::fflush(stdout);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool stop_reported = false;
    while (std::chrono::steady_clock::now() < deadline) {
        bool quit = false;
        // As the core does: the kill flag first, then the ring.
        if (const auto source = channel.take_kill_request()) {
            std::puts("cmd kill");
            std::fflush(stdout);
        }
        channel.drain([&](const control_message& m) {
            const auto name = to_string(m.command);
            std::printf("cmd %.*s\n", static_cast<int>(name.size()), name.data());
            std::fflush(stdout);
            quit = quit || m.command == control_command::quit;
        });
        // Leave on the quit command rather than on the stop flag: the flag is set first, so
        // acting on it could leave the command unprinted.
        if (quit && mode == "exit") {
            std::exit(0);
        }
        if (quit && mode == "return") {
            return 0;
        }
        if (channel.stop_requested() && !stop_reported) {
            stop_reported = true;
            std::puts("stop requested");
            std::fflush(stdout);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::puts("timeout");
    return 3;
}
