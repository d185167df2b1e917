// 64-byte aligned arrays (a cache line, and one AVX-512 vector) freed with std::free: the
// batchers' work areas.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace cfx {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <class T>
using AlignedArray = std::unique_ptr<T[], FreeDeleter>;

// `count` uninitialised elements; throws std::bad_alloc.
template <class T>
AlignedArray<T> alloc_aligned(size_t count) {
  // aligned_alloc wants a size that is a multiple of the alignment
  void* p = std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return AlignedArray<T>(static_cast<T*>(p));
}

}  // namespace cfx
