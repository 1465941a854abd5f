#pragma once
// For the *_allocation_test.cc executables only, each of which includes this header in exactly
// one file: it replaces the global operator new of the whole executable to count the calls made
// while an AllocationCount is alive.

#include <atomic>
#include <cstdlib>
#include <new>

namespace poolwatch::testing::allocation_count_detail {
inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};
}  // namespace poolwatch::testing::allocation_count_detail

// Not inlined: GCC would otherwise pair a new-expression with the free() inside and warn
// (-Wmismatched-new-delete) although both sides are replaced consistently.
[[gnu::noinline]] void* operator new(std::size_t size) {
  namespace detail = poolwatch::testing::allocation_count_detail;
  if (detail::counting.load(std::memory_order_relaxed)) detail::allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace poolwatch::testing {

// Counts the allocations made from its construction to value(); one at a time.
class AllocationCount {
 public:
  AllocationCount() {
    allocation_count_detail::allocations = 0;
    allocation_count_detail::counting = true;
  }
  ~AllocationCount() { allocation_count_detail::counting = false; }
  AllocationCount(const AllocationCount&) = delete;
  AllocationCount& operator=(const AllocationCount&) = delete;
  long value() const { return allocation_count_detail::allocations.load(); }
};

}  // namespace poolwatch::testing
