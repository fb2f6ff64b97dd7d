#include "config_directives.h"
#include "pool_new.h"
#include "socache_store.h"

#include <http_log.h>

#include <apr_strings.h>

#include <cctype>
#include <cstring>

#include "core/memcached_cache.h"
#include "core/secret_keys.h"
#include "core/settings.h"

extern "C" module AP_MODULE_DECLARE_DATA natomedia_module;
APLOG_USE_MODULE(natomedia);

namespace natomedia::module {

namespace {

// Directive errors come from cmd->pool; httpd adds the file and line.
const char* error(cmd_parms* cmd, const std::string& message) {
  return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, message.c_str());
}

ServerConf* conf_of(cmd_parms* cmd) { return server_conf(cmd->server); }

const char* global_only(cmd_parms* cmd) {
  return ap_check_cmd_context(cmd, GLOBAL_ONLY);
}

const char* set_enabled(cmd_parms* cmd, void*, int on) {
  conf_of(cmd)->enabled = on ? 1 : 0;
  return nullptr;
}

const char* set_base_path(cmd_parms* cmd, void*, const char* arg) {
  auto v = core::check_base_path(arg);
  if (!v.ok()) return error(cmd, v.status().message());
  conf_of(cmd)->base_path = *v;
  return nullptr;
}

const char* set_remote_user(cmd_parms* cmd, void*, const char* arg) {
  const std::string v = arg;
  if (v == "email")
    conf_of(cmd)->remote_user = core::RemoteUser::kEmail;
  else if (v == "id")
    conf_of(cmd)->remote_user = core::RemoteUser::kId;
  else
    return error(cmd, "takes `email` (the account's address, the default) or `id` (its number)");
  return nullptr;
}

const char* set_public_url(cmd_parms* cmd, void*, const char* arg) {
  auto v = core::check_public_url(arg);
  if (!v.ok()) return error(cmd, v.status().message());
  conf_of(cmd)->public_url = *v;
  return nullptr;
}

// A directory that must exist; `field` is where it goes. A relative path is relative to
// ServerRoot, as httpd's own file and directory directives are.
template <std::optional<std::string> ServerConf::*field, bool kGlobal>
const char* set_directory(cmd_parms* cmd, void*, const char* arg) {
  if (kGlobal)
    if (const char* e = global_only(cmd)) return e;
  const char* path = ap_server_root_relative(cmd->pool, arg);
  auto v = core::check_directory(path ? path : arg);
  if (!v.ok()) return error(cmd, v.status().message());
  conf_of(cmd)->*field = *v;
  return nullptr;
}

template <std::optional<std::string> ServerConf::*field, bool kGlobal>
const char* set_readable_file(cmd_parms* cmd, void*, const char* arg) {
  if (kGlobal)
    if (const char* e = global_only(cmd)) return e;
  const char* path = ap_server_root_relative(cmd->pool, arg);
  Status s = core::check_readable_file(path ? path : arg);
  if (!s.ok()) return error(cmd, s.message());
  conf_of(cmd)->*field = path ? path : arg;
  return nullptr;
}

// "httpd.conf:12": where the directive being read is, for messages given after the
// configuration is read (when httpd no longer adds it).
std::string where(cmd_parms* cmd) {
  return std::string(cmd->directive->filename ? cmd->directive->filename : "?") + ":" +
         std::to_string(cmd->directive->line_num);
}

const char* set_plugin(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  // A path (it has a slash) is relative to ServerRoot; a bare name is looked up in the plugin
  // directory.
  if (strchr(arg, '/'))
    if (const char* path = ap_server_root_relative(cmd->pool, arg)) arg = path;
  conf_of(cmd)->plugins.push_back({arg, where(cmd)});
  return nullptr;
}

// The feed is read and validated in check_config, where every NatoMediaFeed is known.
const char* set_feed(cmd_parms* cmd, void* mconfig, const char* arg) {
  const char* e = set_readable_file<&ServerConf::feed, false>(cmd, mconfig, arg);
  if (!e) conf_of(cmd)->feed_where = where(cmd);
  return e;
}

const char* set_secret_file(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  const char* path = ap_server_root_relative(cmd->pool, arg);
  auto keys = core::SecretKeys::load(path ? path : arg);
  if (!keys.ok()) return error(cmd, keys.status().message());
  if (!keys->warning.empty())
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, nullptr, "%s: %s",
                 cmd->directive->directive, keys->warning.c_str());
  conf_of(cmd)->secret_file = path ? path : arg;
  return nullptr;
}

const char* set_memcached(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  Status s = core::check_memcached_config(arg);
  if (!s.ok()) return error(cmd, s.message());
  conf_of(cmd)->memcached = std::string(arg);
  return nullptr;
}

const char* set_mail_transport(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  auto t = core::parse_mail_transport(arg);
  if (!t.ok()) return error(cmd, t.status().message());
  conf_of(cmd)->mail_transport = std::string(arg);
  return nullptr;
}

const char* set_mail_from(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  auto f = core::parse_mail_from(arg);
  if (!f.ok()) return error(cmd, f.status().message());
  conf_of(cmd)->mail_from = std::string(arg);
  return nullptr;
}

template <std::optional<long> ServerConf::*field, long kMin, long kMax>
const char* set_seconds(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  auto v = core::check_seconds(arg, kMin, kMax);
  if (!v.ok()) return error(cmd, v.status().message());
  conf_of(cmd)->*field = *v;
  return nullptr;
}

const char* set_download_log_days(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  auto v = core::check_days(arg, core::kDownloadLogDaysRange.min, core::kDownloadLogDaysRange.max);
  if (!v.ok()) return error(cmd, v.status().message());
  conf_of(cmd)->download_log_days = *v;
  return nullptr;
}

const char* set_quota(cmd_parms* cmd, void*, const char* arg) {
  auto v = core::check_bytes(arg);
  if (!v.ok()) return error(cmd, v.status().message());
  conf_of(cmd)->download_quota = *v;
  return nullptr;
}

// NatoMediaPreviewRendition: a rendition's QCode name ("sd360" or "rnd:sd360").
const char* set_preview_rendition(cmd_parms* cmd, void*, const char* arg) {
  std::string v = arg;
  if (v.rfind("rnd:", 0) == 0) v = v.substr(4);
  if (v.empty() || v.size() > 64) return error(cmd, "takes a rendition's QCode name, e.g. sd360");
  for (char c : v)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return error(cmd, "takes a rendition's QCode name, e.g. sd360");
  conf_of(cmd)->preview_rendition = v;
  return nullptr;
}

// NatoMediaSessionCache none | PROVIDER[:ARGS]: the provider is looked up in check_config, once
// every LoadModule has been read.
const char* set_session_cache(cmd_parms* cmd, void*, const char* arg) {
  if (const char* e = global_only(cmd)) return e;
  const std::string v = arg;
  const SocacheSpec spec = parse_socache_spec(v);
  const std::string& name = spec.provider;
  bool ok = spec.none || (!name.empty() && name.size() <= 32 && name != "none");
  for (char c : name)
    ok = ok && (islower(static_cast<unsigned char>(c)) || isdigit(static_cast<unsigned char>(c)) ||
                c == '_');
  if (!ok)
    return error(cmd, "takes `none` or an socache provider with its arguments, e.g. `shmcb` or "
                      "`shmcb:/run/apache2/natomedia-sessions(1024000)`");
  conf_of(cmd)->session_cache = v;
  return nullptr;
}

template <typename T>
const std::optional<T>& pick(const std::optional<T>& add, const std::optional<T>& base) {
  return add ? add : base;
}

}  // namespace

// httpd's C++ view of cmd_func is `const char* (*)()`; every handler is cast to it, as C modules
// do implicitly.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"

#define NM_TAKE1(name, fn, where, help) \
  AP_INIT_TAKE1(name, reinterpret_cast<cmd_func>(fn), nullptr, where, help)

const command_rec kDirectives[] = {
    AP_INIT_FLAG("NatoMedia", reinterpret_cast<cmd_func>(set_enabled), nullptr, RSRC_CONF,
                 "On to serve the portal's routes in this server"),
    NM_TAKE1("NatoMediaBasePath", set_base_path, RSRC_CONF, "Prefix of every portal route"),
    NM_TAKE1("NatoMediaRemoteUser", set_remote_user, RSRC_CONF,
             "What httpd's user (r->user, %u, REMOTE_USER) holds for a signed-in visitor: email "
             "or id"),
    NM_TAKE1("NatoMediaPublicURL", set_public_url, RSRC_CONF,
             "Absolute base URL for links in mail"),
    NM_TAKE1("NatoMediaPluginDir", (set_directory<&ServerConf::plugin_dir, true>), RSRC_CONF,
             "Where bare plugin names are looked up"),
    NM_TAKE1("NatoMediaShareDir", (set_directory<&ServerConf::share_dir, true>), RSRC_CONF,
             "Where the default templates, strings and schemas are"),
    AP_INIT_ITERATE("NatoMediaPlugin", reinterpret_cast<cmd_func>(set_plugin), nullptr, RSRC_CONF,
                    "A plugin to load: a bare name or a path"),
    NM_TAKE1("NatoMediaSecretFile", set_secret_file, RSRC_CONF,
             "Key material (at least 32 bytes) for HMACs and signatures"),
    NM_TAKE1("NatoMediaMemcached", set_memcached, RSRC_CONF,
             "libmemcached configuration string, e.g. \"--SERVER=127.0.0.1:11211\""),
    NM_TAKE1("NatoMediaMailTransport", set_mail_transport, RSRC_CONF,
             "smtp://host:port, smtps://host:port or file:///dir"),
    NM_TAKE1("NatoMediaMailFrom", set_mail_from, RSRC_CONF, "Sender, \"Name <address>\""),
    NM_TAKE1("NatoMediaFeed", set_feed, RSRC_CONF, "The XML content feed"),
    NM_TAKE1("NatoMediaMediaRoot", (set_directory<&ServerConf::media_root, false>), RSRC_CONF,
             "Where rendition files live"),
    NM_TAKE1("NatoMediaTemplates", (set_directory<&ServerConf::templates, false>), RSRC_CONF,
             "Site overrides of templates"),
    NM_TAKE1("NatoMediaCodeLifetime", (set_seconds<&ServerConf::code_lifetime, 30, 86400>),
             RSRC_CONF, "Lifetime of emailed codes in seconds"),
    NM_TAKE1("NatoMediaResendCooldown", (set_seconds<&ServerConf::resend_cooldown, 0, 3600>),
             RSRC_CONF, "Least seconds between two codes to one address"),
    NM_TAKE1("NatoMediaSessionIdle",
             (set_seconds<&ServerConf::session_idle, core::kSessionIdleRange.min,
                          core::kSessionIdleRange.max>),
             RSRC_CONF, "Session idle lifetime in seconds"),
    NM_TAKE1("NatoMediaSessionMax",
             (set_seconds<&ServerConf::session_max, core::kSessionMaxRange.min,
                          core::kSessionMaxRange.max>),
             RSRC_CONF, "Session absolute lifetime in seconds"),
    NM_TAKE1("NatoMediaPasswordDenyList", (set_readable_file<&ServerConf::deny_list, true>),
             RSRC_CONF, "File of forbidden passwords, one a line"),
    NM_TAKE1("NatoMediaDownloadQuota", set_quota, RSRC_CONF,
             "Bytes a day one account may download"),
    NM_TAKE1("NatoMediaPreviewRendition", set_preview_rendition, RSRC_CONF,
             "The rendition /videos/ID/preview plays (default: the smallest video)"),
    NM_TAKE1("NatoMediaDownloadLogDays", set_download_log_days, RSRC_CONF,
             "Days a download-log row is kept"),
    NM_TAKE1("NatoMediaPruneInterval", (set_seconds<&ServerConf::prune_interval, 1, 86400>),
             RSRC_CONF, "Seconds between two runs of the retention task"),
    NM_TAKE1("NatoMediaSessionCache", set_session_cache, RSRC_CONF,
             "Where the children share what they read of sessions: an socache provider "
             "(default shmcb, when mod_socache_shmcb is loaded) or none"),
    NM_TAKE1("NatoMediaSessionCacheTimeout",
             (set_seconds<&ServerConf::session_cache_timeout, 1, kSessionCacheTimeoutMax>),
             RSRC_CONF,
             "Seconds a session read from SQL is believed from the session cache (default 2): "
             "how long a change made outside this server takes to be seen"),
    {nullptr, {nullptr}, nullptr, 0, RAW_ARGS, nullptr},
};

#pragma GCC diagnostic pop

void* create_server_conf(apr_pool_t* pool, server_rec*) {
  return pool_new<ServerConf>(pool);
}

// Written out field by field: a virtual host inherits what it does not set.
void* merge_server_conf(apr_pool_t* pool, void* base_v, void* add_v) {
  auto* base = static_cast<ServerConf*>(base_v);
  auto* add = static_cast<ServerConf*>(add_v);
  auto* m = static_cast<ServerConf*>(create_server_conf(pool, nullptr));
  m->enabled = add->enabled != -1 ? add->enabled : base->enabled;
  m->base_path = pick(add->base_path, base->base_path);
  m->public_url = pick(add->public_url, base->public_url);
  m->feed = pick(add->feed, base->feed);
  m->feed_where = add->feed ? add->feed_where : base->feed_where;
  m->media_root = pick(add->media_root, base->media_root);
  m->templates = pick(add->templates, base->templates);
  m->download_quota = pick(add->download_quota, base->download_quota);
  m->preview_rendition = pick(add->preview_rendition, base->preview_rendition);
  m->remote_user = pick(add->remote_user, base->remote_user);
  // Server-wide directives are only allowed in the main server: the vhost takes the main's.
  m->code_lifetime = base->code_lifetime;
  m->resend_cooldown = base->resend_cooldown;
  m->session_idle = base->session_idle;
  m->session_max = base->session_max;
  m->download_log_days = base->download_log_days;
  m->prune_interval = base->prune_interval;
  m->plugin_dir = base->plugin_dir;
  m->share_dir = base->share_dir;
  m->secret_file = base->secret_file;
  m->memcached = base->memcached;
  m->mail_transport = base->mail_transport;
  m->mail_from = base->mail_from;
  m->deny_list = base->deny_list;
  m->session_cache = base->session_cache;
  m->session_cache_timeout = base->session_cache_timeout;
  m->plugins = base->plugins;
  return m;
}

std::string missing_required(server_rec* s) {
  ServerConf* c = server_conf(s);
  std::string out;
  auto need = [&](bool present, const char* text) {
    if (!present) out += (out.empty() ? "" : "; ") + std::string(text);
  };
  need(c->secret_file.has_value(),
       "NatoMediaSecretFile is required: a file of at least 32 random bytes, the same on every "
       "server (the Debian package makes /etc/apache2/natomedia.key; docs/installing.md)");
  need(c->mail_transport.has_value(),
       "NatoMediaMailTransport is required: smtp://host:port, smtps://host:port or file:///dir");
  need(c->mail_from.has_value(),
       "NatoMediaMailFrom is required, e.g. NatoMediaMailFrom \"Media <noreply@example.org>\"");
  for (server_rec* v = s; v; v = v->next) {
    ServerConf* vc = server_conf(v);
    if (vc->enabled == 1 && !vc->public_url && !c->public_url && c->mail_transport) {
      need(false, "NatoMediaPublicURL is required to send mail: links in mail are built from it, "
                  "never from the Host header (e.g. NatoMediaPublicURL https://media.example.org)");
      break;
    }
  }
  bool verification = false;
  for (const auto& p : c->plugins)
    if (p.name_or_path == "verification" ||
        p.name_or_path.find("natomedia_verification") != std::string::npos)
      verification = true;
  need(!verification || c->memcached.has_value(),
       "NatoMediaMemcached is required by the verification plugin, e.g. "
       "NatoMediaMemcached \"--SERVER=127.0.0.1:11211\"");
  if (c->session_idle && c->session_max && *c->session_idle > *c->session_max)
    need(false, "NatoMediaSessionIdle must not exceed NatoMediaSessionMax");
  return out;
}

SiteConfig site_config(server_rec* s, const SiteConfig& server_wide) {
  ServerConf* c = server_conf(s);
  SiteConfig site = server_wide;
  site.enabled = c->enabled == 1;
  site.base_path = c->base_path.value_or("");
  site.public_url = c->public_url.value_or("");
  site.feed_path = c->feed.value_or("");
  site.media_root = c->media_root.value_or("");
  site.templates_dir = c->templates.value_or("");
  site.download_quota = c->download_quota.value_or(0);
  site.preview_rendition = c->preview_rendition.value_or("");
  return site;
}

core::RuntimeSettings runtime_settings(server_rec* s, const std::string& prefix) {
  ServerConf* c = server_conf(s);
  core::RuntimeSettings settings;
  SiteConfig& w = settings.server;
  w.code_lifetime = c->code_lifetime.value_or(1800);
  w.resend_cooldown = c->resend_cooldown.value_or(60);
  w.session_idle = c->session_idle.value_or(1800);
  w.session_max = c->session_max.value_or(43200);
  w.download_log_days = c->download_log_days.value_or(400);
  w.mail_transport = c->mail_transport.value_or("");
  w.mail_from = c->mail_from.value_or("");
  w.memcached = c->memcached.value_or("");
  w.password_deny_list = c->deny_list.value_or("");
  w.share_dir = c->share_dir.value_or(prefix + "/share/natomedia");
  // The module sets it to 0 when there is no session cache after all.
  w.session_cache_lifetime = c->session_cache_timeout.value_or(kSessionCacheTimeoutDefault);
  settings.server = site_config(s, w);
  settings.plugin_dir = c->plugin_dir.value_or(prefix + "/lib/natomedia/plugins");
  settings.secret_file = c->secret_file.value_or("");
  settings.plugins = c->plugins;
  settings.prune_interval = c->prune_interval.value_or(600);
  return settings;
}

}  // namespace natomedia::module
