"""connector-host pull and push, driven as a person would, against the
synthetic plugin: records as JSON lines with the cursor in host state, no
loss and no duplicate across failures, Ctrl-C and crashes; one result line
per pushed record; the exit codes."""
import collections
import json
import os
import signal
import subprocess
import time

import hosttest
from hosttest import host, synth, write_json, write_lines, read_jsonl


class PullTest(hosttest.HostTestCase):
    def settings(self, **kw):
        write_json(self.path("acme.json"), kw)
        return self.path("acme.json")

    def pull(self, *extra, plugin="1.0.0"):
        return host("--state", self.path("state.db"), "pull", "--plugin", synth(plugin),
                    "--config", self.path("acme.json"), "--flow", "items",
                    "--out", self.path("records.jsonl"), *extra)

    def assert_once(self, n):
        ids = collections.Counter(r["id"] for r in read_jsonl(self.path("records.jsonl")))
        self.assertEqual(sorted(ids), ["r%06d" % i for i in range(n)])
        self.assertEqual(set(ids.values()), {1}, [k for k, v in ids.items() if v != 1][:5])

    def test_pull_lines_cursor_summary(self):
        self.settings(total=45, page=10)
        r = self.pull()
        self.assertEqual(r.rc, 0, r)
        recs = read_jsonl(self.path("records.jsonl"))
        self.assertEqual(len(recs), 45)
        first = recs[0]
        self.assertEqual(set(first), {"flow", "record_type", "id", "record"})
        self.assertEqual((first["flow"], first["record_type"], first["id"]),
                         ("items", "item", "r000000"))
        self.assertEqual(first["record"]["emitted_by"], "1.0.0")
        self.assertIn("acme items: 45 records committed in 5 checkpoints", r.err)
        self.assertIn("cursor idx:45", r.err)
        # The cursor is in host state; the next pull starts there.
        r = self.pull()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("0 records committed", r.err)
        self.assert_once(45)
        # --full reads everything again (the plugin decides what that means).
        r = self.pull("--full")
        self.assertIn("45 records committed", r.err)
        # The run summaries are in the state database.
        rows = hosttest.query(self.path("state.db"),
                              "SELECT outcome, records, direction FROM runs ORDER BY id")
        self.assertEqual(rows, [("OK", 45, "pull"), ("OK", 0, "pull"), ("OK", 45, "pull")])

    def test_pull_to_stdout_and_ids(self):
        self.settings(total=20, page=10)
        r = host("--state", self.path("state.db"), "pull", "--plugin", synth("1.0.0"),
                 "--config", self.path("acme.json"), "--flow", "items", "--ids", "r000003,r000011")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([json.loads(l)["id"] for l in r.out.splitlines()],
                         ["r000003", "r000011"])
        with open(self.path("ids.txt"), "w") as f:
            f.write("r000001\n\nr000002\n")
        r = host("--state", self.path("state.db"), "pull", "--plugin", synth("1.0.0"),
                 "--config", self.path("acme.json"), "--flow", "items", "--ids-file",
                 self.path("ids.txt"))
        self.assertEqual(len(r.out.splitlines()), 2, r)

    def test_progress_line_on_a_terminal(self):
        import pty
        self.settings(total=120, page=10, page_delay_ms=60)
        master, slave = pty.openpty()
        proc = subprocess.Popen([hosttest.HOST, "--state", self.path("state.db"), "pull",
                                 "--plugin", synth("1.0.0"), "--config", self.path("acme.json"),
                                 "--flow", "items", "--out", self.path("records.jsonl")],
                                stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        proc.wait(30)
        os.close(master)
        self.assertEqual(proc.returncode, 0, seen)
        text = seen.decode()
        # Redrawn in place: pages (the plugin's totals, ABI 1.1 progress),
        # records, committed, checkpoints, rate, throttle waits, elapsed.
        self.assertIn("\r\033[Kitems: ", text)
        self.assertRegex(text, r"items: [1-9]\d* pages, \d+ records, \d+ committed in \d+ "
                               r"checkpoints, \d+/s, throttle waits [1-9]\d* \(\d+\.\d s\), 0:0\d")
        self.assertIn("120 records committed in 12 checkpoints", text)
        # The summary names the plugin's traffic: 12 pages, one request and
        # one 250 ms throttle wait each (what the synthetic plugin reports).
        self.assertIn("acme items: 12 requests (0 retries, 0 answers 429), throttle waits 12 "
                      "(3.0 s)", text)
        counts = json.loads(hosttest.query(self.path("state.db"),
                                           "SELECT counts FROM runs ORDER BY id")[0][0])
        self.assertEqual(counts["plugin"], {"pages": 12, "records": 120, "requests": 12,
                                            "throttle_waits": 12, "throttle_wait_ms": 3000})
        # Without a terminal there is no progress line.
        r = self.pull("--full")
        self.assertNotIn("\033[K", r.err)

    def test_failure_then_resume(self):
        self.settings(total=120, page=10, fail_once_at=57)
        r = self.pull()
        self.assertEqual(r.rc, 5, r)  # RETRY: run again later
        self.assertIn("synthetic transient failure", r.err)
        self.assertIn("7 record(s) emitted after the last checkpoint were discarded", r.err)
        self.assertEqual(len(read_jsonl(self.path("records.jsonl"))), 50)
        r = self.pull()
        self.assertEqual(r.rc, 0, r)
        self.assert_once(120)

    def test_ctrl_c_then_resume(self):
        self.settings(total=3000, page=10, page_delay_ms=20)
        proc = subprocess.Popen([hosttest.HOST, "--state", self.path("state.db"), "pull",
                                 "--plugin", synth("1.0.0"), "--config", self.path("acme.json"),
                                 "--flow", "items", "--out", self.path("records.jsonl")],
                                stderr=subprocess.PIPE, text=True)
        hosttest.wait_for("some records",
                          lambda: len(read_jsonl(self.path("records.jsonl"))) >= 30)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
        self.assertEqual(proc.returncode, 5, err)
        self.assertIn("interrupted (signal 2)", err)
        got = len(read_jsonl(self.path("records.jsonl")))
        self.assertTrue(30 <= got < 3000 and got % 10 == 0, got)
        self.settings(total=3000, page=100)
        r = self.pull()
        self.assertEqual(r.rc, 0, r)
        self.assert_once(3000)

    def test_crash_then_resume(self):
        # The plugin ends the process at record 57 (a crash): 7 records were
        # emitted after checkpoint idx:50 and never reach the file.
        self.settings(total=100, page=10, exit_at=57)
        r = self.pull()
        self.assertEqual(r.rc, 99, r)
        self.assertEqual(len(read_jsonl(self.path("records.jsonl"))), 50)
        r = self.pull()
        self.assertEqual(r.rc, 0, r)
        self.assert_once(100)

    def test_refusals(self):
        self.settings(init_fail=True)
        r = self.pull()
        self.assertEqual(r.rc, 3, r)
        self.assertIn("acme.json: init_fail", r.err)
        # A plugin breaking the emit contract is a bug: INTERNAL, exit 1.
        self.settings(total=5, emit_bad="flow")
        r = self.pull()
        self.assertEqual(r.rc, 1, r)
        self.assertIn("emitted a record of flow 'not-this-flow'", r.err)
        r = host("pull", "--plugin", synth("1.0.0"), "--config", self.path("acme.json"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--flow", r.err)


class PushTest(hosttest.HostTestCase):
    def setUp(self):
        super().setUp()
        write_json(self.path("acme.json"), {"sink_file": self.path("sink.txt")})

    def push(self, records, *extra, stdin=None, settings=None):
        if settings is not None:
            write_json(self.path("acme.json"), settings)
        if records is not None:
            write_lines(self.path("in.jsonl"), records)
        return host("--state", self.path("state.db"), "push", "--plugin", synth("1.0.0"),
                    "--config", self.path("acme.json"), "--flow", "orders",
                    "--in", "-" if stdin is not None else self.path("in.jsonl"),
                    "--results", self.path("results.jsonl"), *extra, stdin=stdin)

    def sink(self):
        if not os.path.exists(self.path("sink.txt")):
            return []
        with open(self.path("sink.txt")) as f:
            return [l.split()[0] for l in f]

    def test_all_succeed(self):
        recs = [{"id": "o%d" % i, "do": "ok"} for i in range(250)]
        recs[7] = {"id": "o7", "do": "dup"}
        recs[9] = {"id": "o9", "do": "skip"}
        r = self.push(recs, "--batch-size", "100")
        self.assertEqual(r.rc, 0, r)
        res = read_jsonl(self.path("results.jsonl"))
        self.assertEqual([x["line"] for x in res], list(range(1, 251)))
        self.assertEqual(res[0]["outcome"], "created")
        self.assertEqual(res[0]["result"], {"id": "o0", "by": "1.0.0"})
        self.assertEqual(res[7]["outcome"], "duplicate")
        self.assertEqual(res[9]["outcome"], "skipped")
        self.assertEqual(len(self.sink()), 248)
        self.assertIn("250 records: 248 created, 0 updated, 1 duplicate, 1 skipped", r.err)
        run = hosttest.query(self.path("state.db"), "SELECT direction, records, counts FROM runs")
        self.assertEqual(run[0][:2], ("push", 250))
        self.assertEqual(json.loads(run[0][2])["created"], 248)

    def test_rejected_and_failed(self):
        recs = ['{"id": "a", "do": "ok"}', "", '{"id": "b", "do": "reject"}',
                '{"id": "c", "do": "fail"}']
        r = self.push(recs)
        self.assertEqual(r.rc, 6, r)  # some rejected: a person must fix the data
        res = read_jsonl(self.path("results.jsonl"))
        # Line numbers count the blank line too.
        self.assertEqual([(x["line"], x["outcome"]) for x in res],
                         [(1, "created"), (3, "rejected"), (4, "failed")])
        self.assertIn("Inventory ID 'NOPE-b' was not found.", res[1]["result"]["message"])
        self.assertIn("line 3: rejected: Inventory ID 'NOPE-b' was not found.", r.err)
        r = self.push(['{"id": "d", "do": "fail"}'])
        self.assertEqual(r.rc, 5, r)  # transient only: run again later

    def test_malformed_input_sends_nothing(self):
        r = self.push(['{"id": "a", "do": "ok"}', '{"id": "b", "do": "ok"}', '{"id": "c",'])
        self.assertEqual(r.rc, 2, r)
        self.assertIn("in.jsonl:3: not valid JSON", r.err)
        self.assertIn("nothing was sent", r.err)
        self.assertEqual(self.sink(), [])
        r = self.push(['{"id": "a"}', '[1, 2]'])
        self.assertEqual(r.rc, 2, r)
        self.assertIn("in.jsonl:2: a record must be a JSON object", r.err)
        r = self.push(['{"id": "%s"}' % ("x" * 200)], "--max-line-bytes", "100")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("in.jsonl:1: the line is longer than 100 bytes", r.err)

    def test_stdin(self):
        r = self.push(None, stdin='{"id": "s1", "do": "ok"}\n{"id": "s2", "do": "ok"}\n')
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.sink(), ["s1", "s2"])

    def test_plugin_breaking_the_contract(self):
        r = self.push([{"id": "a", "do": "ok"}, {"id": "b", "do": "ok"}],
                      settings={"report_bug": "skip_first"})
        self.assertEqual(r.rc, 1, r)
        self.assertIn("INTERNAL: synth 1.0.0 broke the push contract", r.err)
        self.assertIn("1 record(s) never reported", r.err)
        res = read_jsonl(self.path("results.jsonl"))
        self.assertEqual(res[0]["outcome"], "failed")
        self.assertIn("never reported", res[0]["result"]["host_note"])
        r = self.push([{"id": "a", "do": "ok"}], settings={"report_bug": "double_first"})
        self.assertEqual(r.rc, 1, r)
        self.assertIn("extra report(s)", r.err)

    def test_interrupt_every_record_gets_a_line(self):
        write_lines(self.path("in.jsonl"), [{"id": "o%d" % i, "do": "ok"} for i in range(300)])
        write_json(self.path("acme.json"), {"sink_file": self.path("sink.txt"),
                                            "push_delay_ms": 20})
        proc = subprocess.Popen([hosttest.HOST, "--state", self.path("state.db"), "push",
                                 "--plugin", synth("1.0.0"), "--config", self.path("acme.json"),
                                 "--flow", "orders", "--in", self.path("in.jsonl"),
                                 "--results", self.path("results.jsonl"), "--batch-size", "50"],
                                stderr=subprocess.PIPE, text=True)
        hosttest.wait_for("some orders", lambda: len(self.sink()) >= 60)
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=30)[1]
        self.assertEqual(proc.returncode, 5, err)
        res = read_jsonl(self.path("results.jsonl"))
        self.assertEqual([x["line"] for x in res], list(range(1, 301)))
        created = [x for x in res if x["outcome"] == "created"]
        cancelled = [x for x in res if x["outcome"] == "cancelled"]
        self.assertEqual(len(created) + len(cancelled), 300)
        self.assertEqual(len(created), len(self.sink()))
        self.assertTrue(cancelled)


if __name__ == "__main__":
    hosttest.main()
