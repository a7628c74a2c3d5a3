#pragma once
// Brief busy-waits for the simulation's two pass threads. They hand work back and forth every
// few microseconds; a thread put to sleep for each hand-over pays a futex wait and a wake-up,
// which on these VMs cost more than the wait itself. So a waiter looks for a while first.
#include <chrono>

namespace nonevent::sim {

// One step of a spin: tells the CPU this is a wait loop (less power, and the sibling
// hyperthread gets the core).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until `done()` or until `limit` has passed; true when `done()`.
template <class Done>
bool spin_until(Done done, std::chrono::microseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (int i = 1; !done(); ++i) {
    cpu_relax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > give_up) return false;
  }
  return true;
}

}  // namespace nonevent::sim
