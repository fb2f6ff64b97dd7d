// The accounts table's credential epoch over a real SQLite database with the plugin's own
// migrations: an account made before the epoch existed starts at 0 after the upgrade; a new
// password and a new address move it on; re-hashing the same password does not.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/kit.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "account_store.h"
#include "schema.h"

namespace natomedia::auth {
namespace {

class AccountStoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AccountStoreTest);
  CPPUNIT_TEST(testExistingAccountsStartAtEpochZero);
  CPPUNIT_TEST(testPasswordAndAddressChangesMoveTheEpoch);
  CPPUNIT_TEST(testRehashKeepsTheEpoch);
  CPPUNIT_TEST(testAddressTakenIsConflictAndKeepsTheEpoch);
  CPPUNIT_TEST(testOnlyAPendingHolderIsDeleted);
  CPPUNIT_TEST_SUITE_END();

  // The plugin test kit's in-memory SQLite, with the module's migration runner.
  std::unique_ptr<natomedia::testing::TestDatabase> db_;
  natomedia::Sql* sql_ = nullptr;

  void migrate_up_to(int version) {
    std::vector<natomedia::Migration> all;
    for (auto& m : schema_migrations())
      if (m.version <= version) all.push_back(m);
    auto report = db_->migrate("authentication", all);
    CPPUNIT_ASSERT_MESSAGE(report.message(), report.ok());
  }

  int64_t epoch_of(int64_t id) {
    auto a = find_account_by_id(*sql_, id);
    CPPUNIT_ASSERT_MESSAGE(a.status().message(), a.ok());
    return a->account.credential_epoch;
  }

  int64_t new_account(const std::string& email) {
    auto a =
        insert_account(*sql_, email, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "en", 1000);
    CPPUNIT_ASSERT_MESSAGE(a.status().message(), a.ok());
    return a->id;
  }

 public:
  void setUp() override {
    db_ = std::make_unique<natomedia::testing::TestDatabase>();
    sql_ = &db_->sql();
  }

  void tearDown() override {
    sql_ = nullptr;
    db_.reset();
  }

  void testExistingAccountsStartAtEpochZero() {
    migrate_up_to(1);
    auto old = sql_->exec(
        "INSERT INTO accounts (email, password_hash, state, created_at) "
        "VALUES ('old@example.org', 'x', 'verified', 1)",
        {});
    CPPUNIT_ASSERT(old.ok());
    auto grant = sql_->exec(
        "INSERT INTO password_reset_grants (grant_hash, account_id, expires_at) "
        "VALUES ('h', 1, 2)",
        {});
    CPPUNIT_ASSERT(grant.ok());
    migrate_up_to(2);
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, epoch_of(1));
    auto rows = sql_->query("SELECT credential_epoch FROM password_reset_grants", {});
    CPPUNIT_ASSERT(rows.ok() && rows->size() == 1);
    CPPUNIT_ASSERT_EQUAL(0LL, rows->integer(0, "credential_epoch"));
  }

  void testPasswordAndAddressChangesMoveTheEpoch() {
    migrate_up_to(2);
    const int64_t id = new_account("ann@example.org");
    const int64_t other = new_account("bob@example.org");
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, epoch_of(id));
    CPPUNIT_ASSERT(set_password(*sql_, id, "$argon2id$new", 2000).ok());
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, epoch_of(id));
    CPPUNIT_ASSERT(change_email(*sql_, id, "ann.lee@example.org").ok());
    CPPUNIT_ASSERT_EQUAL(int64_t{2}, epoch_of(id));
    auto moved = find_account_by_email(*sql_, "ann.lee@example.org");
    CPPUNIT_ASSERT(moved.ok() && moved->account.id == id);
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, epoch_of(other));  // nobody else's
    CPPUNIT_ASSERT(set_password(*sql_, 999, "x", 1).code() == Status::Code::kNotFound);
    CPPUNIT_ASSERT(change_email(*sql_, 999, "x@example.org").code() == Status::Code::kNotFound);
  }

  void testRehashKeepsTheEpoch() {
    migrate_up_to(2);
    const int64_t id = new_account("ann@example.org");
    CPPUNIT_ASSERT(replace_password_hash(*sql_, id, "$argon2id$stronger").ok());
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, epoch_of(id));
  }

  void testAddressTakenIsConflictAndKeepsTheEpoch() {
    migrate_up_to(2);
    const int64_t id = new_account("ann@example.org");
    new_account("bob@example.org");
    CPPUNIT_ASSERT(change_email(*sql_, id, "bob@example.org").code() == Status::Code::kConflict);
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, epoch_of(id));
  }

  // The change of address takes an address from a registration never verified, never from a
  // verified account.
  void testOnlyAPendingHolderIsDeleted() {
    migrate_up_to(3);
    const int64_t id = new_account("ann@example.org");
    new_account("pending@example.org");
    const int64_t verified = new_account("bob@example.org");
    CPPUNIT_ASSERT(mark_account_verified(*sql_, verified, 1500).ok());
    auto none = delete_pending_account(*sql_, "bob@example.org");
    CPPUNIT_ASSERT(none.ok() && *none == 0);
    CPPUNIT_ASSERT(find_account_by_id(*sql_, verified).ok());
    auto gone = delete_pending_account(*sql_, "pending@example.org");
    CPPUNIT_ASSERT_MESSAGE(gone.status().message(), gone.ok() && *gone == 1);
    CPPUNIT_ASSERT(find_account_by_email(*sql_, "pending@example.org").status().code() ==
                   Status::Code::kNotFound);
    CPPUNIT_ASSERT(change_email(*sql_, id, "pending@example.org").ok());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AccountStoreTest);

}  // namespace
}  // namespace natomedia::auth
