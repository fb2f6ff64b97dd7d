// natomedia::Sql over apr-util's DBD layer. Inside httpd the connection comes from mod_dbd
// (ap_dbd_acquire); natomedia-admin and the unit tests open their own with open_dbd().
#pragma once

#include <memory>
#include <string>

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <natomedia/services.h>

namespace natomedia::core {

class DbdSql : public Sql {
 public:
  // `conn_pool` lives as long as the connection and holds the prepared statements, cached in
  // `prepared` (keyed by SQL text; mod_dbd's ap_dbd_t::prepared when the connection is mod_dbd's).
  // `work_pool` holds results while they are copied out (a request's pool).
  DbdSql(const apr_dbd_driver_t* driver, apr_dbd_t* handle, apr_pool_t* conn_pool,
         apr_hash_t* prepared, apr_pool_t* work_pool);
  ~DbdSql() override;

  Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>& params) override;
  Result<int> exec(const std::string& sql, const std::vector<SqlValue>& params) override;
  Status begin() override;
  Status commit() override;
  Status rollback() override;
  std::string driver() const override;

  // Runs SQL text that takes no parameters without preparing it (schema migrations, PRAGMA).
  Status exec_raw(const std::string& sql);

 private:
  Result<apr_dbd_prepared_t*> prepare(const std::string& sql, bool* from_cache);
  bool forget_stale(const std::string& sql, bool from_cache);
  bool pgsql_connection_alive();
  std::string error_text(int rv) const;

  const apr_dbd_driver_t* driver_;
  apr_dbd_t* handle_;
  apr_pool_t* conn_pool_;
  apr_hash_t* prepared_;
  apr_pool_t* work_pool_;
  apr_dbd_transaction_t* transaction_ = nullptr;
};

// A Sql whose every call is Unavailable: what a request gets when no connection could be had.
class UnavailableSql : public Sql {
 public:
  explicit UnavailableSql(std::string why) : why_(std::move(why)) {}
  Result<SqlRows> query(const std::string&, const std::vector<SqlValue>&) override { return fail(); }
  Result<int> exec(const std::string&, const std::vector<SqlValue>&) override { return fail(); }
  Status begin() override { return fail(); }
  Status commit() override { return fail(); }
  Status rollback() override { return fail(); }
  std::string driver() const override { return ""; }

 private:
  Status fail() const { return Status::Unavailable(why_); }
  std::string why_;
};

// An owned connection for tools and tests: closes on destruction. `pool` must outlive it.
class OwnedDbdSql : public DbdSql {
 public:
  OwnedDbdSql(const apr_dbd_driver_t* driver, apr_dbd_t* handle, apr_pool_t* pool);
  ~OwnedDbdSql() override;

 private:
  const apr_dbd_driver_t* owned_driver_;
  apr_dbd_t* owned_handle_;
};

// Opens `driver_name` ("sqlite3", "pgsql") with DBDParams-style `params`. Calls apr_dbd_init once.
Result<std::unique_ptr<OwnedDbdSql>> open_dbd(const std::string& driver_name,
                                              const std::string& params, apr_pool_t* pool);

}  // namespace natomedia::core
