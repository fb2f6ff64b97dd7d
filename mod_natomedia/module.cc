// mod_natomedia: httpd glue only. Directives, hooks, and the translation between request_rec and
// the core's plain C++ types. No exception crosses into httpd: every hook catches and answers 500.
#include <ap_mpm.h>
#include <apr_dbd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <httpd.h>
#include <mod_auth.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>
#include <unixd.h>
#include <util_mutex.h>

#include <apr_global_mutex.h>
#include <apr_optional.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include <dlfcn.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "config_directives.h"
#include "core/crypto_service.h"
#include "core/feed_service.h"
#include "core/health.h"
#include "core/mail_sender.h"
#include "core/migrations.h"
#include "core/near_cache.h"
#include "core/portal.h"
#include "core/retention.h"
#include "core/runtime.h"
#include "core/sql_dbd.h"
#include "core/visitor.h"
#include "httpd_glue.h"
#include "pool_new.h"
#include "socache_store.h"

extern "C" module AP_MODULE_DECLARE_DATA natomedia_module;

APLOG_USE_MODULE(natomedia);

namespace natomedia::module {

namespace {

// The generation being served: built in post_config (parent), used read-only by children.
core::Runtime* g_runtime = nullptr;

// The counters' shared memory outlives each configuration: made once in the process pool and
// found again after a graceful restart (httpd unloads and reloads the module, so it is kept as
// httpd's retained data), so the metrics do not go back to zero (CONTRACT section 14).
struct RetainedMetrics {
  apr_shm_t* shm;
};
const char* kRetainedMetrics = "natomedia-metrics-shm";

void* shared_metrics_block(server_rec* s, apr_status_t* rv) {
  auto* kept = static_cast<RetainedMetrics*>(ap_retained_data_get(kRetainedMetrics));
  if (!kept)
    kept = static_cast<RetainedMetrics*>(
        ap_retained_data_create(kRetainedMetrics, sizeof(RetainedMetrics)));
  const apr_size_t bytes = core::MetricsRegistry::bytes_needed();
  if (kept->shm && apr_shm_size_get(kept->shm) >= bytes) return apr_shm_baseaddr_get(kept->shm);
  kept->shm = nullptr;
  *rv = apr_shm_create(&kept->shm, bytes, nullptr, s->process->pool);
  if (*rv != APR_SUCCESS) {
    kept->shm = nullptr;
    return nullptr;
  }
  void* base = apr_shm_baseaddr_get(kept->shm);
  memset(base, 0, bytes);
  return base;
}

apr_global_mutex_t* g_migrate_mutex = nullptr;
const char* kMutexType = "natomedia-migrate";
// The feed's reload lock (FeedService shared mode): the children take turns on it to load a
// changed feed once for all. `Mutex MECH natomedia-feed` configures it.
apr_global_mutex_t* g_feed_mutex = nullptr;
const char* kFeedMutexType = "natomedia-feed";

// The feed's ProcessLock is httpd's mutex (reopened by each child in child_init).
class FeedMutex : public core::ProcessLock {
 public:
  bool lock() override { return g_feed_mutex && apr_global_mutex_lock(g_feed_mutex) == APR_SUCCESS; }
  void unlock() override {
    if (g_feed_mutex) apr_global_mutex_unlock(g_feed_mutex);
  }
};

// The session cache shared by the children (NatoMediaSessionCache): chosen in check_config, its
// shared memory made in post_config; null when there is none. `g_session_cache_note` says why
// there is none when the administrator did not ask for that, logged once in post_config.
SocacheStore* g_session_store = nullptr;
std::string g_session_cache_note;

// The session cache as the runtime uses it: each process's NearCache in front of the shared
// one, its versions in shared memory made here, before the children fork (core/near_cache.h).
// Without anonymous shared memory, the shared cache alone.
ServerCache* near_session_cache(server_rec* s, apr_pool_t* pconf) {
  if (!g_session_store) return nullptr;
  constexpr size_t kGroups = 4096;
  apr_shm_t* shm = nullptr;
  apr_status_t rv = apr_shm_create(&shm, core::NearCache::shared_bytes(kGroups), nullptr, pconf);
  if (rv != APR_SUCCESS) {
    ap_log_error(APLOG_MARK, APLOG_INFO, rv, s, "mod_natomedia: no anonymous shared memory: "
                 "every session lookup goes to the shared session cache");
    return g_session_store;
  }
  auto* versions = core::NearCache::make_versions(apr_shm_baseaddr_get(shm), kGroups);
  return pool_new<core::NearCache>(pconf, *g_session_store, versions, kGroups);
}

// Looks the NatoMediaSessionCache provider up (the default: shmcb). An error only when the
// administrator named a provider that is not loaded or refuses its arguments.
Status choose_session_cache(server_rec* s, apr_pool_t* pconf, apr_pool_t* ptemp) {
  g_session_store = nullptr;
  g_session_cache_note.clear();
  const std::optional<std::string>& written = server_conf(s)->session_cache;
  const SocacheSpec spec = parse_socache_spec(written.value_or("shmcb"));
  if (spec.none) return Status::Ok();
  std::string error;
  g_session_store = SocacheStore::create(spec, s, pconf, ptemp, &error);
  if (g_session_store) return Status::Ok();
  if (written) return Status::Invalid(error);
  g_session_cache_note =
      "mod_socache_shmcb is not loaded, so there is no session cache: every request with a "
      "session cookie reads its session from SQL (a gated page at about half the rate of an open "
      "one). Load it (`a2enmod socache_shmcb`, or `LoadModule socache_shmcb_module "
      "modules/mod_socache_shmcb.so`), or write `NatoMediaSessionCache none` to say this is meant";
  return Status::Ok();
}

APR_OPTIONAL_FN_TYPE(ap_dbd_acquire)* g_dbd_acquire = nullptr;
APR_OPTIONAL_FN_TYPE(ap_dbd_open)* g_dbd_open = nullptr;
APR_OPTIONAL_FN_TYPE(ap_dbd_close)* g_dbd_close = nullptr;

// Who is signed in, asked once per request (post_read_request) and shared with its internal
// redirects and subrequests.
struct SignedIn {
  explicit SignedIn(request_rec* r) : logger(r) {}
  RequestLogger logger;
  std::unique_ptr<core::Visitor> visitor;
};

// What the module keeps on a request between its hooks (r->request_config).
struct RequestNotes {
  std::function<void(Sql&, uint64_t, int)> after_sent;  // the handler's, for log_transaction
  std::shared_ptr<SignedIn> signed_in;
  std::string route;  // the portal's route pattern, for the metrics (empty: not the portal's)
};

RequestNotes* own_notes(request_rec* r) {
  return static_cast<RequestNotes*>(ap_get_module_config(r->request_config, &natomedia_module));
}

RequestNotes* make_notes(request_rec* r) {
  if (RequestNotes* n = own_notes(r)) return n;
  auto* notes = pool_new<RequestNotes>(r->pool);
  ap_set_module_config(r->request_config, &natomedia_module, notes);
  return notes;
}

// This request's answer to "who is signed in", or its parent's (internal redirect, subrequest);
// null when nobody asked (no session cookie).
std::shared_ptr<SignedIn> signed_in_of(request_rec* r) {
  for (int depth = 0; r && depth < 32; ++depth) {
    if (RequestNotes* n = own_notes(r); n && n->signed_in) return n->signed_in;
    r = r->prev ? r->prev : r->main;
  }
  return nullptr;
}

core::SqlFactory sql_factory(request_rec* r) {
  return [r]() -> std::unique_ptr<Sql> {
    ap_dbd_t* dbd = g_dbd_acquire(r);
    if (!dbd) return nullptr;
    return std::make_unique<core::DbdSql>(dbd->driver, dbd->handle, dbd->pool, dbd->prepared,
                                          r->pool);
  };
}

std::shared_ptr<SignedIn> ask_who_is_signed_in(request_rec* r, const core::Site& site) {
  auto signed_in = std::make_shared<SignedIn>(r);
  signed_in->visitor = std::make_unique<core::Visitor>(
      g_runtime->services(), site, incoming_headers(r), sql_factory(r), signed_in->logger);
  return signed_in;
}

core::RemoteUser remote_user_mode(request_rec* r) {
  return server_conf(r->server)->remote_user.value_or(core::RemoteUser::kEmail);
}

// The prefix the module was installed under, from where this .so lies
// (PREFIX/lib/apache2/modules/mod_natomedia.so), so a staged install finds its own plugins.
std::string install_prefix() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&install_prefix), &info) && info.dli_fname) {
    char buf[PATH_MAX];
    if (realpath(info.dli_fname, buf)) {
      std::string p = buf;
      for (int i = 0; i < 4 && !p.empty(); ++i) p = p.substr(0, p.rfind('/'));
      if (!p.empty()) return p;
    }
  }
  return "/usr";
}

bool any_enabled(server_rec* s) {
  for (; s; s = s->next)
    if (server_conf(s)->enabled == 1) return true;
  return false;
}

// Cross-directive checks and plugin loading, while httpd reads its configuration, so that
// `apachectl configtest` reports them.
int check_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t* ptemp, server_rec* s) {
  try {
    // Nothing is served until a server says `NatoMedia On`: no runtime, no plugins loaded and
    // no mod_dbd needed before that. Debian enables the module when its package is installed,
    // before any site uses it (docs/installing.md), and Apache must start then.
    if (!any_enabled(s)) return OK;
    g_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    g_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    g_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    auto fail = [&](const std::string& m) {
      ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s, "mod_natomedia: %s", m.c_str());
      return HTTP_INTERNAL_SERVER_ERROR;
    };
    if (!g_dbd_acquire || !g_dbd_open)
      return fail("mod_dbd is not loaded: accounts live in SQL through mod_dbd. Add "
                  "`LoadModule dbd_module modules/mod_dbd.so` with DBDriver and DBDParams");
    std::string missing = missing_required(s);
    if (!missing.empty()) return fail(missing);

    const std::string prefix = install_prefix();
    core::RuntimeSettings settings = runtime_settings(s, prefix);
    Status cache = choose_session_cache(s, pconf, ptemp);
    if (!cache.ok()) return fail(cache.message());
    if (!g_session_store) settings.server.session_cache_lifetime = 0;
    auto* runtime = new core::Runtime();
    apr_pool_cleanup_register(pconf, runtime, [](void* p) -> apr_status_t {
      if (g_runtime == p) g_runtime = nullptr;
      delete static_cast<core::Runtime*>(p);
      return APR_SUCCESS;
    }, apr_pool_cleanup_null);
    Status built = runtime->build(settings, server_logger());
    if (!built.ok()) return fail(built.message());
    // Every virtual host gets its merged site values and its feed, read and validated now.
    std::string refused_feeds;
    for (server_rec* v = s; v; v = v->next) {
      ServerConf* c = server_conf(v);
      c->site.config = site_config(v, settings.server);
      if (v != s)
        c->site.config.site_id = std::string(v->defn_name ? v->defn_name : "?") + ":" +
                                 std::to_string(v->defn_line_number);
      Status refused;
      c->site.feed = runtime->feed_for(c->site.config.feed_path, server_logger(), &refused);
      if (!refused.ok())
        refused_feeds += (refused_feeds.empty() ? "" : "; ") + std::string("NatoMediaFeed ") +
                         c->site.config.feed_path + " (" + c->feed_where +
                         "): the feed is refused: " + refused.message();
    }
    g_runtime = runtime;
    // `apachectl configtest` fails on a refused feed. A start or a graceful restart does not: the
    // feed is content that changes under a running server, and the last good version keeps
    // serving (CONTRACT section 8); post_config logs why it was refused.
    if (!refused_feeds.empty() && ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST)
      return fail(refused_feeds +
                  ". Check it with `natomedia-admin feed validate FILE`; a "
                  "server started with it would serve its last good version, or no news");
    return OK;
  } catch (const std::exception& e) {
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s, "mod_natomedia: %s", e.what());
    return HTTP_INTERNAL_SERVER_ERROR;
  }
}

int pre_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*) {
  ap_mutex_register(pconf, kMutexType, nullptr, APR_LOCK_DEFAULT, 0);
  ap_mutex_register(pconf, kFeedMutexType, nullptr, APR_LOCK_DEFAULT, 0);
  ap_mutex_register(pconf, kSessionCacheMutex, nullptr, APR_LOCK_DEFAULT, 0);
  return OK;
}

void start_mail_sender(apr_pool_t* pconf, server_rec* s);
void start_pruner(apr_pool_t* pconf, server_rec* s);

// The directory where one child leaves each new feed version it loaded for the others
// (FeedService shared mode): DefaultRuntimeDir/natomedia-feed, 0700, owned by the user the
// children run as. "" (each child loads for itself) when it cannot be made so, with a warning.
std::string feed_share_dir(apr_pool_t* pconf, server_rec* s) {
  const char* dir = ap_runtime_dir_relative(pconf, "natomedia-feed");
  if (!dir) return "";
  const bool root = geteuid() == 0;
  const uid_t owner = root ? ap_unixd_config.user_id : geteuid();
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, "mod_natomedia: cannot make %s: each "
                 "child will load a changed feed for itself", dir);
    return "";
  }
  if (root && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
    ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, "mod_natomedia: cannot give %s to the "
                 "children's user: each child will load a changed feed for itself", dir);
    return "";
  }
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != owner ||
      (st.st_mode & 077) != 0) {
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: %s is not a directory of the "
                 "children's user that only it can open (mode 0700): each child will load a "
                 "changed feed for itself", dir);
    return "";
  }
  return dir;
}

// One password hash per CPU for the whole server, not per child: the children share the slots
// (a SysV semaphore, removed when this configuration is). Without it each child keeps its own
// bound, and the server's is children x CPUs.
void share_hash_slots(server_rec* s) {
  core::HashSlots& slots = g_runtime->crypto().hash_slots();
  std::optional<std::pair<uid_t, gid_t>> owner;
  if (geteuid() == 0) owner = std::make_pair(ap_unixd_config.user_id, ap_unixd_config.group_id);
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  natomedia::Status made = slots.share_across_processes(cpus, owner);
  if (!made.ok())
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 "mod_natomedia: password hashes are bounded "
                 "per child, not for the whole server: %s",
                 made.message().c_str());
}

// Shared memory for the counters and the mutex for migrations, made before the children fork.
int post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) {
  if (!g_runtime) return OK;
  try {
    core::MetricsRegistry& metrics = g_runtime->metrics();
    apr_status_t rv = APR_SUCCESS;
    void* block = shared_metrics_block(s, &rv);
    if (!block) {
      ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_natomedia: cannot create shared memory for "
                   "the counters");
      return HTTP_INTERNAL_SERVER_ERROR;
    }
    metrics.attach(block);
    rv = ap_global_mutex_create(&g_migrate_mutex, nullptr, kMutexType, nullptr, s, pconf, 0);
    if (rv != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
    // httpd reads its configuration twice at start-up: said once, for the one that serves.
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
      for (const auto& problem : g_runtime->startup_problems())
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: %s", problem.c_str());
      for (const auto& note : g_runtime->startup_notes())
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "mod_natomedia: %s", note.c_str());
      if (!g_session_cache_note.empty())
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: %s",
                     g_session_cache_note.c_str());
    }
    if (g_session_store) {
      rv = g_session_store->init(s, pconf);
      if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_natomedia: cannot create the session "
                     "cache (NatoMediaSessionCache %s)", g_session_store->name().c_str());
        return HTTP_INTERNAL_SERVER_ERROR;
      }
    }
    g_runtime->set_server_cache(near_session_cache(s, pconf));
    g_runtime->refresh_gauges();
    g_feed_mutex = nullptr;
    if (!g_runtime->feeds().empty()) {
      rv = ap_global_mutex_create(&g_feed_mutex, nullptr, kFeedMutexType, nullptr, s, pconf, 0);
      if (rv != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
      const std::string share = feed_share_dir(pconf, s);
      auto lock = std::make_shared<FeedMutex>();
      for (const auto& feed : g_runtime->feeds()) feed->share_loads_in(share, lock);
    }
    share_hash_slots(s);
    start_mail_sender(pconf, s);
    start_pruner(pconf, s);
    return OK;
  } catch (const std::exception& e) {
    ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_natomedia: %s", e.what());
    return HTTP_INTERNAL_SERVER_ERROR;
  }
}

// Schema migrations, once per start (every child tries; the first one does the work).
void migrate(apr_pool_t* pool, server_rec* s) {
  apr_global_mutex_lock(g_migrate_mutex);
  ap_dbd_t* dbd = g_dbd_open(pool, s);
  if (!dbd) {
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: no database connection for the "
                 "schema migrations (check DBDriver/DBDParams); will retry at the next start");
    g_runtime->metrics().add("natomedia_sql_errors_total");
  } else {
    core::DbdSql sql(dbd->driver, dbd->handle, dbd->pool, dbd->prepared, pool);
    if (sql.driver() == "sqlite3") {
      // WAL lets readers run while one child writes; busy_timeout waits out short write locks.
      sql.exec_raw("PRAGMA journal_mode=WAL");
    }
    auto report = core::migrate(sql, g_runtime->registry().migrations());
    if (!report.ok())
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: schema migration failed: %s",
                   report.status().message().c_str());
    else
      for (const auto& line : report->applied)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "mod_natomedia: applied migration %s",
                     line.c_str());
    g_dbd_close(s, dbd);
  }
  apr_global_mutex_unlock(g_migrate_mutex);
}

// glibc gives a process at most 8 malloc arenas per CPU, so httpd's threads share them, and the
// feed's reload thread (millions of allocations and frees while it parses, validates and later
// frees a large document) shares one with request threads: they then wait on its arena lock, for
// hundreds of milliseconds during a reload. With an arena limit above the child's thread count,
// each thread has an arena of its own. Runs before the child starts its threads; an arena limit
// the administrator set (MALLOC_ARENA_MAX, GLIBC_TUNABLES) is left as it is.
void give_threads_own_arenas(server_rec* s) {
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
  const char* tunables = getenv("GLIBC_TUNABLES");
  if (getenv("MALLOC_ARENA_MAX") || (tunables && strstr(tunables, "arena_max"))) return;
  int threads = 0;
  if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) threads = 1;
  const int arenas = threads + 16;  // workers, listener, watchdog, the feed reload, libraries'
  if (mallopt(M_ARENA_MAX, arenas) != 1)
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: could not set the malloc "
                 "arena limit to %d", arenas);
#else
  (void)s;
#endif
}

void child_init(apr_pool_t* pchild, server_rec* s) {
  if (!g_runtime) return;
  give_threads_own_arenas(s);
  try {
    apr_global_mutex_child_init(&g_migrate_mutex, apr_global_mutex_lockfile(g_migrate_mutex),
                                pchild);
    if (g_session_store) {
      apr_status_t rv = g_session_store->child_init(pchild);
      if (rv != APR_SUCCESS) {
        // Without its mutex the cache cannot be used safely: this child reads SQL every time.
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "mod_natomedia: cannot reopen the %s mutex: "
                     "this child reads every session from SQL", kSessionCacheMutex);
        g_runtime->set_server_cache(nullptr);
      }
    }
    // Before the feed watchers start, which take it.
    if (g_feed_mutex) {
      apr_status_t rv = apr_global_mutex_child_init(
          &g_feed_mutex, apr_global_mutex_lockfile(g_feed_mutex), pchild);
      if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "mod_natomedia: cannot reopen the %s mutex: "
                     "this child loads a changed feed for itself", kFeedMutexType);
        g_feed_mutex = nullptr;
      }
    }
    Status watching = g_runtime->watch_feeds();
    // The watchers stop before the child's pools go, not in the middle of a load at exit().
    apr_pool_cleanup_register(pchild, nullptr, [](void*) -> apr_status_t {
      try {
        if (g_runtime) g_runtime->stop_watching_feeds();
      } catch (...) {
      }
      return APR_SUCCESS;
    }, apr_pool_cleanup_null);
    if (!watching.ok())
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: feed: %s",
                   watching.message().c_str());
    Status cache = g_runtime->start_child();
    if (!cache.ok())
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: memcached: %s",
                   cache.message().c_str());
    migrate(pchild, s);
  } catch (const std::exception& e) {
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: child start: %s", e.what());
  }
}

int status_handler(request_rec* r) {
  if (!r->handler || strcmp(r->handler, "natomedia-status") != 0) return DECLINED;
  if (r->method_number != M_GET) {
    r->allowed = AP_METHOD_BIT << M_GET;
    return HTTP_METHOD_NOT_ALLOWED;
  }
  if (!g_runtime) return HTTP_SERVICE_UNAVAILABLE;
  try {
    g_runtime->refresh_gauges();
    std::string body = g_runtime->metrics().render_prometheus();
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) ap_rwrite(body.data(), static_cast<int>(body.size()), r);
    return OK;
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: status page: %s", e.what());
    return HTTP_INTERNAL_SERVER_ERROR;
  }
}

// CONTRACT section 14: tells httpd who is signed in, for every request of a NatoMedia server
// with a cookie (a request without one costs nothing): NATOMEDIA_ACCOUNT_ID/EMAIL now, early
// enough for mod_rewrite and mod_headers; r->user in set_remote_user once the per-directory
// configuration is known.
int identify_visitor(request_rec* r) {
  if (!g_runtime) return DECLINED;
  ServerConf* conf = server_conf(r->server);
  if (!conf->site.config.enabled) return DECLINED;
  try {
    std::shared_ptr<SignedIn> signed_in = r->prev ? signed_in_of(r->prev) : nullptr;
    if (!signed_in) {
      if (!apr_table_get(r->headers_in, "Cookie")) return DECLINED;
      signed_in = ask_who_is_signed_in(r, conf->site);
    }
    make_notes(r)->signed_in = signed_in;
    if (auto account = signed_in->visitor->account()) {
      apr_table_setn(r->subprocess_env, "NATOMEDIA_ACCOUNT_ID",
                     apr_pstrdup(r->pool, std::to_string(account->id).c_str()));
      apr_table_setn(r->subprocess_env, "NATOMEDIA_ACCOUNT_EMAIL",
                     apr_pstrdup(r->pool, account->email.c_str()));
    }
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: who is signed in: %s", e.what());
  }
  return DECLINED;
}

bool is_natomedia_auth(const char* auth_type) {
  return auth_type && strcasecmp(auth_type, "natomedia") == 0;
}

// What an `AuthType natomedia` area lets through is one account's to see: no shared cache
// (mod_cache, a proxy in front) may keep it for the next visitor. In err_headers_out, so that a
// proxied answer, whose headers replace headers_out, keeps it too.
void keep_from_shared_caches(request_rec* r) {
  const char* said = apr_table_get(r->err_headers_out, "Cache-Control");
  if (!said || !ap_find_token(r->pool, said, "private"))
    apr_table_mergen(r->err_headers_out, "Cache-Control", "private");
}

// r->user for a signed-in visitor, where no other AuthType decides who the user is. Under
// `AuthType natomedia` this is what lets the visitor through: authorization (Require
// natomedia-account, Require valid-user) then finds the user set, and httpd skips
// authentication.
int set_remote_user(request_rec* r) {
  if (r->user) return DECLINED;
  try {
    auto signed_in = signed_in_of(r);  // null without a session cookie: nothing more to do
    if (!signed_in) return DECLINED;
    const char* auth_type = ap_auth_type(r);
    if (auth_type && !is_natomedia_auth(auth_type)) return DECLINED;
    if (auto account = signed_in->visitor->account()) {
      r->user = apr_pstrdup(r->pool, core::remote_user(*account, remote_user_mode(r)).c_str());
      r->ap_auth_type = const_cast<char*>("natomedia");
      if (auth_type) keep_from_shared_caches(r);  // a natomedia area
    }
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: who is signed in: %s", e.what());
  }
  return DECLINED;
}

// `AuthType natomedia`: a signed-in, verified account is the user; anyone else is sent to sign
// in (303, browsers) or told to (401, other clients), as mod_auth_form sends a visitor to its
// login form. 503 when who is signed in cannot be told (the database is down).
int authenticate(request_rec* r) {
  if (!is_natomedia_auth(ap_auth_type(r))) return DECLINED;
  ServerConf* conf = server_conf(r->server);
  if (!g_runtime || !conf->site.config.enabled) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "mod_natomedia: AuthType natomedia needs "
                  "`NatoMedia On` in this server");
    return HTTP_INTERNAL_SERVER_ERROR;
  }
  try {
    auto signed_in = signed_in_of(r);
    if (!signed_in) signed_in = ask_who_is_signed_in(r, conf->site);  // no cookie: no SQL
    if (auto account = signed_in->visitor->account()) {
      r->user = apr_pstrdup(r->pool, core::remote_user(*account, remote_user_mode(r)).c_str());
      r->ap_auth_type = const_cast<char*>("natomedia");
      keep_from_shared_caches(r);
      return OK;
    }
    const char* raw_path = r->parsed_uri.path ? r->parsed_uri.path : r->uri;
    const char* accept = apr_table_get(r->headers_in, "Accept");
    Response refusal =
        signed_in->visitor->refusal(raw_path, r->args ? r->args : "", accept ? accept : "");
    for (const auto& [name, value] : refusal.headers) {
      // httpd sends a redirect's Location from headers_out, the rest of an error's from
      // err_headers_out.
      apr_table_t* table = name == "Location" ? r->headers_out : r->err_headers_out;
      apr_table_set(table, name.c_str(), value.c_str());
    }
    if (!refusal.body.empty())
      ap_custom_response(r, refusal.status, apr_pstrdup(r->pool, refusal.body.c_str()));
    return refusal.status;
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: AuthType natomedia: %s", e.what());
  }
  return HTTP_INTERNAL_SERVER_ERROR;
}

// `Require natomedia-account [newsletter]`, parsed once at configuration time.
const int kAnyAccount = 0;
const int kSubscribers = 1;

const char* parse_account_requirement(cmd_parms* cmd, const char* line, const void** parsed) {
  const char* word = ap_getword_conf(cmd->temp_pool, &line);
  if (!*word) {
    *parsed = &kAnyAccount;
  } else if (strcmp(word, "newsletter") == 0 && !*ap_getword_conf(cmd->temp_pool, &line)) {
    *parsed = &kSubscribers;
  } else {
    return "Require natomedia-account takes nothing (any signed-in account) or `newsletter` "
           "(newsletter subscribers only)";
  }
  return nullptr;
}

authz_status check_account_requirement(request_rec* r, const char*, const void* parsed) {
  try {
    auto signed_in = signed_in_of(r);
    if (!signed_in || !signed_in->visitor->account()) return AUTHZ_DENIED_NO_USER;
    if (parsed != &kSubscribers) return AUTHZ_GRANTED;
    auto subscribed = signed_in->visitor->subscribed();
    if (subscribed.ok()) return *subscribed ? AUTHZ_GRANTED : AUTHZ_DENIED;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "mod_natomedia: Require natomedia-account "
                  "newsletter: %s",
                  subscribed.status().message().c_str());
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: Require natomedia-account: %s",
                  e.what());
  }
  return AUTHZ_GENERAL_ERROR;
}

const authz_provider kAccountProvider = {&check_account_requirement, &parse_account_requirement};

// `SetHandler natomedia-health`: 200 or 503 with what is up and what is down, as JSON.
int health_handler(request_rec* r) {
  if (!r->handler || strcmp(r->handler, "natomedia-health") != 0) return DECLINED;
  if (r->method_number != M_GET) {
    r->allowed = AP_METHOD_BIT << M_GET;
    return HTTP_METHOD_NOT_ALLOWED;
  }
  if (!g_runtime) return HTTP_SERVICE_UNAVAILABLE;
  try {
    ServerConf* conf = server_conf(r->server);
    std::unique_ptr<Sql> sql = sql_factory(r)();
    core::HealthInputs in;
    in.sql = sql.get();
    in.cache = g_runtime->services().cache;
    in.memcached_configured = !g_runtime->settings().server.memcached.empty();
    in.feed = conf->site.feed;
    in.feed_configured = !conf->site.config.feed_path.empty();
    in.mail_sender_configured = g_runtime->mail_sender() != nullptr;
    in.mail_sender_last_run =
        static_cast<std::time_t>(g_runtime->metrics().value(core::kMailSenderLastRunGauge));
    in.now = apr_time_sec(apr_time_now());
    core::HealthReport report = core::check_health(in);
    r->status = report.ok ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, static_cast<apr_off_t>(report.json.size()));
    if (!r->header_only) ap_rwrite(report.json.data(), static_cast<int>(report.json.size()), r);
    return OK;
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: health: %s", e.what());
    return HTTP_INTERNAL_SERVER_ERROR;
  }
}

// The portal claims its own URLs as httpd maps the URL (as mod_proxy claims ProxyPass's): they
// name no file, so httpd neither maps them into DocumentRoot nor walks its directories (nor
// reads .htaccess) for them. Every other request leaves with a prefix compare, no allocation.
const char kClaimed[] = "natomedia:";

int claim_portal_url(request_rec* r) {
  if (!g_runtime || !r->uri || r->uri[0] != '/') return DECLINED;
  const ServerConf* conf = server_conf(r->server);
  if (!conf->site.config.enabled) return DECLINED;
  try {
    if (!core::portal_owns(g_runtime->services(), conf->site, r->uri)) return DECLINED;
  } catch (...) {
    return DECLINED;  // the handler decides, as before
  }
  r->filename = apr_pstrcat(r->pool, kClaimed, r->uri, nullptr);
  return OK;
}

// No directory or file walk for a claimed URL: only <Location> sections apply to it.
int skip_directory_walk(request_rec* r) {
  if (!r->filename || strncmp(r->filename, kClaimed, sizeof kClaimed - 1) != 0) return DECLINED;
  return OK;
}

int portal_handler(request_rec* r) {
  if (!g_runtime) return DECLINED;
  ServerConf* conf = server_conf(r->server);
  try {
    const core::Services& services = g_runtime->services();
    if (!r->uri || !core::portal_owns(services, conf->site, r->uri)) return DECLINED;
    core::IncomingRequest in = incoming_request(r);
    if (auto signed_in = signed_in_of(r)) in.known_account = signed_in->visitor->known();
    RequestLogger logger(r);
    core::Answer answer = core::handle_request(services, conf->site, in, sql_factory(r), logger);
    if (answer.declined) return DECLINED;
    g_runtime->metrics().add("natomedia_requests_total");
    make_notes(r)->route = std::move(answer.route);
    if (answer.response.after_sent)
      make_notes(r)->after_sent = std::move(answer.response.after_sent);
    return send_response(r, answer.response);
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: %s %s failed: %s", r->method,
                  r->uri, e.what());
  } catch (...) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: %s %s failed", r->method, r->uri);
  }
  return HTTP_INTERNAL_SERVER_ERROR;
}

// The mail sender: mod_watchdog runs this every second in one child of the server (a singleton),
// so exactly one process per server delivers the outbox, outside any request.
apr_status_t deliver_mail(int state, void* data, apr_pool_t* pool) {
  if (state != AP_WATCHDOG_STATE_RUNNING || !g_runtime || !g_runtime->mail_sender()) return APR_SUCCESS;
  auto* s = static_cast<server_rec*>(data);
  // A pool per tick, so a sender that runs for months does not grow.
  apr_pool_t* tick = nullptr;
  apr_pool_create(&tick, pool);
  try {
    ap_dbd_t* dbd = g_dbd_open(tick, s);
    if (!dbd) {
      g_runtime->metrics().add("natomedia_sql_errors_total");
      apr_pool_destroy(tick);
      return APR_SUCCESS;
    }
    {
      core::DbdSql sql(dbd->driver, dbd->handle, dbd->pool, dbd->prepared, tick);
      auto report = g_runtime->mail_sender()->deliver_due(sql, 50);
      if (!report.ok())
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: mail delivery: %s",
                     report.status().message().c_str());
    }
    g_dbd_close(s, dbd);
  } catch (const std::exception& e) {
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: mail delivery failed: %s", e.what());
  }
  apr_pool_destroy(tick);
  return APR_SUCCESS;
}

void start_mail_sender(apr_pool_t* pconf, server_rec* s) {
  auto get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
  auto register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
  if (!get_instance || !register_callback) {
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: mod_watchdog is not available: "
                 "queued mail will not be delivered by this server");
    return;
  }
  ap_watchdog_t* watchdog = nullptr;
  if (get_instance(&watchdog, "natomedia-mail", 0, 1, pconf) != APR_SUCCESS ||
      register_callback(watchdog, apr_time_from_sec(1), s, deliver_mail) != APR_SUCCESS)
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: cannot start the mail sender");
}

// Retention (CONTRACT section 12): mod_watchdog runs this every NatoMediaPruneInterval in one
// child of the server (a singleton of its own, so a long prune never delays the mail), and the
// core's and the plugins' pruners delete what has had its time. One info line per run.
apr_status_t prune_tables(int state, void* data, apr_pool_t* pool) {
  if (state != AP_WATCHDOG_STATE_RUNNING || !g_runtime) return APR_SUCCESS;
  auto* s = static_cast<server_rec*>(data);
  apr_pool_t* run = nullptr;
  apr_pool_create(&run, pool);
  try {
    ap_dbd_t* dbd = g_dbd_open(run, s);
    if (!dbd) {
      g_runtime->metrics().add("natomedia_sql_errors_total");
      ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                   "mod_natomedia: pruning skipped: no database connection");
      apr_pool_destroy(run);
      return APR_SUCCESS;
    }
    {
      core::DbdSql sql(dbd->driver, dbd->handle, dbd->pool, dbd->prepared, run);
      core::PruneOutcome outcome =
          core::prune(sql, g_runtime->registry().pruners(), g_runtime->settings().server,
                      g_runtime->services().clock->now());
      for (const auto& error : outcome.errors)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mod_natomedia: pruning %s", error.c_str());
      ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "mod_natomedia: %s",
                   core::describe(outcome).c_str());
    }
    g_dbd_close(s, dbd);
  } catch (const std::exception& e) {
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: pruning failed: %s", e.what());
  }
  apr_pool_destroy(run);
  return APR_SUCCESS;
}

void start_pruner(apr_pool_t* pconf, server_rec* s) {
  auto get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
  auto register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
  if (!get_instance || !register_callback) {
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 "mod_natomedia: mod_watchdog is not available: this server will not prune "
                 "(run `natomedia-admin db prune` from cron)");
    return;
  }
  ap_watchdog_t* watchdog = nullptr;
  const long interval = g_runtime->settings().prune_interval;
  if (get_instance(&watchdog, "natomedia-prune", 0, 1, pconf) != APR_SUCCESS ||
      register_callback(watchdog, apr_time_from_sec(interval), s, prune_tables) != APR_SUCCESS)
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 "mod_natomedia: cannot start the retention task (run `natomedia-admin db prune` "
                 "from cron)");
}

// After the answer has gone out: the handler's after_sent callback with the bytes really sent.
int log_transaction(request_rec* r) {
  RequestNotes* notes = own_notes(r);
  if (!notes) return DECLINED;
  if (!notes->route.empty() && g_runtime) {
    const apr_time_t took = apr_time_now() - r->request_time;
    g_runtime->metrics().observe_request(notes->route, r->status,
                                         static_cast<double>(took) / APR_USEC_PER_SEC);
  }
  if (!notes->after_sent) return DECLINED;
  try {
    std::unique_ptr<Sql> sql;
    if (ap_dbd_t* dbd = g_dbd_acquire ? g_dbd_acquire(r) : nullptr)
      sql = std::make_unique<core::DbdSql>(dbd->driver, dbd->handle, dbd->pool, dbd->prepared,
                                           r->pool);
    else
      sql = std::make_unique<core::UnavailableSql>("no database connection");
    notes->after_sent(*sql, static_cast<uint64_t>(r->bytes_sent), r->status);
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: after the answer: %s", e.what());
  } catch (...) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: after the answer: failed");
  }
  return DECLINED;
}

void register_hooks(apr_pool_t* pool) {
  static const char* const after_dbd[] = {"mod_dbd.c", nullptr};
  ap_hook_pre_config(pre_config, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_check_config(check_config, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_post_config(post_config, after_dbd, nullptr, APR_HOOK_MIDDLE);
  ap_hook_child_init(child_init, after_dbd, nullptr, APR_HOOK_MIDDLE);
  // After mod_remoteip (the client's address) and mod_setenvif (HTTPS=on behind a TLS proxy,
  // which names the session cookie __Host-…); before mod_rewrite and mod_headers use the result.
  static const char* const after_proxy_facts[] = {"mod_remoteip.c", "mod_setenvif.c", nullptr};
  static const char* const before_rewrite[] = {"mod_rewrite.c", "mod_headers.c", nullptr};
  ap_hook_post_read_request(identify_visitor, after_proxy_facts, before_rewrite, APR_HOOK_MIDDLE);
  // After mod_rewrite's server rules and an administrator's ProxyPass; before mod_alias and
  // httpd's own DocumentRoot mapping.
  static const char* const after_rewrite_proxy[] = {"mod_rewrite.c", "mod_proxy.c", nullptr};
  ap_hook_translate_name(claim_portal_url, after_rewrite_proxy, nullptr, APR_HOOK_FIRST);
  ap_hook_map_to_storage(skip_directory_walk, nullptr, nullptr, APR_HOOK_FIRST);
  ap_hook_header_parser(set_remote_user, nullptr, nullptr, APR_HOOK_FIRST);
  ap_hook_check_authn(authenticate, nullptr, nullptr, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
  ap_register_auth_provider(pool, AUTHZ_PROVIDER_GROUP, "natomedia-account", AUTHZ_PROVIDER_VERSION,
                            &kAccountProvider, AP_AUTH_INTERNAL_PER_CONF);
  ap_hook_handler(status_handler, nullptr, nullptr, APR_HOOK_FIRST);
  ap_hook_handler(health_handler, nullptr, nullptr, APR_HOOK_FIRST);
  ap_hook_handler(portal_handler, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_log_transaction(log_transaction, nullptr, nullptr, APR_HOOK_MIDDLE);
}

}  // namespace

}  // namespace natomedia::module

// The one exported symbol (everything else is hidden by -fvisibility=hidden and module.map).
extern "C" {
__attribute__((visibility("default"))) module AP_MODULE_DECLARE_DATA natomedia_module = {
    STANDARD20_MODULE_STUFF,
    nullptr,                                   // per-directory config: none
    nullptr,
    natomedia::module::create_server_conf,
    natomedia::module::merge_server_conf,
    natomedia::module::kDirectives,
    natomedia::module::register_hooks,
    AP_MODULE_FLAG_NONE,
};
}
