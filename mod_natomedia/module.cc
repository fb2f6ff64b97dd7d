// mod_natomedia: httpd glue only. Directives, hooks, and the translation between request_rec and
// the core's plain C++ types. No exception crosses into httpd: every hook catches and answers 500.
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_mutex.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <ap_mpm.h>
#include <mod_watchdog.h>
#include <unixd.h>

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
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "config_directives.h"
#include "core/crypto_service.h"
#include "core/feed_service.h"
#include "core/mail_sender.h"
#include "core/migrations.h"
#include "core/portal.h"
#include "core/retention.h"
#include "core/runtime.h"
#include "core/sql_dbd.h"
#include "httpd_glue.h"

extern "C" module AP_MODULE_DECLARE_DATA natomedia_module;

APLOG_USE_MODULE(natomedia);

namespace natomedia::module {

namespace {

// The generation being served: built in post_config (parent), used read-only by children.
core::Runtime* g_runtime = nullptr;
apr_shm_t* g_metrics_shm = nullptr;
apr_global_mutex_t* g_migrate_mutex = nullptr;
const char* kMutexType = "natomedia-migrate";

APR_OPTIONAL_FN_TYPE(ap_dbd_acquire)* g_dbd_acquire = nullptr;
APR_OPTIONAL_FN_TYPE(ap_dbd_open)* g_dbd_open = nullptr;
APR_OPTIONAL_FN_TYPE(ap_dbd_close)* g_dbd_close = nullptr;

// What a request leaves for log_transaction: the handler's after_sent callback.
struct AfterSent {
  std::function<void(Sql&, uint64_t, int)> callback;
};

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
int check_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) {
  try {
    ServerConf* main = server_conf(s);
    if (!any_enabled(s) && main->plugins.empty()) return OK;
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
    auto* runtime = new core::Runtime();
    apr_pool_cleanup_register(pconf, runtime, [](void* p) -> apr_status_t {
      if (g_runtime == p) g_runtime = nullptr;
      delete static_cast<core::Runtime*>(p);
      return APR_SUCCESS;
    }, apr_pool_cleanup_null);
    Status built = runtime->build(settings, server_logger());
    if (!built.ok()) return fail(built.message());
    // Every virtual host gets its merged site values and its feed.
    for (server_rec* v = s; v; v = v->next) {
      ServerConf* c = server_conf(v);
      c->site.config = site_config(v, settings.server);
      c->site.feed = runtime->feed_for(c->site.config.feed_path, server_logger());
    }
    g_runtime = runtime;
    return OK;
  } catch (const std::exception& e) {
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s, "mod_natomedia: %s", e.what());
    return HTTP_INTERNAL_SERVER_ERROR;
  }
}

int pre_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*) {
  ap_mutex_register(pconf, kMutexType, nullptr, APR_LOCK_DEFAULT, 0);
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
    apr_status_t rv = apr_shm_create(&g_metrics_shm, metrics.bytes_needed() + 64, nullptr, pconf);
    if (rv != APR_SUCCESS) {
      ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_natomedia: cannot create shared memory for "
                   "the counters");
      return HTTP_INTERNAL_SERVER_ERROR;
    }
    metrics.attach(apr_shm_baseaddr_get(g_metrics_shm));
    rv = ap_global_mutex_create(&g_migrate_mutex, nullptr, kMutexType, nullptr, s, pconf, 0);
    if (rv != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
    for (const auto& problem : g_runtime->startup_problems())
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_natomedia: %s", problem.c_str());
    g_runtime->refresh_gauges();
    if (!g_runtime->feeds().empty()) {
      const std::string share = feed_share_dir(pconf, s);
      for (const auto& feed : g_runtime->feeds()) feed->share_loads_in(share);
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

int portal_handler(request_rec* r) {
  if (!g_runtime) return DECLINED;
  ServerConf* conf = server_conf(r->server);
  try {
    const core::Services& services = g_runtime->services();
    if (!r->uri || !core::portal_owns(services, conf->site, r->uri)) return DECLINED;
    core::IncomingRequest in = incoming_request(r);
    RequestLogger logger(r);
    core::SqlFactory sql_factory = [r]() -> std::unique_ptr<Sql> {
      ap_dbd_t* dbd = g_dbd_acquire(r);
      if (!dbd) return nullptr;
      return std::make_unique<core::DbdSql>(dbd->driver, dbd->handle, dbd->pool, dbd->prepared,
                                            r->pool);
    };
    core::Answer answer = core::handle_request(services, conf->site, in, sql_factory, logger);
    if (answer.declined) return DECLINED;
    g_runtime->metrics().add("natomedia_requests_total");
    if (answer.response.after_sent) {
      void* mem = apr_palloc(r->pool, sizeof(AfterSent));
      auto* after = new (mem) AfterSent{std::move(answer.response.after_sent)};
      apr_pool_cleanup_register(r->pool, after, [](void* p) -> apr_status_t {
        static_cast<AfterSent*>(p)->~AfterSent();
        return APR_SUCCESS;
      }, apr_pool_cleanup_null);
      ap_set_module_config(r->request_config, &natomedia_module, after);
    }
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
  auto* after = static_cast<AfterSent*>(ap_get_module_config(r->request_config, &natomedia_module));
  if (!after || !after->callback) return DECLINED;
  try {
    std::unique_ptr<Sql> sql;
    if (ap_dbd_t* dbd = g_dbd_acquire ? g_dbd_acquire(r) : nullptr)
      sql = std::make_unique<core::DbdSql>(dbd->driver, dbd->handle, dbd->pool, dbd->prepared,
                                           r->pool);
    else
      sql = std::make_unique<core::UnavailableSql>("no database connection");
    after->callback(*sql, static_cast<uint64_t>(r->bytes_sent), r->status);
  } catch (const std::exception& e) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: after the answer: %s", e.what());
  } catch (...) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_natomedia: after the answer: failed");
  }
  return DECLINED;
}

void register_hooks(apr_pool_t*) {
  static const char* const after_dbd[] = {"mod_dbd.c", nullptr};
  ap_hook_pre_config(pre_config, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_check_config(check_config, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_post_config(post_config, after_dbd, nullptr, APR_HOOK_MIDDLE);
  ap_hook_child_init(child_init, after_dbd, nullptr, APR_HOOK_MIDDLE);
  ap_hook_handler(status_handler, nullptr, nullptr, APR_HOOK_FIRST);
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
