"""What the multi-process benchmarks (bench/scale, bench/chaos) share: the CLI, free ports, loopback servers (Redis,
Azurite), `aunce silo` processes of one cluster, sweeps run through the client, and a blob listing for Azurite."""
import base64
import email.utils
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Azurite's well-known development account (public; the emulator accepts nothing else).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"bench: nothing listens on 127.0.0.1:{port} after {seconds} s")


def cli():
    """
    Builds the CLI (through the launcher) once and returns the command that runs it. Also makes SIGTERM and SIGINT end the
    benchmark through its clean-up (servers and silos stopped by PID, the work folder removed), not around it.
    """
    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    subprocess.run([os.path.join(ROOT, "aunce"), "--version"], check=True, stdout=subprocess.DEVNULL)
    return ["dotnet", os.path.join(ROOT, "src/AunceSearch.Cli/bin/Release/net10.0/aunce.dll")]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def synth_data(aunce, directory):
    subprocess.run(aunce + ["data", "synth", directory, "--subjects", "2", "--images", "1", "--size", "32", "--folds", "2"],
                   check=True, stdout=subprocess.DEVNULL)


class Redis:
    def __init__(self):
        if shutil.which("redis-server") is None:
            sys.exit("bench: redis-server is not installed (apt-get install redis-server; ./test.sh installs it)")
        self.port = free_port()
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.address = f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Azurite:
    """Azurite's blob service on loopback, keeping blobs on disk so a restart (an outage) loses nothing."""

    def __init__(self, location):
        self.binary = os.path.join(ROOT, ".build-cache/azurite/node_modules/.bin/azurite-blob")
        if not os.access(self.binary, os.X_OK):
            if shutil.which("npm") is None:
                sys.exit("bench: Azurite is not installed and npm is missing (apt-get install npm; ./test.sh installs both)")
            directory = os.path.dirname(os.path.dirname(os.path.dirname(self.binary)))
            os.makedirs(directory, exist_ok=True)
            if not os.path.exists(os.path.join(directory, "package.json")):
                with open(os.path.join(directory, "package.json"), "w") as f:
                    f.write('{"name":"aunce-test-servers","private":true}')
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "azurite@3.37.0"], cwd=directory, check=True)
        self.location = location
        self.port = free_port()
        self.proc = None
        self.start()
        self.connection_string = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                                  f"BlobEndpoint=http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT};")

    def start(self):
        self.proc = subprocess.Popen([self.binary, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", self.location,
                                      "--disableTelemetry", "--skipApiVersionCheck", "--silent"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait()

    def _get(self, path, query):
        date = email.utils.formatdate(usegmt=True)
        version = "2021-08-06"
        resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}{path}" + "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
        to_sign = f"GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{resource}"
        signature = base64.b64encode(hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(), hashlib.sha256).digest()).decode()
        url = f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}{path}?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={"x-ms-date": date, "x-ms-version": version,
                                                       "Authorization": f"SharedKey {AZURITE_ACCOUNT}:{signature}"})
        return urllib.request.urlopen(request, timeout=30).read().decode()

    def blobs(self, container, prefix):
        """Every blob name under prefix (List Blobs, page by page)."""
        names, marker = [], ""
        while True:
            query = {"comp": "list", "prefix": prefix, "restype": "container"}
            if marker:
                query["marker"] = marker
            xml = self._get(f"/{container}", query)
            names += re.findall(r"<Name>([^<]+)</Name>", xml)
            marker = (re.findall(r"<NextMarker>([^<]*)</NextMarker>", xml) or [""])[0]
            if not marker:
                return names


class Silo:
    """One `aunce silo` process; its log is kept in a file (appended to by later incarnations of the same silo)."""

    def __init__(self, aunce, work, name, settings):
        self.aunce, self.work, self.name, self.settings = aunce, work, name, dict(settings)
        self.settings["Silo:SiloPort"] = str(free_port())
        self.settings["Silo:GatewayPort"] = str(free_port())
        self.log_path = os.path.join(work, f"{name}.log")
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ)
        for key, value in self.settings.items():
            env["Aunce__" + key.replace(":", "__")] = value
        env["Logging__LogLevel__Default"] = "Warning"
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information"   # "Application started"
        env["Logging__LogLevel__AunceSearch"] = "Information"                  # fold epochs and resumes
        if getattr(self, "_log", None) is not None:
            self._log.close()   # the previous incarnation's handle
        self._log = open(self.log_path, "a+")
        self._offset = self._log.seek(0, os.SEEK_END)
        self.proc = subprocess.Popen(self.aunce + ["silo"], env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.work,
                                     start_new_session=True)

    def wait_started(self, seconds=120):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"bench: silo {self.name} exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            with open(self.log_path) as f:
                f.seek(self._offset)
                if "Application started" in f.read():
                    return
            time.sleep(0.2)
        sys.exit(f"bench: silo {self.name} did not start within {seconds} s")

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.killpg(self.proc.pid, sig)

    def stop(self):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGCONT)
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def cluster_certificates(aunce, work):
    """The cluster's mutual-TLS set (`aunce cluster certs`), written once per work folder: silos and clients need it."""
    directory = os.path.join(work, "certs")
    if not os.path.exists(os.path.join(directory, "ca.pem")):
        done = subprocess.run(aunce + ["cluster", "certs", directory, "--name", "bench"], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"bench: aunce cluster certs failed: {done.stderr}")
    return directory


def tls_settings(certs, role):
    return {"Tls:CertificatePath": os.path.join(certs, f"{role}.pem"), "Tls:KeyPath": os.path.join(certs, f"{role}.key"),
            "Tls:CaPath": os.path.join(certs, "ca.pem")}


def silo_settings(cluster_id, redis, trainer, slots, epoch_seconds, checkpoints):
    settings = {
        "Silo:Clustering": "redis", "Silo:GrainStorage": "redis", "Silo:Redis": redis,
        "Silo:ClusterId": cluster_id, "Silo:ServiceId": cluster_id,
        "Silo:Trainer": "true" if trainer else "false", "Silo:Coordinator": "false" if trainer else "true",
        "Training:Slots": str(slots), "Training:TorchThreads": "1", "Training:SimulatedEpochSeconds": str(epoch_seconds),
    }
    settings.update(checkpoints)
    return settings


class Cluster:
    """A coordinator silo and N trainer silos on a fresh cluster id."""

    def __init__(self, aunce, work, redis, trainers, slots, epoch_seconds, checkpoints=None):
        self.aunce, self.work, self.redis = aunce, work, redis
        self.id = "bench" + uuid.uuid4().hex[:8]
        checkpoints = checkpoints or {"Checkpoints:Path": os.path.join(work, "ckpt")}
        self.certs = cluster_certificates(aunce, work)
        checkpoints = {**checkpoints, **tls_settings(self.certs, "silo")}   # every silo: mutual TLS, as deployed
        self.coordinator = Silo(aunce, work, f"{self.id}-coordinator", silo_settings(self.id, redis, False, 1, epoch_seconds, checkpoints))
        self.trainers = [Silo(aunce, work, f"{self.id}-trainer-{i + 1}", silo_settings(self.id, redis, True, slots, epoch_seconds, checkpoints))
                         for i in range(trainers)]
        try:
            for silo in [self.coordinator, *self.trainers]:
                silo.wait_started()
        except BaseException:
            self.stop()
            raise

    def client_args(self):
        tls = [a for key, value in tls_settings(self.certs, "client").items() for a in ("--config", f"Aunce:{key}={value}")]
        return ["--config", f"Aunce:Cluster:Redis={self.redis}", "--config", f"Aunce:Cluster:ClusterId={self.id}",
                "--config", f"Aunce:Cluster:ServiceId={self.id}", *tls]

    def sweep(self, spec_path, sweep_id, journal, *extra):
        """Runs `aunce sweep run` (or with extra arguments, e.g. --detach); returns (exit code, stdout, stderr)."""
        done = subprocess.run(self.aunce + ["sweep", "run", spec_path, "--id", sweep_id, "--journal", journal, "--plain", *extra, *self.client_args()],
                              cwd=self.work, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr

    def follow(self, sweep_id, journal):
        """`aunce sweep resume`: follows a submitted sweep to its end; returns (exit code, stdout, stderr)."""
        done = subprocess.run(self.aunce + ["sweep", "resume", sweep_id, "--journal", journal, "--plain", *self.client_args()],
                              cwd=self.work, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr

    def status(self, sweep_id, journal):
        """The sweep's status as its record (the sweep grain's journal) has it: `aunce sweep status ID --json`, a dict."""
        done = subprocess.run(self.aunce + ["sweep", "status", sweep_id, "--json", "--journal", journal, *self.client_args()],
                              cwd=self.work, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"aunce sweep status {sweep_id} exited {done.returncode}: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def stop(self):
        for silo in [*self.trainers, self.coordinator]:
            silo.stop()


def event_span(stdout):
    """The sweep's own span in seconds: its first event to its last, as the client's --plain log stamps them."""
    stamps = [float(m) for m in re.findall(r"^\[\s*([0-9.]+)s\]", stdout, re.MULTILINE)]
    return stamps[-1] - stamps[0] if len(stamps) >= 2 else None


def leaderboard(stdout):
    """The leaderboard's trial rows (rank, trial, state, epochs, value, parameters)."""
    return [l for l in stdout.split("\n") if re.match(r"^\s+\d+\s+\d+ (completed|pruned|failed|running)", l)]
