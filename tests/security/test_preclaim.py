"""No pre-claiming (CONTRACT section 12): an address whose account was never verified belongs to
nobody yet. A new registration replaces the pending account (its password, its created_at), every
earlier code dies, and only the code mailed after the last registration verifies the account,
with that registration's password; a race of registrations and verifications has exactly one
consistent outcome. A verified address keeps today's answer (303, its owner told).
"""
# ctest-timeout: 900

import threading
import time
import unittest

import harness

from account_attack import (ATTACKER_PASSWORD, OWNER_PASSWORD, AccountAttack, answer,
                            argon2id_matches)

VICTIM = "victim@example.org"
# Every registration mails its own code at once (the test of the cooldown sets its own).
NO_COOLDOWN = "NatoMediaResendCooldown 0"


class PreclaimFlows(AccountAttack):

    directives = NO_COOLDOWN

    def test_preclaim_attack_fails(self):
        """The attacker registers the victim's address, the owner registers it too and types
        the latest code: the account is the owner's, with the owner's password; the attacker's
        gets 401; the first code mailed is dead."""
        attacker = self.client()
        a = self.register(attacker, VICTIM, ATTACKER_PASSWORD)
        self.assertEqual(a.status, 303, a.body[:500])
        first_code = self.code_mail(VICTIM, 1)
        # Six days later (created_at moved back): the retention job would delete it tomorrow.
        self.sql("UPDATE accounts SET created_at = created_at - 6 * 86400 WHERE email = ?",
                 (VICTIM,))

        before = int(time.time())
        owner = self.client()
        o = self.register(owner, VICTIM, OWNER_PASSWORD)
        self.assertEqual(answer(o, VICTIM), answer(a, VICTIM),
                         "the second registration must get the first one's answer")
        state, phc, created_at, _ = self.account_row(VICTIM)
        self.assertEqual(state, "pending")
        self.assertTrue(argon2id_matches(OWNER_PASSWORD, phc),
                        "the owner's registration must replace the pending password")
        self.assertGreaterEqual(int(created_at), before - 1,
                                "created_at must be the time of the last registration")
        latest = self.code_mail(VICTIM, 2)
        self.assertEqual(self.mails(VICTIM, "Someone tried to register"), [],
                         "a pending address gets a code, not a notice")

        if first_code != latest:  # one chance in a million that they are the same digits
            w = self.verify(owner, VICTIM, first_code)
            self.assertIn(w.status, (410, 422), w.body[:800])
            self.assertEqual(self.account_row(VICTIM)[0], "pending")
        v = self.verify(owner, VICTIM, latest)
        self.assertEqual(v.status, 200, v.body[:800])
        self.assertIn("You have successfully created your account", v.body)
        self.assertEqual(self.account_row(VICTIM)[0], "verified")
        self.assertEqual(self.login(self.client(), VICTIM, ATTACKER_PASSWORD).status, 401)
        self.assertEqual(self.login(self.client(), VICTIM, OWNER_PASSWORD).status, 303)
        self.assertEqual(self.verify(self.client(), VICTIM, first_code).status, 410)

        # Verified now: another registration keeps it (the same 303, a notice to the owner).
        again = self.register(self.client(), VICTIM, ATTACKER_PASSWORD)
        self.assertEqual(answer(again, VICTIM), answer(a, VICTIM))
        self.wait_mail(VICTIM, "Someone tried to register with your address")
        self.assertTrue(argon2id_matches(OWNER_PASSWORD, self.account_row(VICTIM)[1]))
        self.assertEqual(self.login(self.client(), VICTIM, ATTACKER_PASSWORD).status, 401)

    directives_test_replaced_code_dead_in_cooldown = ""  # the default 60 s cooldown

    def test_replaced_code_dead_in_cooldown(self):
        """The owner registers and is mailed a code; inside the resend cooldown the attacker
        registers the address again (no new code is mailed yet). The owner's code, typed right,
        must not verify the account that now holds the attacker's password."""
        owner = self.client()
        self.assertEqual(self.register(owner, VICTIM, OWNER_PASSWORD).status, 303)
        code = self.code_mail(VICTIM, 1)
        attacker = self.client()
        self.assertEqual(self.register(attacker, VICTIM, ATTACKER_PASSWORD).status, 303)
        self.assertTrue(argon2id_matches(ATTACKER_PASSWORD, self.account_row(VICTIM)[1]))
        r = self.verify(owner, VICTIM, code)
        self.assertEqual(r.status, 410, r.body[:800])
        self.assertEqual(self.account_row(VICTIM)[0], "pending")
        # The attacker's password is the pending account's (sign-in sends it to the verify
        # page); the owner's is not.
        r = self.login(self.client(), VICTIM, ATTACKER_PASSWORD)
        self.assertEqual(r.status, 303)
        self.assertIn("/account/verify?email=", r.location)
        self.assertEqual(self.login(self.client(), VICTIM, OWNER_PASSWORD).status, 401)

    def test_race_registrations_and_verifications(self):
        """The first registration's code against 40 registrations (40 passwords, 40 client
        addresses): 20 registrations go first; once one has answered, 20 more race 20
        verifications of the first code. Then every code mailed is typed at once, twice each.
        Exactly one outcome: one password stored, the first code dead, at most one code
        verifying, and only the stored password signing in."""
        first = "First-Passw0rd!z"
        self.assertEqual(self.register(self.client(), VICTIM, first).status, 303)
        code0 = self.code_mail(VICTIM, 1)
        passwords = ["Racer-%02d-Pass!w" % i for i in range(40)]
        results = {}
        lock = threading.Lock()
        one_answered = threading.Event()
        start_a = threading.Barrier(20)
        start_b = threading.Barrier(40)

        def registrant(i):
            c = self.client("127.0.%d.%d" % (1 + i // 200, 2 + i % 200))
            token = harness.csrf_token(c.get("/account/register").body)
            (start_a if i < 20 else start_b).wait()
            if i >= 20:
                one_answered.wait(60)
            r = c.post("/account/register", {"email": VICTIM, "password": passwords[i],
                                              "password_confirm": passwords[i],
                                              "csrf_token": token})
            with lock:
                results[("reg", i)] = r.status
            if r.status == 303:
                one_answered.set()

        def verifier(i):
            c = self.client()
            token = harness.csrf_token(c.get(self.verify_page(VICTIM)).body)
            start_b.wait()
            one_answered.wait(60)
            r = c.post("/account/verify", {"email": VICTIM, "code": code0, "csrf_token": token})
            with lock:
                results[("ver", i)] = r.status

        threads = [threading.Thread(target=registrant, args=(i,)) for i in range(40)]
        threads += [threading.Thread(target=verifier, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        regs = {i: s for (kind, i), s in results.items() if kind == "reg"}
        vers = [s for (kind, _), s in results.items() if kind == "ver"]
        self.assertEqual(len(regs), 40, results)
        self.assertEqual(len(vers), 20, results)
        # 503: every hash slot busy for 2 s; such a registration changed nothing.
        self.assertTrue(set(regs.values()) <= {303, 503}, results)
        self.assertNotIn(200, vers, "the first code verified after its registration was replaced")
        self.assertTrue(set(vers) <= {410, 422}, results)

        state, phc, _, _ = self.account_row(VICTIM)
        self.assertEqual(state, "pending")
        matching = [p for p in [first] + passwords if argon2id_matches(p, phc)]
        self.assertEqual(len(matching), 1, "exactly one password is stored")
        stored = matching[0]
        self.assertIn(stored, [passwords[i] for i, s in regs.items() if s == 303])

        # Every code mailed since, typed at once (twice each): at most one verifies.
        time.sleep(2)  # the sender delivers what was queued
        codes = [harness.verification_code(m) for m in self.mails(VICTIM, "verification code")]
        later = [c for c in codes[1:] if c != code0]
        answers = []

        def typist(code):
            answers.append((code, self.verify(self.client(), VICTIM, code).status))

        typists = [threading.Thread(target=typist, args=(c,)) for c in later + later]
        for t in typists:
            t.start()
        for t in typists:
            t.join(60)
        won = [a for a in answers if a[1] == 200]
        self.assertLessEqual(len(won), 1, answers)
        self.assertTrue({s for _, s in answers} <= {200, 410, 422}, answers)
        if not won:
            # The last registration got no code (the address's hourly limit of 5 codes): once
            # the limits are lifted (memcached emptied), the code it asks for is the one.
            self.assertEqual(self.account_row(VICTIM)[0], "pending")
            self.mc.command_line("flush_all")
            owner = self.client()
            self.assertEqual(self.resend(owner, VICTIM).status, 303)
            fresh = self.code_mail(VICTIM, len(codes) + 1)
            v = self.verify(owner, VICTIM, fresh)
            self.assertEqual(v.status, 200, v.body[:800])
        state, phc, _, _ = self.account_row(VICTIM)
        self.assertEqual(state, "verified")
        self.assertTrue(argon2id_matches(stored, phc), "the verified password is not the stored one")
        self.assertEqual(self.login(self.client(), VICTIM, stored).status, 303)
        for p in [first] + [p for p in passwords if p != stored][:3]:
            self.assertEqual(self.login(self.client(), VICTIM, p).status, 401)


PreclaimSqliteTest, PreclaimPostgresTest = harness.on_each_database(
    PreclaimFlows, "Preclaim", sqlite_needs_prefix=True)


if __name__ == "__main__":
    unittest.main()
