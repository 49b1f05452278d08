"""cbcluster: run a cloud of real cloud-bevy-node processes on 127.0.0.1.

A small harness for multi-node tests and benchmarks (Python 3, stdlib only):

* Cloud: a bare git repository as the "public domain" and `init-cloud`
  into a directory beside it; cloud.json can be edited afterwards.
* Node: one `cloud-bevy-node run` process with its own data dir, port and
  log file; start, SIGTERM, kill -9, SIGSTOP/SIGCONT, `status --json`.
* Cluster: a set of nodes and bounded `wait_until` helpers (everyone sees
  everyone alive, everyone sees X dead, ...) that on timeout raise
  WaitTimeout with every node's status and the tail of its log.

Every process started here is killed when the interpreter exits (atexit,
SIGTERM/SIGHUP handlers) and, as a last resort, by the kernel when the
harness dies (PR_SET_PDEATHSIG).  Every wait has a timeout.
"""
import atexit
import contextlib
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

STATUS_TIMEOUT_S = 5.0
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0

_live = set()          # Popen objects of processes we started and not reaped
_used_ports = set()


# ---------------------------------------------------------------- processes

def _kill_everything():
    for proc in list(_live):
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGCONT)     # a stopped process still dies of SIGKILL,
            proc.kill()                          # but CONT lets it be reaped promptly
        with contextlib.suppress(Exception):
            proc.wait(5)
        _live.discard(proc)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)               # runs atexit and finally blocks


atexit.register(_kill_everything)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    with contextlib.suppress(ValueError):        # not in the main thread
        signal.signal(_sig, _on_signal)

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _die_with_parent():
    # Runs in the child before exec: SIGKILL it if the harness dies, even by
    # SIGKILL.  Processes are only started from the main thread, so "parent"
    # (the thread that forked) lives as long as the harness.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)           # PR_SET_PDEATHSIG


def spawn(argv, log_path, env=None):
    """Start a long-running process, output appended to log_path; tracked."""
    log = open(log_path, "ab")
    log.write(f"==== {time.strftime('%H:%M:%S')} exec {' '.join(argv)}\n".encode())
    log.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env,
                                preexec_fn=_die_with_parent)
    finally:
        log.close()
    _live.add(proc)
    return proc


def reap(proc, timeout):
    """Wait for proc; returns its exit code (negative: killed by signal)."""
    rc = proc.wait(timeout)
    _live.discard(proc)
    return rc


def free_port():
    """A free 127.0.0.1 TCP+UDP port outside the ephemeral range, never handed out twice
    by this process.

    Ports from the ephemeral range could be taken by some outgoing connection
    between now and the moment the node binds; stay outside it.
    """
    lo, hi = 32768, 60999
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split()[:2])
    first, end = (20000, min(lo, 32768)) if lo > 21000 else (hi + 1, 65536)
    if end - first < 1000:
        first, end = 20000, 65536                # no room outside it: take the risk
    for _ in range(1000):
        port = random.randrange(first, end)
        if port in _used_ports:
            continue
        ok = True
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):   # serf needs both
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            _used_ports.add(port)
            return port
    raise RuntimeError(f"no free port found in {first}..{end - 1}")


def thread_stacks(pid):
    """Every thread's stack of a hung process, when gdb is there to ask."""
    if shutil.which("gdb") is None:
        return "(no gdb here for the hung process's stacks)"
    res = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 20"],
                         capture_output=True, text=True, timeout=60)
    lines = [l for l in res.stdout.splitlines() if l.startswith(("#", "Thread"))]
    return "stacks of the hung process:\n" + "\n".join(lines[:400])


def log_tail(path, lines=15):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(text.splitlines()[-lines:])


PROBLEM_MARKERS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "-CRITICAL **", "Segmentation fault")


def log_problems(path, markers=PROBLEM_MARKERS):
    """Lines of a log that show a sanitizer report or a GLib critical."""
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n") for line in f if any(m in line for m in markers)]
    except OSError:
        return []


# ---------------------------------------------------------------- waiting

class WaitTimeout(AssertionError):
    pass


class CommandFailed(AssertionError):
    def __init__(self, text, result):
        super().__init__(text)
        self.result = result


class _Crashed(Exception):
    pass


def wait_until(check, timeout, what, interval=0.25, dump=None):
    """Poll check() until it returns True; return seconds waited.

    check() returns True when satisfied, otherwise False or a string saying
    what is still missing; exceptions count as "not yet" (their text is kept).
    On timeout raise WaitTimeout naming `what`, the last answer, and dump().
    """
    start = time.monotonic()
    deadline = start + timeout
    last = None
    while True:
        try:
            res = check()
        except (_Crashed, TimeoutError):          # TimeoutError: a caller's watchdog
            raise
        except Exception as e:                    # noqa: BLE001 - reported below
            res = f"{type(e).__name__}: {e}"
        if res is True:
            return time.monotonic() - start
        last = res
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.1f} s waiting until {what}"
            if isinstance(last, str) and last:
                msg += f"\nstill: {last}"
            if dump is not None:
                with contextlib.suppress(Exception):
                    msg += "\n" + dump()
            raise WaitTimeout(msg)
        time.sleep(interval)


# ---------------------------------------------------------------- TAP

class Tap:
    """TAP output for a suite of dependent cases, with an overall time limit:
    a case whose prerequisites failed, or that comes after the limit, is
    reported "not ok" with the reason (never skipped)."""

    def __init__(self, plan, overall_timeout_s):
        self.n = 0
        self.failed = 0
        self.results = {}
        self.expired = False
        self.overall_timeout_s = overall_timeout_s
        print(f"1..{plan}", flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def _not_run(self, key, name, why):
        self.results[key] = False
        self.failed += 1
        print(f"not ok {self.n} - {name}", flush=True)
        self.diag(f"not run: {why}")
        return False

    def case(self, key, name, fn, requires=()):
        self.n += 1
        missing = [r for r in requires if not self.results.get(r)]
        if self.expired:
            return self._not_run(key, name, f"the suite ran over {self.overall_timeout_s} s")
        if missing:
            return self._not_run(key, name, f"needs {', '.join(missing)}, which failed")
        t0 = time.monotonic()
        try:
            note = fn()
            ok = True
        except Exception as e:                     # noqa: BLE001 - reported as TAP
            ok, note = False, None
            err, trace = e, traceback.format_exc()
        self.results[key] = ok
        took = time.monotonic() - t0
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}", flush=True)
        if ok:
            self.diag(f"{took:.1f} s" + (f": {note}" if note else ""))
        else:
            self.failed += 1
            if isinstance(err, (AssertionError, WaitTimeout)):
                self.diag(f"{type(err).__name__}: {err}")
            else:
                self.diag(trace)
        return ok

    def run_with_watchdog(self, body):
        """Run body() under SIGALRM at the overall limit; returns the exit code."""
        def watchdog(signum, frame):
            self.expired = True
            raise TimeoutError(f"the suite ran over {self.overall_timeout_s} s")
        signal.signal(signal.SIGALRM, watchdog)
        signal.alarm(self.overall_timeout_s)
        try:
            body()
        except (SystemExit, KeyboardInterrupt) as e:
            print(f"Bail out! interrupted ({type(e).__name__} {e})", flush=True)
            raise
        finally:
            signal.alarm(0)
        return 1 if self.failed else 0


# ---------------------------------------------------------------- the cloud

def git(*args, cwd=None, check=True):
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True,
                          text=True, timeout=30).stdout


class Cloud:
    """A cloud made with init-cloud, its list in a bare git repository."""

    def __init__(self, node_bin, root, name="demo", repo=None, subdir=None):
        self.node_bin = node_bin
        self.root = root
        self.name = name
        self.dir = os.path.join(root, subdir or f"cloud-{name}")
        self.repo = repo or os.path.join(root, f"{name}-lists.git")
        if repo is None:
            git("init", "-q", "--bare", "-b", "main", self.repo)
        self.list_url = f"git+file://{self.repo}#nodes.json"
        res = subprocess.run([node_bin, "init-cloud", "--dir", self.dir, "--name", name,
                              "--list", self.list_url], capture_output=True, text=True,
                             timeout=60)
        if res.returncode != 0:
            raise RuntimeError(f"init-cloud failed ({res.returncode}): "
                               f"{res.stdout}{res.stderr}")
        self.cloud_json = os.path.join(self.dir, "cloud.json")
        self.publisher_key = os.path.join(self.dir, "publisher.key")

    def config(self):
        with open(self.cloud_json) as f:
            return json.load(f)

    def edit(self, fn):
        """fn(dict) changes cloud.json in place."""
        cfg = self.config()
        fn(cfg)
        with open(self.cloud_json, "w") as f:
            json.dump(cfg, f, indent=2)

    def commits(self, ref="main"):
        """[{hash, author, email, message}], newest first."""
        out = git("-C", self.repo, "log", ref, "--format=%H%x1f%an%x1f%ae%x1f%B%x1e")
        res = []
        for rec in out.split("\x1e"):
            rec = rec.strip("\n")
            if rec:
                h, an, ae, body = rec.split("\x1f", 3)
                res.append({"hash": h, "author": an, "email": ae, "message": body.strip()})
        return res

    def list_at(self, rev="main", path="nodes.json"):
        """The list (the signed document's inner JSON) at a revision."""
        raw = json.loads(git("-C", self.repo, "show", f"{rev}:{path}"))
        inner = raw.get("list", raw) if isinstance(raw, dict) else raw
        return json.loads(inner) if isinstance(inner, str) else inner


# ---------------------------------------------------------------- nodes

class Node:
    def __init__(self, node_bin, root, name, cloud_json, publisher_key=None,
                 verbose=True, extra_args=(), host="127.0.0.1", netns=None):
        self.node_bin = node_bin
        self.host = host          # the address it listens on and advertises
        self.netns = netns        # a network namespace to run it in (ip netns exec)
        self.name = name
        self.data_dir = os.path.join(root, name)
        self.log_path = os.path.join(root, f"{name}.log")
        self.cloud_json = cloud_json
        self.publisher_key = publisher_key
        self.verbose = verbose
        self.extra_args = list(extra_args)
        self.port = None
        self.proc = None
        self.id = None
        self.last_rc = None

    @property
    def advertise(self):
        return f"ws://{self.host}:{self.port}"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def exited(self):
        """A description if the process ended without being asked to, else None."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            return None
        if rc < 0:
            with contextlib.suppress(ValueError):
                return f"{self.name} died of {signal.Signals(-rc).name}"
        return f"{self.name} exited with status {rc}"

    def start(self, port=None):
        """Start the process (a new port unless given); does not wait."""
        assert not self.running(), f"{self.name} already runs"
        self.port = port or self.port or free_port()
        argv = [self.node_bin, "run", "--data-dir", self.data_dir, "--cloud", self.cloud_json,
                "--listen", f"{self.host}:{self.port}", "--advertise", self.advertise]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        if self.publisher_key:
            argv += ["--publisher-key", self.publisher_key]
        if self.verbose:
            argv.append("-v")
        self.proc = spawn(argv + self.extra_args, self.log_path)
        self.last_rc = None
        return self

    def wait_ready(self, timeout=START_TIMEOUT_S):
        """Wait until the control socket answers; learn the node id."""
        def ready():
            if not self.running():
                raise RuntimeError(f"{self.name} exited with {self.proc.poll()}")
            st = self.status()
            if st is None:
                return "control socket not answering yet"
            self.id = st["id"]
            return True
        try:
            wait_until(ready, timeout, f"{self.name} answers status", interval=0.05)
        except WaitTimeout as e:
            raise WaitTimeout(f"{e}\n{self.describe()}") from None
        return self

    def status(self):
        """`status --json` as a dict, or None when the node does not answer."""
        res = subprocess.run([self.node_bin, "status", "--data-dir", self.data_dir, "--json"],
                             capture_output=True, text=True, timeout=STATUS_TIMEOUT_S)
        if res.returncode != 0:
            return None
        return json.loads(res.stdout)

    def cli(self, *args, input=None, timeout=60):
        """Run `cloud-bevy-node ARGS --data-dir DIR`; CompletedProcess."""
        return subprocess.run([self.node_bin, *args, "--data-dir", self.data_dir],
                              input=input, capture_output=True, text=True, timeout=timeout)

    def call(self, *args, input=None, timeout=60):
        """Like cli() but parse stdout as JSON; raises with stderr on failure."""
        res = self.cli(*args, input=input, timeout=timeout)
        if res.returncode != 0:
            raise CommandFailed(f"{self.name}: {' '.join(args[:1])} exited "
                                f"{res.returncode}: {res.stderr.strip()}", res)
        return json.loads(res.stdout)

    def put(self, system, table, rows, delete=False):
        """One entry with these rows (a list of dicts); its position."""
        args = ["put", "--system", system, "--table", table, "--json", "-"]
        if delete:
            args.append("--delete")
        return self.call(*args, input=json.dumps(rows))

    def query(self, system, sql, as_of=None, scope=None, sets=None):
        args = ["query", "--system", system, "--sql", sql]
        if sets is not None:
            args += ["--sets", str(sets)]
        if as_of is not None:
            args += ["--as-of", str(as_of)]
        if scope is not None:
            args += ["--scope", scope]
        return self.call(*args)

    def digest(self, system):
        return self.call("digest", "--system", system)

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM and wait; returns the exit code (SIGKILL and raise on timeout)."""
        if self.proc is None:
            return self.last_rc
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=STOP_TIMEOUT_S):
        try:
            self.last_rc = reap(self.proc, timeout)
        except subprocess.TimeoutExpired:
            stacks = thread_stacks(self.proc.pid)
            self.proc.kill()
            reap(self.proc, 5)
            self.proc = None
            raise RuntimeError(f"{self.name} did not exit within {timeout} s of SIGTERM; "
                               f"killed\n{log_tail(self.log_path)}\n{stacks}") from None
        self.proc = None
        return self.last_rc

    def kill9(self):
        if self.proc is not None:
            self.proc.kill()
            self.last_rc = reap(self.proc, 10)
            self.proc = None

    def pause(self):
        self.signal(signal.SIGSTOP)

    def resume(self):
        self.signal(signal.SIGCONT)

    def describe(self, status=None, names=None, log_lines=12):
        names = names or {}
        if self.proc is None:
            head = f"{self.name}: not running (last exit {self.last_rc})"
        else:
            head = f"{self.name}: pid {self.proc.pid} " + (
                f"GONE ({self.exited()})" if self.exited() else "running")
        head += f", port {self.port}, id {(self.id or '?')[:16]}"
        out = [head]
        if status is None and self.running():
            with contextlib.suppress(Exception):
                status = self.status()
        if status is not None:
            out.append(f"  roles {status.get('roles')}  advertise {status.get('advertise')}"
                       f"  published_version {status.get('published_version')}")
            for p in status.get("peers", []):
                who = names.get(p.get("id"), (p.get("id") or "?")[:16])
                out.append(f"  peer {who:16} {p.get('state', '?'):8} {p.get('addr')}"
                           f" roles={p.get('roles')}")
            for ls in status.get("lists", []):
                out.append(f"  list {ls.get('state')} v{ls.get('version')}"
                           f" {ls.get('error', '')}")
        elif self.running():
            out.append("  (status not answering)")
        out.append("  log tail:")
        if self.exited():
            log_lines = max(log_lines, 50)        # room for a sanitizer report
        out += ["    " + line for line in log_tail(self.log_path, log_lines).splitlines()]
        return "\n".join(out)


class Cluster:
    """Nodes of one cloud, plus waits over their statuses."""

    def __init__(self, node_bin, root, cloud_json, publisher_key=None):
        self.node_bin = node_bin
        self.root = root
        self.cloud_json = cloud_json
        self.publisher_key = publisher_key
        self.nodes = []

    def add(self, name=None, publisher=False, cloud_json=None, **kw):
        node = Node(self.node_bin, self.root, name or f"n{len(self.nodes)}",
                    cloud_json or self.cloud_json,
                    self.publisher_key if publisher else None, **kw)
        self.nodes.append(node)
        return node

    def __getitem__(self, i):
        return self.nodes[i]

    def names(self):
        return {n.id: n.name for n in self.nodes if n.id}

    def start(self, nodes=None, new_ports=False, timeout=START_TIMEOUT_S):
        nodes = self.nodes if nodes is None else nodes
        for n in nodes:
            n.start(port=free_port() if new_ports else None)
        for n in nodes:
            n.wait_ready(timeout)
        return nodes

    def stop(self, nodes=None, timeout=STOP_TIMEOUT_S):
        """SIGTERM all at once, then wait for each: {name: exit code}."""
        nodes = [n for n in (self.nodes if nodes is None else nodes) if n.proc is not None]
        for n in nodes:
            n.proc.send_signal(signal.SIGCONT)
            n.proc.terminate()
        return {n.name: n.wait_exit(timeout) for n in nodes}

    def check_processes(self, log_lines=40):
        """Raise AssertionError if a node we did not stop has exited (crash)."""
        gone = [n for n in self.nodes if n.exited()]
        if gone:
            raise AssertionError("\n".join(
                f"{n.exited()}; log tail:\n" + "\n".join(
                    "    " + l for l in log_tail(n.log_path, log_lines).splitlines())
                for n in gone))

    def kill_all(self):
        for n in self.nodes:
            n.kill9()

    def statuses(self, nodes=None):
        """{name: status dict or None}, asked in parallel."""
        nodes = self.nodes if nodes is None else nodes
        procs = {}
        for n in nodes:
            if n.running():
                procs[n.name] = subprocess.Popen(
                    [self.node_bin, "status", "--data-dir", n.data_dir, "--json"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out = {n.name: None for n in nodes}
        for name, p in procs.items():
            try:
                text, _ = p.communicate(timeout=STATUS_TIMEOUT_S)
                if p.returncode == 0:
                    out[name] = json.loads(text)
                    node = next(n for n in nodes if n.name == name)
                    node.id = node.id or out[name].get("id")
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
            except ValueError:
                pass
        return out

    def dump(self, nodes=None):
        nodes = self.nodes if nodes is None else nodes
        sts = self.statuses(nodes)
        names = self.names()
        return "\n".join(n.describe(sts[n.name], names) for n in nodes)

    def wait_until(self, check, timeout, what, interval=0.25, nodes=None):
        """wait_until over this cluster; a node that crashes (exits without
        being stopped or killed here) ends the wait at once."""
        def checked():
            gone = [n.exited() for n in self.nodes if n.exited()]
            if gone:
                raise _Crashed("; ".join(gone))
            return check()
        try:
            return wait_until(checked, timeout, what, interval, dump=lambda: self.dump(nodes))
        except _Crashed as e:
            raise WaitTimeout(f"gave up waiting until {what}: {e}\n"
                              + self.dump(self.nodes)) from None

    # ---- predicates over statuses

    @staticmethod
    def peer_map(status):
        return {p["id"]: p for p in (status or {}).get("peers", [])}

    def check_converged(self, group=None, check_addr=True):
        """True when every node of group lists every other one alive (at its
        current address); otherwise a string naming what is missing."""
        group = [n for n in (self.nodes if group is None else group)]
        sts = self.statuses(group)
        missing = []
        for n in group:
            st = sts[n.name]
            if st is None:
                missing.append(n.exited() or f"{n.name} not answering")
                continue
            peers = self.peer_map(st)
            for o in group:
                if o is n:
                    continue
                p = peers.get(o.id)
                if p is None:
                    missing.append(f"{n.name} lacks {o.name}")
                elif p.get("state") != "alive":
                    missing.append(f"{n.name} sees {o.name} {p.get('state')}")
                elif check_addr and p.get("addr") != o.advertise:
                    missing.append(f"{n.name} has {o.name} at {p.get('addr')}")
        return True if not missing else f"{len(missing)} gaps: " + ", ".join(missing[:12])

    def check_state(self, target, states, observers=None):
        """True when every observer lists target (a Node or an id) in one of states."""
        tid = target.id if isinstance(target, Node) else target
        observers = [n for n in (self.nodes if observers is None else observers)
                     if n.id != tid]
        sts = self.statuses(observers)
        missing = []
        for n in observers:
            p = self.peer_map(sts[n.name]).get(tid)
            state = None if p is None else p.get("state")
            if sts[n.name] is None:
                missing.append(n.exited() or f"{n.name} not answering")
            elif state not in states:
                missing.append(f"{n.name}: {state}")
        return True if not missing else ", ".join(missing)

    def wait_converged(self, timeout, group=None, check_addr=True):
        group = self.nodes if group is None else group
        return self.wait_until(lambda: self.check_converged(group, check_addr), timeout,
                               f"{len(group)} nodes all see each other alive", nodes=group)

    def wait_state(self, target, states, timeout, observers=None):
        obs = self.nodes if observers is None else observers
        name = target.name if isinstance(target, Node) else target[:16]
        return self.wait_until(lambda: self.check_state(target, states, obs), timeout,
                               f"every other node sees {name} {'/'.join(states)}", nodes=obs)


@contextlib.contextmanager
def workdir(prefix="cbcluster-", keep=False):
    """A temporary directory removed afterwards (kept when keep or $CB_KEEP is set)."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        _kill_everything()
        if keep or os.environ.get("CB_KEEP"):
            print(f"# kept {d}", file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
