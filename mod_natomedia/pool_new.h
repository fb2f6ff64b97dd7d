// A C++ object with an APR pool's lifetime: made in the pool's memory, destroyed by a cleanup
// when the pool is cleared or destroyed (the server configuration, pconf, a request).
#pragma once

#include <apr_pools.h>

#include <new>
#include <utility>

namespace natomedia::module {

template <typename T, typename... Args>
T* pool_new(apr_pool_t* pool, Args&&... args) {
  void* mem = apr_palloc(pool, sizeof(T));
  T* object = new (mem) T(std::forward<Args>(args)...);
  apr_pool_cleanup_register(
      pool, object,
      [](void* p) -> apr_status_t {
        static_cast<T*>(p)->~T();
        return APR_SUCCESS;
      },
      apr_pool_cleanup_null);
  return object;
}

}  // namespace natomedia::module
