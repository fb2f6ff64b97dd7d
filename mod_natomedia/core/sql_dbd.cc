#include "core/sql_dbd.h"

#include <mutex>

namespace natomedia::core {

DbdSql::DbdSql(const apr_dbd_driver_t* driver, apr_dbd_t* handle, apr_pool_t* conn_pool,
               apr_hash_t* prepared, apr_pool_t* work_pool)
    : driver_(driver), handle_(handle), conn_pool_(conn_pool),
      prepared_(prepared ? prepared : apr_hash_make(conn_pool)), work_pool_(work_pool) {}

DbdSql::~DbdSql() {
  // A transaction a caller forgot is rolled back, never committed by accident.
  if (transaction_) rollback();
}

std::string DbdSql::driver() const { return apr_dbd_name(driver_); }

std::string DbdSql::error_text(int rv) const {
  const char* e = apr_dbd_error(driver_, handle_, rv);
  return e ? e : ("error " + std::to_string(rv));
}

Result<apr_dbd_prepared_t*> DbdSql::prepare(const std::string& sql, bool* from_cache) {
  void* cached = apr_hash_get(prepared_, sql.data(), static_cast<apr_ssize_t>(sql.size()));
  if (from_cache) *from_cache = cached != nullptr;
  if (cached) return static_cast<apr_dbd_prepared_t*>(cached);
  // With no label apr-util's PostgreSQL driver sends each execution with PQexecParams and
  // untyped parameters, so the server infers each parameter's type from the statement (a named
  // PREPARE would declare every %s varchar and refuse `integer_column = $1`). The parameters
  // still travel apart from the SQL text. SQLite ignores the label.
  apr_dbd_prepared_t* stmt = nullptr;
  const char* text = apr_pstrmemdup(conn_pool_, sql.data(), sql.size());
  const char* lab = nullptr;
  int rv = apr_dbd_prepare(driver_, conn_pool_, handle_, text, lab, &stmt);
  if (rv != 0 || !stmt) return Status::Internal("SQL prepare failed: " + error_text(rv));
  apr_hash_set(prepared_, text, static_cast<apr_ssize_t>(sql.size()), stmt);
  return stmt;
}

// apr-util's SQLite driver prepares with the legacy sqlite3_prepare(), whose statements fail
// once the schema changes (a migration, possibly by another process). Such a statement is
// forgotten and prepared again, once.
bool DbdSql::forget_stale(const std::string& sql, bool from_cache) {
  if (!from_cache || driver() != "sqlite3") return false;
  apr_hash_set(prepared_, sql.data(), static_cast<apr_ssize_t>(sql.size()), nullptr);
  return true;
}

// apr_dbd takes parameters as C strings; NULL stands for SQL NULL.
static std::vector<const char*> as_args(const std::vector<SqlValue>& params) {
  std::vector<const char*> args;
  args.reserve(params.size());
  for (const auto& p : params) args.push_back(p ? p->c_str() : nullptr);
  return args;
}

Result<SqlRows> DbdSql::query(const std::string& sql, const std::vector<SqlValue>& params) {
  auto args = as_args(params);
  apr_pool_t* pool;
  apr_pool_create(&pool, work_pool_);
  apr_dbd_results_t* res = nullptr;
  int rv = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool from_cache = false;
    auto stmt = prepare(sql, &from_cache);
    if (!stmt.ok()) {
      apr_pool_destroy(pool);
      return stmt.status();
    }
    // Random access (1): the whole result at once, which is what the PostgreSQL driver needs to
    // know the column names and count; rows are copied out right away in any case.
    rv = apr_dbd_pselect(driver_, pool, handle_, &res, *stmt, 1, static_cast<int>(args.size()),
                         args.data());
    if (rv == 0 || !forget_stale(sql, from_cache)) break;
  }
  if (rv != 0) {
    std::string err = "SQL query failed: " + error_text(rv);
    apr_pool_destroy(pool);
    return Status::Unavailable(err);
  }
  SqlRows out;
  const int cols = apr_dbd_num_cols(driver_, res);
  for (int c = 0; c < cols; ++c) {
    const char* name = apr_dbd_get_name(driver_, res, c);
    out.columns.emplace_back(name ? name : "");
  }
  apr_dbd_row_t* row = nullptr;
  while (apr_dbd_get_row(driver_, pool, res, &row, -1) == 0) {
    std::vector<SqlValue> values;
    values.reserve(cols);
    for (int c = 0; c < cols; ++c) {
      const char* v = apr_dbd_get_entry(driver_, row, c);
      values.push_back(v ? SqlValue(v) : std::nullopt);
    }
    out.rows.push_back(std::move(values));
  }
  apr_pool_destroy(pool);
  return out;
}

Result<int> DbdSql::exec(const std::string& sql, const std::vector<SqlValue>& params) {
  auto args = as_args(params);
  int nrows = 0;
  int rv = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool from_cache = false;
    auto stmt = prepare(sql, &from_cache);
    if (!stmt.ok()) return stmt.status();
    rv = apr_dbd_pquery(driver_, work_pool_, handle_, &nrows, *stmt,
                        static_cast<int>(args.size()), args.data());
    if (rv == 0 || !forget_stale(sql, from_cache)) break;
  }
  if (rv != 0) {
    std::string err = error_text(rv);
    // Uniqueness violations are the caller's business (a second registration, a race).
    if (err.find("UNIQUE") != std::string::npos || err.find("unique") != std::string::npos ||
        err.find("duplicate key") != std::string::npos)
      return Status::Conflict("SQL constraint: " + err);
    return Status::Unavailable("SQL statement failed: " + err);
  }
  return nrows;
}

Status DbdSql::exec_raw(const std::string& sql) {
  int nrows = 0;
  int rv = apr_dbd_query(driver_, handle_, &nrows, sql.c_str());
  if (rv != 0) return Status::Internal("SQL failed: " + error_text(rv));
  return Status::Ok();
}

// apr-util's PostgreSQL driver dereferences a null transaction when BEGIN gets an error result
// (a connection the server dropped, e.g. after a restart): a segfault. So BEGIN only goes to a
// connection that just answered; a dropped one is reconnected once first.
bool DbdSql::pgsql_connection_alive() {
  int nrows = 0;
  if (apr_dbd_query(driver_, handle_, &nrows, "SELECT 1") == 0) return true;
  return apr_dbd_check_conn(driver_, conn_pool_, handle_) == APR_SUCCESS &&
         apr_dbd_query(driver_, handle_, &nrows, "SELECT 1") == 0;
}

Status DbdSql::begin() {
  if (transaction_) return Status::Internal("a transaction is already open on this connection");
  if (driver() == "pgsql" && !pgsql_connection_alive())
    return Status::Unavailable("cannot start a transaction: the database connection is down");
  int rv = apr_dbd_transaction_start(driver_, conn_pool_, handle_, &transaction_);
  if (rv != 0) {
    const std::string why = error_text(rv);
    // apr-util's drivers attach the transaction to the handle even when BEGIN failed (SQLite
    // busy); left there, every later statement on this pooled connection fails. End it.
    if (transaction_) {
      apr_dbd_transaction_mode_set(driver_, transaction_, APR_DBD_TRANSACTION_ROLLBACK);
      apr_dbd_transaction_end(driver_, conn_pool_, transaction_);
    }
    transaction_ = nullptr;
    return Status::Unavailable("cannot start a transaction: " + why);
  }
  // A stale SQLite statement must be able to fail once and be retried inside the transaction;
  // our callers decide on failures themselves (transaction() rolls back on any error).
  if (driver() == "sqlite3")
    apr_dbd_transaction_mode_set(driver_, transaction_,
                                 APR_DBD_TRANSACTION_COMMIT | APR_DBD_TRANSACTION_IGNORE_ERRORS);
  return Status::Ok();
}

Status DbdSql::commit() {
  if (!transaction_) return Status::Internal("commit without a transaction");
  // apr_dbd rolls back instead when a statement inside the transaction failed.
  const bool failed = apr_dbd_transaction_mode_get(driver_, transaction_) &
                      APR_DBD_TRANSACTION_ROLLBACK;
  int rv = apr_dbd_transaction_end(driver_, conn_pool_, transaction_);
  transaction_ = nullptr;
  if (rv != 0) return Status::Unavailable("commit failed: " + error_text(rv));
  if (failed) return Status::Unavailable("transaction rolled back");
  return Status::Ok();
}

Status DbdSql::rollback() {
  if (!transaction_) return Status::Ok();
  apr_dbd_transaction_mode_set(driver_, transaction_, APR_DBD_TRANSACTION_ROLLBACK);
  int rv = apr_dbd_transaction_end(driver_, conn_pool_, transaction_);
  transaction_ = nullptr;
  if (rv != 0) return Status::Unavailable("rollback failed: " + error_text(rv));
  return Status::Ok();
}

OwnedDbdSql::OwnedDbdSql(const apr_dbd_driver_t* driver, apr_dbd_t* handle, apr_pool_t* pool)
    : DbdSql(driver, handle, pool, nullptr, pool), owned_driver_(driver), owned_handle_(handle) {}

OwnedDbdSql::~OwnedDbdSql() {
  rollback();
  apr_dbd_close(owned_driver_, owned_handle_);
}

Result<std::unique_ptr<OwnedDbdSql>> open_dbd(const std::string& driver_name,
                                              const std::string& params, apr_pool_t* pool) {
  static std::once_flag once;
  std::call_once(once, [pool] { apr_dbd_init(pool); });
  const apr_dbd_driver_t* driver = nullptr;
  apr_status_t rv = apr_dbd_get_driver(pool, driver_name.c_str(), &driver);
  if (rv != APR_SUCCESS)
    return Status::Invalid("no apr-util DBD driver '" + driver_name +
                           "' (install libaprutil1-dbd-" + driver_name + ")");
  apr_dbd_t* handle = nullptr;
  const char* err = nullptr;
  rv = apr_dbd_open_ex(driver, pool, params.c_str(), &handle, &err);
  if (rv != APR_SUCCESS || !handle)
    return Status::Unavailable("cannot open " + driver_name + " database: " +
                               (err ? err : "unknown error"));
  return std::make_unique<OwnedDbdSql>(driver, handle, pool);
}

}  // namespace natomedia::core
