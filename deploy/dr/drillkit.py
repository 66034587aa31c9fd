"""What the drills in deploy/dr share (deploy/dr/drill, deploy/dr/chaos): PostgreSQL instances
made on loopback ports with the server binaries, a TCP proxy that can be repointed, cut or
blocked, the test host on given databases, HTTP helpers, and an open-model checkout stream whose
requests retry with their Idempotency-Key. Standard library only."""
import http.client
import json
import os
import pathlib
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
PG_BIN = pathlib.Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
BIN = ROOT / "target" / "release"
DATABASES = ("identity", "catalog", "orders")
# The host the platform runs on: "testhost" (target/release/shopnow-testhost) or the path of a
# Spin CLI (`use_host`).
HOST = "testhost"
SERVICE_TOKEN = "dev-only-orders-service-token"  # spin.toml's development default
PASSWORD = "drill-password-heron-42"
RESERVATION_TTL_SECS = 20
# crates/shopnow-orders/src/app/sweep.rs, STALE_AFTER_MS: the sweep resolves a pending order
# 60 s after its last change.
SWEEP_STALE_SECS = 60
ADDRESS = {"name": "Drill Shopper", "line1": "1 Failover Road", "city": "Standbyville",
           "postal_code": "10115", "country": "DE"}


def use_host(name):
    """`--host`: "testhost", or "spin" for SHOPNOW_SPIN_BIN or ../shared/bin/spin."""
    global HOST
    if name == "testhost":
        HOST = name
        return
    spin = os.environ.get("SHOPNOW_SPIN_BIN") or str(ROOT.parent / "shared" / "bin" / "spin")
    spin = os.path.abspath(spin)
    if not os.access(spin, os.X_OK):
        raise SystemExit(f"--host spin: no Spin CLI at {spin} (set SHOPNOW_SPIN_BIN)")
    HOST = spin


def log(message):
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command):
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + command
    return command


def run(command, timeout=120, **kwargs):
    done = subprocess.run(command, timeout=timeout, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")
    return done


def psql(port, database, sql, timeout=20):
    """Rows of `sql` (tab-separated fields) on the instance at `port`."""
    out = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database,
               "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=timeout).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class Proxy:
    """A TCP forwarder on loopback, standing in for a Kubernetes Service or a load balancer. It
    runs in its own process (asyncio, one thread: `python3 drillkit.py proxy`), so that the
    drill's client threads do not slow every forwarded byte down; this object drives it.

    - `upstreams`: ports taken in turn per connection; one that refuses is skipped (a balancer's
      health check), so with two hosts and one dead every new connection reaches the other.
    - `retarget(port)`: one new upstream, and every open connection cut, as a Service does when
      its endpoints move to a promoted standby.
    - `set_mode`: "open" forwards; "refuse" closes each new connection at once (nothing listens);
      "blackhole" accepts and never answers (a hung peer: only the caller's deadline ends it).
    - `delay`: each chunk is held that long in each direction (a slower link); `sever()` loses
      what the link still holds and cuts everything."""

    def __init__(self, *upstreams, delay=0.0):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "proxy", str(delay)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1)
        self.port = int(self.process.stdout.readline())
        self.lock = threading.Lock()
        self.set_upstreams(*upstreams)

    def _command(self, *words):
        with self.lock:
            self.process.stdin.write(" ".join(map(str, words)) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"proxy: {words}: {answer or 'gone'}")

    def set_upstreams(self, *ports):
        self._command("upstreams", *ports)

    def cut(self):
        """Cuts every open connection (new ones follow the mode)."""
        self._command("cut")

    def set_mode(self, mode, cut=True):
        self._command("mode", mode, int(cut))

    def sever(self):
        """The link is gone: whatever it still holds is lost, and every connection is cut."""
        self._command("sever")

    def retarget(self, upstream):
        self._command("upstreams", upstream)
        self.cut()

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def serve_proxy(delay):
    """The proxy process: prints its port, then obeys one command per stdin line."""
    import asyncio

    state = {"upstreams": [], "turn": 0, "mode": "open", "dropping": False}
    open_writers = set()

    def cut_all():
        for writer in list(open_writers):
            writer.transport.abort()
        open_writers.clear()

    async def pump(reader, writer):
        loop = asyncio.get_running_loop()
        held = asyncio.Queue()

        async def deliver():
            while (item := await held.get()) is not None:
                due, data = item
                await asyncio.sleep(max(0.0, due - loop.time()))
                if state["dropping"] or writer.is_closing():
                    return
                writer.write(data)
                await writer.drain()

        delivery = asyncio.ensure_future(deliver()) if delay else None
        try:
            while data := await reader.read(65536):
                if delay:
                    held.put_nowait((loop.time() + delay, data))
                else:
                    writer.write(data)
                    await writer.drain()
        except (OSError, ConnectionError):
            pass
        if delivery:
            held.put_nowait(None)
            try:
                await delivery
            except (OSError, ConnectionError):
                pass
        writer.transport.abort()
        open_writers.discard(writer)

    async def handle(reader, writer):
        mode = state["mode"]
        if mode == "refuse":
            writer.transport.abort()
            return
        open_writers.add(writer)
        if mode == "blackhole":
            try:
                while await reader.read(65536):
                    pass
            except (OSError, ConnectionError):
                pass
            writer.transport.abort()
            open_writers.discard(writer)
            return
        ports = state["upstreams"]
        state["turn"] += 1
        for i in range(len(ports)):
            port = ports[(state["turn"] + i) % len(ports)]
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port), 2)
                break
            except (OSError, asyncio.TimeoutError):
                continue
        else:
            writer.transport.abort()
            open_writers.discard(writer)
            return
        open_writers.add(up_writer)
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    async def commands(server):
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            words = line.split()
            if words[0] == "upstreams":
                state["upstreams"] = [int(w) for w in words[1:]]
            elif words[0] == "mode":
                state["mode"] = words[1]
                if words[2] == "1":
                    cut_all()
            elif words[0] == "cut":
                cut_all()
            elif words[0] == "sever":
                state["dropping"] = True
                cut_all()
            print("ok", flush=True)
        server.close()
        cut_all()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await commands(server)

    asyncio.run(main())


class Instance:
    """One PostgreSQL data directory and its server."""

    def __init__(self, work, name):
        self.dir = work / name
        self.sockets = work / "sockets"
        self.port = free_port()
        self.log = work / f"{name}.log"

    def configure(self, settings):
        with open(self.dir / "postgresql.auto.conf", "a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = '{value}'\n")

    def start(self):
        run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log),
                         "-w", "-t", "60", "start"]), timeout=90)

    def pid(self):
        return int((self.dir / "postmaster.pid").read_text().split()[0])

    def kill(self):
        """SIGKILL to the postmaster and every backend at once: the node is gone."""
        pid = self.pid()
        children = []
        for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(stat.parent.name))
        for victim in [pid] + children:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self):
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-m",
                                    "immediate", "-w", "-t", "30", "stop"]),
                       capture_output=True, timeout=60)


class Host:
    """The platform: the test host on `manifest` (spin.toml by default), its databases reached
    at `db_port`, its key-value stores as `runtime_config` says, `env` on top."""

    def __init__(self, work, db_port, name="host", manifest=None, runtime_config=None, env=None,
                 redis_port=6379):
        self.port = free_port()
        self.log = open(work / f"{name}.log", "a")
        url = f"postgres://postgres@127.0.0.1:{db_port}/{{}}?sslmode=disable"
        environment = dict(os.environ,
                           SPIN_VARIABLE_IDENTITY_ADMIN_EMAILS="admin@example.com",
                           SPIN_VARIABLE_IDENTITY_CLIENT_SIGN_IN_LIMIT="1000000000",
                           SPIN_VARIABLE_IDENTITY_CLIENT_REGISTER_LIMIT="1000000000",
                           SPIN_VARIABLE_CATALOG_RESERVATION_TTL_SECS=str(RESERVATION_TTL_SECS),
                           **{f"SPIN_VARIABLE_{db.upper()}_DATABASE_URL": url.format(db)
                              for db in DATABASES},
                           **{f"SPIN_VARIABLE_{db.upper()}_DATABASE_HOST": f"127.0.0.1:{db_port}"
                              for db in DATABASES})
        # Key-value stores the way production reaches them (crates/shopnow-spin/src/kv.rs):
        # outbound Redis, one logical database each, as deploy/runtime-config.production.toml.
        for service, db in (("CATALOG", 1), ("ORDERS", 2), ("STOREFRONT", 3)):
            environment[f"SPIN_VARIABLE_{service}_KV_REDIS_URL"] = \
                f"redis://127.0.0.1:{redis_port}/{db}"
        environment["SPIN_VARIABLE_KV_REDIS_HOST"] = f"127.0.0.1:{redis_port}"
        environment.update(env or {})
        state = work / f"{name}-state"
        state.mkdir(exist_ok=True)
        command = [str(BIN / "shopnow-testhost")] if HOST == "testhost" else [HOST, "up"]
        self.process = subprocess.Popen(
            command + ["--from", str(manifest or ROOT / "spin.toml"),
             "--listen", f"127.0.0.1:{self.port}", "--runtime-config-file",
             str(runtime_config or ROOT / "runtime-config.redis.toml"), "--state-dir", str(state)],
            cwd=ROOT, env=environment, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test host exited (see {self.log.name})")
            try:
                if request(self.port, "GET", "/.well-known/jwks.json")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the test host did not answer within 60 s (see {self.log.name})")

    def kill(self):
        """SIGKILL: the process is gone with whatever it had in flight."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def fresh_instance(work, name, settings):
    """A new PostgreSQL instance in work/name (initdb, trust on loopback incl. replication),
    started with `settings`."""
    instance = Instance(work, name)
    instance.sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        for path in (work, instance.sockets):
            shutil.chown(path, "postgres")
    run(as_postgres([str(PG_BIN / "initdb"), "-D", str(instance.dir), "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--locale=C"]), timeout=120)
    with open(instance.dir / "pg_hba.conf", "a") as hba:
        hba.write("host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
    instance.configure({"listen_addresses": "127.0.0.1",
                        "unix_socket_directories": str(instance.sockets),
                        "port": instance.port, **settings})
    instance.start()
    return instance


def create_databases(instance, via_port):
    """identity, catalog and orders on `instance`, migrated through `via_port` (the proxy the
    platform uses, or the instance itself) with shopnow-migrate, as the migrate Jobs do."""
    for database in DATABASES:
        run(["createdb", "-h", "127.0.0.1", "-p", str(instance.port), "-U", "postgres", database])
        run([str(BIN / "shopnow-migrate"), database,
             f"postgres://postgres@127.0.0.1:{via_port}/{database}?sslmode=disable"])


def seed_catalog(host, products=120):
    run([str(BIN / "shopnow-catalog-seed"), "--url", f"http://127.0.0.1:{host.port}",
         "--products", str(products), "--sellers", "2", "--concurrency", "4"], timeout=300)


def deep_products(instance, count=16):
    """The `count` active products with the most stock: {id: on_hand}."""
    rows = psql(instance.port, "catalog",
                "SELECT id, on_hand FROM products WHERE status = 'active' "
                f"ORDER BY on_hand DESC, id LIMIT {count}")
    return {row[0]: int(row[1]) for row in rows}


class Redis:
    """A private redis-server on a loopback port (nothing on disk) that can be killed and
    started again on the same port, and a runtime config pointing the platform's key-value
    stores at it."""

    def __init__(self, work):
        self.port = free_port()
        self.work = work
        self.process = None
        self.start()
        template = (ROOT / "runtime-config.redis.toml").read_text()
        self.runtime_config = work / "runtime-config.toml"
        self.runtime_config.write_text(
            template.replace("redis://127.0.0.1:6379", f"redis://127.0.0.1:{self.port}"))

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.work)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 20 s")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def request(port, method, path, body=None, headers=None, conn=None, timeout=10):
    """(status, headers, parsed JSON body or None)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"content-type": "application/json"} if data else {}
        all_headers.update(headers or {})
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, dict(response.getheaders()), parsed
    finally:
        if own:
            conn.close()


def expect(port, method, path, statuses, body=None, headers=None):
    status, _, parsed = request(port, method, path, body, headers, timeout=30)
    if status not in statuses:
        raise RuntimeError(f"{method} {path}: {status} {parsed}")
    return parsed


def enrol(port, buyers):
    tokens = []
    for i in range(buyers):
        email = f"drill-buyer-{i}@example.com"
        expect(port, "POST", "/v1/users", (201, 409),
               {"email": email, "password": PASSWORD, "display_name": f"Drill Buyer {i}"})
        token = expect(port, "POST", "/v1/auth/token", (200,),
                       {"email": email, "password": PASSWORD})["access_token"]
        tokens.append(token)
    return tokens


class Checkout:
    """One checkout request and every attempt made for it with its key."""

    def __init__(self, index, intended, token, product):
        self.index, self.intended, self.token, self.product = index, intended, token, product
        self.key = f"drill-{uuid.uuid4()}"
        # (sent, done, status or exception name, order id or None, on a reused connection)
        self.attempts = []
        self.order_ids = set()
        self.final = None


def spread(stock, total):
    """`total` product ids, each product's share proportional to its stock (so none runs out
    before the others), interleaved; fails when the stock cannot cover `total` with a fifth to
    spare."""
    units = sum(stock.values())
    if units < total * 1.2:
        raise RuntimeError(f"{len(stock)} products hold {units} units, not enough for {total}")
    plan, credit = [], dict.fromkeys(stock, 0.0)
    for _ in range(total):
        for product, on_hand in stock.items():
            credit[product] += on_hand / units
        chosen = max(credit, key=credit.get)
        credit[chosen] -= 1.0
        plan.append(chosen)
    return plan


class Stream:
    """Checkouts at a fixed rate (open model: sent on schedule whatever the answers do) from a
    pool of workers; a failed attempt is retried with the same key, with backoff, for up to
    `retry_window` seconds."""

    def __init__(self, port, tokens, stock, rate, duration, retry_window, workers=64):
        self.port, self.tokens = port, tokens
        self.rate, self.duration, self.retry_window = rate, duration, retry_window
        self.products = spread(stock, int(rate * duration))
        self.jobs = queue.Queue()
        self.checkouts = []
        self.workers = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]
        self.started = None

    def start(self):
        self.started = time.monotonic()
        for worker in self.workers:
            worker.start()
        threading.Thread(target=self._schedule, daemon=True).start()

    def _schedule(self):
        total = int(self.rate * self.duration)
        for i in range(total):
            due = self.started + i / self.rate
            time.sleep(max(0.0, due - time.monotonic()))
            checkout = Checkout(i, due, self.tokens[i % len(self.tokens)], self.products[i])
            self.checkouts.append(checkout)
            self.jobs.put(checkout)
        for _ in self.workers:
            self.jobs.put(None)

    def _work(self):
        conn = None
        while (checkout := self.jobs.get()) is not None:
            body = {"items": [{"product_id": checkout.product, "quantity": 1}],
                    "shipping_address": ADDRESS, "payment": {"token": "tok_ok"}}
            headers = {"authorization": f"Bearer {checkout.token}",
                       "idempotency-key": checkout.key}
            backoff = 0.2
            while True:
                reused = conn is not None
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                sent = time.monotonic()
                retry_after = None
                try:
                    status, response_headers, parsed = request(
                        self.port, "POST", "/v1/orders", body, headers, conn=conn)
                    order_id = parsed.get("id") if status == 201 and parsed else None
                    if order_id:
                        checkout.order_ids.add(order_id)
                    outcome = status
                    # Only "another request with this key is in flight" is worth waiting out.
                    in_use = status == 409 and isinstance(parsed, dict) and \
                        str(parsed.get("type", "")).endswith("/idempotency-key-in-use")
                    retry_after = response_headers.get("retry-after") or \
                        response_headers.get("Retry-After")
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    conn, outcome, order_id, in_use = None, type(error).__name__, None, False
                checkout.attempts.append((sent, time.monotonic(), outcome, order_id, reused))
                retryable = not isinstance(outcome, int) or outcome >= 500 or outcome == 429 \
                    or in_use
                if outcome == 201 or not retryable or \
                        time.monotonic() - checkout.intended > self.retry_window:
                    checkout.final = outcome
                    break
                wait = backoff
                if retry_after and retry_after.isdigit():
                    wait = max(wait, min(float(retry_after), 5.0))
                time.sleep(wait * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, 2.0)

    def join(self, limit):
        deadline = time.monotonic() + limit
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in self.workers)




def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def sweep(host):
    """One run of orders' sweep (as the CronJob calls it): its counts."""
    return expect(host.port, "POST", "/internal/v1/orders/sweep", (200,), None,
                  {"authorization": f"Service {SERVICE_TOKEN}"})


class Sweeper:
    """Calls the sweep every `every` seconds until stopped (the CronJob runs it every minute;
    the drills more often so that a checkout cut off mid-way is resolved sooner)."""

    def __init__(self, host, every=5.0):
        self.host, self.every, self.stopped = host, every, threading.Event()
        self.runs, self.errors = 0, 0
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stopped.wait(self.every):
            try:
                sweep(self.host)
                self.runs += 1
            except (OSError, RuntimeError, http.client.HTTPException):
                self.errors += 1

    def stop(self):
        self.stopped.set()


def settle(host, since, log_prefix):
    """Waits until orders pending since `since` are past the sweep's 60 s and holds past the
    reservation TTL, then sweeps until a run finds nothing: the sweeps' answers."""
    until = since + max(SWEEP_STALE_SECS, RESERVATION_TTL_SECS) + 3
    log(f"{log_prefix}: settling {max(0.0, until - time.monotonic()):.0f} s for the sweep")
    time.sleep(max(0.0, until - time.monotonic()))
    runs = []
    for _ in range(5):
        runs.append(sweep(host))
        if not any(v for k, v in runs[-1].items() if k != "keys_purged"):
            break
    return runs


def ledger(port, checkouts, stock_before):
    """What the databases at `port` say against what the clients were told: the checks every
    drill ends with, and the facts behind them. Checks (name, ok, detail)."""
    now_ms = int(time.time() * 1000)
    acked = {order_id: c.index for c in checkouts for order_id in c.order_ids}
    orders = {row[0]: row[1:] for row in psql(
        port, "orders", "SELECT id, status, stock_state, payment_status FROM orders")}
    sold_by_orders = {}
    for product, quantity in psql(
            port, "orders", "SELECT l.product_id, SUM(l.quantity) FROM orders o JOIN order_lines l "
            "ON l.order_id = o.id WHERE o.stock_state = 'committed' GROUP BY 1"):
        sold_by_orders[product] = int(quantity)
    catalog = {row[0]: (int(row[1]), int(row[2])) for row in psql(
        port, "catalog",
        "SELECT p.id, p.on_hand, p.reserved - COALESCE((SELECT SUM(l.quantity) "
        "FROM reservation_lines l JOIN reservations r ON r.order_id = l.order_id "
        f"WHERE l.product_id = p.id AND r.state = 'held' AND r.expires_at <= {now_ms}), 0) "
        "FROM products p")}
    committed = {}
    for order_id, product, quantity in psql(
            port, "catalog", "SELECT r.order_id, l.product_id, l.quantity FROM reservations r "
            "JOIN reservation_lines l ON l.order_id = r.order_id WHERE r.state = 'committed'"):
        committed.setdefault(order_id, {})[product] = int(quantity)
    order_lines = {}
    for order_id, product, quantity in psql(
            port, "orders", "SELECT o.id, l.product_id, SUM(l.quantity) FROM orders o "
            "JOIN order_lines l ON l.order_id = o.id WHERE o.status = 'confirmed' GROUP BY 1, 2"):
        order_lines.setdefault(order_id, {})[product] = int(quantity)
    live_holds = int(psql(port, "catalog", "SELECT COUNT(*) FROM reservations WHERE "
                          f"state = 'held' AND expires_at > {now_ms}")[0][0])
    key_twice = int(psql(port, "orders",
                         "SELECT COUNT(*) FROM (SELECT order_id FROM idempotency_keys WHERE "
                         "order_id IS NOT NULL GROUP BY order_id HAVING COUNT(*) > 1) t")[0][0])

    lost = sorted(i for i in acked if i not in orders)
    not_confirmed = sorted(i for i in acked if i in orders and orders[i][0] != "confirmed")
    two_ids = [c.index for c in checkouts if len(c.order_ids) > 1]
    confirmed = {i for i, row in orders.items() if row[0] == "confirmed"}
    unacknowledged = sorted(confirmed - set(acked))
    unreserved = sorted(i for i in confirmed if committed.get(i) != order_lines.get(i))
    pending = sorted(i for i, row in orders.items() if row[0] == "pending")
    stock, stock_ok = [], True
    for product, before in stock_before.items():
        on_hand, live_reserved = catalog[product]
        row = {"product": product, "seeded": before, "on_hand": on_hand, "sold": before - on_hand,
               "orders_committed": sold_by_orders.get(product, 0),
               "catalog_committed": sum(lines.get(product, 0) for lines in committed.values()),
               "live_reserved": live_reserved}
        stock_ok &= row["sold"] == row["orders_committed"] == row["catalog_committed"] \
            and live_reserved == 0
        stock.append(row)
    finals = {}
    for c in checkouts:
        finals[str(c.final)] = finals.get(str(c.final), 0) + 1
    checks = [
        ("every 201 order exists in the database", not lost,
         f"{len(acked)} answered 201, {len(lost)} missing"),
        ("every 201 order is confirmed there", not not_confirmed,
         f"{len(not_confirmed)} not confirmed"),
        ("no checkout request made two orders", not two_ids and not key_twice,
         f"{len(two_ids)} requests saw two ids, {key_twice} orders on two keys"),
        ("no confirmed order no client was told of", not unacknowledged,
         f"{len(unacknowledged)} confirmed orders never answered 201"),
        ("every confirmed order has its stock committed in the catalog", not unreserved,
         f"{len(unreserved)} confirmed orders whose catalog hold is not committed line for line"),
        ("stock agrees with the orders, nothing held", stock_ok and live_holds == 0,
         f"{live_holds} live holds; sold = orders' committed = catalog's committed per product: "
         f"{'yes' if stock_ok else 'NO'}"),
        ("no order left pending", not pending, f"{len(pending)} pending"),
        ("every checkout request ended in 201", finals.get("201", 0) == len(checkouts),
         ", ".join(f"{k}: {v}" for k, v in sorted(finals.items()))),
    ]
    return checks, {"acknowledged": len(acked), "lost_order_ids": lost, "stock": stock,
                    "final_outcomes": finals}


def attempts_summary(checkouts, since):
    """Failed attempts by outcome, the first success sent after `since`, the last failure."""
    attempts = [a for c in checkouts for a in c.attempts]
    failed = [a for a in attempts if a[2] != 201]
    by_outcome = {}
    for a in failed:
        by_outcome[str(a[2])] = by_outcome.get(str(a[2]), 0) + 1
    first_ok = min((a[1] for a in attempts if a[2] == 201 and a[0] >= since), default=None)
    last_failure = max((a[1] for a in failed), default=None)
    return {"attempts": len(attempts), "failed_attempts": by_outcome,
            "requests_retried": sum(1 for c in checkouts if len(c.attempts) > 1),
            "first_success_after_s": None if first_ok is None else first_ok - since,
            "last_failure_after_s": None if last_failure is None else last_failure - since}


def fmt(value, digits=3):
    return "n/a" if value is None else f"{value:.{digits}f}"


def print_checks(prefix, checks, measured_only=()):
    for name, ok, detail in checks:
        tag = "measured" if name in measured_only else ("PASS" if ok else "FAIL")
        log(f"{prefix}: [{tag}] {name} ({detail})")


def checks_markdown(checks, measured_only=()):
    out = ["| check | verdict | detail |", "| --- | --- | --- |"]
    for name, ok, detail in checks:
        verdict = "measured" if name in measured_only else ("pass" if ok else "FAIL")
        out.append(f"| {name} | {verdict} | {detail} |")
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["proxy"]:
    serve_proxy(float(sys.argv[2]))
