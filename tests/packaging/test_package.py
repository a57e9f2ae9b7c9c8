"""The packages `make package` builds, checked as an installed system uses them.

Run by CTest (tests/packaging/CMakeLists.txt), one unittest class per test:

  BuildPackages       cpack (DEB + TGZ) on this build into $PKG_WORK/out-a
  BuildSecondVersion  a second build of the same source with plugin version
                      $PKG_SECOND_VERSION, and its plugin .deb, into out-b
  Contents            every file of both .deb files and the .tar.gz, the
                      control fields (Depends from the libraries the ELF
                      files need), the maintainer scripts, the pkg-config file
  Installed           the .deb files unpacked into a temporary root (dpkg -x):
                      connector-host describes its own plugin, pkg-config finds
                      the header, a tiny C host built against it with -ldl only
                      loads the installed plugin
  SideBySide          two plugin versions in one root; no shared file; dpkg
                      itself installs both and removes one without touching
                      the other
  SystemdUnit         the installed unit: required settings, systemd-analyze
  ManPage             connector-host(1) documents every subcommand and option
                      that `--help` lists, and groff reads it without warnings

Configuration comes from the environment (PKG_*), set by CTest.
Standard library only.
"""
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import signal
import tempfile
import threading
import time
import unittest

E = os.environ
SRC = E.get("PKG_SOURCE_DIR", "")
BUILD = E.get("PKG_BUILD_DIR", "")
WORK = E.get("PKG_WORK", "")
VER_A = E.get("PKG_PLUGIN_VERSION", "")
VER_B = E.get("PKG_SECOND_VERSION", "")
PROJECT_VERSION = E.get("PKG_PROJECT_VERSION", "")
PREFIX = E.get("PKG_PREFIX", "/usr")
LIBDIR = E.get("PKG_LIBDIR", "")
HOST_EXE = E.get("PKG_HOST_EXE", "")

PLUGINDIR = f"{PREFIX}/{LIBDIR}/connector-host/plugins"
DATADIR = f"{PREFIX}/share/acumatica-connector"
SYSCONFDIR = "/etc" if PREFIX == "/usr" else f"{PREFIX}/etc"
# Source files of the mappings tree that are not installed.
MAPPING_EXCLUDES = re.compile(r"(^|/)(CMakeLists\.txt|[^/]*\.py|__pycache__(/.*)?)$")


def run(cmd, check=True, env=None, cwd=None, timeout=300):
    """Runs cmd; returns the CompletedProcess. check: fail with its output."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {r.returncode}\n"
                             f"stdout:\n{r.stdout[-4000:]}\nstderr:\n{r.stderr[-4000:]}")
    return r


def clean_env(**extra):
    """The environment without anything that changes where plugins or
    pkg-config files are looked up."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PKG_CONFIG") and k != "CONNECTOR_HOST_PLUGIN_DIR"}
    env.update(extra)
    return env


def read(path, mode="r"):
    """The whole content of a file."""
    with open(path, mode) as f:
        return f.read()


def deb_arch():
    return run(["dpkg", "--print-architecture"]).stdout.strip()


def find_debs(out):
    """{'host': path or None, 'plugin': {version: path}} in directory out."""
    found = {"host": None, "plugin": {}}
    for path in sorted(glob.glob(os.path.join(out, "*.deb"))):
        name = os.path.basename(path).split("_")[0]
        if name == "connector-host":
            found["host"] = path
        m = re.fullmatch(r"acumatica-connector-plugin-(.+)", name)
        if m:
            found["plugin"][m.group(1)] = path
    return found


def debs_a():
    found = find_debs(os.path.join(WORK, "out-a"))
    if found["host"] is None or VER_A not in found["plugin"]:
        raise AssertionError(f"the packages of {WORK}/out-a are missing (package.cpack)")
    return found["host"], found["plugin"][VER_A]


def deb_b():
    found = find_debs(os.path.join(WORK, "out-b"))
    if VER_B not in found["plugin"]:
        raise AssertionError(f"the plugin package {VER_B} is missing (package.second_version)")
    return found["plugin"][VER_B]


def deb_entries(deb):
    """{absolute path: type} for every entry of deb ('-' file, 'd' dir, 'l' link)."""
    entries = {}
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        parts = line.split(None, 5)
        path = parts[5].split(" -> ")[0]
        path = "/" + path[2:] if path.startswith("./") else path
        entries[path.rstrip("/") or "/"] = parts[0][0]
    return entries


def deb_files(deb):
    """The paths of the files (not directories) of deb."""
    return {p for p, t in deb_entries(deb).items() if t != "d"}


def deb_fields(deb):
    """The control fields of deb as a dict (continuation lines joined)."""
    fields, key = {}, None
    for line in run(["dpkg-deb", "-f", deb]).stdout.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


def unpack(root, *debs):
    for deb in debs:
        run(["dpkg", "-x", deb, root])


def source_mapping_files():
    """Relative paths of the files of mappings/ that the plugin package carries."""
    base = os.path.join(SRC, "mappings")
    files = set()
    for d, _, names in os.walk(base):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), base)
            if not MAPPING_EXCLUDES.search(rel):
                files.add(rel)
    return files


def expected_plugin_files(version):
    files = {f"{PLUGINDIR}/acumatica-{version}.so"}
    files |= {f"{DATADIR}/{version}/{rel}" for rel in source_mapping_files()}
    for s in glob.glob(os.path.join(SRC, "host-api", "schemas", "*.json")):
        files.add(f"{DATADIR}/{version}/schemas/{os.path.basename(s)}")
    return files


EXPECTED_HOST_FILES = {
    f"{PREFIX}/bin/connector-host",
    f"{PREFIX}/include/conn_abi.h",
    f"{PREFIX}/{LIBDIR}/pkgconfig/connector-abi.pc",
    f"{PREFIX}/lib/systemd/system/connector-host.service",
    f"{PREFIX}/lib/sysusers.d/connector-host.conf",
    f"{PREFIX}/share/man/man1/connector-host.1.gz",
    f"{PREFIX}/share/doc/connector-host/README.md",
    f"{PREFIX}/share/doc/connector-host/examples/host.json",
}


def abi_version():
    """(major, minor) as conn_abi.h defines them."""
    text = read(os.path.join(SRC, "host-api", "include", "conn_abi.h"))
    major = re.search(r"^#define CONN_ABI_MAJOR (\d+)", text, re.M).group(1)
    minor = re.search(r"^#define CONN_ABI_MINOR (\d+)", text, re.M).group(1)
    return major, minor


def needed_packages(elf):
    """The Debian packages owning the shared libraries elf is linked with."""
    dyn = run(["objdump", "-p", elf]).stdout
    sonames = re.findall(r"^\s*NEEDED\s+(\S+)", dyn, re.M)
    cache = run(["ldconfig", "-p"]).stdout
    packages = {}
    for so in sonames:
        m = re.search(r"^\s*" + re.escape(so) + r" \(([^)]*)\) => (\S+)", cache, re.M)
        if not m:
            raise AssertionError(f"{so} (needed by {elf}) is not in the ldconfig cache")
        path = m.group(2)
        candidates = [path, os.path.realpath(path)]
        candidates += ["/usr" + c for c in candidates if not c.startswith("/usr/")]
        candidates += [c[4:] for c in candidates if c.startswith("/usr/")]
        owner = None
        for c in candidates:
            r = run(["dpkg", "-S", c], check=False)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0].split(",")[0].strip()
                break
        if owner is None:
            raise AssertionError(f"no Debian package owns {path} ({so})")
        packages[so] = owner
    return packages


def depends_names(value):
    """Package names in a Depends-like field."""
    names = set()
    for alt in re.split(r"[,|]", value):
        alt = alt.strip()
        if alt:
            names.add(re.split(r"[\s(:]", alt)[0])
    return names


class BuildPackages(unittest.TestCase):
    def test_cpack_makes_two_debs_and_a_tarball(self):
        out = os.path.join(WORK, "out-a")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        run([E["PKG_CPACK"], "-G", "DEB;TGZ", "--config",
             os.path.join(BUILD, "CPackConfig.cmake"), "-B", out], cwd=BUILD)
        found = find_debs(out)
        self.assertIsNotNone(found["host"], os.listdir(out))
        self.assertEqual(list(found["plugin"]), [VER_A])
        self.assertEqual(len(glob.glob(os.path.join(out, "*.tar.gz"))), 1)
        for f in sorted(os.listdir(out)):
            if f.endswith((".deb", ".tar.gz")):
                print(f"{f}: {os.path.getsize(os.path.join(out, f))} bytes")


class BuildSecondVersion(unittest.TestCase):
    def test_second_plugin_version_package(self):
        bdir = os.path.join(WORK, "build-b")
        out = os.path.join(WORK, "out-b")
        run([E["PKG_CMAKE"], "-S", SRC, "-B", bdir, "-G", E["PKG_GENERATOR"],
             f"-DCMAKE_BUILD_TYPE={E['PKG_BUILD_TYPE']}",
             f"-DCMAKE_C_COMPILER={E['PKG_CC']}",
             f"-DCMAKE_INSTALL_PREFIX={PREFIX}",
             f"-DACU_PLUGIN_VERSION={VER_B}", "-DACU_BUILD_TESTS=OFF",
             # cpack builds only what it installs, not the whole project.
             "-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON"])
        # The plugin package needs the plugin only; connector-host is not built.
        run([E["PKG_CMAKE"], "--build", bdir, "--target", "acumatica_plugin", "-j", "2"],
            timeout=900)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        run([E["PKG_CPACK"], "-G", "DEB", "--config", os.path.join(bdir, "CPackConfig.cmake"),
             "-B", out, "-D", "CPACK_COMPONENTS_ALL=plugin"], cwd=bdir)
        found = find_debs(out)
        self.assertIsNone(found["host"])
        self.assertEqual(list(found["plugin"]), [VER_B])


class Contents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host, cls.plugin = debs_a()
        cls.tmp = tempfile.mkdtemp(prefix="pkg-contents-")
        unpack(cls.tmp, cls.host, cls.plugin)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_host_package_files(self):
        self.assertEqual(deb_files(self.host), EXPECTED_HOST_FILES)

    def test_plugin_package_files(self):
        files = deb_files(self.plugin)
        self.assertEqual(files, expected_plugin_files(VER_A))
        # The mappings tree: every endpoint version, lookups, catalogues.
        for part in ("20.200.001", "22.200.001", "23.200.001", "24.200.001",
                     "lookups", "catalog", "schemas"):
            self.assertTrue(any(f.startswith(f"{DATADIR}/{VER_A}/{part}/") for f in files),
                            f"{part}/ is missing from the plugin package")
        for must in ("versions.json", "mapping.schema.json", "README.md"):
            if os.path.exists(os.path.join(SRC, "mappings", must)):
                self.assertIn(f"{DATADIR}/{VER_A}/{must}", files)
        # Every path names the plugin version: another version cannot collide.
        for f in files:
            self.assertTrue(f.startswith(f"{DATADIR}/{VER_A}/")
                            or f == f"{PLUGINDIR}/acumatica-{VER_A}.so", f)

    def test_no_file_in_both_packages(self):
        self.assertEqual(deb_files(self.host) & deb_files(self.plugin), set())

    def test_control_fields(self):
        arch = deb_arch()
        for deb, name in ((self.host, "connector-host"),
                          (self.plugin, f"acumatica-connector-plugin-{VER_A}")):
            f = deb_fields(deb)
            self.assertEqual(f["Package"], name)
            self.assertEqual(f["Version"], PROJECT_VERSION)
            self.assertEqual(f["Architecture"], arch)
            self.assertEqual(f["Section"], "net")
            self.assertEqual(f["Priority"], "optional")
            self.assertRegex(f["Maintainer"], r"^[^<>]+ <[^@\s<>]+@[^@\s<>]+\.[a-z]+>$")
            synopsis, _, extended = f["Description"].partition("\n")
            self.assertTrue(10 <= len(synopsis) <= 80, synopsis)
            self.assertGreaterEqual(len(extended.splitlines()), 3, f["Description"])
            self.assertTrue(int(f["Installed-Size"]) > 0)
        host, plugin = deb_fields(self.host), deb_fields(self.plugin)
        self.assertNotEqual(host["Description"].splitlines()[0],
                            plugin["Description"].splitlines()[0])
        self.assertIn(VER_A, plugin["Description"])
        self.assertEqual(plugin["Provides"], "acumatica-connector-plugin")
        self.assertEqual(plugin["Enhances"], "connector-host")
        self.assertIn("acumatica-connector-plugin", depends_names(host.get("Recommends", "")))
        self.assertIn("adduser", depends_names(host["Depends"]))

    def test_depends_cover_every_needed_library(self):
        """dpkg-shlibdeps ran: Depends names the package of every library
        the ELF files are linked with, with a version constraint."""
        for deb, elf in ((self.host, f"{PREFIX}/bin/connector-host"),
                         (self.plugin, f"{PLUGINDIR}/acumatica-{VER_A}.so")):
            depends = deb_fields(deb)["Depends"]
            names = depends_names(depends)
            needed = needed_packages(self.tmp + elf)
            self.assertIn("libc6", needed.values())
            for so, pkg in needed.items():
                self.assertIn(pkg, names, f"{os.path.basename(deb)}: Depends lacks {pkg} ({so})")
                self.assertRegex(depends, re.escape(pkg) + r" \(>= [^)]+\)")
            print(f"{os.path.basename(deb)}: Depends: {depends}")

    def test_maintainer_scripts(self):
        info = run(["dpkg-deb", "-I", self.host]).stdout
        ctl = os.path.join(self.tmp, "control")
        run(["dpkg-deb", "-e", self.host, ctl])
        for script in ("postinst", "prerm", "postrm"):
            self.assertRegex(info, rf"\b{script}\b")
            path = os.path.join(ctl, script)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o755, script)
            run(["sh", "-n", path])
            text = read(path)
            self.assertNotIn("@", text.replace("@Company", ""), f"{script}: unsubstituted")
        postinst = read(os.path.join(ctl, "postinst"))
        self.assertIn(f"{PREFIX}/lib/sysusers.d/connector-host.conf", postinst)
        self.assertIn("adduser", postinst)
        # The plugin package needs no scripts.
        self.assertNotRegex(run(["dpkg-deb", "-I", self.plugin]).stdout, r"\bpostinst\b")

    def test_binaries_are_stripped_and_export_the_entry(self):
        plugin = self.tmp + f"{PLUGINDIR}/acumatica-{VER_A}.so"
        host = self.tmp + f"{PREFIX}/bin/connector-host"
        for elf in (plugin, host):
            sections = run(["objdump", "-h", elf]).stdout
            self.assertNotIn(".debug_info", sections, elf)
            # No executable stack: the unit's MemoryDenyWriteExecute would
            # make dlopen of such a plugin fail.
            stack = re.search(r"(?m)^\s*GNU_STACK\s.*\s(R?W?E?)\s+0x\w+$",
                              run(["readelf", "-lW", elf]).stdout)
            self.assertIsNotNone(stack, elf)
            self.assertNotIn("E", stack.group(1), elf)
        dynsym = run(["nm", "-D", "--defined-only", plugin]).stdout
        self.assertEqual(re.findall(r" T (\S+)", dynsym), ["conn_plugin_entry_v1"])

    def test_pkg_config_file(self):
        pc = read(self.tmp + f"{PREFIX}/{LIBDIR}/pkgconfig/connector-abi.pc")
        major, minor = abi_version()
        self.assertRegex(pc, rf"(?m)^prefix={re.escape(PREFIX)}$")
        self.assertRegex(pc, r"(?m)^includedir=\$\{prefix\}/include$")
        self.assertRegex(pc, r"(?m)^plugindir=\$\{libdir\}/connector-host/plugins$")
        self.assertRegex(pc, rf"(?m)^libdir=\$\{{prefix\}}/{re.escape(LIBDIR)}$")
        self.assertRegex(pc, rf"(?m)^Version: {major}\.{minor}$")
        self.assertRegex(pc, r"(?m)^Cflags: -I\$\{includedir\}$")

    def test_installed_copies_match_the_sources(self):
        for src, dst in (("host-api/include/conn_abi.h", f"{PREFIX}/include/conn_abi.h"),
                         ("host-api/README.md", f"{PREFIX}/share/doc/connector-host/README.md"),
                         ("packaging/examples/host.json",
                          f"{PREFIX}/share/doc/connector-host/examples/host.json")):
            with open(os.path.join(SRC, src), "rb") as a, open(self.tmp + dst, "rb") as b:
                self.assertEqual(a.read(), b.read(), dst)
        with open(os.path.join(SRC, "packaging/man/connector-host.1"), "rb") as a, \
                gzip.open(self.tmp + f"{PREFIX}/share/man/man1/connector-host.1.gz") as b:
            self.assertEqual(a.read(), b.read())
        json.loads(read(self.tmp + f"{PREFIX}/share/doc/connector-host/examples/host.json"))

    def test_tarball_holds_both_packages(self):
        tgz = glob.glob(os.path.join(WORK, "out-a", "*.tar.gz"))[0]
        with tarfile.open(tgz) as t:
            members = [m for m in t.getmembers() if not m.isdir()]
            tops = {m.name.split("/", 1)[0] for m in members}
            self.assertEqual(len(tops), 1, tops)
            files = {"/" + m.name.split("/", 1)[1] for m in members}
            mode = {"/" + m.name.split("/", 1)[1]: m.mode for m in members}
        expected = {p[len(PREFIX):] if PREFIX != "/" else p
                    for p in EXPECTED_HOST_FILES | expected_plugin_files(VER_A)}
        self.assertEqual(files, expected)
        self.assertTrue(mode["/bin/connector-host"] & 0o111)


class Installed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host_deb, cls.plugin_deb = debs_a()
        cls.root = tempfile.mkdtemp(prefix="pkg-root-")
        unpack(cls.root, cls.host_deb, cls.plugin_deb)
        cls.host = cls.root + f"{PREFIX}/bin/connector-host"
        cls.plugdir = cls.root + PLUGINDIR
        cls.plugin = f"{cls.plugdir}/acumatica-{VER_A}.so"
        cls.env = clean_env(XDG_STATE_HOME=os.path.join(cls.root, "state"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_describe_own_plugin(self):
        r = run([self.host, "describe", "--plugin", self.plugin], env=self.env)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["name"], "acumatica")
        self.assertEqual(doc["version"], VER_A)
        self.assertEqual(str(doc["abi"]["major"]), abi_version()[0])
        self.assertIn("settings", doc)
        print(f"describe: {doc['build_info']}")

    def test_version(self):
        r = run([self.host, "--version"], env=self.env)
        self.assertTrue(r.stdout.startswith(f"connector-host {PROJECT_VERSION} "), r.stdout)

    def test_default_plugin_dir_is_the_installed_one(self):
        """The installed copy looks for bare plugin names in the package's
        plugin directory; the build tree's copy in the build's plugins/."""
        r = run([self.host, "--help"], env=self.env)
        self.assertIn(f"(default {PLUGINDIR})", " ".join(r.stdout.split()))
        r = run([HOST_EXE, "--help"], env=self.env)
        self.assertIn(f"(default {BUILD}/plugins)", " ".join(r.stdout.split()))

    def test_bare_plugin_name_through_the_environment(self):
        env = dict(self.env, CONNECTOR_HOST_PLUGIN_DIR=self.plugdir)
        r = run([self.host, "describe", "--plugin", f"acumatica-{VER_A}.so"], env=env)
        self.assertEqual(json.loads(r.stdout)["version"], VER_A)
        r = run([self.host, "plugins", "--json"], env=env)
        self.assertEqual([p["version"] for p in json.loads(r.stdout)], [VER_A])

    def test_validate_settings_with_installed_plugin(self):
        r = run([self.host, "validate", "--plugin", self.plugin, "--config",
                 E["PKG_ABI_SETTINGS"]], env=self.env)
        self.assertEqual(r.returncode, 0)
        bad = os.path.join(self.root, "bad.json")
        with open(bad, "w") as f:
            f.write('{"api_url": "not a url"}')
        r = run([self.host, "validate", "--plugin", self.plugin, "--config", bad],
                env=self.env, check=False)
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_runtime_serves_a_host_file_and_stops_on_sigterm(self):
        """The installed runtime with the installed plugin, as the service
        runs it: the host file checks, `run` starts the subscription, SIGTERM
        ends it with 0, and `status` reads what it recorded."""
        d = os.path.join(self.root, "service")
        os.makedirs(d, exist_ok=True)
        host_file = os.path.join(d, "host.json")
        with open(host_file, "w") as f:
            json.dump({"state": os.path.join(d, "state.db"),
                       "log": {"format": "json", "level": "info"},
                       "shutdown_grace": "2s",
                       "subscriptions": [{
                           "name": "smoke", "plugin_version": VER_A,
                           "settings": json.loads(read(E["PKG_ABI_SETTINGS"])),
                           "flows": [{"flow": "customers", "direction": "pull", "every": "1h"}]}]},
                      f)
        env = dict(self.env, CONNECTOR_HOST_PLUGIN_DIR=self.plugdir)
        run([self.host, "run", "--config", host_file, "--check"], env=env)
        proc = subprocess.Popen([self.host, "run", "--config", host_file], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        started = f"started on acumatica {VER_A}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None \
                and not any(started in line for line in list(lines)):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=5)
        proc.stderr.close()
        log = [json.loads(line) for line in lines if line.startswith("{")]
        messages = [entry.get("message", "") for entry in log]
        self.assertTrue(any(started in m for m in messages), "".join(lines)[-3000:])
        self.assertEqual(rc, 0, "".join(lines)[-3000:])
        self.assertEqual(messages[-1], "stopped", messages)
        status = json.loads(run([self.host, "status", "--config", host_file, "--json"],
                                env=env).stdout)
        self.assertIn(("smoke", "customers"),
                      [(f["subscription"], f["flow"]) for f in status["flows"]])

    def pkg_config(self, *args):
        pcdir = self.root + f"{PREFIX}/{LIBDIR}/pkgconfig"
        env = clean_env(PKG_CONFIG_LIBDIR=pcdir, PKG_CONFIG_PATH=pcdir,
                        PKG_CONFIG_SYSROOT_DIR=self.root)
        return run(["pkg-config", *args, "connector-abi"], env=env).stdout.strip()

    def test_pkg_config_finds_the_header(self):
        cflags = self.pkg_config("--cflags")
        self.assertEqual(cflags, f"-I{self.root}{PREFIX}/include")
        self.assertTrue(os.path.isfile(cflags[2:] + "/conn_abi.h"))
        self.assertEqual(self.pkg_config("--modversion"), ".".join(abi_version()))
        plugindir = self.pkg_config("--variable=plugindir")
        self.assertTrue(plugindir.endswith(PLUGINDIR), plugindir)

    def test_tiny_host_built_against_the_installed_header(self):
        cflags = self.pkg_config("--cflags").split()
        tmp = os.path.join(self.root, "tiny")
        os.makedirs(tmp, exist_ok=True)
        exe = os.path.join(tmp, "tiny_host")
        src = os.path.join(SRC, "tests", "packaging", "tiny_host.c")
        cc = [E["PKG_CC"], "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", *cflags]
        # The header it compiles with is the installed one.
        deps = run([*cc, "-M", src], cwd=tmp).stdout
        headers = [h for h in deps.replace("\\\n", " ").split() if h.endswith("conn_abi.h")]
        self.assertEqual(headers, [f"{self.root}{PREFIX}/include/conn_abi.h"])
        run([*cc, src, "-o", exe, "-ldl"], cwd=tmp)
        needed = re.findall(r"NEEDED\s+(\S+)", run(["objdump", "-p", exe]).stdout)
        self.assertLessEqual(set(needed), {"libc.so.6", "libdl.so.2"}, needed)
        major, minor = abi_version()
        r = run([exe, self.plugin, VER_A], env=self.env)
        self.assertRegex(r.stdout, rf"^plugin acumatica {re.escape(VER_A)} abi {major}\.\d+ "
                                   r"describe [1-9]\d* bytes\n$")
        print(r.stdout.strip())
        # The plugin directory named by the pkg-config file works as well.
        plugindir = self.pkg_config("--variable=plugindir")
        if not plugindir.startswith(self.root):
            plugindir = self.root + plugindir
        run([exe, f"{plugindir}/acumatica-{VER_A}.so", VER_A], env=self.env)
        # And it refuses what is not a plugin.
        r = run([exe, self.host], env=self.env, check=False)
        self.assertEqual(r.returncode, 1)


class SideBySide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host_deb, cls.deb_a = debs_a()
        cls.deb_b = deb_b()
        cls.tmp = tempfile.mkdtemp(prefix="pkg-sxs-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_plugin_packages_share_no_file(self):
        a, b = deb_files(self.deb_a), deb_files(self.deb_b)
        self.assertTrue(a and b)
        self.assertEqual(a & b, set())
        self.assertEqual(deb_files(self.host_deb) & (a | b), set())
        self.assertNotEqual(deb_fields(self.deb_a)["Package"], deb_fields(self.deb_b)["Package"])
        # Directories they both hold are only the shared parents.
        shared_dirs = {p for p, t in deb_entries(self.deb_a).items() if t == "d"} & \
                      {p for p, t in deb_entries(self.deb_b).items() if t == "d"}
        for d in shared_dirs:
            self.assertFalse(d.startswith(f"{DATADIR}/{VER_A}") or
                             d.startswith(f"{DATADIR}/{VER_B}"), d)

    def test_both_versions_in_one_root(self):
        root = os.path.join(self.tmp, "root")
        unpack(root, self.host_deb, self.deb_a, self.deb_b)
        plugdir = root + PLUGINDIR
        for v in (VER_A, VER_B):
            self.assertTrue(os.path.isfile(f"{plugdir}/acumatica-{v}.so"), v)
            tree = root + f"{DATADIR}/{v}"
            got = {os.path.relpath(os.path.join(d, n), tree)
                   for d, _, ns in os.walk(tree) for n in ns}
            want = {p[len(f"{DATADIR}/{v}/"):] for p in expected_plugin_files(v)
                    if p.startswith(f"{DATADIR}/{v}/")}
            self.assertEqual(got, want, v)
        env = clean_env(XDG_STATE_HOME=os.path.join(self.tmp, "state"))
        r = run([root + f"{PREFIX}/bin/connector-host", "plugins", "--dir", plugdir, "--json"],
                env=env)
        self.assertEqual(sorted(p["version"] for p in json.loads(r.stdout)),
                         sorted([VER_A, VER_B]))
        print(r.stdout.strip())

    def test_dpkg_installs_both_and_removes_one_alone(self):
        """dpkg refuses to unpack a package over another package's file; it
        installs both versions, and purging one leaves the other whole.
        A private dpkg database and instdir; the host package is only
        unpacked (its postinst makes a system user, not for a test)."""
        inst = os.path.join(self.tmp, "inst")
        adm = os.path.join(inst, "var", "lib", "dpkg")
        os.makedirs(os.path.join(adm, "updates"))
        os.makedirs(os.path.join(adm, "info"))
        for f in ("status", "available"):
            open(os.path.join(adm, f), "w").close()
        dpkg = ["dpkg", f"--admindir={adm}", f"--instdir={inst}", "--force-not-root",
                "--force-depends", "--no-triggers", "--log=/dev/null"]
        query = ["dpkg-query", f"--admindir={adm}", "-W", "-f", "${Package} ${Status}\n"]
        run([*dpkg, "--install", self.deb_a, self.deb_b])
        self.assertEqual(sorted(run(query).stdout.splitlines()), sorted(
            f"acumatica-connector-plugin-{v} install ok installed" for v in (VER_A, VER_B)))
        run([*dpkg, "--unpack", self.host_deb])
        run([*dpkg, "--purge", f"acumatica-connector-plugin-{VER_A}"])
        for f in deb_files(self.deb_a):
            self.assertFalse(os.path.lexists(inst + f), f)
        for f in deb_files(self.deb_b) | deb_files(self.host_deb):
            self.assertTrue(os.path.isfile(inst + f), f)
        self.assertEqual(sorted(run(query).stdout.splitlines()), sorted([
            f"acumatica-connector-plugin-{VER_B} install ok installed",
            "connector-host install ok unpacked"]))

    def test_tiny_host_loads_both(self):
        root = os.path.join(self.tmp, "root2")
        unpack(root, self.host_deb, self.deb_a, self.deb_b)
        exe = os.path.join(self.tmp, "tiny_host")
        run([E["PKG_CC"], "-std=c11", f"-I{root}{PREFIX}/include",
             os.path.join(SRC, "tests", "packaging", "tiny_host.c"), "-o", exe, "-ldl"])
        for v in (VER_A, VER_B):
            r = run([exe, root + f"{PLUGINDIR}/acumatica-{v}.so", v])
            self.assertIn(f"plugin acumatica {v} ", r.stdout)


class SystemdUnit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host_deb, _ = debs_a()
        cls.root = tempfile.mkdtemp(prefix="pkg-unit-")
        unpack(cls.root, cls.host_deb)
        cls.path = cls.root + f"{PREFIX}/lib/systemd/system/connector-host.service"
        cls.text = read(cls.path)
        cls.settings = {}
        for line in cls.text.splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                cls.settings.setdefault(k.strip(), []).append(v.strip())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def one(self, key):
        self.assertIn(key, self.settings)
        self.assertEqual(len(self.settings[key]), 1, key)
        return self.settings[key][0]

    def test_runs_connector_host_run(self):
        self.assertEqual(self.one("ExecStart"),
                         f"{PREFIX}/bin/connector-host --state /var/lib/connector-host/state.db "
                         f"run --config {SYSCONFDIR}/connector-host/host.json")
        self.assertEqual(self.one("User"), "connector-host")
        self.assertEqual(self.one("StateDirectory"), "connector-host")
        self.assertEqual(self.one("ExecReload"), "/bin/kill -HUP $MAINPID")
        self.assertEqual(self.one("KillSignal"), "SIGTERM")
        self.assertRegex(self.one("TimeoutStopSec"), r"^\d+s?$")
        self.assertIn("/var/lib/connector-host", self.one("ReadWritePaths").split())
        for k, v in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                     ("ProtectHome", "yes"), ("PrivateTmp", "yes")):
            self.assertEqual(self.one(k), v)
        sysusers = read(self.root + f"{PREFIX}/lib/sysusers.d/connector-host.conf")
        self.assertRegex(sysusers, r"(?m)^u connector-host - .* /var/lib/connector-host$")

    def test_the_command_line_of_the_unit_is_valid(self):
        """The installed connector-host has the `run` command and the options
        the unit gives it."""
        env = clean_env()
        host = self.root + f"{PREFIX}/bin/connector-host"
        commands = help_commands(run([host, "--help"], env=env).stdout)
        self.assertIn("run", commands, "connector-host has no run command yet")
        self.assertIn("--config", run([host, "run", "--help"], env=env).stdout)

    def test_systemd_analyze(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        # The unit as installed, with ExecStart pointing into the temporary root.
        unit = os.path.join(self.root, "connector-host.service")
        with open(unit, "w") as f:
            f.write(self.text.replace(f"{PREFIX}/bin/connector-host",
                                      self.root + f"{PREFIX}/bin/connector-host"))
        r = run(["systemd-analyze", "verify", "--man=no", unit], check=False)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        r = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit],
                check=False)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:])
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout[-500:])
        print(f"systemd-analyze security: exposure {m.group(1)}")


def help_commands(text):
    """The command names in the 'Commands:' block of connector-host --help."""
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"(?m)^  ([a-z][a-z0-9-]*)\s", block)]


def man_text(raw):
    """The man source with escapes and font changes removed, for matching."""
    t = raw.replace("\\-", "-").replace("\\(em", "-").replace("\\e", "\\")
    t = re.sub(r"\\f[BIRP]|\\f\(..|\\&|\\c", "", t)
    return t


def man_sections(raw):
    """{'.SS name' or '.SH NAME': text} of the man source."""
    parts, key = {}, None
    for line in raw.splitlines():
        m = re.match(r'^\.(SH|SS)\s+"?(.*?)"?\s*$', line)
        if m:
            key = m.group(2)
            parts[key] = ""
        elif key:
            parts[key] += line + "\n"
    return parts


class ManPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.page = os.path.join(E["PKG_MAN_DIR"], "connector-host.1")
        cls.raw = read(cls.page)
        cls.sections = {k: man_text(v) for k, v in man_sections(man_text(cls.raw)).items()}
        cls.help = run([HOST_EXE, "--help"], env=clean_env()).stdout

    def test_every_subcommand_has_a_subsection(self):
        commands = help_commands(self.help)
        self.assertGreaterEqual(len(commands), 5, self.help)
        missing = [c for c in commands if c not in self.sections]
        self.assertEqual(missing, [], "subcommands listed by --help but missing from "
                                      f"{self.page} (as '.SS <name>')")
        documented = [k for k in self.sections if re.fullmatch(r"[a-z][a-z0-9-]*", k)]
        self.assertEqual([c for c in documented if c not in commands], [],
                         "subsections for commands connector-host does not have")

    def test_every_option_of_every_subcommand(self):
        problems = []
        for c in help_commands(self.help):
            out = run([HOST_EXE, c, "--help"], env=clean_env()).stdout
            text = self.sections.get(c, "")
            for opt in sorted(set(re.findall(r"(?m)^\s+(--[a-z][a-z0-9-]*)", out))):
                if opt in ("--help", "--state", "--subscription"):
                    continue  # global, documented once under OPTIONS
                if not re.search(re.escape(opt) + r"\b", text):
                    problems.append(f"{c} {opt}")
            usage = out.splitlines()[0]
            for word in re.findall(r"--[a-z][a-z0-9-]*", usage):
                if word not in text and word not in ("--help",):
                    problems.append(f"{c} {word} (usage)")
        self.assertEqual(problems, [], "options in --help but not in the man page")

    def test_global_options_environment_exit_codes(self):
        options = self.sections.get("OPTIONS", "")
        for opt in ("--state", "--subscription", "--version", "--help"):
            self.assertIn(opt, options)
        for var in re.findall(r"\b[A-Z][A-Z0-9_]{5,}\b", self.help.split("Environment:", 1)[1]):
            self.assertIn(var, self.sections.get("ENVIRONMENT", ""), var)
        codes = re.findall(r"(\d+) ([a-z][a-z ]+?)(?:[,.]|\s*\()",
                           self.help.split("Exit codes:", 1)[1].split("Environment:")[0])
        self.assertGreaterEqual(len(codes), 5)
        status = self.sections.get("EXIT STATUS", "")
        for code, _ in codes:
            self.assertRegex(status, rf"(?m)^\.B {code}$|^\.TP\n{code}\b", code)
        for sh in ("NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"):
            self.assertIn(sh, self.sections)

    def test_groff_has_no_warnings(self):
        if shutil.which("groff") is None:
            self.skipTest("groff is not installed")
        r = run(["groff", "-man", "-ww", "-z", "-Tutf8", self.page], check=False,
                env=clean_env(LC_ALL="C.UTF-8"))
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        r = run(["groff", "-man", "-Tutf8", "-rLL=80n", self.page],
                env=clean_env(LC_ALL="C.UTF-8"))
        self.assertIn("connector-host", r.stdout)


if __name__ == "__main__":
    for var in ("PKG_SOURCE_DIR", "PKG_BUILD_DIR", "PKG_WORK"):
        if not E.get(var):
            sys.exit(f"{var} is not set; run through ctest -L package")
    for tool in ("dpkg", "dpkg-deb", "objdump"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: packaging tests skipped", file=sys.stderr)
            sys.exit(77)
    unittest.main()
