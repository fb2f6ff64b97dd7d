#include "admin_help.h"

#include <map>

namespace natomedia::admin {

namespace {

const char* kExitCodes =
    "\n"
    "Exit status: 0 done, 1 failed or not found, 64 wrong usage, 69 database unavailable,\n"
    "78 configuration error.\n";

const std::map<std::string, std::string>& texts() {
  static const std::map<std::string, std::string> t = {
      {"accounts",
       "usage: natomedia-admin [--config FILE | --db D:P] accounts list [--state STATE] [--json]\n"
       "       natomedia-admin [--config FILE | --db D:P] accounts show [--json] EMAIL\n"
       "       natomedia-admin [--config FILE | --db D:P] accounts disable EMAIL\n"
       "       natomedia-admin [--config FILE | --db D:P] accounts enable EMAIL\n"
       "       natomedia-admin [--config FILE | --db D:P] accounts delete [--yes] EMAIL\n"
       "\n"
       "  list     one account a line, tab-separated: id, address, state, created, verified\n"
       "           (times in UTC, ISO 8601; '-' for never). --state pending|verified|disabled\n"
       "           shows only that state.\n"
       "  show     everything known about one account: state, language, times, sessions,\n"
       "           newsletter subscription, consent records, downloads, mails in the outbox.\n"
       "           --json (list, show): one JSON document (an array of objects for list; an\n"
       "           object for show, its keys the names above with '_' for spaces).\n"
       "  disable  refuse sign-in and end every session of the account at once.\n"
       "  enable   undo disable: the account is verified again (pending if it never verified).\n"
       "  delete   GDPR erasure, in one transaction, the same as the account page's: the\n"
       "           plugins named by NatoMediaPlugin are loaded and told (account-deleted\n"
       "           event), each erasing its own rows (newsletter: subscription and deliveries\n"
       "           deleted, consents kept anonymised; media_gateway: downloads kept under an\n"
       "           unlinkable pseudonym; any other plugin: its own); then the account, its\n"
       "           sessions, reset grants and mails in the outbox are deleted. Needs --config.\n"
       "           Asks for confirmation on a terminal unless --yes.\n"
       "\n"
       "EMAIL is matched as the portal stores it: trimmed and lower-cased.\n"},
      {"sessions",
       "usage: natomedia-admin [--config FILE | --db D:P] sessions list [--json] ACCOUNT\n"
       "       natomedia-admin [--config FILE | --db D:P] sessions end ACCOUNT\n"
       "\n"
       "  list  the account's sign-in sessions, most recently used first, one a line,\n"
       "        tab-separated: the first 12 hex digits of the session's hash (the database\n"
       "        keeps only the SHA-256 of the cookie's id), created, last seen (UTC, ISO 8601).\n"
       "        --json: an array of objects (session, account_id, email, created, last_seen).\n"
       "  end   end every session of the account: it is signed out on every browser at its\n"
       "        next request (the account itself is not changed; see accounts disable).\n"
       "\n"
       "ACCOUNT is the account's address (trimmed, lower-cased) or its id (digits).\n"},
      {"outbox",
       "usage: natomedia-admin [--config FILE | --db D:P] outbox status [--json]\n"
       "       natomedia-admin [--config FILE | --db D:P] outbox retry\n"
       "\n"
       "  status  the number of messages in the mail outbox by state (queued, sent, failed),\n"
       "          tab-separated; --json: an object {\"STATE\": COUNT, ...}.\n"
       "  retry   queue every failed message again (the sender gave up after 24 hours of\n"
       "          retries): due now, with a fresh 24-hour retry window.\n"},
      {"feed",
       "usage: natomedia-admin feed validate FILE\n"
       "\n"
       "  validate  parse FILE as the portal does (no network, no DTD, no entities) and check\n"
       "            it against share/natomedia/schemas/natomedia-feed.xsd. Exit 0 when valid;\n"
       "            1 when not, with one reason a line on standard error, each with its line\n"
       "            number.\n"},
      {"db",
       "usage: natomedia-admin [--config FILE | --db D:P] db migrate\n"
       "       natomedia-admin [--config FILE | --db D:P] db prune\n"
       "\n"
       "  migrate  apply the schema migrations of the core and of every plugin named by\n"
       "           NatoMediaPlugin in the configuration, once each, in order. Safe to run\n"
       "           while httpd serves, and from several machines at once (PostgreSQL).\n"
       "  prune    delete now what the retention rules say has had its time, as httpd's\n"
       "           retention task does every NatoMediaPruneInterval: pending accounts 7 days\n"
       "           after their last registration, delivered mail 7 days after delivery, the\n"
       "           text of failed mail a day after it failed (the row 7 days after), sessions\n"
       "           past NatoMediaSessionIdle or NatoMediaSessionMax, expired reset grants,\n"
       "           download-log rows older than NatoMediaDownloadLogDays; and whatever the\n"
       "           other plugins named by NatoMediaPlugin prune. Prints one count a line.\n"
       "           With --db alone only the core's tables (the outbox) are pruned.\n"},
      {"newsletter",
       "usage: natomedia-admin [--config FILE] newsletter send [--dry-run]\n"
       "\n"
       "  send  queue an issue made of the feed's items since the last issue to every\n"
       "        subscriber, in the subscriber's language, each with its own List-Unsubscribe\n"
       "        link. An interrupted run is finished by the next; nobody gets an issue twice.\n"
       "        --dry-run shows the items and recipients and queues nothing. Needs --config\n"
       "        (NatoMediaFeed, NatoMediaPublicURL, NatoMediaSecretFile, NatoMediaMailFrom).\n"},
      {"subscribers",
       "usage: natomedia-admin [--config FILE | --db D:P] subscribers export\n"
       "\n"
       "  export  every subscription as CSV (RFC 4180) on standard output: address, language,\n"
       "          subscribed_at, consent_version, state, unsubscribed_at and the latest\n"
       "          consent's time, IP, user agent and source.\n"},
  };
  return t;
}

}  // namespace

std::string command_help(const std::string& command) {
  auto it = texts().find(command);
  return it == texts().end() ? std::string() : it->second + kExitCodes;
}

}  // namespace natomedia::admin
