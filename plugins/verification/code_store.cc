#include "code_store.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

#include <natomedia/client_address.h>
#include <natomedia/text.h>

namespace natomedia::verification {

namespace {

constexpr long kHour = 3600;
// Lost CAS races are retried this often before the check gives up as unavailable.
constexpr int kCasRetries = 8;

struct CodeEntry {
  bool live = false;
  std::string hmac;
  std::time_t issued = 0;
  int wrong = 0;
  std::string binding;  // "" for none
};

CodeEntry parse_code(const std::string& value) {
  CodeEntry e;
  std::istringstream in(value);
  std::string tag;
  long long issued = 0;
  if (in >> tag >> e.hmac >> issued >> e.wrong && (tag == "c1" || tag == "c2")) {
    if (tag == "c2" && !(in >> e.binding)) return CodeEntry{};
    if (e.binding == "-") e.binding.clear();
    e.live = true;
    e.issued = static_cast<std::time_t>(issued);
  }
  return e;
}

std::string format_code(const CodeEntry& e) {
  return "c2 " + e.hmac + " " + std::to_string(static_cast<long long>(e.issued)) + " " +
         std::to_string(e.wrong) + " " + (e.binding.empty() ? "-" : e.binding);
}

// A binding goes into a space-separated entry: anything else is refused, never stored.
bool valid_binding(const std::string& binding) {
  return binding.size() <= 128 && std::all_of(binding.begin(), binding.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '_' || c == '.';
         });
}

struct WrongCount {
  int count = 0;
  std::time_t window_start = 0;
};

WrongCount parse_wrong(const std::string& value, std::time_t now) {
  WrongCount w;
  long long start = 0;
  std::istringstream in(value);
  if (!(in >> w.count >> start)) return {0, now};
  w.window_start = static_cast<std::time_t>(start);
  if (now - w.window_start >= kHour) return {0, now};  // a new hour begins
  return w;
}

std::string format_wrong(const WrongCount& w) {
  return std::to_string(w.count) + " " + std::to_string(static_cast<long long>(w.window_start));
}

bool is_dash_or_space(const std::string& s, size_t i, size_t* len) {
  static const char* kMultiByte[] = {
      "\xC2\xA0",      // no-break space
      "\xE2\x80\x90",  // hyphen
      "\xE2\x80\x91",  // non-breaking hyphen
      "\xE2\x80\x92",  // figure dash
      "\xE2\x80\x93",  // en dash
      "\xE2\x80\x94",  // em dash
      "\xE2\x80\xAF",  // narrow no-break space
      "\xE2\x88\x92",  // minus sign
  };
  char c = s[i];
  if (c == ' ' || c == '-' || c == '\t') {
    *len = 1;
    return true;
  }
  for (const char* m : kMultiByte) {
    size_t n = std::char_traits<char>::length(m);
    if (s.compare(i, n, m) == 0) {
      *len = n;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string purpose_name(CodePurpose purpose) {
  switch (purpose) {
    case CodePurpose::kResetPassword:
      return "reset";
    case CodePurpose::kChangeEmail:
      return "change";
    case CodePurpose::kVerifyAccount:
      break;
  }
  return "verify";
}

std::string clean_typed_code(const std::string& typed) {
  std::string out;
  for (size_t i = 0; i < typed.size();) {
    size_t len = 0;
    if (is_dash_or_space(typed, i, &len)) {
      i += len;
      continue;
    }
    out += typed[i++];
  }
  return out;
}

Status CodeStore::forget(const std::string& email) {
  Status worst = Status::Ok();
  for (CodePurpose purpose :
       {CodePurpose::kVerifyAccount, CodePurpose::kResetPassword, CodePurpose::kChangeEmail})
    for (const char* kind : {"c", "w", "cd"}) {
      Status s = cache_.remove(key(kind, purpose, email));
      if (!s.ok() && s.code() != Status::Code::kNotFound) worst = s;
    }
  return worst;
}

std::string CodeStore::key(const char* kind, CodePurpose purpose, const std::string& email) const {
  return std::string("codes:") + kind + ":" + purpose_name(purpose) + ":" +
         text::hex_encode(crypto_.hmac("codes.key", email)).substr(0, 32);
}

std::string CodeStore::code_hmac(CodePurpose purpose, const std::string& email,
                                 const std::string& code) const {
  return text::hex_encode(crypto_.hmac("code:" + purpose_name(purpose), email + ":" + code));
}

long CodeStore::counter_ttl() const { return std::max(kHour, limits_.lifetime) + 60; }

CodeIssue CodeStore::hourly_limit(const std::string& key, int limit, std::time_t now) {
  const long bucket = static_cast<long>(now / kHour);
  auto n = cache_.increment(key + ":" + std::to_string(bucket), 1, kHour + 60);
  if (!n.ok()) return {CodeIssue::Outcome::kUnavailable, 0};
  if (*n > static_cast<uint64_t>(limit))
    return {CodeIssue::Outcome::kRateLimited, static_cast<long>(kHour - now % kHour)};
  return {CodeIssue::Outcome::kSent, 0};
}

CodeIssue CodeStore::admit(CodePurpose purpose, const std::string& email,
                           const std::string& client_ip, std::time_t now) {
  if (limits_.cooldown > 0) {
    const std::string cd = key("cd", purpose, email);
    Status added = cache_.add(cd, std::to_string(static_cast<long long>(now)), limits_.cooldown);
    if (added.code() == Status::Code::kConflict) {
      CacheEntry e = cache_.get(cd);
      if (e.outcome == CacheOutcome::kError) return {CodeIssue::Outcome::kUnavailable, 0};
      long long since = e.outcome == CacheOutcome::kHit ? now - std::atoll(e.value.c_str()) : 0;
      long wait =
          static_cast<long>(std::clamp<long long>(limits_.cooldown - since, 1, limits_.cooldown));
      return {CodeIssue::Outcome::kCooldown, wait};
    }
    if (!added.ok()) return {CodeIssue::Outcome::kUnavailable, 0};
  }
  const std::string address =
      "codes:ra:" + text::hex_encode(crypto_.hmac("codes.key", email)).substr(0, 32);
  CodeIssue a = hourly_limit(address, limits_.codes_per_address, now);
  if (a.outcome != CodeIssue::Outcome::kSent) return a;
  const std::string ip =
      "codes:ri:" + text::hex_encode(crypto_.hmac("codes.ip", client_key(client_ip))).substr(0, 32);
  return hourly_limit(ip, limits_.codes_per_ip, now);
}

Status CodeStore::store(CodePurpose purpose, const std::string& email, const std::string& code,
                        std::time_t now, const std::string& binding) {
  if (!valid_binding(binding)) return Status::Invalid("a code binding must be a plain token");
  return put(purpose, email, code_hmac(purpose, email, code), now, binding);
}

Status CodeStore::store_decoy(CodePurpose purpose, const std::string& email, std::time_t now,
                              const std::string& random) {
  // The same HMAC computation as a real code's, then the caller's random bytes in its place.
  const std::string hmac = code_hmac(purpose, email, random);
  if (random.size() < 16 || hmac.empty()) return Status::Internal("the CSPRNG failed");
  return put(purpose, email, text::hex_encode(random), now, "");
}

Status CodeStore::put(CodePurpose purpose, const std::string& email, const std::string& hmac,
                      std::time_t now, const std::string& binding) {
  // The hourly wrong-entry count outlives the code it came from: keep it, with a TTL that
  // covers the new code.
  const std::string wk = key("w", purpose, email);
  CacheEntry w = cache_.get(wk);
  if (w.outcome == CacheOutcome::kError) return Status::Unavailable(w.error);
  Status kept = w.outcome == CacheOutcome::kHit
                    ? cache_.cas(wk, format_wrong(parse_wrong(w.value, now)), counter_ttl(), w.cas)
                    : cache_.add(wk, format_wrong({0, now}), counter_ttl());
  if (kept.code() == Status::Code::kUnavailable || kept.code() == Status::Code::kInternal)
    return kept;
  CodeEntry e;
  e.hmac = hmac;
  e.issued = now;
  e.binding = binding;
  return cache_.set(key("c", purpose, email), format_code(e), limits_.lifetime);
}

// Adds one to the hourly count. kDead when the count has vanished or reached its limit (the
// code is then killed), kWrong otherwise.
CodeCheck CodeStore::record_wrong(const std::string& code_key, const std::string& wrong_key,
                                  std::time_t now) {
  for (int i = 0; i < kCasRetries; ++i) {
    CacheEntry w = cache_.get(wrong_key);
    if (w.outcome == CacheOutcome::kError) return CodeCheck::kUnavailable;
    if (w.outcome == CacheOutcome::kMiss) {
      cache_.set(code_key, "x", limits_.lifetime);
      return CodeCheck::kDead;
    }
    WrongCount count = parse_wrong(w.value, now);
    ++count.count;
    Status s = cache_.cas(wrong_key, format_wrong(count), counter_ttl(), w.cas);
    if (s.code() == Status::Code::kConflict) continue;
    if (!s.ok() && s.code() != Status::Code::kNotFound) return CodeCheck::kUnavailable;
    if (s.code() == Status::Code::kNotFound || count.count >= limits_.wrong_per_hour) {
      cache_.set(code_key, "x", limits_.lifetime);
      return count.count >= limits_.wrong_per_hour ? CodeCheck::kWrong : CodeCheck::kDead;
    }
    return CodeCheck::kWrong;
  }
  return CodeCheck::kUnavailable;
}

CodeCheck CodeStore::check(CodePurpose purpose, const std::string& email, const std::string& typed,
                           std::time_t now, std::string* binding) {
  const std::string ck = key("c", purpose, email);
  const std::string wk = key("w", purpose, email);
  const std::string typed_hmac = code_hmac(purpose, email, clean_typed_code(typed));
  for (int i = 0; i < kCasRetries; ++i) {
    CacheEntry c = cache_.get(ck);
    if (c.outcome == CacheOutcome::kError) return CodeCheck::kUnavailable;
    if (c.outcome == CacheOutcome::kMiss) return CodeCheck::kDead;
    CodeEntry entry = parse_code(c.value);
    if (!entry.live || now >= entry.issued + limits_.lifetime) return CodeCheck::kDead;
    CacheEntry w = cache_.get(wk);
    if (w.outcome == CacheOutcome::kError) return CodeCheck::kUnavailable;
    if (w.outcome == CacheOutcome::kMiss) {
      cache_.cas(ck, "x", limits_.lifetime, c.cas);  // refused, never given fresh tries
      return CodeCheck::kDead;
    }
    if (parse_wrong(w.value, now).count >= limits_.wrong_per_hour) return CodeCheck::kDead;

    const long remaining = static_cast<long>(entry.issued + limits_.lifetime - now);
    const bool right = crypto_.equal(typed_hmac, entry.hmac);
    std::string next = "x";
    if (!right && entry.wrong + 1 < limits_.wrong_per_code) {
      ++entry.wrong;
      next = format_code(entry);
    }
    // Whoever changes the entry first wins; a loser reads it again (and finds it consumed).
    Status s = cache_.cas(ck, next, remaining, c.cas);
    if (s.code() == Status::Code::kConflict) continue;
    if (s.code() == Status::Code::kNotFound) return CodeCheck::kDead;
    if (!s.ok()) return CodeCheck::kUnavailable;
    if (right) {
      if (binding) *binding = entry.binding;
      return CodeCheck::kOk;
    }
    // The 5th wrong entry is still answered "wrong"; the code is dead from now on.
    return record_wrong(ck, wk, now);
  }
  return CodeCheck::kUnavailable;
}

}  // namespace natomedia::verification
