"""connector-host run, enqueue, queue, status: the runtime against the
synthetic plugin. The host file checked with every problem named; the push
queue with its retry schedule (scaled down) and dead letters; logs and run
summaries; SIGTERM (calls in flight finish within the grace, or are asked
to stop, and the exit is 0 with everything committed); SIGHUP (added,
removed and changed subscriptions); one runtime per state file."""
import collections
import json
import os
import signal
import stat
import time

import hosttest
from hosttest import host, read_jsonl, wait_for, write_json, write_lines, query


def pull_flow(every="100ms", flow="items"):
    return {"flow": flow, "direction": "pull", "every": every}


def push_flow(every="100ms", batch=None):
    f = {"flow": "orders", "direction": "push", "every": every}
    if batch:
        f["batch_size"] = batch
    return f


class RuntimeTest(hosttest.HostTestCase):
    def db(self):
        return self.path("state.db")

    def cursor(self, sub, flow="items"):
        rows = query(self.db(), "SELECT cursor FROM cursors WHERE subscription = ? AND flow = ?",
                     sub, flow)
        return rows[0][0].decode() if rows and rows[0][0] is not None else None

    def out_ids(self, sub, flow="items"):
        return collections.Counter(
            r["id"] for r in read_jsonl(self.path("out", sub, flow + ".jsonl")))

    # -- the host file -------------------------------------------------

    def test_invalid_host_file_names_every_problem(self):
        self.host_file([{"name": "a", "plugin_version": "7.7.7", "settings": {},
                         "flows": [{"flow": "items", "direction": "pull", "every": "soon"}]},
                        {"name": "a", "plugin_version": "1.0.0",
                         "settings": {"password": {"env": "HOST_IT_NOT_SET"}},
                         "flows": [pull_flow()]}],
                       workers=0)
        r = host("run", "--config", self.path("host.json"))
        self.assertEqual(r.rc, 3, r)
        hf = self.path("host.json")
        for line in ["%s: /workers: 0 is out of range" % hf,
                     "%s: /subscriptions/0/plugin_version: there is no plugin file "
                     "acumatica-7.7.7.so" % hf,
                     "%s: /subscriptions/0/flows/0/every: \"soon\" is not a duration" % hf,
                     "%s: /subscriptions/1/name: the subscription \"a\" is defined twice" % hf,
                     "%s: /subscriptions/1/settings/password: the environment variable "
                     "HOST_IT_NOT_SET is not set" % hf]:
            self.assertIn(line, r.err)
        self.assertIn("has 5 problems", r.err)
        self.assertFalse(os.path.exists(self.db()))

    def test_check(self):
        self.host_file([{"name": "a", "plugin_version": "1.0.0", "settings": {},
                         "flows": [pull_flow(), push_flow()]}])
        r = host("run", "--config", self.path("host.json"), "--check")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("a: ok: synth 1.0.0, 2 flows", r.out)
        self.host_file([{"name": "a", "plugin_version": "1.0.0", "settings": {},
                         "flows": [pull_flow(), pull_flow(flow="customers")]},
                        {"name": "b", "plugin_version": "3.0.0", "settings": {},
                         "flows": [pull_flow()]}])
        r = host("run", "--config", self.path("host.json"), "--check")
        self.assertEqual(r.rc, 3, r)
        self.assertIn("/subscriptions/0/flows/1: synth 1.0.0 has no pull flow 'customers'", r.err)
        self.assertIn("/subscriptions/1/settings: synth 3.0.0 is built to refuse every init",
                      r.err)

    # -- the push queue --------------------------------------------------

    def test_queue_retry_schedule_and_dead_letters(self):
        sink = self.path("sink.txt")
        self.host_file([{"name": "alpha", "plugin_version": "1.0.0",
                         "settings": {"sink_file": sink},
                         "flows": [push_flow(every="50ms", batch=3)]}],
                       retry={"unit_seconds": 0.02, "max_attempts": 3})
        rt = self.start()
        rt.wait_log("started on synth 1.0.0")
        write_lines(self.path("orders.jsonl"), [
            {"id": "o1", "do": "ok"}, {"id": "o2", "do": "ok"}, {"id": "o3", "do": "reject"},
            {"id": "o4", "do": "fail_times", "times": 2}, {"id": "o5", "do": "fail"},
            {"id": "o6", "do": "dup"}, {"id": "o7", "do": "ok"}])
        r = host("enqueue", "--config", self.path("host.json"), "--subscription", "alpha",
                 "--flow", "orders", "--in", self.path("orders.jsonl"))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("enqueued 7 records for alpha orders (queue ids 1 to 7)", r.out)

        def settled():
            rows = query(self.db(), "SELECT state, count(*) FROM queue GROUP BY state")
            d = dict(rows)
            return d if d.get("pending", 0) + d.get("in_flight", 0) == 0 else None
        # o5 fails at once, again after 20 units (0.4 s), again after 60
        # more (1.2 s): then it is a dead letter.
        t0 = time.monotonic()
        counts = wait_for("the queue to settle", settled, timeout=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(counts, {"done": 5, "dead": 2})
        self.assertGreater(elapsed, 1.4)  # the schedule was really waited for
        rows = dict((r[0], r[1:]) for r in query(
            self.db(), "SELECT id, state, attempts, outcome, CAST(result AS TEXT) FROM queue"))
        self.assertEqual(rows[3][:3], ("dead", 1, "rejected"))
        self.assertIn("Inventory ID 'NOPE-o3' was not found.", rows[3][3])
        self.assertEqual(rows[4][:3], ("done", 3, "created"))
        self.assertEqual(rows[5][:3], ("dead", 3, "failed"))
        with open(sink) as f:
            self.assertEqual(sorted(l.split()[0] for l in f), ["o1", "o2", "o4", "o7"])
        # When o5 was tried: three attempts, the waits growing 20 then 60
        # units (a run row per drain that had something due).
        starts = [r[0] for r in query(self.db(),
                                      "SELECT start_ms FROM runs WHERE direction = 'push' "
                                      "ORDER BY id")]
        self.assertGreaterEqual(len(starts), 3)

        r = host("queue", "list", "--config", self.path("host.json"), "--status", "dead")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("rejected  Inventory ID 'NOPE-o3' was not found.", r.out)
        self.assertIn("failed    synthetic 503", r.out)
        r = host("queue", "list", "--config", self.path("host.json"), "--json", "--id", "3")
        doc = json.loads(r.out)
        self.assertEqual(doc["record"], {"id": "o3", "do": "reject"})
        self.assertEqual(doc["result"]["field"], "Details/0/InventoryID")
        # retry: both dead letters go back; they die again.
        r = host("queue", "retry", "--config", self.path("host.json"), "--status", "dead")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("2 records due now", r.out)
        wait_for("the retried records to die again",
                 lambda: query(self.db(), "SELECT count(*) FROM queue WHERE state = 'dead' "
                                          "AND attempts = 3 AND id = 5") == [(1,)])
        r = host("queue", "drop", "--config", self.path("host.json"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--all", r.err)
        r = host("queue", "drop", "--config", self.path("host.json"), "--status", "dead",
                 "--subscription", "alpha")
        self.assertIn("2 records deleted", r.out)
        r = host("status", "--config", self.path("host.json"))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("push orders", r.out)
        self.assertIn("queue: 0 pending, 0 in flight, 0 dead", r.out)
        self.assertEqual(rt.stop(), 0, rt.stderr_text())

    def test_enqueue_refusals(self):
        self.host_file([{"name": "alpha", "plugin_version": "1.0.0", "settings": {},
                         "flows": [push_flow()]}])
        write_lines(self.path("bad.jsonl"), ['{"id": 1}', '{"id": 2', '{"id": 3}'])
        r = host("enqueue", "--config", self.path("host.json"), "--subscription", "alpha",
                 "--flow", "orders", "--in", self.path("bad.jsonl"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("bad.jsonl:2: not valid JSON", r.err)
        self.assertIn("nothing was enqueued", r.err)
        write_lines(self.path("ok.jsonl"), ['{"id": 1}'])
        r = host("enqueue", "--config", self.path("host.json"), "--subscription", "alpha",
                 "--flow", "invoices", "--in", self.path("ok.jsonl"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("has no push flow 'invoices' for subscription 'alpha'", r.err)
        r = host("enqueue", "--config", self.path("host.json"), "--flow", "orders", "--in",
                 self.path("ok.jsonl"))
        self.assertEqual(r.rc, 2, r)
        if os.path.exists(self.db()):
            self.assertEqual(query(self.db(), "SELECT count(*) FROM queue"), [(0,)])

    # -- logs, status, one runtime per state -----------------------------

    def test_logs_status_and_single_instance(self):
        self.host_file([{"name": "alpha", "plugin_version": "1.0.0",
                         "settings": {"total": 35, "page": 10},
                         "flows": [pull_flow(every="1h")]}],
                       output_dir=self.path("out"))
        rt = self.start()
        rt.wait_log("pull OK: 35 records in 4 checkpoints", sub="alpha")
        line = [l for l in rt.lines() if "pull OK" in l["message"]][0]
        self.assertEqual(set(line), {"time", "level", "subscription", "flow", "run", "message"})
        self.assertEqual((line["level"], line["subscription"], line["flow"]),
                         ("info", "alpha", "items"))
        self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # The plugin's own lines carry the run id too.
        plugin = [l for l in rt.lines() if l["message"] == "synth pull"]
        self.assertEqual(plugin[0]["run"], line["run"])
        # The control socket is private.
        sock = self.path("state.sock")
        self.assertTrue(stat.S_ISSOCK(os.stat(sock).st_mode))
        self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o600)
        # One runtime per state file.
        r = host("run", "--config", self.path("host.json"), timeout=30)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("another connector-host run serves the state file", r.err)
        # status, text and JSON.
        r = host("status", "--config", self.path("host.json"))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("runtime: running (pid %d)" % rt.proc.pid, r.out)
        self.assertIn("alpha  plugin 1.0.0", r.out)
        self.assertRegex(r.out, r"pull items +last run #\d+ \S+ \S+ OK, 35 records, cursor idx:35")
        doc = json.loads(host("status", "--config", self.path("host.json"), "--json").out)
        self.assertEqual(doc["flows"][0]["cursor"], "idx:35")
        self.assertEqual(doc["flows"][0]["last_run"]["counts"]["checkpoints"], 4)
        self.assertEqual(doc["live"]["subscriptions"][0]["plugin_version"], "1.0.0")
        self.assertEqual(rt.stop(), 0)
        # Without the runtime, status still reads the state file.
        r = host("status", "--state", self.db())
        self.assertIn("runtime: not reachable", r.out)
        self.assertIn("alpha  plugin 1.0.0 (stopped)", r.out)
        self.assertEqual(sum(self.out_ids("alpha").values()), 35)
        self.assertFalse(os.path.exists(sock))

    def test_one_call_at_a_time_per_subscription_parallel_across(self):
        # Two subscriptions, each a pull that keeps finding new records and
        # a push draining a queue, on three workers: a subscription's calls
        # never overlap (the synthetic plugin logs it if one enters while
        # another runs), different subscriptions' calls do.
        now = int(time.time() * 1000)
        subs = []
        for name in ("a", "b"):
            subs.append({"name": name, "plugin_version": "1.0.0",
                         "settings": {"total": 100000, "page": 5, "page_delay_ms": 30,
                                      "rate_per_s": 150, "t0_ms": now, "push_delay_ms": 10},
                         "flows": [pull_flow(every="50ms"), push_flow(every="50ms", batch=4)]})
        self.host_file(subs, workers=3)
        for name in ("a", "b"):
            write_lines(self.path("orders-%s.jsonl" % name),
                        [{"id": "%s%03d" % (name, i), "do": "ok"} for i in range(120)])
            r = host("enqueue", "--config", self.path("host.json"), "--subscription", name,
                     "--flow", "orders", "--in", self.path("orders-%s.jsonl" % name))
            self.assertEqual(r.rc, 0, r)
        rt = self.start()
        time.sleep(4)
        self.assertEqual(rt.stop(), 0)
        self.assertFalse([l for l in rt.lines() if "ABI VIOLATION" in l["message"]])
        runs = query(self.db(), "SELECT subscription, direction, start_ms, end_ms FROM runs "
                                "WHERE end_ms IS NOT NULL ORDER BY start_ms")
        by_sub = collections.defaultdict(list)
        for sub, direction, start, end in runs:
            by_sub[sub].append((start, end, direction))
        for sub, rows in by_sub.items():
            self.assertGreater(len({d for _, _, d in rows}), 1, sub)  # pulls and pushes
            for (s1, e1, _), (s2, _, _) in zip(rows, rows[1:]):
                self.assertGreaterEqual(s2, e1, "%s: two runs overlap" % sub)
        across = sum(1 for s1, e1, _ in by_sub["a"] for s2, e2, _ in by_sub["b"]
                     if s1 < e2 and s2 < e1)
        self.assertGreater(across, 0, "the two subscriptions never ran at the same time")

    # -- SIGTERM -----------------------------------------------------------

    def test_sigterm_asks_calls_to_stop_after_the_grace(self):
        self.host_file([{"name": "slow", "plugin_version": "1.0.0",
                         "settings": {"total": 100000, "page": 10, "page_delay_ms": 150},
                         "flows": [pull_flow()]}],
                       output_dir=self.path("out"), shutdown_grace="500ms")
        rt = self.start()
        wait_for("records", lambda: sum(self.out_ids("slow").values()) >= 20)
        t0 = time.monotonic()
        code = rt.stop()
        self.assertEqual(code, 0, rt.stderr_text())
        self.assertLess(time.monotonic() - t0, 5 * hosttest.SLOW)
        msgs = [m for _, m in rt.messages()]
        self.assertIn("asking 1 call in flight to stop (should_stop)", msgs)
        self.assertEqual(msgs[-1], "stopped")
        n = sum(self.out_ids("slow").values())
        self.assertEqual(self.cursor("slow"), "idx:%d" % n)
        self.assertEqual(query(self.db(), "SELECT count(*) FROM records"), [(n,)])
        self.assertEqual(query(self.db(), "SELECT outcome FROM runs ORDER BY id DESC LIMIT 1"),
                         [("CANCELLED",)])
        # Started again, it continues at the cursor: no gap, no duplicate.
        self.host_file([{"name": "slow", "plugin_version": "1.0.0",
                         "settings": {"total": n + 55, "page": 10},
                         "flows": [pull_flow()]}],
                       output_dir=self.path("out"))
        rt = self.start()
        wait_for("the rest", lambda: self.cursor("slow") == "idx:%d" % (n + 55))
        self.assertEqual(rt.stop(), 0)
        ids = self.out_ids("slow")
        self.assertEqual(sorted(ids), ["r%06d" % i for i in range(n + 55)])
        self.assertEqual(set(ids.values()), {1})

    def test_sigterm_lets_a_call_finish_within_the_grace(self):
        self.host_file([{"name": "calm", "plugin_version": "1.0.0",
                         "settings": {"total": 40, "page": 10, "page_delay_ms": 300},
                         "flows": [pull_flow(every="1h")]}],
                       output_dir=self.path("out"), shutdown_grace="20s")
        rt = self.start()
        wait_for("the first page", lambda: sum(self.out_ids("calm").values()) >= 10)
        self.assertEqual(rt.stop(), 0)
        msgs = [m for _, m in rt.messages()]
        self.assertIn("stopping: 1 call in flight may run for up to 20000 ms more", msgs)
        self.assertNotIn("asking 1 call in flight to stop (should_stop)", msgs)
        self.assertEqual(self.cursor("calm"), "idx:40")
        self.assertEqual(sum(self.out_ids("calm").values()), 40)

    # -- SIGHUP ------------------------------------------------------------

    def test_sighup_adds_removes_changes(self):
        alpha = {"name": "alpha", "plugin_version": "1.0.0", "settings": {"total": 10},
                 "flows": [pull_flow(every="100ms")]}
        beta = {"name": "beta", "plugin_version": "2.0.0", "settings": {"total": 20},
                "flows": [pull_flow(every="100ms")]}
        self.host_file([alpha], output_dir=self.path("out"))
        rt = self.start()
        rt.wait_log("pull OK: 10 records", sub="alpha")
        # Add beta.
        self.host_file([alpha, beta], output_dir=self.path("out"))
        rt.signal(signal.SIGHUP)
        rt.wait_log("added (plugin version 2.0.0)", sub="beta")
        rt.wait_log("pull OK: 20 records", sub="beta")
        # A broken file changes nothing.
        with open(self.path("host.json"), "w") as f:
            f.write('{"subscriptions": [')
        rt.signal(signal.SIGHUP)
        rt.wait_log("keeping the running configuration")
        # Remove alpha, change beta's settings (a re-init, same version).
        beta["settings"] = {"total": 30}
        self.host_file([beta], output_dir=self.path("out"))
        rt.signal(signal.SIGHUP)
        rt.wait_log("removed from the host file: shutting down", sub="alpha")
        rt.wait_log("re-initialised synth 2.0.0 with new settings", sub="beta")
        rt.wait_log("pull OK: 10 records", sub="beta")
        last_alpha = query(self.db(), "SELECT max(id) FROM runs WHERE subscription = 'alpha'")
        time.sleep(0.5)
        self.assertEqual(query(self.db(), "SELECT max(id) FROM runs WHERE subscription = "
                                          "'alpha'"), last_alpha)
        self.assertEqual(rt.stop(), 0)
        self.assertEqual(sorted(self.out_ids("beta")), ["r%06d" % i for i in range(30)])

    def test_a_subscription_that_cannot_start(self):
        good = {"name": "good", "plugin_version": "1.0.0", "settings": {"total": 5},
                "flows": [pull_flow(every="100ms")]}
        bad = {"name": "bad", "plugin_version": "3.0.0", "settings": {"total": 5},
               "flows": [pull_flow(every="100ms")]}
        self.host_file([good, bad])
        rt = self.start()
        rt.wait_log("plugin version 3.0.0 cannot start", sub="bad")
        rt.wait_log("pull OK: 5 records", sub="good")
        r = host("status", "--config", self.path("host.json"))
        self.assertIn("bad", r.out)
        self.assertIn("last error: plugin version 3.0.0 cannot start: synth 3.0.0 is built to "
                      "refuse every init", r.out)
        bad["plugin_version"] = "2.0.0"
        self.host_file([good, bad])
        rt.signal(signal.SIGHUP)
        rt.wait_log("started on synth 2.0.0", sub="bad")
        rt.wait_log("pull OK: 5 records", sub="bad")
        self.assertEqual(rt.stop(), 0)


if __name__ == "__main__":
    hosttest.main()
