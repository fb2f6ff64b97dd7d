// natomedia-admin: the operator's command-line tool (CONTRACT section 10). It reads the same
// httpd.conf as the module (--config) or takes --db DRIVER:PARAMS, and works on the same SQL
// database through the core's services.
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_pools.h>
#include <unistd.h>

#include <cstdarg>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "admin_accounts.h"
#include "admin_config.h"
#include "admin_help.h"
#include "admin_json.h"
#include "admin_newsletter.h"
#include "admin_outbox.h"
#include "admin_sessions.h"
#include "core/crypto_service.h"
#include "core/feed_loader.h"
#include "core/memcached_cache.h"
#include "core/migrations.h"
#include "core/plugin_loader.h"
#include "core/plugin_registry.h"
#include "core/retention.h"
#include "core/secret_keys.h"
#include "core/sql_dbd.h"
#include "core/tool_context.h"

namespace natomedia::admin {

namespace {

// Exit codes, as sysexits(3) has them.
constexpr int kOk = 0, kFailed = 1, kUsage = 64, kUnavailable = 69, kConfig = 78;

const char* kUsageText =
    "usage: natomedia-admin [--config HTTPD_CONF | --db DRIVER:PARAMS] COMMAND ...\n"
    "\n"
    "Commands:\n"
    "  db migrate             apply the schema migrations of the core and the plugins\n"
    "  db prune               delete now what the retention rules say has had its time\n"
    "  feed validate FILE     check a content feed (exit 0 valid, 1 invalid, reasons with lines)\n"
    "  accounts list [--state S] | show EMAIL | disable EMAIL | enable EMAIL | delete EMAIL\n"
    "                         list, inspect, disable/enable, or erase (GDPR) accounts\n"
    "  sessions list ACCOUNT  the sign-in sessions of an account (address or id)\n"
    "  sessions end ACCOUNT   sign the account out everywhere (delete its sessions)\n"
    "  outbox status          count the mail outbox's messages by state\n"
    "  outbox retry           queue the failed messages again\n"
    "  newsletter send [--dry-run]\n"
    "                         queue an issue of the feed's items since the last one to every\n"
    "                         subscriber (--dry-run: show what would go, queue nothing)\n"
    "  subscribers export     write the subscribers and their consent as CSV to stdout\n"
    "\n"
    "Options:\n"
    "  --config FILE   read DBDriver, DBDParams and the NatoMedia* directives from httpd.conf\n"
    "                  (Include followed); default /etc/apache2/apache2.conf when it exists\n"
    "  --db D:P        the database directly, e.g. sqlite3:/var/lib/natomedia/accounts.db or\n"
    "                  \"pgsql:host=db dbname=natomedia user=natomedia\"\n"
    "  --plugin-dir D  where bare plugin names are found (default: the install's)\n"
    "  --share-dir D   the install's share directory (schemas)\n"
    "  --json          list and show commands (accounts list|show, sessions list, outbox\n"
    "                  status) write JSON instead of text; also accepted after the command\n"
    "  -V, --version   the version of natomedia-admin\n"
    "  -h, --help      this text; COMMAND --help: that command's\n"
    "Options take their value as --db=D:P or --db D:P, and come before COMMAND.\n"
    "\n"
    "Exit status: 0 done, 1 failed or not found, 64 wrong usage, 69 database unavailable,\n"
    "78 configuration error.\n";

struct Options {
  std::string config, db, plugin_dir, share_dir;
  bool json = false;
  std::vector<std::string> args;
};

// PREFIX from PREFIX/bin/natomedia-admin.
std::string install_prefix() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/usr";
  std::string p(buf, static_cast<size_t>(n));
  for (int i = 0; i < 2; ++i) p = p.substr(0, p.rfind('/'));
  return p.empty() ? "/" : p;
}

// A wrong command line: the reason and a one-line hint, on standard error; exit 64 (EX_USAGE).
int usage_error(const std::string& message, const std::string& command = "") {
  std::cerr << "natomedia-admin: " << message << "\n"
            << "Try 'natomedia-admin " << (command.empty() ? "" : command + " ") << "--help'.\n";
  return kUsage;
}

class Tool {
 public:
  explicit Tool(Options o) : opts_(std::move(o)) {
    apr_pool_create(&pool_, nullptr);
    const std::string prefix = install_prefix();
    if (opts_.plugin_dir.empty()) opts_.plugin_dir = prefix + "/lib/natomedia/plugins";
    if (opts_.share_dir.empty()) opts_.share_dir = prefix + "/share/natomedia";
  }
  ~Tool() {
    context_.reset();
    sql_.reset();
    apr_pool_destroy(pool_);
  }

  int run() {
    const auto& a = opts_.args;
    if (opts_.json && !json_command(a))
      return usage_error("--json is for the list and show commands (accounts list|show, "
                         "sessions list, outbox status)");
    if (a.size() == 2 && a[0] == "db" && a[1] == "migrate") return db_migrate();
    if (a.size() == 2 && a[0] == "db" && a[1] == "prune") return db_prune();
    if (a.size() == 3 && a[0] == "feed" && a[1] == "validate") return feed_validate(a[2]);
    if (a.size() == 2 && a[0] == "outbox" && a[1] == "status") return outbox_status();
    if (a.size() == 2 && a[0] == "outbox" && a[1] == "retry") return outbox_retry();
    if (!a.empty() && a[0] == "accounts") return accounts(a);
    if (!a.empty() && a[0] == "sessions") return sessions(a);
    if (a.size() >= 2 && a.size() <= 3 && a[0] == "newsletter" && a[1] == "send" &&
        (a.size() == 2 || a[2] == "--dry-run"))
      return newsletter_send(a.size() == 3);
    if (a.size() == 2 && a[0] == "subscribers" && a[1] == "export") return subscribers_export();
    std::string words;
    for (const auto& w : a) words += (words.empty() ? "" : " ") + w;
    return usage_error(a.empty() ? "no command given" : "unknown command: " + words);
  }

 private:
  static bool json_command(const std::vector<std::string>& a) {
    return a.size() >= 2 && ((a[0] == "accounts" && (a[1] == "list" || a[1] == "show")) ||
                             (a[0] == "sessions" && a[1] == "list") ||
                             (a[0] == "outbox" && a[1] == "status"));
  }

  // Reads --config (or the default httpd.conf) once.
  Status load_config() {
    if (config_loaded_) return Status::Ok();
    config_loaded_ = true;
    std::string path = opts_.config;
    if (path.empty() && opts_.db.empty() && access("/etc/apache2/apache2.conf", R_OK) == 0)
      path = "/etc/apache2/apache2.conf";
    if (path.empty()) return Status::Ok();
    auto values = read_httpd_conf(path);
    if (!values.ok()) return values.status();
    config_ = *values;
    auto dir = config_.last.find("natomediaplugindir");
    if (dir != config_.last.end()) opts_.plugin_dir = dir->second;
    auto share = config_.last.find("natomediasharedir");
    if (share != config_.last.end()) opts_.share_dir = share->second;
    return Status::Ok();
  }

  Status open_db() {
    Status s = load_config();
    if (!s.ok()) return s;
    std::string driver, params;
    if (!opts_.db.empty()) {
      size_t colon = opts_.db.find(':');
      if (colon == std::string::npos)
        return Status::Invalid("--db takes DRIVER:PARAMS, e.g. sqlite3:/path/accounts.db");
      driver = opts_.db.substr(0, colon);
      params = opts_.db.substr(colon + 1);
    } else {
      auto d = config_.last.find("dbdriver");
      auto p = config_.last.find("dbdparams");
      if (d == config_.last.end() || p == config_.last.end())
        return Status::Invalid("no database: give --db DRIVER:PARAMS, or --config with DBDriver "
                               "and DBDParams");
      driver = d->second;
      params = p->second;
    }
    auto sql = core::open_dbd(driver, params, pool_);
    if (!sql.ok()) return sql.status();
    sql_ = std::move(*sql);
    return Status::Ok();
  }

  int report(const Status& s) {
    std::cerr << "natomedia-admin: " << s.message() << "\n";
    if (s.code() == Status::Code::kInvalid) return kConfig;
    if (s.code() == Status::Code::kUnavailable) return kUnavailable;
    return kFailed;
  }

  // The plugins named in httpd.conf, set up as the module does: they contribute their own
  // migrations and pruners.
  Status load_plugins(core::PluginRegistry& registry) {
    for (const auto& name : config_.plugins) {
      auto plugin = core::load_plugin(name, opts_.plugin_dir);
      if (!plugin.ok()) return plugin.status();
      Status setup = registry.setup(*plugin);
      if (!setup.ok()) return setup;
    }
    return Status::Ok();
  }

  int db_migrate() {
    Status s = open_db();
    if (!s.ok()) return report(s);
    core::PluginRegistry registry{SiteConfig{}};
    s = load_plugins(registry);
    if (!s.ok()) return report(s);
    auto result = core::migrate(*sql_, registry.migrations());
    if (!result.ok()) return report(result.status());
    if (result->applied.empty()) std::cout << "schema is up to date\n";
    for (const auto& line : result->applied) std::cout << "applied " << line << "\n";
    return kOk;
  }

  // The same pruners the module's retention task runs, once, now.
  int db_prune() {
    Status s = open_db();
    if (!s.ok()) return report(s);
    auto config = server_config(config_);
    if (!config.ok()) return report(config.status());
    core::PluginRegistry registry{*config};
    s = load_plugins(registry);
    if (!s.ok()) return report(s);
    if (config_.plugins.empty())
      std::cerr << "natomedia-admin: no NatoMediaPlugin in the configuration: only the core's "
                   "tables (the mail outbox) are pruned; give --config to prune the plugins' too\n";
    core::PruneOutcome outcome =
        core::prune(*sql_, registry.pruners(), *config, std::time(nullptr));
    for (const auto& p : outcome.removed)
      std::cout << std::setw(8) << p.rows << "  " << p.what << "\n";
    for (const auto& e : outcome.errors) std::cerr << "natomedia-admin: pruning " << e << "\n";
    std::cout << core::describe(outcome) << "\n";
    return outcome.errors.empty() ? kOk : kFailed;
  }

  int feed_validate(const std::string& file) {
    Status s = load_config();
    if (!s.ok()) return report(s);
    core::init_xml_library();
    const std::string xsd = opts_.share_dir + "/schemas/natomedia-feed.xsd";
    auto schema = core::FeedSchema::load(xsd);
    if (!schema.ok()) {
      std::cerr << "natomedia-admin: schema " << xsd << ": " << schema.status().message() << "\n";
      return kConfig;
    }
    Status v = core::validate_feed_file(file, **schema);
    if (!v.ok()) {
      std::cerr << v.message() << "\n";
      return kFailed;
    }
    std::cout << file << ": valid\n";
    return kOk;
  }

  int outbox_status() {
    Status s = open_db();
    if (!s.ok()) return report(s);
    auto rows = sql_->query(
        "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM mail_outbox GROUP BY status "
        "ORDER BY status",
        {});
    if (!rows.ok()) return report(rows.status());
    if (opts_.json) {
      JsonObject counts;
      for (size_t i = 0; i < rows->size(); ++i)
        counts.number(rows->text(i, "status"), rows->integer(i, "n"));
      std::cout << counts.str() << "\n";
      return kOk;
    }
    if (rows->empty()) std::cout << "the outbox is empty\n";
    for (size_t i = 0; i < rows->size(); ++i)
      std::cout << rows->text(i, "status") << "\t" << rows->text(i, "n") << "\n";
    return kOk;
  }

  int newsletter_send(bool dry_run) {
    Status s = open_db();
    if (s.ok()) {
      NewsletterSendOptions options;
      options.dry_run = dry_run;
      s = send_newsletter(*sql_, config_.last, opts_.share_dir, options, std::cout);
    }
    return s.ok() ? kOk : report(s);
  }

  int accounts(const std::vector<std::string>& args) {
    auto command = parse_accounts_command(args);
    if (!command.ok()) return usage_error(command.status().message(), "accounts");
    command->json = command->json || opts_.json;
    Status s = open_db();
    ErasureTools erasure;
    if (s.ok() && command->verb == AccountsCommand::Verb::kDelete) s = erasure_tools(erasure);
    if (s.ok()) s = run_accounts_command(*sql_, *command, std::cout, erasure);
    return s.ok() ? kOk : report(s);
  }

  // The plugins named in httpd.conf, set up as the module does, and a Context over them on the
  // tool's connection: `accounts delete` runs the same erasure as POST /account/delete, so every
  // plugin's account-deleted listener (a third-party plugin's too) erases its part. With the
  // site's secret and memcached when httpd.conf names them (the verification plugin forgets the
  // address's codes there); without, their calls answer Unavailable.
  Status erasure_tools(ErasureTools& out) {
    if (config_.plugins.empty()) return Status::Ok();  // delete then refuses, saying why
    auto config = server_config(config_);
    if (!config.ok()) return config.status();
    registry_ = std::make_unique<core::PluginRegistry>(*config);
    Status s = load_plugins(*registry_);
    if (!s.ok()) return s;
    // Without NatoMediaSecretFile, a random key of this run only: HMACs made with it match
    // nothing the site stored, which is all the erasure asks of it.
    auto secret = config_.last.find("natomediasecretfile");
    auto keys = secret != config_.last.end()
                    ? core::SecretKeys::load(secret->second)
                    : core::SecretKeys::parse(core::random_or_empty(48),
                                              "(a key of this run only)");
    if (!keys.ok()) return Status::Invalid("NatoMediaSecretFile: " + keys.status().message());
    crypto_ = std::make_unique<core::CryptoService>(*keys);
    auto memcached = config_.last.find("natomediamemcached");
    if (memcached != config_.last.end()) {
      cache_ = std::make_unique<core::MemcachedCache>(memcached->second);
      Status started = cache_->start();
      if (!started.ok()) {
        std::cerr << "natomedia-admin: memcached: " << started.message() << "\n";
        cache_.reset();
      }
    }
    core::ToolServices services;
    services.sql = sql_.get();
    services.extensions = &registry_->extensions();
    services.crypto = crypto_.get();
    services.cache = cache_.get();
    services.logger = &logger_;
    context_ = std::make_unique<core::ToolContext>(services, *config);
    out.context = context_.get();
    for (const auto& [event, listener] : registry_->extensions().listeners)
      if (event == AccountEvent::kDeleted) out.listeners.push_back(listener.first);
    return Status::Ok();
  }


  // The plugins' log lines (an erasure listener's failure, the example plugin's notes) go to
  // standard error.
  class StderrLogger : public core::Logger {
   public:
    void log(LogLevel level, const std::string& message) override {
      if (level == LogLevel::kDebug) return;
      std::cerr << "natomedia-admin: " << message << "\n";
    }
  };

  int sessions(const std::vector<std::string>& args) {
    auto command = parse_sessions_command(args);
    if (!command.ok()) return usage_error(command.status().message(), "sessions");
    command->json = command->json || opts_.json;
    Status s = open_db();
    if (s.ok()) s = run_sessions_command(*sql_, *command, std::cout);
    return s.ok() ? kOk : report(s);
  }

  int outbox_retry() {
    Status s = open_db();
    if (s.ok()) s = retry_failed_mail(*sql_, std::cout);
    return s.ok() ? kOk : report(s);
  }

  int subscribers_export() {
    Status s = open_db();
    if (s.ok()) s = export_subscribers(*sql_, std::cout);
    return s.ok() ? kOk : report(s);
  }

  Options opts_;
  apr_pool_t* pool_ = nullptr;
  bool config_loaded_ = false;
  ConfigValues config_;
  std::unique_ptr<core::OwnedDbdSql> sql_;
  // accounts delete: the plugins and what their listeners need. The context goes before the
  // registry, which holds the plugins' code.
  std::unique_ptr<core::PluginRegistry> registry_;
  std::unique_ptr<core::CryptoService> crypto_;
  std::unique_ptr<core::MemcachedCache> cache_;
  StderrLogger logger_;
  std::unique_ptr<core::ToolContext> context_;
};

}  // namespace

// apr_getopt's complaints ("natomedia-admin: invalid option: --x"), kept for usage_error.
void keep_getopt_error(void* arg, const char* format, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, format);
  vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  std::string message(buf);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  const std::string prefix = "natomedia-admin: ";
  if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
  *static_cast<std::string*>(arg) = message;
}

// The global options, parsed with apr_getopt_long up to the first word (the command); what
// follows is the command's, with --json and --help recognised anywhere after it.
int main(int argc, char** argv) {
  enum { kConfigOpt = 256, kDbOpt, kPluginDirOpt, kShareDirOpt, kJsonOpt };
  static const apr_getopt_option_t kOptions[] = {
      {"config", kConfigOpt, 1, "httpd.conf to read"},
      {"db", kDbOpt, 1, "DRIVER:PARAMS"},
      {"plugin-dir", kPluginDirOpt, 1, "where plugins are"},
      {"share-dir", kShareDirOpt, 1, "the share directory"},
      {"json", kJsonOpt, 0, "JSON output"},
      {"version", 'V', 0, "the version"},
      {"help", 'h', 0, "the usage"},
      {nullptr, 0, 0, nullptr}};
  apr_initialize();
  int rc = kOk;
  {
    apr_pool_t* pool = nullptr;
    apr_pool_create(&pool, nullptr);
    Options o;
    bool help = false, version = false;
    std::string error;
    apr_getopt_t* g = nullptr;
    apr_getopt_init(&g, pool, argc, argv);
    g->errfn = keep_getopt_error;
    g->errarg = &error;
    int ch = 0;
    const char* value = nullptr;
    apr_status_t st;
    while ((st = apr_getopt_long(g, kOptions, &ch, &value)) == APR_SUCCESS) {
      switch (ch) {
        case kConfigOpt: o.config = value; break;
        case kDbOpt: o.db = value; break;
        case kPluginDirOpt: o.plugin_dir = value; break;
        case kShareDirOpt: o.share_dir = value; break;
        case kJsonOpt: o.json = true; break;
        case 'V': version = true; break;
        case 'h': help = true; break;
      }
    }
    if (st != APR_EOF) {
      rc = usage_error(error.empty() ? "wrong options" : error);
    } else {
      for (int i = g->ind; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h")
          help = true;
        else if (a == "--json")
          o.json = true;
        else
          o.args.push_back(a);
      }
      if (version) {
        std::cout << "natomedia-admin " << NATOMEDIA_VERSION << "\n";
      } else if (help) {
        const std::string text = o.args.empty() ? "" : command_help(o.args[0]);
        if (!o.args.empty() && text.empty())
          rc = usage_error("unknown command: " + o.args[0]);
        else
          std::cout << (text.empty() ? kUsageText : text);
      } else if (!o.args.empty() && o.args[0].size() > 1 && o.args[0][0] == '-') {
        rc = usage_error("unknown option " + o.args[0]);
      } else {
        Tool tool(std::move(o));
        rc = tool.run();
      }
    }
    apr_pool_destroy(pool);
  }
  apr_terminate();
  return rc;
}

}  // namespace natomedia::admin

int main(int argc, char** argv) { return natomedia::admin::main(argc, argv); }
