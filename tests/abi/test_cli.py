#!/usr/bin/env python3
"""connector-host's command line: plugins, describe, validate, help, exit codes.

usage: test_cli.py CONNECTOR_HOST PLUGIN_A PLUGIN_B TEST_PLUGIN_DIR SETTINGS

PLUGIN_A and PLUGIN_B are two versions of the real plugin; TEST_PLUGIN_DIR
holds the small contract-breaking plugins of tests/abi/plugins.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HOST, PLUGIN_A, PLUGIN_B, TEST_PLUGIN_DIR, SETTINGS = sys.argv[1:6]
EXIT_OK, EXIT_OTHER, EXIT_USAGE, EXIT_INVALID = 0, 1, 2, 3

# The ABI this source speaks, read from the header (1.<minor>).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "host-api",
                       "include", "conn_abi.h")) as _f:
    ABI_MINOR = int(re.search(r"^#define CONN_ABI_MINOR (\d+)", _f.read(), re.M).group(1))
ABI = "1.%d" % ABI_MINOR


def run(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([HOST, *args], capture_output=True, text=True, timeout=120,
                          env=full_env)


def version_of(path):
    return re.match(r"acumatica-(.+)\.so$", os.path.basename(path)).group(1)


class Describe(unittest.TestCase):
    def test_describe_prints_json_with_name_and_version(self):
        for plugin in (PLUGIN_A, PLUGIN_B):
            r = run("describe", "--plugin", plugin)
            self.assertEqual(r.returncode, EXIT_OK, r.stderr)
            doc = json.loads(r.stdout)
            self.assertEqual(doc["name"], "acumatica")
            self.assertEqual(doc["version"], version_of(plugin))

    def test_describe_refused_plugin_names_the_reason(self):
        r = run("describe", "--plugin", os.path.join(TEST_PLUGIN_DIR, "acumatica-9.0.0.so"))
        self.assertEqual(r.returncode, EXIT_OTHER)
        self.assertIn("acumatica-9.0.0.so speaks ABI 2; this host speaks ABI 1", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_describe_missing_plugin(self):
        r = run("describe", "--plugin", "/nonexistent/acumatica-0.so")
        self.assertEqual(r.returncode, EXIT_OTHER)
        self.assertIn("no such plugin file", r.stderr)

    def test_bare_plugin_name_is_found_in_the_plugin_dir(self):
        r = run("describe", "--plugin", os.path.basename(PLUGIN_B),
                env={"CONNECTOR_HOST_PLUGIN_DIR": os.path.dirname(PLUGIN_B)})
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(json.loads(r.stdout)["version"], version_of(PLUGIN_B))


class Validate(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cli-validate-")
        self.state = os.path.join(self.tmp, "state", "state.db")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_malformed_settings_exit_3_with_line_and_column(self):
        bad = self.write("acme.json", '{\n  "api_url": "https://x.example/A",\n  "grant_type" "password"\n}\n')
        r = run("--state", self.state, "validate", "--plugin", PLUGIN_A, "--config", bad)
        self.assertEqual(r.returncode, EXIT_INVALID, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"acme\.json: .*line 3, column \d+")
        self.assertIn("is invalid", r.stderr)

    def test_truncated_settings_exit_3(self):
        bad = self.write("cut.json", '{"api_url": ')
        r = run("validate", "--plugin", PLUGIN_A, "--config", bad, "--state", self.state)
        self.assertEqual(r.returncode, EXIT_INVALID)
        self.assertRegex(r.stdout, r"line 1, column \d+")

    def test_valid_settings_exit_0_and_state_untouched(self):
        r = run("validate", "--plugin", PLUGIN_B, "--config", SETTINGS, "--state", self.state)
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        self.assertIn("valid settings for acumatica " + version_of(PLUGIN_B), r.stdout)
        # No secret of the settings file is echoed.
        with open(SETTINGS, encoding="utf-8") as f:
            settings = json.load(f)
        for key in ("password", "client_secret"):
            self.assertNotIn(settings[key], r.stdout + r.stderr)

    def test_every_problem_printed_with_the_right_count(self):
        # More problems than init's 1 KiB message holds: the plugin logs the
        # rest; validate prints them all on stdout, one per line, the
        # unknown keys with their suggestions, and counts them right.
        bad = self.write("many.json", json.dumps({
            "api_url": "ftp://nowhere.example/A",
            "grant_type": "sideways",
            "page_size": -5,
            "concurrent_connections": "many",
            "time_zone_offset": "+99:99",
            "tracking_poll_days": "x",
            "tenant": 5,
            "username": 7,
            "pasword": "x",
            "api_ulr": "https://x.example/A",
            "zzzz_qqq_totally_unknown": 1,
        }))
        r = run("validate", "--plugin", PLUGIN_A, "--config", bad, "--state", self.state)
        self.assertEqual(r.returncode, EXIT_INVALID, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        for line in lines:
            self.assertTrue(line.startswith(bad + ": "), line)
        problems = [line[len(bad) + 2:] for line in lines]
        self.assertEqual(len(problems), len(set(problems)), problems)
        self.assertFalse([p for p in problems if "more problem" in p], problems)
        for key in ("api_url", "grant_type", "page_size", "concurrent_connections",
                    "time_zone_offset", "tracking_poll_days", "tenant", "username"):
            self.assertEqual(len([p for p in problems if p.startswith(key + " (")]), 1,
                             (key, problems))
        self.assertIn('unknown setting "pasword"; did you mean "password" (Password)?',
                      problems)
        self.assertIn('unknown setting "api_ulr"; did you mean "api_url" (API URL)?', problems)
        self.assertEqual(len([p for p in problems
                              if p.startswith('unknown setting "zzzz_qqq_totally_unknown"')]),
                         1, problems)
        self.assertGreaterEqual(len(problems), 14, problems)
        self.assertIn("%s is invalid: %d problems" % (bad, len(problems)), r.stderr)
        # Printed once: not repeated as warnings on stderr.
        self.assertNotIn("pasword", r.stderr)

    def test_settings_and_mapping_problems_in_one_run(self):
        # init checks the mappings even when the settings are wrong, so one
        # run names both: here 4 settings problems and 14 overlay typos -
        # more than init's message holds, so through the host log too.
        ov = self.write("typos.json", json.dumps({
            "overlay": True, "name": "sales_orders", "direction": "from_host",
            "fields": [{"target": "NoSuchField%02d" % i, "op": "add",
                        "source": "transaction_number"} for i in range(14)]}))
        bad = self.write("mixed.json", json.dumps({
            "api_url": "ftp://nowhere.example/A", "grant_type": "password",
            "username": "u", "password": "p", "client_id": "x@y", "client_secret": "s",
            "concurrent_connections": 50, "time_zone_offset": "+99:00",
            "mapping_overrides": [ov]}))
        r = run("validate", "--plugin", PLUGIN_A, "--config", bad, "--state", self.state)
        self.assertEqual(r.returncode, EXIT_INVALID, r.stdout + r.stderr)
        problems = [line[len(bad) + 2:] for line in r.stdout.splitlines()]
        self.assertEqual(len(problems), len(set(problems)), problems)
        for i in range(14):
            self.assertIn("%s /fields/%d/target: unknown field 'NoSuchField%02d' on SalesOrder"
                          % (ov, i, i), problems)
        for key in ("api_url", "concurrent_connections", "time_zone_offset"):
            self.assertEqual(len([p for p in problems if p.startswith(key + " (")]), 1,
                             (key, problems))
        # The mapping loader's own word on the offset is not a second problem.
        self.assertFalse([p for p in problems if p.startswith("settings /")], problems)
        self.assertFalse([p for p in problems if "more problem" in p], problems)
        self.assertIn("%s is invalid: %d problems" % (bad, len(problems)), r.stderr)
        # Few enough to fit: the message alone carries them, counted right.
        ov2 = self.write("one-typo.json", json.dumps({
            "overlay": True, "name": "sales_orders", "direction": "from_host",
            "fields": [{"target": "CustomerOrder", "op": "replace",
                        "expr": "uper(transaction_number)"}]}))
        bad2 = self.write("mixed2.json", json.dumps({
            "api_url": "https://erp.example.com/A", "grant_type": "password",
            "username": "u", "password": "p", "client_secret": "s",
            "client_id": "00000000-0000-0000-0000-000000000000@Co",
            "time_zone_offset": "+00:00", "concurrent_connections": 50,
            "mapping_overrides": [ov2]}))
        r = run("validate", "--plugin", PLUGIN_A, "--config", bad2, "--state", self.state)
        self.assertEqual(r.returncode, EXIT_INVALID, r.stdout + r.stderr)
        problems = [line[len(bad2) + 2:] for line in r.stdout.splitlines()]
        self.assertEqual(len(problems), 2, problems)
        self.assertTrue(problems[0].startswith("concurrent_connections ("), problems)
        self.assertIn("unknown function 'uper'", problems[1])
        self.assertIn("%s is invalid: 2 problems" % bad2, r.stderr)

    def test_missing_config_file(self):
        r = run("validate", "--plugin", PLUGIN_A, "--config", os.path.join(self.tmp, "none.json"))
        self.assertEqual(r.returncode, EXIT_OTHER)
        self.assertIn("no such file", r.stderr)

    def test_missing_required_option_is_usage(self):
        r = run("validate", "--plugin", PLUGIN_A)
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn("--config", r.stderr)


class Plugins(unittest.TestCase):
    def test_lists_both_versions(self):
        with tempfile.TemporaryDirectory(prefix="cli-plugins-") as d:
            for p in (PLUGIN_A, PLUGIN_B):
                shutil.copy(p, d)
            r = run("plugins", "--dir", d)
            self.assertEqual(r.returncode, EXIT_OK, r.stderr)
            rows = [line.split() for line in r.stdout.splitlines()[1:]]
            found = sorted((row[0], row[1], row[2]) for row in rows)
            want = sorted(("acumatica", version_of(p), ABI) for p in (PLUGIN_A, PLUGIN_B))
            self.assertEqual(found, want)
            r = run("plugins", "--dir", d, "--json")
            self.assertEqual(r.returncode, EXIT_OK, r.stderr)
            versions = sorted(e["version"] for e in json.loads(r.stdout))
            self.assertEqual(versions, sorted(version_of(p) for p in (PLUGIN_A, PLUGIN_B)))

    def test_refused_plugins_named_on_stderr_exit_1(self):
        r = run("plugins", "--dir", TEST_PLUGIN_DIR)
        self.assertEqual(r.returncode, EXIT_OTHER)
        self.assertIn("acumatica-9.0.0.so speaks ABI 2; this host speaks ABI 1", r.stderr)
        self.assertIn("acumatica-1.0.0.so lacks the mandatory function 'pull'", r.stderr)
        self.assertIn("acumatica-0.0.1.so has a function table of 40 bytes", r.stderr)
        # The acceptable ones are listed, with their ABI: an older minor
        # (0.9.0 says 1.0) and a newer one (1.1.0 says one more than ours).
        self.assertRegex(r.stdout, r"acumatica\s+0\.9\.0\s+1\.0\s")
        self.assertRegex(r.stdout, r"acumatica\s+1\.1\.0\s+1\.%d\s" % (ABI_MINOR + 1))

    def test_missing_dir(self):
        r = run("plugins", "--dir", "/nonexistent-plugin-dir")
        self.assertEqual(r.returncode, EXIT_OTHER)


class Usage(unittest.TestCase):
    def commands(self):
        r = run("--help")
        self.assertEqual(r.returncode, EXIT_OK)
        block = r.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        names = [line.split()[0] for line in block.splitlines() if line.strip()]
        self.assertGreaterEqual(set(names), {"plugins", "describe", "validate"})
        return names

    def test_help_for_every_subcommand(self):
        for name in self.commands():
            for flag in ("--help", "-h"):
                r = run(name, flag)
                self.assertEqual(r.returncode, EXIT_OK, name)
                self.assertTrue(r.stdout.startswith("Usage: connector-host " + name), r.stdout)
                self.assertIn("Exit codes:", r.stdout)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, EXIT_OK)
        self.assertRegex(r.stdout, r"^connector-host \S+ \(connector ABI 1\.\d+")

    def test_usage_errors_exit_2(self):
        cases = [
            (),
            ("frobnicate",),
            ("--bogus", "describe"),
            ("describe",),
            ("describe", "--plugin"),
            ("describe", "--plugin", PLUGIN_A, "--frob"),
            ("describe", "--plugin", PLUGIN_A, "extra"),
            ("plugins", "--json=yes"),
            ("--state",),
        ]
        for args in cases:
            r = run(*args)
            self.assertEqual(r.returncode, EXIT_USAGE, args)
            self.assertEqual(r.stdout, "", args)
            self.assertIn("connector-host", r.stderr, args)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
