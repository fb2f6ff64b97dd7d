// MailSender against a real SQLite outbox: the Maildir transport, SMTP to a real aiosmtpd and to
// the project's SMTP sink told to fail, back-off on a fake clock, the 24-hour give-up, claims.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include "local_server.h"
#include "support/fakes.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/mail_outbox.h"
#include "core/mail_sender.h"
#include "core/migrations.h"
#include "core/sql_dbd.h"

using natomedia::MailMessage;
using natomedia::core::MailIdentity;
using natomedia::core::MailSender;
using natomedia::core::MailTransport;

namespace {

using natomedia::testing::CountingMetrics;
using natomedia::testing::FakeClock;
using natomedia::testing::free_port;
using natomedia::testing::LocalServer;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

// A Python SMTP server (Debian's interpreter sees python3-aiosmtpd), its output in a file,
// stopped by its PID.
class PythonSmtp {
 public:
  PythonSmtp(std::vector<std::string> args, std::string log) : args_(std::move(args)), log_(log) {}

  bool start(int port) {
    process_ = std::make_unique<LocalServer>(args_, port, log_);
    return process_->start();
  }
  void stop() {
    if (process_) process_->stop();
  }
  std::string output() const { return read_file(log_); }

 private:
  std::vector<std::string> args_;
  std::string log_;
  std::unique_ptr<LocalServer> process_;
};

}  // namespace

class MailSenderTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MailSenderTest);
  CPPUNIT_TEST(testBackoffSchedule);
  CPPUNIT_TEST(testFileTransportDeliversInOrder);
  CPPUNIT_TEST(testMaxMessagesAndDueTime);
  CPPUNIT_TEST(testRetryBackoffAndGiveUp);
  CPPUNIT_TEST(testClaimedMessageIsLeftAlone);
  CPPUNIT_TEST(testSmtpToAiosmtpd);
  CPPUNIT_TEST(testSmtpTemporaryFailureThenOnce);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    apr_initialize();
    apr_pool_create(&pool_, nullptr);
    char tmpl[] = "/tmp/nm-mail-sender-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto sql = natomedia::core::open_dbd("sqlite3", dir_ + "/outbox.db", pool_);
    CPPUNIT_ASSERT_MESSAGE(sql.ok() ? "" : sql.status().message(), sql.ok());
    sql_ = std::move(*sql);
    std::vector<natomedia::core::OwnedMigration> ms;
    for (auto& m : natomedia::core::core_migrations()) ms.push_back({"core", m});
    auto r = natomedia::core::migrate(*sql_, ms);
    CPPUNIT_ASSERT_MESSAGE(r.ok() ? "" : r.status().message(), r.ok());
  }

  void tearDown() override {
    sql_.reset();
    apr_pool_destroy(pool_);
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, system(cmd.c_str()));
  }

  void testBackoffSchedule() {
    CPPUNIT_ASSERT_EQUAL(30L, MailSender::backoff_seconds(0));
    CPPUNIT_ASSERT_EQUAL(60L, MailSender::backoff_seconds(1));
    CPPUNIT_ASSERT_EQUAL(1920L, MailSender::backoff_seconds(6));
    CPPUNIT_ASSERT_EQUAL(3600L, MailSender::backoff_seconds(7));
    CPPUNIT_ASSERT_EQUAL(3600L, MailSender::backoff_seconds(1000));
  }

  void testFileTransportDeliversInOrder() {
    MailSender sender(file_transport(), "noreply@example.org", metrics_, clock_);
    for (int i = 1; i <= 3; ++i) queue("user" + std::to_string(i) + "@example.com", i);
    auto r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT(r.ok());
    CPPUNIT_ASSERT_EQUAL(3, r->sent);
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, metrics_.counts["natomedia_mails_sent_total"]);
    CPPUNIT_ASSERT(list_dir(dir_ + "/mail/tmp").empty());
    auto files = list_dir(dir_ + "/mail/new");
    CPPUNIT_ASSERT_EQUAL(size_t{3}, files.size());
    std::map<std::string, int> recipients;
    for (const auto& f : files) {
      std::string m = read_file(dir_ + "/mail/new/" + f);
      CPPUNIT_ASSERT(m.find("\r\n") == std::string::npos);  // Maildir: local line ends
      CPPUNIT_ASSERT(m.find("Subject: Your verification code") != std::string::npos);
      for (int i = 1; i <= 3; ++i)
        if (m.find("To: user" + std::to_string(i) + "@example.com\n") != std::string::npos)
          recipients["user" + std::to_string(i)]++;
    }
    CPPUNIT_ASSERT_EQUAL(size_t{3}, recipients.size());
    auto rows = sql_->query("SELECT status, sent_at, attempts FROM mail_outbox ORDER BY id", {});
    CPPUNIT_ASSERT(rows.ok());
    for (size_t i = 0; i < rows->size(); ++i) {
      CPPUNIT_ASSERT_EQUAL(std::string("sent"), rows->text(i, "status"));
      CPPUNIT_ASSERT_EQUAL(static_cast<long long>(clock_.t), rows->integer(i, "sent_at"));
    }
    // No codes at rest: a delivered message's text is gone; the record of it stays.
    for (int id = 1; id <= 3; ++id) {
      CPPUNIT_ASSERT_EQUAL(std::string(), text(id, "message"));
      CPPUNIT_ASSERT_EQUAL("user" + std::to_string(id) + "@example.com", text(id, "recipient"));
      CPPUNIT_ASSERT_EQUAL(std::string("Your verification code"), text(id, "subject"));
    }
    // Nothing is sent twice.
    auto again = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT(again.ok());
    CPPUNIT_ASSERT_EQUAL(0, again->sent);
    CPPUNIT_ASSERT_EQUAL(size_t{3}, list_dir(dir_ + "/mail/new").size());
  }

  void testMaxMessagesAndDueTime() {
    MailSender sender(file_transport(), "noreply@example.org", metrics_, clock_);
    for (int i = 1; i <= 3; ++i) queue("user" + std::to_string(i) + "@example.com", i);
    // A message that is not yet due waits.
    sql_->exec("UPDATE mail_outbox SET next_attempt_at = %s WHERE id = 1",
               {std::to_string(clock_.t + 100)});
    auto r = sender.deliver_due(*sql_, 1);
    CPPUNIT_ASSERT(r.ok());
    CPPUNIT_ASSERT_EQUAL(1, r->sent);
    CPPUNIT_ASSERT_EQUAL(std::string("queued"), status_of(1));
    CPPUNIT_ASSERT_EQUAL(std::string("sent"), status_of(2));  // oldest due first
    CPPUNIT_ASSERT_EQUAL(std::string("queued"), status_of(3));
    clock_.t += 100;
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(2, r->sent);
  }

  void testRetryBackoffAndGiveUp() {
    // Nothing listens on this port: every attempt fails at connect.
    MailTransport t;
    t.kind = MailTransport::Kind::kSmtp;
    t.url = "smtp://127.0.0.1:" + std::to_string(free_port());
    MailSender sender(t, "noreply@example.org", metrics_, clock_);
    queue("someone@example.com", 123456);
    const std::time_t created = clock_.t;

    auto r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT(r.ok());
    CPPUNIT_ASSERT_EQUAL(1, r->retried);
    CPPUNIT_ASSERT_EQUAL(1LL, field(1, "attempts"));
    CPPUNIT_ASSERT_EQUAL(static_cast<long long>(clock_.t + 30), field(1, "next_attempt_at"));
    std::string error = text(1, "last_error");
    CPPUNIT_ASSERT_MESSAGE(error, error.find("smtp:") == 0);
    CPPUNIT_ASSERT(error.find("123 456") == std::string::npos);  // never the content

    // Not due before its time.
    clock_.t += 29;
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(0, r->retried);
    CPPUNIT_ASSERT_EQUAL(1LL, field(1, "attempts"));

    // Due again: the wait doubles each time, capped at an hour.
    long expected_wait = 60;
    int attempts = 1;
    while (clock_.t + 3600 < created + MailSender::kGiveUpSeconds) {
      clock_.t = field(1, "next_attempt_at");
      r = sender.deliver_due(*sql_, 10);
      CPPUNIT_ASSERT_EQUAL(1, r->retried);
      ++attempts;
      CPPUNIT_ASSERT_EQUAL(static_cast<long long>(attempts), field(1, "attempts"));
      CPPUNIT_ASSERT_EQUAL(static_cast<long long>(clock_.t + expected_wait),
                           field(1, "next_attempt_at"));
      expected_wait = std::min(expected_wait * 2, 3600L);
    }
    CPPUNIT_ASSERT_EQUAL(std::string("queued"), status_of(1));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, metrics_.counts["natomedia_mails_failed_total"]);

    // 24 hours after it was queued the next failure gives up.
    clock_.t = std::max<std::time_t>(created + MailSender::kGiveUpSeconds,
                                     field(1, "next_attempt_at"));
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(1, r->failed);
    CPPUNIT_ASSERT_EQUAL(std::string("failed"), status_of(1));
    // It keeps its text (for `outbox retry`) and says when it failed, for the pruner.
    CPPUNIT_ASSERT(text(1, "message").find("Subject: Your verification code") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(static_cast<long long>(clock_.t), field(1, "failed_at"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, metrics_.counts["natomedia_mails_failed_total"]);
    CPPUNIT_ASSERT_EQUAL(static_cast<uint64_t>(attempts + 1),
                         metrics_.counts["natomedia_mail_attempt_errors_total"]);
    clock_.t += 7 * 24 * 3600;
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(0, r->failed + r->retried + r->sent);
  }

  void testClaimedMessageIsLeftAlone() {
    MailSender sender(file_transport(), "noreply@example.org", metrics_, clock_);
    queue("a@example.com", 1);
    queue("b@example.com", 2);
    // Another server holds a live claim on message 1.
    sql_->exec("UPDATE mail_outbox SET claimed_by = 'other', claimed_until = %s WHERE id = 1",
               {std::to_string(clock_.t + 60)});
    auto r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(1, r->sent);
    CPPUNIT_ASSERT_EQUAL(std::string("queued"), status_of(1));
    // A claim whose holder died lapses.
    clock_.t += 61;
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(1, r->sent);
    CPPUNIT_ASSERT_EQUAL(std::string("sent"), status_of(1));
    CPPUNIT_ASSERT_EQUAL(size_t{2}, list_dir(dir_ + "/mail/new").size());
  }

  void testSmtpToAiosmtpd() {
    const int port = free_port();
    PythonSmtp server({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-d", "-l",
                       "127.0.0.1:" + std::to_string(port)},
                      dir_ + "/aiosmtpd.log");
    CPPUNIT_ASSERT_MESSAGE(server.output(), server.start(port));
    MailSender sender(smtp_transport(port), "noreply@example.org", metrics_, clock_);
    queue("reader@example.com", 424242);
    auto r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT(r.ok());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(text(1, "last_error"), 1, r->sent);
    std::string out;
    for (int i = 0; i < 500; ++i) {
      out = server.output();
      if (out.find("END MESSAGE") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CPPUNIT_ASSERT_MESSAGE(out, out.find("MAIL FROM:<noreply@example.org>") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(out, out.find("RCPT TO:<reader@example.com>") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(out, out.find("Subject: Your verification code") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("sent"), status_of(1));
  }

  void testSmtpTemporaryFailureThenOnce() {
    const int port = free_port();
    const std::string store = dir_ + "/sink";
    mkdir(store.c_str(), 0755);
    PythonSmtp sink({"/usr/bin/python3", std::string(NM_SOURCE_DIR) +
                     "/tests/integration/smtp_sink.py", "--port", std::to_string(port),
                     "--dir", store},
                    dir_ + "/sink.log");
    std::ofstream(store + "/.fail").close();
    CPPUNIT_ASSERT_MESSAGE(sink.output(), sink.start(port));
    MailSender sender(smtp_transport(port), "noreply@example.org", metrics_, clock_);
    queue("reader@example.com", 111222);

    auto r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(1, r->retried);
    std::string error = text(1, "last_error");
    CPPUNIT_ASSERT_MESSAGE(error, error.find("451") != std::string::npos);
    CPPUNIT_ASSERT(list_dir(store).empty());

    unlink((store + "/.fail").c_str());
    clock_.t += 30;
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(1, r->sent);
    r = sender.deliver_due(*sql_, 10);
    CPPUNIT_ASSERT_EQUAL(0, r->sent);
    auto files = list_dir(store);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, files.size());
    std::string m = read_file(store + "/" + files[0]);
    CPPUNIT_ASSERT(m.find("X-Sink-Envelope-From: <noreply@example.org>") != std::string::npos ||
                   m.find("X-Sink-Envelope-From: noreply@example.org") != std::string::npos);
    CPPUNIT_ASSERT(m.find("X-Sink-Envelope-To: reader@example.com") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(2LL, field(1, "attempts"));
    CPPUNIT_ASSERT_EQUAL(std::string(), text(1, "message"));  // delivered: the text is gone
  }

 private:
  MailTransport file_transport() const {
    MailTransport t;
    t.kind = MailTransport::Kind::kFile;
    t.dir = dir_ + "/mail";
    t.url = "file://" + t.dir;
    return t;
  }

  static MailTransport smtp_transport(int port) {
    MailTransport t;
    t.kind = MailTransport::Kind::kSmtp;
    t.url = "smtp://127.0.0.1:" + std::to_string(port);
    return t;
  }

  // Queues a message the way SqlOutbox does, with the code in its text part.
  void queue(const std::string& to, int code) {
    MailMessage m;
    m.to = to;
    m.subject = "Your verification code";
    char digits[16];
    snprintf(digits, sizeof digits, "%03d %03d", code / 1000 % 1000, code % 1000);
    m.text = std::string("Your code: ") + digits + "\n";
    m.html = std::string("<p>Your code: <strong>") + digits + "</strong></p>";
    MailIdentity from{"NATO Multimedia <noreply@example.org>", "example.org",
                      "noreply@example.org"};
    const std::string serial = std::to_string(++serial_);
    std::string mime = natomedia::core::compose_mime(m, from, clock_.t, serial + "@example.org",
                                                     "=_b" + serial);
    auto r = sql_->exec(
        "INSERT INTO mail_outbox (recipient, subject, message, status, attempts, created_at,"
        " next_attempt_at) VALUES (%s, %s, %s, 'queued', 0, %s, %s)",
        {to, m.subject, mime, std::to_string(clock_.t), std::to_string(clock_.t)});
    CPPUNIT_ASSERT(r.ok());
  }

  std::string text(int id, const std::string& column) {
    auto rows = sql_->query("SELECT * FROM mail_outbox WHERE id = %s", {std::to_string(id)});
    CPPUNIT_ASSERT(rows.ok() && rows->size() == 1);
    return rows->text(0, column);
  }
  long long field(int id, const std::string& column) { return std::stoll(text(id, column)); }
  std::string status_of(int id) { return text(id, "status"); }

  apr_pool_t* pool_ = nullptr;
  std::string dir_;
  std::unique_ptr<natomedia::core::OwnedDbdSql> sql_;
  FakeClock clock_;
  CountingMetrics metrics_;
  int serial_ = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailSenderTest);
