#!/usr/bin/env python3
"""Replication between real cloud-bevy-node processes on 127.0.0.1.  Prints TAP.

    CB_NODE=build/app/daemon/cloud-bevy-node python3 tests/node/test-replicate.py

Every node hosts the built-in system test/kv (table kv: key TEXT PRIMARY KEY,
value TEXT); writes go through `cloud-bevy-node put`, reads through `query`
and `digest`, exactly as an operator would use them.
  a. 100,000 rows written on A appear on B: identical digests and entries
  b. five nodes writing the same keys at the same time converge to one
     digest, and every key holds the value of its newest write
  c. kill -9 of the receiving node at 12 random moments while rows stream
     in (and while it writes itself): after the last restart identical
     digests, PRAGMA integrity_check ok, and every write either node
     acknowledged is there
  d. hosting policy: with min_hosts 3, two hosts refuse writes with an error
     naming the policy and say "dormant" in status; a third host resumes
     them; losing it makes the system dormant again
  e. as-of reads: the table as it was at a log position and at a time
  f. db-sets: with db_set_size 1, eight hosts split into sets of one level,
     every set has a bridge, partners stay bounded, and writes on every
     node reach every node
  g. cloud-scope query: a node restarted after missing writes answers
     --scope cloud with all of them at once, naming the sets that answered
  i. backup to a public domain (a bare git repository, a file) and restore
     on a fresh node of another cloud: identical digest, idempotent,
     replicated onward; a tampered file or a wrong passphrase is refused
     and changes nothing
Set CB_KEEP=1 to keep the work directory.
"""
import concurrent.futures
import os
import random
import sqlite3
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cbcluster as cb  # noqa: E402

KV = "test/kv"
OVERALL_TIMEOUT_S = 420
CONVERGE_TIMEOUT_S = 60.0
FAST = {"probe_interval_ms": 200, "suspicion_min_ms": 1500, "suspicion_max_ms": 4000}


def kv_db_path(node):
    store = os.path.join(node.data_dir, "store")
    names = [f for f in os.listdir(store) if f.startswith("test_kv-") and f.endswith(".db")]
    assert len(names) == 1, f"{node.name}: store files {os.listdir(store)}"
    return os.path.join(store, names[0])


class Suite:
    def __init__(self, node_bin, root):
        self.bin = node_bin
        self.root = root

    def cluster(self, name, n, policy=None, db_set_size=None):
        """A new cloud in its own directory with n nodes hosting test/kv."""
        root = os.path.join(self.root, name)
        os.makedirs(root)
        cloud = cb.Cloud(self.bin, root, name=name)

        def tune(cfg):
            cfg["membership"] = dict(FAST)
            if policy:
                cfg["systems"] = {KV: policy}
            if db_set_size:
                cfg["db_set_size"] = db_set_size
        cloud.edit(tune)
        cl = cb.Cluster(self.bin, root, cloud.cloud_json, cloud.publisher_key)
        for i in range(n):
            cl.add(f"{name}{i}", publisher=i == 0, extra_args=["--host", KV])
        return cl

    def wait_same_digest(self, cl, nodes=None, timeout=CONVERGE_TIMEOUT_S):
        nodes = cl.nodes if nodes is None else nodes
        seen = {}

        def same():
            for n in nodes:
                seen[n.name] = n.digest(KV)
            digests = {d["digest"] for d in seen.values()}
            if len(digests) == 1:
                return True
            return ", ".join(f"{k}: {d['entries']} entries {d['digest'][:12]}"
                             for k, d in seen.items())
        took = cl.wait_until(same, timeout, "every node has the same digest of test/kv",
                             nodes=nodes)
        return took, seen[nodes[0].name]

    # ---- cases

    def case_a_bulk(self):
        cl = self.cluster("bulk", 2)
        a, b = cl.nodes
        cl.start()
        cl.wait_converged(30)
        n_rows, per_put = 100_000, 2000
        t0 = time.monotonic()
        for i in range(0, n_rows, per_put):
            a.put(KV, "kv", [{"key": f"k{j:06d}", "value": f"value {j} " + "x" * 80}
                             for j in range(i, i + per_put)])
        wrote = time.monotonic() - t0
        took, d = self.wait_same_digest(cl)
        count = b.query(KV, "SELECT count(*), min(key), max(key) FROM kv")["rows"][0]
        assert count == [n_rows, "k000000", f"k{n_rows - 1:06d}"], f"B holds {count}"
        db = b.digest(KV)
        assert db["entries"] == n_rows // per_put, f"B has {db['entries']} entries"
        cl.check_processes()
        cl.stop()
        return (f"{n_rows} rows in {n_rows // per_put} entries written in {wrote:.1f} s; "
                f"B identical {took:.1f} s later")

    def case_b_concurrent(self):
        cl = self.cluster("five", 5)
        cl.start()
        cl.wait_converged(30)
        keys = [f"shared{i:03d}" for i in range(200)]

        def writer(node):
            rng = random.Random(node.name)
            for round_ in range(15):
                picked = rng.sample(keys, 40)
                node.put(KV, "kv", [{"key": k, "value": f"{node.name} round {round_}"}
                                    for k in picked])
                node.put(KV, "kv", [{"key": f"{node.name}-own-{round_}", "value": "mine"}])
            return node.name
        with concurrent.futures.ThreadPoolExecutor(len(cl.nodes)) as pool:
            list(pool.map(writer, cl.nodes))
        took, d = self.wait_same_digest(cl)
        rows = cl[0].query(KV, "SELECT count(*) FROM kv")["rows"][0][0]
        own = cl[0].query(KV, "SELECT count(*) FROM kv WHERE key LIKE '%-own-%'")["rows"][0][0]
        assert own == 5 * 15, f"{own} own rows, expected {5 * 15}"
        # Every shared key that anyone wrote exists, once, on every node: the
        # digests say the tables are identical; here, that none was lost.
        written = cl[0].query(KV, "SELECT count(*) FROM kv WHERE key LIKE 'shared%'")["rows"][0][0]
        assert rows == own + written and written > 150, f"{rows} rows, {written} shared"
        cl.check_processes()
        cl.stop()
        return f"5 writers x 30 entries; identical digests {took:.1f} s after the last write"

    def case_c_kill9(self):
        cl = self.cluster("crash", 2)
        a, b = cl.nodes
        cl.start()
        cl.wait_converged(30)
        acked = {}            # key -> value: acknowledged by A or by B
        lock = threading.Lock()
        stop = threading.Event()
        errors = []

        def stream():
            i = 0
            while not stop.is_set():
                rows = [{"key": f"a{i:05d}-{j}", "value": f"from A {i}"} for j in range(100)]
                try:
                    a.put(KV, "kv", rows)
                except Exception as e:            # noqa: BLE001 - reported below
                    errors.append(str(e))
                    return
                with lock:
                    acked.update({r["key"]: r["value"] for r in rows})
                i += 1
        t = threading.Thread(target=stream)
        t.start()
        rng = random.Random(7)
        kills = 0
        try:
            for k in range(12):
                time.sleep(rng.uniform(0.1, 0.7))
                b.kill9()
                kills += 1
                b.start(port=b.port).wait_ready()
                rows = [{"key": f"b{k:02d}-{j}", "value": f"from B {k}"} for j in range(20)]
                b.put(KV, "kv", rows)
                with lock:
                    acked.update({r["key"]: r["value"] for r in rows})
        finally:
            stop.set()
            t.join()
        assert not errors, f"A refused a write: {errors[0]}"
        took, d = self.wait_same_digest(cl)
        cl.check_processes()
        rcs = cl.stop()
        assert all(rc == 0 for rc in rcs.values()), f"exit codes {rcs}"
        con = sqlite3.connect(f"file:{kv_db_path(b)}?mode=ro", uri=True)
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        stored = dict(con.execute("SELECT key, value FROM kv"))
        con.close()
        assert integrity == [("ok",)], f"integrity_check on B: {integrity}"
        lost = [k for k, v in acked.items() if stored.get(k) != v]
        assert not lost, f"{len(lost)} acknowledged writes missing or changed on B, e.g. " \
            f"{lost[:5]}"
        return (f"{kills} kills; {len(acked)} acknowledged rows all on B, integrity ok, "
                f"identical {took:.1f} s after the last restart")

    def case_d_dormant(self):
        cl = self.cluster("policy", 3, policy={"min_hosts": 3})
        a, b, c = cl.nodes
        cl.start([a, b])
        cl.wait_converged(30, group=[a, b])
        res = a.cli("put", "--system", KV, "--table", "kv", "--json", '{"key":"x","value":"1"}')
        assert res.returncode != 0, f"a write was accepted with 2 of 3 hosts: {res.stdout}"
        assert "dormant" in res.stderr and "policy" in res.stderr and \
            "at least 3 live hosts" in res.stderr, f"the refusal does not name the policy: " \
            f"{res.stderr}"
        st = [s for s in a.status()["systems"] if s["system"] == KV][0]
        assert st["dormant"] is True and st["min_hosts"] == 3 and st["hosts_alive"] == 2, st
        refusal = res.stderr.strip()

        cl.start([c])
        cl.wait_converged(30)

        def writable():
            r = a.cli("put", "--system", KV, "--table", "kv", "--json", '{"key":"x","value":"2"}')
            return True if r.returncode == 0 else r.stderr.strip()
        resumed = cl.wait_until(writable, 20, "writes resume with 3 hosts alive")
        st = [s for s in a.status()["systems"] if s["system"] == KV][0]
        assert st["dormant"] is False and st["hosts_alive"] == 3, st
        self.wait_same_digest(cl)

        c.kill9()

        def dormant_again():
            s = [s for s in a.status()["systems"] if s["system"] == KV][0]
            return True if s["dormant"] else f"hosts_alive {s['hosts_alive']}"
        cl.wait_until(dormant_again, 20, "A sees test/kv dormant once C is dead")
        r = b.cli("put", "--system", KV, "--table", "kv", "--json", '{"key":"y","value":"3"}')
        assert r.returncode != 0 and "dormant" in r.stderr, r
        value = a.query(KV, "SELECT value FROM kv WHERE key = 'x'")["rows"]
        assert value == [["2"]], f"data kept while dormant: {value}"
        assert a.running() and b.running(), [n.exited() for n in (a, b)]
        cl.stop()
        return f"refused with: {refusal!r}; resumed after {resumed:.1f} s"

    def case_e_as_of(self):
        cl = self.cluster("history", 2)
        a, b = cl.nodes
        cl.start()
        cl.wait_converged(30)
        first = a.put(KV, "kv", [{"key": "k", "value": "first"}, {"key": "gone", "value": "g"}])
        time.sleep(0.05)            # so the two writes are at distinct wall-clock ms
        second = a.put(KV, "kv", [{"key": "k", "value": "second"}])
        a.put(KV, "kv", [{"key": "gone"}], delete=True)
        self.wait_same_digest(cl)
        sql = "SELECT key, value FROM kv ORDER BY key"
        for n in (a, b):            # history replicates with the data
            now = n.query(KV, sql)["rows"]
            at_first = n.query(KV, sql, as_of=first["hlc"])["rows"]
            at_second = n.query(KV, sql, as_of=second["hlc"])["rows"]
            at_time = n.query(KV, sql, as_of=first["time"])["rows"]
            assert now == [["k", "second"]], f"{n.name} now: {now}"
            assert at_first == [["gone", "g"], ["k", "first"]], f"{n.name} at first: {at_first}"
            assert at_second == [["gone", "g"], ["k", "second"]], f"{n.name} at 2nd: {at_second}"
            assert at_time == at_first, f"{n.name} at {first['time']}: {at_time}"
        before = a.query(KV, sql, as_of=1)["rows"]
        assert before == [], f"before any write: {before}"
        res = a.cli("query", "--system", KV, "--sql", sql, "--as-of", "yesterday-ish")
        assert res.returncode != 0 and "--as-of" in res.stderr, res.stderr
        cl.stop()
        return f"as of hlc {first['hlc']} and of {first['time']}, on both nodes"

    def case_f_dbsets(self):
        n = 8
        # Sets of one host: the 8 spread over several sets (all in one would
        # be a 1-in-16,000 chance at the level they pick).
        cl = self.cluster("sets", n, db_set_size=1)
        cl.start()
        cl.wait_converged(30)

        def split():
            sts = cl.statuses()
            views = {}
            for node in cl.nodes:
                kv = [x for x in sts[node.name]["systems"] if x["system"] == KV][0]
                views[node.name] = kv["db_set"]
            levels = {v["level"] for v in views.values()}
            sets = {v["set"] for v in views.values()}
            if len(levels) != 1 or levels == {0}:
                return f"levels {sorted(levels)}"
            # A set's members agree on who is in it.
            for name, v in views.items():
                peers = [m for m, w in views.items() if w["set"] == v["set"]]
                if v["members"] != len(peers):
                    return f"{name} counts {v['members']} in set {v['set']}, there are {len(peers)}"
            self.views = views
            return True if len(sets) >= 2 else f"one set only: {sets}"
        cl.wait_until(split, 30, "the hosts split into db-sets of one level")
        views = self.views
        sets = sorted({v["set"] for v in views.values()})
        for s_ in sets:
            assert any(v["bridge"] for v in views.values() if v["set"] == s_), \
                f"set {s_} has no bridge: {views}"
        # Partners stay bounded: set peers plus, for bridges, one per neighbouring set.
        by_id = {node.id: node.name for node in cl.nodes}
        for name, v in views.items():
            level = v["level"]
            assert len(v["partners"]) <= 8 + level, f"{name}: {len(v['partners'])} partners"
            for pid in v["partners"]:
                assert pid in by_id, f"{name} partners with a stranger {pid[:12]}"
        # Every node writes; everyone ends up with everything.
        for i, node in enumerate(cl.nodes):
            node.put(KV, "kv", [{"key": f"from-{node.name}-{j}", "value": str(i)}
                                for j in range(50)])
        took, d = self.wait_same_digest(cl)
        rows = cl[0].query(KV, "SELECT count(*) FROM kv")["rows"][0][0]
        assert rows == 50 * n, f"{rows} rows, expected {50 * n}"
        cl.check_processes()
        self.sets_cluster = cl
        layout = ", ".join(f"{s_}: {sum(v['set'] == s_ for v in views.values())}" for s_ in sets)
        return (f"level {views[cl[0].name]['level']}, sets {layout}; writes on all {n} "
                f"identical everywhere {took:.1f} s later")

    def case_g_cloud_query(self):
        cl = self.sets_cluster
        x = cl[n_last := len(cl.nodes) - 1]
        sql = "SELECT count(*), max(value) FROM kv"
        assert x.stop() == 0
        for node in cl.nodes[:n_last]:
            node.put(KV, "kv", [{"key": f"late-{node.name}-{j}", "value": "late"}
                                for j in range(25)])
        want = 50 * len(cl.nodes) + 25 * n_last
        x.start(port=x.port).wait_ready()
        t0 = time.monotonic()
        got = x.query(KV, sql, scope="cloud", sets=8)
        took = time.monotonic() - t0
        assert got["scope"] == "cloud", got
        assert got["rows"][0][0] == want, \
            f"the cloud query saw {got['rows'][0][0]} rows, {want} exist: {got}"
        assert took < 3.5, f"the query took {took:.1f} s"
        answered = [st for st in got["sets"] if st["answered"]]
        assert got["sets_asked"] >= 1 and len(answered) == got["sets_answered"] >= 1, got
        for st in answered:
            assert st["entries"] >= len(cl.nodes) + n_last and st["newest"] and st["complete"], st
        # Local scope on the same node agrees now, and a bad scope is refused.
        assert x.query(KV, sql)["rows"][0][0] == want
        res = x.cli("query", "--system", KV, "--sql", sql, "--scope", "planet")
        assert res.returncode != 0 and "--scope must be local" in res.stderr, res.stderr
        res = x.cli("query", "--system", KV, "--sql", "DELETE FROM kv", "--scope", "cloud")
        assert res.returncode != 0 and "SELECT" in res.stderr, res.stderr
        cl.check_processes()
        cl.stop()
        return (f"{len(answered)}/{got['sets_asked']} sets answered in "
                f"{max(st['ms'] for st in answered)} ms; {got['entries_received']} entries "
                f"pulled; query {took * 1000:.0f} ms end to end")

    def case_i_backup(self):
        cl = self.cluster("backup", 2)
        a, b = cl.nodes
        cl.start()
        cl.wait_converged(30)
        for i in range(0, 3000, 500):
            a.put(KV, "kv", [{"key": f"a{j}", "value": f"v{j}"} for j in range(i, i + 500)])
        b.put(KV, "kv", [{"key": "from-b", "value": "b"}])
        a.put(KV, "kv", [{"key": "a7"}], delete=True)
        took, d = self.wait_same_digest(cl)
        repo = os.path.join(self.root, "backups.git")
        cb.git("init", "-q", "--bare", "-b", "main", repo)
        git_url = f"git+file://{repo}#backups/test-kv.cbbackup"
        file_path = os.path.join(self.root, "test-kv.cbbackup")
        pw = os.path.join(self.root, "passphrase")
        with open(pw, "w") as f:
            f.write("a long and unguessable passphrase\n")
        made = a.call("backup", "--system", KV, "--to", git_url, "--passphrase-file", pw)
        assert made["entries"] == d["entries"] and made["bytes"] > 0, made
        a.call("backup", "--system", KV, "--to", f"file://{file_path}", "--passphrase-file", pw)
        log = cb.git("-C", repo, "log", "--format=%s", "main")
        assert a.id in log and "Backup of test/kv" in log, log
        # Backing up again replaces the file with a new commit (compare-and-swap).
        a.call("backup", "--system", KV, "--to", git_url, "--passphrase-file", pw)
        assert len(cb.git("-C", repo, "log", "--format=%s", "main").splitlines()) == 2
        cl.stop()

        # A fresh node of another cloud: nothing reaches it but the backup.
        fresh = self.cluster("fresh", 3)
        c, e, g = fresh.nodes
        fresh.start()
        before = c.digest(KV)
        assert before["entries"] == 0
        got = c.call("restore", "--system", KV, "--from", git_url, "--passphrase-file", pw)
        assert got["new_entries"] == d["entries"] and got["made_by"] == a.id, got
        after = c.digest(KV)
        assert after["digest"] == d["digest"], f"restored digest {after} != {d}"
        again = c.call("restore", "--system", KV, "--from", git_url, "--passphrase-file", pw)
        assert again["new_entries"] == 0, again
        # The restored entries replicate to the other hosts of the new cloud.
        self.wait_same_digest(fresh)

        # Tampered: one byte in the middle flipped.  Refused, nothing changes.
        with open(file_path, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0x40
        bad_path = os.path.join(self.root, "tampered.cbbackup")
        with open(bad_path, "wb") as f:
            f.write(data)
        fresh2 = self.cluster("fresh2", 1)
        h = fresh2.nodes[0]
        fresh2.start()
        res = h.cli("restore", "--system", KV, "--from", f"file://{bad_path}",
                    "--passphrase-file", pw)
        assert res.returncode != 0 and "altered" in res.stderr, res.stderr
        assert h.digest(KV)["entries"] == 0, "a tampered backup changed the store"
        tampered_msg = res.stderr.strip()
        # The wrong passphrase.
        os.environ["CB_BACKUP_PASSPHRASE"] = "not it"
        try:
            res = h.cli("restore", "--system", KV, "--from", f"file://{file_path}")
        finally:
            del os.environ["CB_BACKUP_PASSPHRASE"]
        assert res.returncode != 0 and "passphrase" in res.stderr, res.stderr
        assert h.digest(KV)["entries"] == 0
        # And the good file restores on it.
        got = h.call("restore", "--system", KV, "--from", f"file://{file_path}",
                     "--passphrase-file", pw)
        assert h.digest(KV)["digest"] == d["digest"]
        fresh.check_processes()
        fresh.stop()
        fresh2.stop()
        return (f"{d['entries']} entries, {made['bytes']} bytes sealed to git and file; restored "
                f"on a fresh node with identical digest; tampered: {tampered_msg!r}")

    def clean_logs(self):
        found = []
        for dirpath, _, files in os.walk(self.root):
            for f in files:
                if f.endswith(".log"):
                    found += [f"{f}: {line}" for line in cb.log_problems(os.path.join(dirpath, f))]
        assert not found, f"{len(found)} sanitizer reports or criticals:\n" + "\n".join(found[:20])


def main():
    node_bin = os.environ.get("CB_NODE") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not node_bin or not os.access(node_bin, os.X_OK):
        print("usage: CB_NODE=build/app/daemon/cloud-bevy-node test-replicate.py",
              file=sys.stderr)
        return 2
    tap = cb.Tap(9, OVERALL_TIMEOUT_S)
    with cb.workdir(prefix="cb-test-replicate-") as root:
        s = Suite(os.path.abspath(node_bin), root)

        def body():
            tap.case("a", "a: 100,000 rows written on A appear on B with identical digests",
                     s.case_a_bulk)
            tap.case("b", "b: 5 nodes with concurrent writers converge to identical digests",
                     s.case_b_concurrent)
            tap.case("c", "c: kill -9 of the receiving node at 12 random points: identical "
                     "digests, integrity ok, no acknowledged write lost", s.case_c_kill9)
            tap.case("d", "d: dormant below min_hosts (writes refused, naming the policy), "
                     "resumed above it", s.case_d_dormant)
            tap.case("e", "e: as-of reads by log position and by time", s.case_e_as_of)
            tap.case("f", "db-sets: 8 hosts with db_set_size 1 split into sets with bridges; "
                     "writes on every node reach every node", s.case_f_dbsets)
            tap.case("g", "a node back from a stop answers --scope cloud with every write, "
                     "saying which sets answered and how fresh", s.case_g_cloud_query, ["f"])
            tap.case("i", "backup to a git repository and a file; a fresh node restores it "
                     "with identical digests; tampered and wrong-passphrase backups refused, "
                     "nothing changed", s.case_i_backup)
            tap.case("h", "no sanitizer report or GLib critical in any node's log",
                     s.clean_logs)
        return tap.run_with_watchdog(body)


if __name__ == "__main__":
    sys.exit(main())
