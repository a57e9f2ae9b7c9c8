"""License limits: the per-minute delay formula, pacing, the concurrency
queue (FIFO, queue length, queue timeout) and the 429."""
import threading
import time
import unittest

from simtest import SimCase
from limits import LicenseLimiter, per_minute_delay, Declined
from config import Config
from reqlog import Stats


class DelayMathTest(unittest.TestCase):
    def test_documented_example(self):
        # Limit 50, 25 processed in the past minute, 20 s left -> 0.8 s.
        processed = [100.0] + [101.0 + i for i in range(24)]
        self.assertAlmostEqual(per_minute_delay(processed, 50, 60, 140.0), 0.8)

    def test_below_half_no_delay(self):
        self.assertEqual(per_minute_delay([1.0] * 24, 50, 60, 2.0), 0.0)
        self.assertEqual(per_minute_delay([], 50, 60, 2.0), 0.0)
        self.assertEqual(per_minute_delay([1.0] * 5, None, 60, 2.0), 0.0)

    def test_full_budget_waits_for_the_oldest(self):
        processed = [10.0, 20.0, 30.0, 40.0]
        self.assertAlmostEqual(per_minute_delay(processed, 4, 60, 45.0), 25.0)   # 10+60-45

    def test_limiter_paces_with_a_fake_clock(self):
        now = [1000.0]
        slept = []
        cfg = Config({"requests_per_minute": 10, "rate_window_seconds": 60})
        lim = LicenseLimiter(cfg, Stats(), monotonic=lambda: now[0], sleep=slept.append)
        for _ in range(5):                      # half the limit: no delay
            lim.release(lim.admit())
        self.assertEqual(slept, [])
        now[0] += 10.0                          # 50 s left in the window
        lim.release(lim.admit())                # 5 processed: 50 / (10-5)
        self.assertAlmostEqual(slept[-1], 10.0)
        lim.release(lim.admit())                # paced after the previous: (60-20)/(10-6)
        self.assertAlmostEqual(slept[-1], 10.0 + (1060.0 - 1020.0) / 4)

    def test_queue_declines_beyond_queue_limit(self):
        cfg = Config({"concurrent_requests": 1, "queue_limit": 0, "queue_timeout": 5})
        stats = Stats()
        lim = LicenseLimiter(cfg, stats)
        slot = lim.admit()
        with self.assertRaises(Declined):
            lim.admit()
        lim.release(slot)
        lim.release(lim.admit())
        self.assertEqual(stats.snapshot()["license_declined"], 1)


class HttpLimitsTest(SimCase):
    def setUp(self):
        super().setUp()
        self.tok = self.password_grant("api")["access_token"]

    def get(self, query="", results=None, idx=None):
        c = self.client()
        t0 = time.monotonic()
        r = self.data(c, self.tok, "/entity/Default/22.200.001/SalesOrder" + query)
        c.close()
        if results is not None:
            results[idx] = (r.status, time.monotonic() - t0, r)
        return r

    def burst(self, n, query, gap=0.0):
        results = [None] * n
        threads = []
        for i in range(n):
            t = threading.Thread(target=self.get, args=(query, results, i))
            t.start()
            threads.append(t)
            if gap:
                time.sleep(gap)
        for t in threads:
            t.join(30)
        return results

    def test_per_minute_delay_over_http(self):
        self.configure(requests_per_minute=4, rate_window_seconds=1.0)
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            self.assertEqual(self.get().status, 200)
            times.append(time.monotonic() - t0)
        self.assertLess(times[0], 0.3)
        self.assertLess(times[1], 0.3)
        self.assertGreater(times[2], 0.25)       # ~ (1 s - elapsed) / (4 - 2)
        self.assertLess(times[2], 0.8)
        self.assertEqual(self.stats()["license_delayed"], 1)

    def test_concurrency_queue_and_429(self):
        self.configure(concurrent_requests=2, queue_limit=3)
        results = self.burst(8, "?sleep=0.6", gap=0.01)
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200] * 5 + [429] * 3)
        declined = [r[2] for r in results if r[0] == 429]
        self.assertEqual(declined[0].json(),
                         {"message": "The number of requests has exceeded the limit imposed by the license."})
        self.assertIsNone(declined[0].header("Retry-After"))
        self.assertEqual(self.fake.max_active, 2)
        st = self.stats()
        self.assertEqual(st["license_declined"], 3)
        self.assertEqual(st["responses_429"], 3)
        self.assertEqual(st["max_queue_length"], 3)
        self.assertGreaterEqual(st["max_concurrency"], 6)   # 2 running + 3 queued + 1 declined

    def test_fifo_order(self):
        self.configure(concurrent_requests=1)
        hold = threading.Thread(target=self.get, args=("?sleep=0.4&n=0",))
        hold.start()
        time.sleep(0.1)
        threads = []
        for i in range(1, 5):
            t = threading.Thread(target=self.get, args=("?sleep=0.01&n=%d" % i,))
            t.start()
            threads.append(t)
            time.sleep(0.04)
        for t in [hold] + threads:
            t.join(10)
        order = [q["n"] for (_, _, q, _) in self.fake.calls if "n" in q]
        self.assertEqual(order, ["0", "1", "2", "3", "4"])

    def test_queue_timeout_and_retry_after(self):
        self.configure(concurrent_requests=1, queue_timeout=0.3, license_retry_after=7)
        results = self.burst(2, "?sleep=1.0", gap=0.1)
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200, 429])
        late = [r for r in results if r[0] == 429][0]
        self.assertGreaterEqual(late[1], 0.25)
        self.assertLess(late[1], 0.9)
        self.assertEqual(late[2].header("Retry-After"), "7")

    def test_logout_is_not_queued_but_login_is(self):
        self.configure(concurrent_requests=1, queue_limit=0)
        hold = threading.Thread(target=self.get, args=("?sleep=0.8",))
        hold.start()
        time.sleep(0.15)
        t0 = time.monotonic()
        r = self.client().request("POST", self.site + "/entity/auth/logout", body=b"")
        self.assertEqual(r.status, 204)
        self.assertLess(time.monotonic() - t0, 0.4)
        _, r = self.login()
        self.assertEqual(r.status, 429)
        hold.join(5)

    def test_declined_request_keeps_no_new_session(self):
        self.configure(api_user_seats=None, concurrent_requests=1, queue_limit=0)
        tok = self.password_grant("api api:concurrent_access")["access_token"]
        hold = threading.Thread(target=self.get, args=("?sleep=0.6",))
        hold.start()
        time.sleep(0.15)
        before = self.stats()["open_sessions"]
        r = self.data(self.client(), tok)                 # cookie-less: would open a session
        self.assertEqual(r.status, 429)
        self.assertIsNone(r.header("Set-Cookie"))
        self.assertEqual(self.stats()["open_sessions"], before)
        hold.join(5)

    def test_limits_off_by_default(self):
        cfg = self.control("GET", "config").json()
        self.assertIsNone(cfg["requests_per_minute"])
        self.assertIsNone(cfg["concurrent_requests"])
        results = self.burst(6, "?sleep=0.3")
        self.assertEqual([r[0] for r in results], [200] * 6)
        self.assertEqual(self.fake.max_active, 6)


if __name__ == "__main__":
    unittest.main()
