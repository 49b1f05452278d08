#!/usr/bin/env python3
"""Two real cloud-bevy-node processes on 127.0.0.1 install the guestbook
from a signed repository on a local HTTPS server and share its data.
Prints TAP.

    CB_NODE=... CB_REPO_TOOL=... CB_GUESTBOOK=.../guestbook.cbplugin python3 test-apps-cluster.py

  a. cloud-bevy-repo makes and signs a repository from the built guestbook;
     a local HTTPS server (tests/sdk/data's certificate) serves it
  b. two nodes join one cloud; each adds the repository while running
     (the same publisher fingerprint as `cloud-bevy-repo verify` prints)
  c. each installs the guestbook while running: it is hosted at once, and
     no GTK library is mapped in either process (headless)
  d. an entry signed on n0 (`apps run ... sign`) is read on n1 through the
     guestbook's named query, and the other way round
  e. an entry that breaks the guestbook's rules, written raw on n0 (`put`
     bypasses the plugin), is refused by n1's copy of the rules and never
     appears there
  f. disable on n1 stops hosting it there (status), enable brings it back
     with the data intact; both nodes stop cleanly
  g. with n1 stopped, the CLI works on its data dir: install notes, update
     it when a new version is published, roll it back, remove it with its
     data; `apps list --json` shows each step, `run` says a node is needed
"""
import http.server
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "node"))
import cbcluster as cb  # noqa: E402

SYSTEM = "github.com/cloudbevy/guestbook"
MEMBERSHIP = {"probe_interval_ms": 200, "suspicion_min_ms": 1500, "suspicion_max_ms": 4000}
CERT = os.path.join(HERE, "data", "repo-cert.pem")
KEY = os.path.join(HERE, "data", "repo-key.pem")


class Tap:
    def __init__(self, plan):
        self.n = 0
        self.failed = 0
        self.ok = {}
        print(f"1..{plan}", flush=True)

    def case(self, key, name, fn, requires=()):
        self.n += 1
        if any(not self.ok.get(r) for r in requires):
            self.ok[key] = False
            self.failed += 1
            print(f"not ok {self.n} - {name}\n# not run: an earlier step failed", flush=True)
            return
        t0 = time.monotonic()
        try:
            note = fn()
            self.ok[key] = True
            print(f"ok {self.n} - {name}\n# {time.monotonic() - t0:.1f} s"
                  + (f": {note}" if note else ""), flush=True)
        except Exception:                          # noqa: BLE001 - reported as TAP
            self.ok[key] = False
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            for line in traceback.format_exc().splitlines():
                print(f"# {line}", flush=True)


def run(argv, check=True, timeout=60):
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {res.returncode}:\n{res.stdout}{res.stderr}")
    return res


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Suite:
    def __init__(self, root):
        self.root = root
        self.node_bin = os.environ["CB_NODE"]
        self.repo_tool = os.environ["CB_REPO_TOOL"]
        self.manifest = os.environ["CB_GUESTBOOK"]
        self.repo_dir = os.path.join(root, "site", "apps")
        self.fingerprint = None
        self.url = None
        self.httpd = None

    def apps(self, node, *args, check=True, json_out=False):
        argv = [self.node_bin, "apps", *args, "--data-dir", node.data_dir]
        if json_out:
            argv.append("--json")
        res = run(argv, check=check)
        return json.loads(res.stdout) if json_out and res.returncode == 0 else res

    def entries(self, node):
        res = self.apps(node, "query", "guestbook", "entries", "limit=100", check=False)
        if res.returncode != 0:
            return None
        return [dict(zip(json.loads(res.stdout)["columns"], row))
                for row in json.loads(res.stdout)["rows"]]

    def hosted(self, node):
        st = node.status() or {}
        return [s["system"] for s in st.get("systems", [])]

    # ---- a
    def make_repository(self):
        key = os.path.join(self.root, "publisher.key")
        run([self.repo_tool, "init", "--repo", self.repo_dir, "--name", "Guestbook test apps",
             "--key", key])
        run([self.repo_tool, "add", "--repo", self.repo_dir, self.manifest])
        run([self.repo_tool, "sign", "--repo", self.repo_dir, "--key", key])
        out = run([self.repo_tool, "verify", "--repo", self.repo_dir]).stdout
        self.fingerprint = re.search(r"publisher fingerprint: ([0-9A-F ]+)", out).group(1).strip()
        handler = lambda *a, **kw: Quiet(*a, directory=os.path.join(self.root, "site"), **kw)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(CERT, KEY)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/apps/"
        return f"{self.url}, publisher {self.fingerprint}"

    # ---- b
    def start_nodes(self):
        self.cloud = cb.Cloud(self.node_bin, self.root, name="apps")
        self.cloud.edit(lambda cfg: cfg.update(membership=dict(MEMBERSHIP)))
        self.cl = cb.Cluster(self.node_bin, self.root, self.cloud.cloud_json,
                             self.cloud.publisher_key)
        self.n0 = self.cl.add("n0", publisher=True)
        self.n1 = self.cl.add("n1")
        self.cl.start()
        self.cl.wait_converged(40)
        for node in (self.n0, self.n1):
            out = self.apps(node, "repo-add", self.url).stdout
            assert self.fingerprint in out, out
            listed = self.apps(node, "list", json_out=True)
            assert listed["repositories"][0]["fingerprint"] == self.fingerprint
            app = next(a for a in listed["apps"] if a["system"] == SYSTEM)
            assert app["state"] == "available", app
        return "both nodes pinned the publisher key"

    # ---- c
    def install(self):
        for node in (self.n0, self.n1):
            assert SYSTEM not in self.hosted(node)
            self.apps(node, "install", "guestbook")
            assert SYSTEM in self.hosted(node), self.hosted(node)
            with open(f"/proc/{node.proc.pid}/maps") as f:
                maps = f.read()
            assert "guestbook" in maps or "core.so" in maps, "the plugin is not mapped"
            assert "libgtk" not in maps and "libwebkit" not in maps, "GTK in a headless node"
        return "hosted on both, no GTK mapped"

    # ---- d
    def share(self):
        self.apps(self.n0, "run", "guestbook", "sign", "author=Ann", "message=Hello from n0")
        cb.wait_until(lambda: any(e["author"] == "Ann" for e in (self.entries(self.n1) or [])),
                      30, "n1 reads n0's entry")
        self.apps(self.n1, "run", "guestbook", "sign", "author=Bo", "message=Hi back from n1")
        cb.wait_until(lambda: any(e["author"] == "Bo" for e in (self.entries(self.n0) or [])),
                      30, "n0 reads n1's entry")
        count = json.loads(self.apps(self.n1, "query", "guestbook", "count").stdout)
        assert count["rows"][0] == [2, 2], count
        return "2 entries from 2 nodes on both"

    # ---- e
    def rules(self):
        res = self.apps(self.n0, "run", "guestbook", "sign", "author=", "message=x", check=False)
        assert res.returncode != 0 and "1 to 60 characters" in res.stderr, res.stderr
        # Raw put skips the plugin on n0: n1's validator must refuse it.
        n1_id = self.n1.status()["id"]
        row = {"id": f"{n1_id}/forged", "author": "Mallory", "message": "signed as n1",
               "signed_at": 1, "node": n1_id}
        run([self.node_bin, "put", "--data-dir", self.n0.data_dir, "--system", SYSTEM,
             "--table", "entries", "--json", json.dumps(row)])
        assert any(e["author"] == "Mallory" for e in self.entries(self.n0))

        def refused():
            st = {s["system"]: s for s in self.n1.status().get("systems", [])}
            return st[SYSTEM]["rejected"] > 0 or f"n1 rejected {st[SYSTEM]['rejected']}"
        cb.wait_until(refused, 30, "n1 refuses the forged entry")
        assert not any(e["author"] == "Mallory" for e in self.entries(self.n1))
        return "n1 refused the entry signed in its name"

    # ---- f
    def disable_enable(self):
        self.apps(self.n1, "disable", "guestbook")
        assert SYSTEM not in self.hosted(self.n1)
        res = self.apps(self.n1, "query", "guestbook", "entries", check=False)
        assert res.returncode != 0 and "disabled" in res.stderr, res.stderr
        self.apps(self.n1, "enable", "guestbook")
        assert SYSTEM in self.hosted(self.n1)
        assert any(e["author"] == "Bo" for e in self.entries(self.n1))
        codes = self.cl.stop()
        assert all(rc == 0 for rc in codes.values()), codes
        return "data kept across disable/enable; clean stop"

    # ---- g
    def offline_cli(self):
        plugins = os.environ["CB_TEST_PLUGINS"]
        key = os.path.join(self.root, "publisher.key")

        def publish(manifest):
            run([self.repo_tool, "add", "--repo", self.repo_dir, os.path.join(plugins, manifest)])
            run([self.repo_tool, "sign", "--repo", self.repo_dir, "--key", key])

        def notes():
            listed = self.apps(self.n1, "list", json_out=True)
            return next((a for a in listed["apps"] if a["system"] == "test.cloudbevy.org/notes"), None)

        publish("notes.cbplugin")
        self.apps(self.n1, "refresh")
        assert notes()["state"] == "available", notes()
        self.apps(self.n1, "install", "notes")
        assert notes()["installed"]["version"] == "1.0.0"
        res = self.apps(self.n1, "update", "notes", check=False)
        assert res.returncode != 0 and "newest version" in res.stderr, res.stderr
        publish("notes-1.1.0.cbplugin")
        out = self.apps(self.n1, "update").stdout
        assert "updated test.cloudbevy.org/notes to 1.1.0" in out, out
        assert notes()["installed"]["previous"] == "1.0.0"
        out = self.apps(self.n1, "rollback", "notes").stdout
        assert "1.0.0" in out, out
        assert notes()["installed"]["version"] == "1.0.0"
        res = self.apps(self.n1, "run", "notes", "add", "text=x", check=False)
        assert res.returncode != 0 and "no node is running" in res.stderr, res.stderr
        self.apps(self.n1, "remove", "notes", "--delete-data")
        assert notes()["installed"] is None
        # Started again, n1 hosts the guestbook it kept, not the removed notes.
        self.n1.start()
        self.n1.wait_ready()
        assert SYSTEM in self.hosted(self.n1) and "test.cloudbevy.org/notes" not in self.hosted(self.n1)
        assert self.n1.stop() == 0
        return "install, update, rollback, remove on a stopped node's data dir"


def main():
    with cb.workdir("cb-apps-cluster-") as root:
        os.environ["CB_APPS_CA_FILE"] = CERT   # the nodes trust the test server
        os.environ["CB_DEFAULT_REPO"] = ""      # only the repository under test
        s = Suite(root)
        tap = Tap(7)
        tap.case("a", "a signed repository from the built guestbook, on HTTPS", s.make_repository)
        tap.case("b", "two nodes join and add the repository", s.start_nodes, ["a"])
        tap.case("c", "both install the guestbook while running, headless", s.install, ["b"])
        tap.case("d", "an entry signed on one node is read on the other", s.share, ["c"])
        tap.case("e", "every node applies the guestbook's rules to incoming entries",
                 s.rules, ["d"])
        tap.case("f", "disable, enable, stop", s.disable_enable, ["d"])
        tap.case("g", "the CLI on a stopped node's data dir", s.offline_cli, ["f"])
        if s.httpd is not None:
            s.httpd.shutdown()
        return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
