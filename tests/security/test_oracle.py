"""No oracle (CONTRACT section 12): for every address, with a verified, pending or disabled
account or none, the answers of /account/verify, /account/verify/resend, /account/password/reset
and /account/password/reset/verify follow the same sequence of statuses and pages: the same 303,
the same 429 inside the resend cooldown, and a wrong code 422 up to the 5th wrong entry, then
410. Pages are compared with tokens and the typed address blanked (account_attack.answer).
"""
# ctest-timeout: 900

import unittest

import harness

from account_attack import ATTACKER_PASSWORD, OWNER_PASSWORD, AccountAttack, answer

CASES = ("verified", "pending", "disabled", "unknown")
EXPECTED = [422] * 5 + [410, 410]


def address(case, flow):
    return "%s-%s@example.org" % (case, flow)


def wrong_codes(real=None):
    """Seven codes, none of them `real`."""
    out, n = [], 100000
    while len(out) < 7:
        code = "%06d" % n
        if code != real:
            out.append(code)
        n += 111111
    return out


class OracleFlows(AccountAttack):

    def assert_alike(self, seen, what):
        """seen: case -> answer; every case's answer must be the verified case's."""
        for case in CASES:
            self.assertEqual(seen[case], seen["verified"],
                             "%s: the %s address answers differently from the verified one"
                             % (what, case))

    def test_verify_flow_alike(self):
        """register (verified, pending, disabled) or ask for a code (no account), then ask
        again inside the cooldown, then type 7 wrong codes."""
        first, again, typed = {}, {}, {}
        for case in CASES:
            addr = address(case, "verify")
            if case in ("verified", "disabled"):
                self.make_account(addr, case)
            c = self.client()
            if case == "unknown":
                r = self.resend(c, addr)
            else:
                r = self.register(c, addr, ATTACKER_PASSWORD)
            self.assertEqual(r.status, 303, "%s: %s" % (case, r.body[:500]))
            first[case] = answer(r, addr)["location"]
            again[case] = answer(self.resend(c, addr), addr)
            real = self.code_mail(addr) if case == "pending" else None
            statuses, pages = [], []
            for code in wrong_codes(real):
                v = self.verify(c, addr, code)
                statuses.append(v.status)
                pages.append(answer(v, addr))
            self.assertEqual(statuses, EXPECTED, "%s: wrong codes on /account/verify" % case)
            typed[case] = pages
        self.assert_alike(first, "the first answer")
        self.assertEqual(again["verified"]["status"], 429)
        self.assert_alike(again, "a resend inside the cooldown")
        self.assert_alike(typed, "wrong codes")
        # The real account's owner got mail; nobody else did (a verified or disabled address's
        # owner is told of the registration attempt, never sent a code).
        self.assertEqual(len(self.mails(address("pending", "verify"), "verification code")), 1)
        for case in ("verified", "disabled", "unknown"):
            self.assertEqual(self.mails(address(case, "verify"), "verification code"), [], case)

    def test_reset_flow_alike(self):
        """ask for a reset code (verified, pending, disabled, no account), ask again at once,
        then type 7 wrong codes."""
        first, again, typed = {}, {}, {}
        for case in CASES:
            addr = address(case, "reset")
            if case in ("verified", "disabled"):
                self.make_account(addr, case)
            elif case == "pending":
                self.assertEqual(self.register(self.client(), addr, OWNER_PASSWORD).status, 303)
            c = self.client()
            r = self.reset(c, addr)
            self.assertEqual(r.status, 303, "%s: %s" % (case, r.body[:500]))
            first[case] = answer(r, addr)
            again[case] = answer(self.reset(c, addr), addr)
            real = None
            if case in ("verified", "pending"):
                real = harness.verification_code(self.wait_mail(addr, "Reset your password"))
            statuses, pages = [], []
            for code in wrong_codes(real):
                v = self.reset_verify(c, addr, code)
                statuses.append(v.status)
                pages.append(answer(v, addr))
            self.assertEqual(statuses, EXPECTED,
                             "%s: wrong codes on /account/password/reset/verify" % case)
            typed[case] = pages
        self.assert_alike(first, "the reset request")
        self.assert_alike(again, "a second reset request")
        self.assert_alike(typed, "wrong reset codes")
        for case in ("disabled", "unknown"):
            self.assertEqual(self.mails(address(case, "reset"), "Reset your password"), [], case)
        # The decoys' stand-in for the mail write leaves nothing behind.
        self.assertIn(self.sql("SELECT COUNT(*) FROM verification_decoy_writes")[0][0],
                      ("0", 0))


OracleSqliteTest, OraclePostgresTest = harness.on_each_database(
    OracleFlows, "Oracle", sqlite_needs_prefix=True)


if __name__ == "__main__":
    unittest.main()
