"""Static checks of what cannot be built here: the image, compose file, manifests and locks.

Images are never built on the development machines or in CI, so these tests read the files and
hold them to what deploy/k8s/README.md promises: probes on the health port, drain inside the
grace period, a non-root read-only container, the bwrap seccomp profile, version tags, and
hash-locked dependencies that match pyproject.toml.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
SECCOMP = K8S / "seccomp" / "mlquiz-bwrap.json"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
IMAGE = "mlquiz"
DEFAULT_DRAIN_SECONDS = 25.0  # bot/config.py
# What bubblewrap calls beyond the container runtime's default profile (bot/sandbox/runner.py
# `_command`: new user, PID, network, IPC, UTS, cgroup and mount namespaces, its own root).
BWRAP_SYSCALLS = {"clone", "unshare", "mount", "umount2", "pivot_root", "sethostname"}
# Syscalls nothing in mlquiz needs and the profile must keep refusing.
REFUSED_SYSCALLS = {"setns", "bpf", "ptrace", "kexec_load", "init_module", "open_by_handle_at",
                    "keyctl", "add_key", "userfaultfd", "perf_event_open", "chroot"}


# -- helpers ---------------------------------------------------------------------------------

def k8s_objects() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                found.append((path, doc))
    return found


def of_kind(*kinds: str) -> list[dict[str, Any]]:
    return [obj for _path, obj in k8s_objects() if obj.get("kind") in kinds]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: str(item.get("value")) for item in container.get("env", [])}


def resolve_port(container: dict[str, Any], port: int | str) -> int | None:
    """A probe's port as a number, if the container declares it (by name or number)."""
    for declared in container.get("ports", []):
        if port in (declared.get("name"), declared["containerPort"]):
            return int(declared["containerPort"])
    return None


def image_tag(image: str) -> str | None:
    name = image.split("@")[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def bots() -> list[dict[str, Any]]:
    return of_kind("Deployment")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert match, spec
    return normalise(match.group(1))


def lock_entries(path: Path) -> list[str]:
    """One string per requirement of a pip-compile file, continuation lines joined."""
    entries: list[str] = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and entries:
            entries[-1] += " " + line.strip().removesuffix("\\").strip()
        else:
            entries.append(line.strip().removesuffix("\\").strip())
    return entries


def lock_pins(path: Path) -> dict[str, str]:
    pins = {}
    for entry in lock_entries(path):
        requirement = entry.split(" --hash")[0].split(";")[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[normalise(name)] = version.strip()
    return pins


# -- Kubernetes --------------------------------------------------------------------------------

def test_every_manifest_parses_and_names_its_objects() -> None:
    objects = k8s_objects()
    assert objects, "no manifests in deploy/k8s"
    for path, obj in objects:
        assert isinstance(obj, dict), path
        for key in ("apiVersion", "kind"):
            assert obj.get(key), f"{path.name}: an object without {key}"
        assert (obj.get("metadata") or {}).get("name"), f"{path.name}: a {obj['kind']} without name"
    kinds = {obj["kind"] for _path, obj in objects}
    assert {"Deployment", "Job", "Service", "PodDisruptionBudget"} <= kinds


def test_bot_containers_are_probed_on_the_health_port() -> None:
    assert bots()
    for deployment in bots():
        name = deployment["metadata"]["name"]
        for container in pod_spec(deployment)["containers"]:
            probes = {kind: container.get(kind) for kind in
                      ("startupProbe", "livenessProbe", "readinessProbe")}
            assert all(probes.values()), f"{name}: missing probes: {probes}"
            ports = {kind: resolve_port(container, probe["httpGet"]["port"])
                     for kind, probe in probes.items()}
            assert None not in ports.values(), f"{name}: a probe on an undeclared port: {ports}"
            assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert probes["startupProbe"]["httpGet"]["path"] == "/healthz", name
            assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            health = env(container).get("MLQUIZ_HEALTH_PORT")
            assert health is not None, f"{name}: MLQUIZ_HEALTH_PORT is not set"
            assert set(ports.values()) == {int(health)}, \
                f"{name}: probes on {ports}, MLQUIZ_HEALTH_PORT={health}"


def test_startup_probe_allows_for_loading_the_bank() -> None:
    for deployment in bots():
        for container in pod_spec(deployment)["containers"]:
            probe = container["startupProbe"]
            budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
            assert budget >= 60, f"{deployment['metadata']['name']}: {budget} s to start"


def test_bots_log_json_and_are_scraped_on_the_health_port() -> None:
    for deployment in bots():
        name = deployment["metadata"]["name"]
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        for container in pod_spec(deployment)["containers"]:
            variables = env(container)
            assert variables.get("MLQUIZ_LOG_FORMAT") == "json", name
            assert annotations.get("prometheus.io/scrape") == "true", name
            assert annotations.get("prometheus.io/path") == "/metrics", name
            assert annotations.get("prometheus.io/port") == variables["MLQUIZ_HEALTH_PORT"], name


def test_drain_fits_in_the_grace_period() -> None:
    for deployment in bots():
        name = deployment["metadata"]["name"]
        grace = pod_spec(deployment).get("terminationGracePeriodSeconds", 30)
        for container in pod_spec(deployment)["containers"]:
            drain = float(env(container).get("MLQUIZ_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS))
            assert grace > drain, f"{name}: grace {grace} s, drain {drain} s"


def test_every_bot_has_a_disruption_budget_over_its_pods() -> None:
    budgets = of_kind("PodDisruptionBudget")
    for deployment in bots():
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets
                    if b["spec"]["selector"].get("matchLabels")
                    and b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert covering, f"{name}: no PodDisruptionBudget selects its pods ({labels})"
        for budget in covering:
            spec = budget["spec"]
            assert ("maxUnavailable" in spec) != ("minAvailable" in spec), budget
            if "maxUnavailable" in spec:
                # 0 would block every node drain: a single pod per shard range has no spare.
                assert spec["maxUnavailable"] == 1, budget


def test_workloads_run_non_root_read_only_without_capabilities() -> None:
    workloads = of_kind("Deployment", "Job")
    assert {w["kind"] for w in workloads} == {"Deployment", "Job"}
    for workload in workloads:
        name = workload["metadata"]["name"]
        pod = pod_spec(workload).get("securityContext", {})
        assert pod.get("runAsNonRoot") is True, name
        assert pod.get("runAsUser", 0) > 0 and pod.get("runAsGroup", 0) > 0, name
        assert pod.get("fsGroup", 0) > 0, name
        mounts_tmp = False
        for container in containers(workload):
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, name
            assert context.get("readOnlyRootFilesystem") is True, name
            assert "ALL" in context.get("capabilities", {}).get("drop", []), name
            assert not context.get("privileged"), name
            assert not context.get("capabilities", {}).get("add"), name
            mounts_tmp |= any(m["mountPath"] == "/tmp" for m in container.get("volumeMounts", []))
            data = env(container).get("XDG_DATA_HOME", "")
            assert data.startswith("/tmp/"), f"{name}: the data directory must be writable"
        volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
        assert mounts_tmp and any("emptyDir" in v for v in volumes.values()), name


def test_sandbox_settings_are_consistent() -> None:
    """Each bot pod uses the bwrap seccomp profile, and Unmasked /proc only in a user namespace."""
    for workload in of_kind("Deployment", "Job"):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        contexts = [spec.get("securityContext", {})]
        contexts += [c.get("securityContext", {}) for c in containers(workload)]
        profiles = [c["seccompProfile"] for c in contexts if c.get("seccompProfile")]
        assert profiles, f"{name}: no seccomp profile"
        assert all(p["type"] != "Unconfined" for p in profiles), name
        for profile in profiles:
            if profile["type"] == "Localhost":
                assert profile["localhostProfile"] == SECCOMP.name, name
        for container in containers(workload):
            context = container.get("securityContext", {})
            if context.get("procMount") == "Unmasked":
                assert spec.get("hostUsers") is False, f"{name}: Unmasked needs hostUsers: false"
    for deployment in bots():
        spec = pod_spec(deployment)
        assert spec["securityContext"]["seccompProfile"] == {
            "type": "Localhost", "localhostProfile": SECCOMP.name}, deployment["metadata"]["name"]


def test_images_are_tagged_with_the_project_version() -> None:
    images = [(w["metadata"]["name"], c["image"])
              for w in of_kind("Deployment", "Job") for c in containers(w)]
    images += [(name, service["image"]) for name, service in compose()["services"].items()
               if "image" in service and "build" in service]
    assert images
    for owner, image in images:
        tag = image_tag(image)
        assert tag not in (None, "latest"), f"{owner}: {image}"
        assert image.split(":")[0] == IMAGE and tag == VERSION, \
            f"{owner}: {image}, but pyproject.toml says {VERSION}"
    for doc in (DEPLOY / "README.md", K8S / "README.md", DEPLOY / "Dockerfile"):
        for tag in re.findall(rf"\b{IMAGE}:([\w.-]+)", doc.read_text()):
            assert tag == VERSION, f"{doc.relative_to(REPO)} names {IMAGE}:{tag}"


# -- seccomp -----------------------------------------------------------------------------------

def test_seccomp_profile_allows_bwrap_and_nothing_dangerous() -> None:
    profile = json.loads(SECCOMP.read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"} <= set(profile["architectures"])
    allowed: set[str] = set()
    for rule in profile["syscalls"]:
        # containerd and runc read the OCI runtime-spec format: Docker-only keys such as
        # includes/excludes would be ignored there, silently widening a rule.
        assert not {"includes", "excludes", "name"} & rule.keys(), rule
        assert rule["action"] in ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"), rule
        if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args"):
            allowed |= set(rule["names"])
    missing = BWRAP_SYSCALLS - allowed
    assert not missing, f"bwrap needs {sorted(missing)}"
    wide = REFUSED_SYSCALLS & {n for r in profile["syscalls"] if r["action"] == "SCMP_ACT_ALLOW"
                               for n in r["names"]}
    assert not wide, f"the profile allows {sorted(wide)}"
    assert {"read", "write", "execve", "exit_group"} <= allowed


def test_apparmor_profile_is_named_like_the_manifests_say() -> None:
    text = (K8S / "apparmor" / "mlquiz-bwrap").read_text()
    assert re.search(r"^profile mlquiz-bwrap ", text, re.M)
    for rule in ("mount,", "umount,", "pivot_root,"):
        assert re.search(rf"^\s*{rule}", text, re.M), rule
    assert not re.search(r"^\s*deny mount", text, re.M)
    for deployment in bots():
        for container in pod_spec(deployment)["containers"]:
            assert container["securityContext"].get("appArmorProfile") == {
                "type": "Localhost", "localhostProfile": "mlquiz-bwrap"}


# -- Dockerfile --------------------------------------------------------------------------------

def dockerfile() -> list[str]:
    """Instructions, comments dropped and continuation lines joined."""
    lines: list[str] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        pending += raw.strip().removesuffix("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            lines.append(pending.strip())
            pending = ""
    return lines


def test_dockerfile_base_is_pinned_to_a_full_version() -> None:
    froms = [line.split()[1] for line in dockerfile() if line.upper().startswith("FROM ")]
    assert froms
    for image in froms:
        tag = image_tag(image)
        assert tag and tag != "latest", image
        assert re.fullmatch(r"3\.11\.\d+-slim-bookworm", tag), f"not a full version: {image}"


def test_dockerfile_installs_the_lock_with_hashes_then_the_project_alone() -> None:
    lines = dockerfile()
    runs = [(i, line) for i, line in enumerate(lines) if line.upper().startswith("RUN ")]
    locked = [i for i, line in runs if "pip install" in line
              and "--require-hashes" in shlex.split(line)
              and "requirements/runtime.txt" in shlex.split(line)]
    project = [i for i, line in runs if "pip install" in line and "--no-deps" in line.split()]
    assert locked, "no `pip install --require-hashes -r requirements/runtime.txt`"
    assert project, "the project is not installed with --no-deps"
    assert locked[0] < project[0]
    installs = [line for _i, line in runs if "pip install" in line]
    assert len(installs) == 2, f"every pip install is either the lock or --no-deps: {installs}"
    copied = [line for line in lines if line.upper().startswith("COPY ")]
    assert any("requirements/runtime.txt" in line for line in copied)
    assert any("bubblewrap" in line for _i, line in runs)


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [line.split()[1] for line in dockerfile() if line.upper().startswith("USER ")]
    assert users, "no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert user.isdigit(), "a numeric USER lets runAsNonRoot verify it"
    pods = [pod_spec(w)["securityContext"]["runAsUser"] for w in of_kind("Deployment", "Job")]
    assert set(pods) == {int(user)}


# -- compose -----------------------------------------------------------------------------------

def test_compose_parses_and_references_existing_files() -> None:
    services = compose()["services"]
    assert {"db", "migrate", "mlquiz", "slack", "discord"} <= services.keys()
    for name, service in services.items():
        build = service.get("build")
        if build:
            context = (DEPLOY / build["context"]).resolve()
            assert context.is_dir(), name
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name
        for entry in service.get("env_file", []):
            if isinstance(entry, str) or entry.get("required", True):
                path = entry if isinstance(entry, str) else entry["path"]
                assert (DEPLOY / path).is_file(), f"{name}: {path}"
        for option in service.get("security_opt", []):
            key, _, value = option.partition("=")
            assert value != "unconfined" or key != "seccomp", f"{name}: seccomp unconfined"
            if key == "seccomp":
                assert (DEPLOY / value).resolve() == SECCOMP.resolve(), f"{name}: {value}"


def test_compose_bots_have_the_sandbox_settings_and_healthchecks() -> None:
    services = compose()["services"]
    for name in ("mlquiz", "slack", "discord"):
        service = services[name]
        options = service.get("security_opt", [])
        assert any(o.startswith("seccomp=") for o in options), name
        assert "systempaths=unconfined" in options, name
        assert "ALL" in service.get("cap_drop", []), name
        assert service.get("read_only") is True, name
    for name in ("slack", "discord"):
        service = services[name]
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name}: no healthcheck"
        command = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
        port = service["environment"]["MLQUIZ_HEALTH_PORT"]
        assert f":{port}/readyz" in command, f"{name}: {command}"
        grace = service.get("stop_grace_period", "10s")
        drain = float(service["environment"].get("MLQUIZ_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS))
        assert grace.endswith("s") and float(grace[:-1]) > drain, f"{name}: {grace} <= {drain}"


# -- lock files and the Makefile ---------------------------------------------------------------

@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt"])
def test_every_locked_requirement_has_a_hash(lock: str) -> None:
    entries = lock_entries(REPO / "requirements" / lock)
    assert entries
    for entry in entries:
        assert not entry.startswith(("-e", "--index-url", "--extra-index-url", "file:")), entry
        assert "==" in entry.split(" --hash")[0], f"not pinned: {entry}"
        assert re.search(r"--hash=sha256:[0-9a-f]{64}\b", entry), f"no hash: {entry[:80]}"


def test_lock_files_pin_every_declared_dependency() -> None:
    runtime = lock_pins(REPO / "requirements" / "runtime.txt")
    dev = lock_pins(REPO / "requirements" / "dev.txt")
    declared = [requirement_name(s) for s in PYPROJECT["project"]["dependencies"]]
    extras = PYPROJECT["project"]["optional-dependencies"]
    declared_dev = [requirement_name(s) for s in extras["dev"]]
    for name in declared:
        assert name in runtime, f"{name} is not in requirements/runtime.txt: run scripts/lock.sh"
    for name in [*declared, *declared_dev]:
        assert name in dev, f"{name} is not in requirements/dev.txt: run scripts/lock.sh"
    differing = {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v}
    assert not differing, f"runtime.txt and dev.txt disagree: {differing}"
    for name in (requirement_name(s) for s in extras.get("embeddings", [])):
        assert name not in dev, f"{name} (the embeddings extra) is installed on top, not locked"


def test_makefile_installs_from_the_locks() -> None:
    makefile = (REPO / "Makefile").read_text()
    for stamp, lock in ((".installed", "requirements/runtime.txt"),
                        (".dev-installed", "requirements/dev.txt")):
        rule = re.search(rf"^\$\(VENV\)/{re.escape(stamp)}:(.*)\n((?:\t.*\n)+)", makefile, re.M)
        assert rule, stamp
        prerequisites, recipe = rule.groups()
        assert lock in prerequisites.split(), f"{stamp} does not depend on {lock}"
        assert f"--require-hashes -r {lock}" in recipe, stamp
        assert "--no-deps -e ." in recipe, stamp
