// Thread affinity through the Linux scheduler API. A CPU that exists but cannot be used (offline,
// excluded by a cpuset cgroup) is reported apart from one that does not exist at all.
#include "quoter/core/cpu.hpp"

#if defined(__linux__)
#include <cerrno>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

namespace quoter::core {

std::string_view describe(pin_error error) noexcept {
    switch (error) {
    case pin_error::none: return "no error";
    case pin_error::invalid_cpu: return "no such CPU";
    case pin_error::cpu_not_allowed: return "CPU is offline or excluded by a cpuset";
    case pin_error::system_error: return "the kernel refused to set the thread affinity";
    case pin_error::unsupported: return "thread affinity is not supported on this platform";
    }
    return "unknown error";
}

#if defined(__linux__)

result<int, pin_error> pin_current_thread(int cpu) noexcept {
    if (cpu < 0 || cpu >= CPU_SETSIZE || cpu >= sysconf(_SC_NPROCESSORS_CONF)) {
        return unexpected{pin_error::invalid_cpu};
    }
    cpu_set_t wanted;
    CPU_ZERO(&wanted);
    CPU_SET(static_cast<unsigned>(cpu), &wanted);
    const int status = pthread_setaffinity_np(pthread_self(), sizeof(wanted), &wanted);
    if (status == EINVAL) {
        // The CPU exists (checked above) but is offline or excluded by a cpuset cgroup.
        return unexpected{pin_error::cpu_not_allowed};
    }
    if (status != 0) {
        return unexpected{pin_error::system_error};
    }
    return cpu;
}

int allowed_cpu_count() noexcept {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (pthread_getaffinity_np(pthread_self(), sizeof(allowed), &allowed) != 0) {
        return 1;
    }
    const int count = CPU_COUNT(&allowed);
    return count > 0 ? count : 1;
}

int current_cpu() noexcept { return sched_getcpu(); }

#else

result<int, pin_error> pin_current_thread(int) noexcept {
    return unexpected{pin_error::unsupported};
}
int allowed_cpu_count() noexcept { return 1; }
int current_cpu() noexcept { return -1; }

#endif

} // namespace quoter::core
