#!/usr/bin/env python3
"""Multi-node test: real cloud-bevy-node processes on 127.0.0.1 and a real
bare git repository as the cloud's list.  Prints TAP.

    CB_NODE=build/app/daemon/cloud-bevy-node python3 tests/node/test-cluster.py

One cluster of 8 nodes (n0 and n1 publisher-eligible, publishers min=2) is
reused across the cases, in order:
  a. bootstrapped from one git-hosted list, everyone lists the 7 others alive
  b. kill -9 of n7: everyone marks it dead within a bound computed from the
     cloud's membership timing, nobody else is declared dead; restarted
     (same data dir and port) it is alive everywhere again
  c. the publishers rewrite the list: commits after the initial one, the
     newest list holds every node at its current address, versions increase,
     and both publishers' node ids are named in commit messages
  d. SIGTERM to all (exit 0 each), all restarted on other ports: the cloud
     re-forms from the lists, with the new addresses
  e. a node with the same cloud.json except another network key (made by a
     second init-cloud) reads the same list but never appears in any
     node's status, and the 8 stay converged
Set CB_KEEP=1 to keep the work directory (logs, data dirs, repository).
"""
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cbcluster as cb  # noqa: E402

N = 8
PUBLISHERS = 2
# Faster than the defaults (300/3000/9000) so the suite stays short; the
# detection bound below is computed from these.
MEMBERSHIP = {"probe_interval_ms": 200, "suspicion_min_ms": 1500, "suspicion_max_ms": 4000}
OVERALL_TIMEOUT_S = 170
CONVERGE_TIMEOUT_S = 40.0     # lists are re-read every few seconds while alone
LIST_TIMEOUT_S = 20.0         # publishing is debounced ~1 s, plus git and CAS retries
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def detection_bound_s():
    """Correctness bound (not a benchmark) for "everyone marks a killed node
    dead": every member is probed within one round of the other N-1, the
    suspicion lasts at most suspicion_max, gossip takes a few more periods;
    x1.5 and +2 s of slack for a loaded 2-core machine."""
    p = MEMBERSHIP["probe_interval_ms"] / 1000
    s = MEMBERSHIP["suspicion_max_ms"] / 1000
    return 1.5 * ((N - 1) * p + s + 3 * p) + 2.0


class Suite:
    def __init__(self, node_bin, root):
        self.bin = node_bin
        self.root = root
        self.cloud = None
        self.cl = None

    # ---- helpers

    def make_cloud(self):
        self.cloud = cb.Cloud(self.bin, self.root, name="demo")

        def tune(cfg):
            cfg["membership"] = dict(MEMBERSHIP)
            cfg.setdefault("publishers", {})["min"] = PUBLISHERS
        self.cloud.edit(tune)
        self.cl = cb.Cluster(self.bin, self.root, self.cloud.cloud_json,
                             self.cloud.publisher_key)
        for i in range(N):
            self.cl.add(f"n{i}", publisher=i < PUBLISHERS)

    def check_list_current(self):
        """The newest list at main names every node at its current address."""
        lst = self.cloud.list_at("main")
        entries = {e.get("id"): e for e in lst.get("nodes", [])}
        missing = []
        for n in self.cl.nodes:
            e = entries.get(n.id)
            if e is None:
                missing.append(f"{n.name} absent")
            elif n.advertise not in (e.get("addrs") or []):
                missing.append(f"{n.name} at {e.get('addrs')} not {n.advertise}")
        if missing:
            return f"list version {lst.get('version')}: " + ", ".join(missing)
        return True

    def check_status_shape(self, node, st):
        """The status contract every caller relies on."""
        assert HEX64.match(st.get("id", "")), f"{node.name}: id {st.get('id')!r} is not 64 hex"
        assert st.get("cloud") == "demo", f"{node.name}: cloud {st.get('cloud')!r}"
        assert st.get("listen") == f"127.0.0.1:{node.port}", \
            f"{node.name}: listen {st.get('listen')!r}, started with 127.0.0.1:{node.port}"
        assert st.get("advertise") == node.advertise, \
            f"{node.name}: advertise {st.get('advertise')!r}, started with {node.advertise}"
        assert isinstance(st.get("roles"), list), f"{node.name}: roles {st.get('roles')!r}"
        for p in st.get("peers", []):
            assert HEX64.match(p.get("id", "")) and p.get("addr") and \
                p.get("state") in ("alive", "suspect", "dead", "left") and \
                isinstance(p.get("roles"), list), f"{node.name}: malformed peer {p}"
        lists = st.get("lists")
        assert isinstance(lists, list) and len(lists) == 1, f"{node.name}: lists {lists!r}"
        ls = lists[0]
        assert ls.get("url") == self.cloud.list_url and ls.get("state") in ("ok", "error") \
            and isinstance(ls.get("version"), int), f"{node.name}: list {ls}"
        assert ls["state"] == "ok", f"{node.name}: list in error: {ls.get('error')}"

    # ---- cases

    def case_a(self):
        self.make_cloud()
        t0 = time.monotonic()
        self.cl.start()
        took = self.cl.wait_converged(CONVERGE_TIMEOUT_S)
        sts = self.cl.statuses()
        for n in self.cl.nodes:
            self.check_status_shape(n, sts[n.name])
            assert len(sts[n.name]["peers"]) == N - 1, \
                f"{n.name} lists {len(sts[n.name]['peers'])} peers, expected {N - 1}"
        self.cl.check_processes()
        return f"converged {time.monotonic() - t0:.1f} s after start ({took:.1f} s waiting)"

    def case_b_dead(self):
        victim = self.cl[N - 1]
        others = [n for n in self.cl.nodes if n is not victim]
        bound = detection_bound_s()
        false_deaths = set()

        def check():
            sts = self.cl.statuses(others)
            waiting = []
            for n in others:
                st = sts[n.name]
                if st is None:
                    waiting.append(n.exited() or f"{n.name} not answering")
                    continue
                peers = cb.Cluster.peer_map(st)
                for o in others:
                    p = peers.get(o.id)
                    if o is not n and p is not None and p.get("state") in ("dead", "left"):
                        false_deaths.add(f"{n.name} saw {o.name} {p['state']}")
                state = peers.get(victim.id, {}).get("state")
                if victim.id not in peers:
                    waiting.append(f"{n.name}: no longer lists {victim.name} at all "
                                   "(dropped instead of marked dead)")
                elif state != "dead":
                    waiting.append(f"{n.name}: {state}")
            return True if not waiting else ", ".join(waiting)

        self.cl.wait_converged(10.0)
        victim.kill9()
        took = self.cl.wait_until(check, bound, f"every node marks {victim.name} dead "
                                  f"(bound {bound:.1f} s from {MEMBERSHIP})", nodes=self.cl.nodes)
        assert not false_deaths, "live nodes were declared dead: " + ", ".join(sorted(false_deaths))
        still = self.cl.check_converged(others)
        assert still is True, f"the 7 others are no longer converged: {still}"
        self.cl.check_processes()
        return f"all 7 marked it dead {took:.1f} s after the kill (bound {bound:.1f} s)"

    def case_b_restart(self):
        victim = self.cl[N - 1]
        port = victim.port
        victim.start(port=port).wait_ready()
        took = self.cl.wait_state(victim, ["alive"], 20.0)
        self.cl.wait_converged(10.0)
        self.cl.check_processes()
        return f"alive everywhere {took:.1f} s after restart on port {port}"

    def case_c_list(self):
        self.cl.check_processes()
        took = self.cl.wait_until(self.check_list_current, LIST_TIMEOUT_S,
                                  "the list at main names every node at its address")
        commits = self.cloud.commits()
        assert len(commits) >= 2, f"only {len(commits)} commit(s) on main"
        versions = []
        for c in commits:
            lst = self.cloud.list_at(c["hash"])
            versions.append(lst.get("version"))
            assert lst.get("cloud") == "demo", f"commit {c['hash'][:8]}: cloud {lst.get('cloud')}"
        assert all(isinstance(v, int) for v in versions) and \
            all(a > b for a, b in zip(versions, versions[1:])), \
            f"list versions along main (newest first) do not strictly decrease: {versions}"
        merges = cb.git("-C", self.cloud.repo, "rev-list", "--merges", "main").split()
        assert not merges, f"merge commits on main: {merges}"
        return (f"{len(commits)} commits, versions {versions[-1]}..{versions[0]}; "
                f"current after {took:.1f} s")

    def case_c_publishers(self):
        self.cl.check_processes()
        pubs = self.cl.nodes[:PUBLISHERS]
        sts = self.cl.statuses()
        for n in self.cl.nodes:
            roles = sts[n.name]["roles"] if sts[n.name] else None
            want = ["publisher"] if n in pubs else []
            assert roles is not None and ("publisher" in roles) == bool(want), \
                f"{n.name} has roles {roles}; with publishers min={PUBLISHERS} and " \
                f"{PUBLISHERS} eligible nodes exactly n0..n{PUBLISHERS - 1} should publish"

        def named():
            msgs = [c["message"] + "\n" + c["author"] for c in self.cloud.commits()]
            missing = [n.name for n in pubs if not any(n.id in m for m in msgs)]
            return True if not missing else \
                f"no commit names {', '.join(missing)} ({len(msgs)} commits)"
        self.cl.wait_until(named, LIST_TIMEOUT_S, "commits name both publishers' node ids")
        counts = {n.name: sum(n.id in c["message"] for c in self.cloud.commits()) for n in pubs}
        retries = 0
        for n in pubs:
            with open(n.log_path, errors="replace") as f:
                retries += sum("retrying" in line for line in f)
        return f"commits per publisher {counts}; CAS retries logged: {retries}"

    def case_d_stop(self):
        rcs = self.cl.stop()
        bad = {k: v for k, v in rcs.items() if v != 0}
        by_name = {n.name: n for n in self.cl.nodes}
        assert not bad, f"exit codes after SIGTERM (want 0): {bad}\n" + "\n".join(
            f"{k} log tail:\n{cb.log_tail(by_name[k].log_path, 20)}" for k in bad)
        n0 = self.cl[0]
        res = subprocess.run([self.bin, "status", "--data-dir", n0.data_dir, "--json"],
                             capture_output=True, text=True, timeout=10)
        assert res.returncode == 1 and res.stderr.strip(), \
            f"status of a stopped node: exit {res.returncode}, stderr {res.stderr!r} " \
            f"(want exit 1 and a message)"
        lst = self.cloud.list_at("main")
        return (f"all exited 0; list left at version {lst.get('version')} with "
                f"{len(lst.get('nodes', []))} nodes; status says: {res.stderr.strip()}")

    def case_d_reform(self):
        old = {n.name: n.port for n in self.cl.nodes}
        t0 = time.monotonic()
        self.cl.start(new_ports=True)
        assert all(n.port != old[n.name] for n in self.cl.nodes)
        self.cl.wait_converged(CONVERGE_TIMEOUT_S)
        formed = time.monotonic() - t0
        self.cl.wait_until(self.check_list_current, LIST_TIMEOUT_S,
                           "the list at main names every node at its new address")
        self.cl.check_processes()
        return (f"re-formed with the new addresses {formed:.1f} s after start; list "
                f"current after {time.monotonic() - t0:.1f} s")

    def case_e(self):
        # A second cloud only to get a genuinely different network key; the
        # outsider keeps everything else (name, publisher keys, the list URL),
        # so it reads the cloud's list and dials its nodes: only the network
        # key can keep it out.
        other = cb.Cloud(self.bin, self.root, name="other")
        cfg = self.cloud.config()
        assert other.config()["network_key"] != cfg["network_key"]
        cfg["network_key"] = other.config()["network_key"]
        path = os.path.join(self.root, "outsider-cloud.json")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        out = cb.Node(self.bin, self.root, "outsider", path)
        self.cl.nodes.append(out)         # for dumps; removed again below
        try:
            out.start().wait_ready()

            def read_list():
                st = out.status()
                ls = (st or {}).get("lists", [{}])[0]
                return True if ls.get("state") == "ok" and ls.get("version", 0) > 1 else \
                    f"outsider's list: {ls}"
            self.cl.wait_until(read_list, 15.0, "the outsider has read the cloud's list")
            insiders = self.cl.nodes[:N]
            end = time.monotonic() + 6.0
            seen = set()
            while time.monotonic() < end:
                for name, st in self.cl.statuses(insiders).items():
                    if st and out.id in cb.Cluster.peer_map(st):
                        seen.add(name)
                time.sleep(0.5)
            assert not seen, f"the outsider appears in the status of {sorted(seen)}"
            still = self.cl.check_converged(insiders)
            assert still is True, f"the 8 are no longer converged: {still}"
            st = out.status()
            alive = [p for p in st.get("peers", []) if p.get("state") == "alive"]
            assert not alive, f"the outsider lists peers alive: {alive}"
            self.cl.check_processes()
            refusals = 0
            for n in insiders:
                with open(n.log_path, errors="replace") as f:
                    refusals += sum("network key" in line for line in f)
            return (f"outsider {out.id[:16]} lists {len(st.get('peers', []))} peers, none "
                    f"alive; the 8 logged {refusals} refusals naming the network key")
        finally:
            self.cl.nodes.remove(out)
            if out.proc is not None:
                out.stop()

    def final_stop(self):
        rcs = self.cl.stop()
        bad = {k: v for k, v in rcs.items() if v != 0}
        by_name = {n.name: n for n in self.cl.nodes}
        assert not bad, f"exit codes after SIGTERM (want 0): {bad}\n" + "\n".join(
            f"{k} log tail:\n{cb.log_tail(by_name[k].log_path, 20)}" for k in bad)

    def clean_logs(self):
        logs = [n.log_path for n in self.cl.nodes] + [os.path.join(self.root, "outsider.log")]
        found = []
        for path in logs:
            found += [f"{os.path.basename(path)}: {line}" for line in cb.log_problems(path)]
        assert not found, f"{len(found)} sanitizer reports or criticals in node logs:\n" \
            + "\n".join(found[:20])
        return f"{len(logs)} logs checked"


def main():
    node_bin = os.environ.get("CB_NODE") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not node_bin or not os.access(node_bin, os.X_OK):
        print("usage: CB_NODE=build/app/daemon/cloud-bevy-node test-cluster.py", file=sys.stderr)
        return 2

    tap = cb.Tap(10, OVERALL_TIMEOUT_S)
    with cb.workdir(prefix="cb-test-cluster-") as root:
        s = Suite(os.path.abspath(node_bin), root)
        tap.diag(f"work dir {root}")

        def body():
            tap.case("a", f"a: {N} nodes bootstrapped from one git-hosted list converge "
                     "(each lists the 7 others alive)", s.case_a)
            tap.case("b1", "b: kill -9 of n7: every other node marks it dead within the "
                     "membership bound, no false deaths", s.case_b_dead, ["a"])
            tap.case("b2", "b: n7 restarted with the same data dir and port is alive everywhere",
                     s.case_b_restart, ["b1"])
            tap.case("c1", "c: publishers rewrote the list in git: newer commits, increasing "
                     "versions, current addresses", s.case_c_list, ["a"])
            tap.case("c2", f"c: both of {PUBLISHERS} publishers hold the role and their node ids "
                     "are named in commits", s.case_c_publishers, ["a"])
            tap.case("d1", "d: SIGTERM stops every node with exit 0; status then exits 1",
                     s.case_d_stop, ["a"])
            tap.case("d2", "d: all restarted on other ports re-form the cloud from the lists",
                     s.case_d_reform, ["d1"])
            tap.case("e", "e: a node with another network key never appears, the 8 stay "
                     "converged", s.case_e, ["d2"])
            tap.case("f", "every node still running exits 0 on SIGTERM", s.final_stop, ["d2"])
            tap.case("g", "no sanitizer report or GLib critical in any node's log",
                     s.clean_logs, ["a"])
        rc = tap.run_with_watchdog(body)
        if tap.failed and not os.environ.get("CB_KEEP"):
            tap.diag(f"removing {root}; set CB_KEEP=1 to keep the logs, data dirs "
                     "and repository")
    return rc


if __name__ == "__main__":
    sys.exit(main())
