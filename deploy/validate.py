#!/usr/bin/env python3
"""Validates the Kubernetes manifests under deploy/kubernetes before they reach a cluster.

Each overlay (deploy/kubernetes/overlays/<region>) is rendered with `kubectl kustomize`, and every
document of the rendering is checked:
- custom resources (SpinKube, Gateway API, KEDA and its HTTP add-on, Kyverno, and whatever else is
  vendored: CloudNativePG, the Redis operator, prometheus-operator) against the openAPIV3Schema of
  their CRD in deploy/schemas, found by group, version and kind; a kind with no vendored schema is
  an error. Built-in kinds against the Kubernetes API schemas that the kubernetes-validate package
  ships. Both strict: unknown fields are errors (a cluster prunes them silently, hiding typos).
- Every container (pod templates of Deployments, Jobs, CronJobs, ...; SpinApps' `resources`) has
  CPU and memory requests and limits. No Secret carries data (Secrets are only referenced), no
  environment variable or SpinApp variable named like a credential holds a literal value, no
  ConfigMap value holds a URL with a password, and every ConfigMap key referenced exists.
- Cross-checks with the Spin manifest each SpinApp's image is pushed from (ARTIFACTS: spin.toml or
  spin-consumers.toml): a SpinApp only names components that exist, binds only variables that
  manifest declares and every required one it uses, fails closed on secrets, and its key-value
  stores are declared in the production runtime config; its artifact never mixes Redis triggers
  with others, and one serving no HTTP has no `checks` and admits no ingress. A SpinApp of the
  consumers' artifact binds each variable exactly as the SpinApps of spin.toml using it do, and
  variables both manifests declare agree on default and secrecy.
- The edge: HTTPRoutes route only public paths (never `/internal`) to SpinApps serving them,
  directly or through the KEDA HTTP add-on's interceptor, and every public route is routed.
- Sign-in limits: the SpinApp the storefront's identity URL reaches runs identity, is not routed
  at the edge, and trusts more X-Forwarded-For proxies than the public identity SpinApp.
- Scaling: every scaler (HPA, KEDA ScaledObject, HTTPScaledObject) targets a SpinApp that lets an
  autoscaler own its replicas, no target has two, and every such SpinApp has one. The region's
  role (ConfigMap shopnow-region, `role`): an active region has no scaler below three replicas;
  a passive one has a scaler with minimum zero for every public SpinApp and suspends its
  CronJobs. Disruption budgets and network policies point at pods that exist.
Exits non-zero with one line per problem.
"""
import copy
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.parse

import jsonschema
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
K8S_VERSION = "1.30.0"
SCHEMAS = ROOT / "deploy" / "schemas"
OVERLAYS = ROOT / "deploy" / "kubernetes" / "overlays"
# API groups of the built-in kinds (checked with kubernetes-validate); any other group needs a
# vendored CRD in deploy/schemas.
BUILTIN_GROUPS = {
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "certificates.k8s.io",
}
# Image repository -> the manifest its artifact is pushed from (scripts/cluster-manifest; the
# cluster copy of spin.toml differs only in routing the private internal triggers).
ARTIFACTS = {
    "ghcr.io/shopnow/shopnow": "spin.toml",
    "ghcr.io/shopnow/shopnow-consumers": "spin-consumers.toml",
}
SERVICES_ARTIFACT = "spin.toml"
# The only public surface: spin.toml routes under these API prefixes, and the storefront's pages
# (its routes in spin.toml, without `/...`). The payment simulator's and every `/internal` route
# are never exposed.
PUBLIC_PREFIXES = ("/v1/", "/.well-known/jwks.json")
STOREFRONT_PATHS = ("/", "/search", "/products", "/sign-in", "/sign-up", "/sign-out", "/account",
                    "/cart", "/checkout", "/orders", "/seller", "/admin", "/assets")
# The KEDA HTTP add-on's interceptor (namespace, Service): region-b's routes send to it.
INTERCEPTOR = ("keda", "keda-add-ons-http-interceptor-proxy")
# ConfigMaps the manifests reference but do not create, and who does.
EXTERNAL_CONFIGMAPS = {
    "shopnow-jwt-keys": "written by the signing-key rotation with its Secret (docs/security.md)",
}
# A variable named like a credential must come from a Secret, never be written in a manifest.
CREDENTIAL_NAME = re.compile(r"password|secret|token|key|url", re.IGNORECASE)
PASSWORD_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
# Where a region that serves traffic keeps every scaler: one replica per zone, three zones.
ACTIVE_MINIMUM = 3


class RenderError(Exception):
    """An overlay that `kubectl kustomize` cannot render, or no kubectl to render it with."""


def strict(schema):
    """Unknown fields become errors: a cluster prunes them silently, which hides typos."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        for value in schema.values():
            strict(value)
    elif isinstance(schema, list):
        for value in schema:
            strict(value)
    return schema


def load_crds():
    """Every served version of every CRD vendored in deploy/schemas: (apiVersion, kind) ->
    (file name, openAPIV3Schema), discovered from the files themselves."""
    table = {}
    for path in sorted(SCHEMAS.iterdir()):
        if path.suffix not in (".yaml", ".yml"):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec.get("versions", []):
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if version.get("served", True) and schema:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    table[key] = (path.name, schema)
    return table


class Schemas:
    """Validators of the vendored CRDs, made (strict) on first use."""

    def __init__(self, crds=None):
        self.crds = load_crds() if crds is None else crds
        self.validators = {}

    def problems(self, where, doc):
        api_version, kind = doc.get("apiVersion", ""), doc.get("kind")
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        key = (api_version, kind)
        if key in self.crds:
            if key not in self.validators:
                schema = strict(copy.deepcopy(self.crds[key][1]))
                self.validators[key] = jsonschema.Draft7Validator(schema)
            return [f"{where}: {'.'.join(map(str, e.path))}: {e.message}"
                    for e in self.validators[key].iter_errors(doc)]
        if group not in BUILTIN_GROUPS:
            return [f"{where}: no vendored CRD schema for {kind} ({api_version}) in deploy/schemas"]
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            return [f"{where}: {'.'.join(map(str, error.path))}: {error.message}"]
        except Exception as error:  # unknown kind or version: also a problem
            return [f"{where}: {error}"]
        return []


def render(overlay):
    """The documents `kubectl kustomize` renders from an overlay directory."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RenderError("kubectl not found on PATH: deploy/validate.py renders each overlay with "
                          "`kubectl kustomize`; install kubectl 1.27 or later (kustomize v5)")
    result = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RenderError(f"{overlay.relative_to(ROOT)}: kubectl kustomize failed: "
                          f"{result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def overlays():
    """The overlay directories, by name (a hidden one is a test's scratch overlay)."""
    return {path.name: path for path in sorted(OVERLAYS.iterdir())
            if (path / "kustomization.yaml").is_file() and not path.name.startswith(".")}


def name_of(doc):
    return doc.get("metadata", {}).get("name", "?")


def namespace_of(doc):
    return doc.get("metadata", {}).get("namespace", "default")


def is_public(path):
    """Whether a path (a route without `/...`, or a route match's value) is public."""
    return path.startswith(PUBLIC_PREFIXES) or path in STOREFRONT_PATHS \
        or any(path.startswith(p + "/") for p in STOREFRONT_PATHS if p != "/")


def public_routes(manifest, deployed):
    """spin.toml's public routes (`/v1/users/...` -> `/v1/users`) of the components in
    `deployed`, mapped to their component."""
    routes = {}
    for trigger in manifest.get("trigger", {}).get("http", []):
        route, component = trigger.get("route"), trigger.get("component")
        if not isinstance(route, str) or component not in deployed:
            continue
        path = route.removesuffix("/...") or "/"
        if is_public(path):
            routes[path] = component
    return routes


def under(prefix, path):
    """Whether `path` is `prefix` or below it, by whole segments (how the interceptor and
    Gateway API's PathPrefix match)."""
    p, q = prefix.strip("/"), path.strip("/")
    return p == "" or q == p or q.startswith(p + "/")


def interceptor_target(docs, host, path):
    """The Service the interceptor sends `host` + `path` to: the HTTPScaledObject with the longest
    matching path prefix among those listing the host (or no host), or None."""
    best = None
    for _, doc in docs:
        if doc.get("kind") != "HTTPScaledObject":
            continue
        spec = doc.get("spec", {})
        hosts = spec.get("hosts") or ["*"]
        if host not in hosts and "*" not in hosts:
            continue
        for prefix in spec.get("pathPrefixes") or ["/"]:
            if under(prefix, path) and (best is None or len(prefix.strip("/")) > best[0]):
                best = (len(prefix.strip("/")), spec.get("scaleTargetRef", {}).get("service"))
    return best[1] if best else None


def granted(docs, route_namespace):
    """Whether a ReferenceGrant in the interceptor's namespace lets HTTPRoutes of
    `route_namespace` reference its Service."""
    for _, doc in docs:
        if doc.get("kind") != "ReferenceGrant" or namespace_of(doc) != INTERCEPTOR[0]:
            continue
        spec = doc.get("spec", {})
        if any(f.get("kind") == "HTTPRoute" and f.get("namespace") == route_namespace
               for f in spec.get("from", [])) \
                and any(t.get("kind") == "Service" and t.get("group", "") == ""
                        and t.get("name", INTERCEPTOR[1]) == INTERCEPTOR[1]
                        for t in spec.get("to", [])):
            return True
    return False


def check_http_routes(docs, spinapps, manifest):
    """Problems with the edge: an HTTPRoute may route only public paths, only to SpinApps serving
    them (directly, or through the interceptor to the SpinApp its HTTPScaledObject names), and
    every public route of spin.toml must be routed. A rule without backends may only redirect."""
    problems = []
    serves = {name: set(app.get("spec", {}).get("components", [])) for name, app in spinapps.items()}
    deployed = set().union(*serves.values()) if serves else set()
    routed = {}
    for path, doc in docs:
        if doc.get("kind") != "HTTPRoute":
            continue
        where = f"{path}: HTTPRoute/{name_of(doc)}"
        namespace = namespace_of(doc)
        hostnames = doc.get("spec", {}).get("hostnames") or ["*"]
        for n, rule in enumerate(doc.get("spec", {}).get("rules", [])):
            matches = rule.get("matches") or []
            refs = rule.get("backendRefs") or []
            if not refs:
                if not any(f.get("type") == "RequestRedirect" for f in rule.get("filters", [])):
                    problems.append(f"{where}: rule {n} has no backend and does not redirect")
                continue
            if not matches:
                problems.append(f"{where}: rule {n} has no matches: it would route every path, "
                                "/internal included")
            values = []
            for match in matches:
                p = match.get("path", {"type": "PathPrefix", "value": "/"})
                kind, value = p.get("type", "PathPrefix"), p.get("value", "/")
                if kind not in ("PathPrefix", "Exact"):
                    problems.append(f"{where}: rule {n}: {kind} paths are not allowed "
                                    "(only PathPrefix and Exact can be checked)")
                    continue
                # A prefix of "/internal" (or "/") reaches it; an Exact path only if it is one.
                covers_internal = kind == "PathPrefix" and "/internal".startswith(
                    value.rstrip("/") or "/")
                if value.startswith("/internal") or covers_internal:
                    problems.append(f"{where}: rule {n}: {value!r} can reach /internal routes")
                    continue
                if not is_public(value):
                    problems.append(f"{where}: rule {n}: {value!r} is not a public path")
                    continue
                values.append(value)
            for ref in refs:
                target = (ref.get("namespace", namespace), ref.get("name"))
                if target == INTERCEPTOR:
                    if not granted(docs, namespace):
                        problems.append(f"{where}: rule {n} routes to the interceptor in namespace "
                                        f"{INTERCEPTOR[0]} without a ReferenceGrant there")
                    for value in values:
                        for host in hostnames:
                            service = interceptor_target(docs, host, value)
                            if service is None:
                                problems.append(f"{where}: rule {n}: no HTTPScaledObject routes "
                                                f"{host}{value} from the interceptor")
                            elif service not in serves:
                                problems.append(f"{where}: rule {n}: the interceptor routes "
                                                f"{host}{value} to {service!r}, which is no SpinApp")
                            else:
                                routed[value] = service
                    continue
                if target[0] != namespace:
                    problems.append(f"{where}: rule {n} routes to {target[1]!r} in namespace "
                                    f"{target[0]}, which is no SpinApp of {namespace}")
                    continue
                if target[1] not in serves:
                    problems.append(f"{where}: rule {n} routes to {target[1]!r}, which is no SpinApp")
                    continue
                for value in values:
                    routed[value] = target[1]
    for route, component in public_routes(manifest, deployed).items():
        backend = routed.get(route)
        if backend is None:
            problems.append(f"public route {route} of {component} is not routed by any HTTPRoute")
        elif component not in serves.get(backend, set()):
            problems.append(f"public route {route} goes to SpinApp {backend}, which does not "
                            f"serve {component}")
    return problems


def routed_spinapps(docs, spinapps):
    """The SpinApps an HTTPRoute sends to, directly or through the interceptor."""
    names = set()
    for _, doc in docs:
        if doc.get("kind") != "HTTPRoute":
            continue
        namespace = namespace_of(doc)
        hostnames = doc.get("spec", {}).get("hostnames") or ["*"]
        for rule in doc.get("spec", {}).get("rules", []):
            for ref in rule.get("backendRefs") or []:
                target = (ref.get("namespace", namespace), ref.get("name"))
                if target == INTERCEPTOR:
                    for match in rule.get("matches") or []:
                        value = match.get("path", {}).get("value", "/")
                        names |= {interceptor_target(docs, h, value) for h in hostnames}
                else:
                    names.add(target[1])
    return names & set(spinapps)


def trusted_proxies(docs, app):
    """The identity_trusted_proxies a SpinApp binds (a literal, or its ConfigMap key's value) as
    an int, or None when unbound or not a number."""
    entry = binding(app, "identity_trusted_proxies")
    if entry is None:
        return None
    value = entry.get("value")
    ref = entry.get("valueFrom", {}).get("configMapKeyRef")
    if ref:
        for _, doc in docs:
            if doc.get("kind") == "ConfigMap" and name_of(doc) == ref.get("name") \
                    and namespace_of(doc) == namespace_of(app):
                value = (doc.get("data") or {}).get(ref.get("key"))
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def url_spinapp(docs, url, path):
    """The SpinApp a cluster URL reaches for `path`: `http://<name>.<namespace>.svc...` is the
    SpinApp's Service, and the interceptor's Service sends on to its HTTPScaledObject's target."""
    host = urllib.parse.urlsplit(url).hostname or ""
    labels = host.split(".")
    name, namespace = labels[0], labels[1] if len(labels) > 1 else "shopnow"
    if (namespace, name) == INTERCEPTOR:
        return interceptor_target(docs, host, path)
    return name


def check_storefront_identity(docs, spinapps, manifest):
    """The storefront's sign-ins pass more proxies than a public API client's (docs/security.md,
    "Throttling"): the SpinApp its identity URL reaches must run identity, not be routed at the
    edge, and trust more X-Forwarded-For entries than every SpinApp the edge sends identity's
    routes to; else every visitor shares the storefront path's one sign-in bucket."""
    storefront = spinapps.get("storefront")
    entry = binding(storefront, "storefront_identity_url") if storefront else None
    ref = (entry or {}).get("valueFrom", {}).get("configMapKeyRef")
    if not ref:
        return []
    url = next(((d.get("data") or {}).get(ref.get("key")) for _, d in docs
                if d.get("kind") == "ConfigMap" and name_of(d) == ref.get("name")), None)
    if not url:
        return []
    routes = [r for r, c in public_routes(manifest, {"identity"}).items() if c == "identity"]
    routed = routed_spinapps(docs, spinapps)
    public = {n for n in routed if "identity" in spinapps[n].get("spec", {}).get("components", [])}
    problems = []
    for target in sorted({url_spinapp(docs, url, r) for r in routes}):
        app = spinapps.get(target)
        if app is None or "identity" not in app.get("spec", {}).get("components", []):
            problems.append(f"the storefront's identity URL {url} reaches {target!r}, which is no "
                            "SpinApp running identity")
            continue
        if target in routed:
            problems.append(f"SpinApp/{target}, the storefront's identity, is routed at the edge: "
                            "public clients would have more X-Forwarded-For entries trusted")
        mine = trusted_proxies(docs, app)
        for other in sorted(public):
            theirs = trusted_proxies(docs, spinapps[other])
            if mine is None or theirs is None or mine <= theirs:
                problems.append(f"SpinApp/{target}, the storefront's identity, trusts {mine} "
                                f"proxies, not more than public SpinApp/{other} ({theirs}): every "
                                "storefront visitor would share one sign-in bucket")
    return problems


def load_manifests():
    """Every artifact's manifest, parsed, by file name."""
    return {name: tomllib.loads((ROOT / name).read_text())
            for name in sorted(set(ARTIFACTS.values()))}


def artifact_of(app):
    """The manifest name of a SpinApp's image (`repo:tag` or `repo@digest`), or None."""
    image = app.get("spec", {}).get("image", "")
    repository = image.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return ARTIFACTS.get(repository)


def deployed_components(spec, manifest):
    """The components a SpinApp runs: `components`, or every component of its artifact."""
    return list(spec.get("components") or manifest.get("component", {}))


def trigger_types(manifest):
    return set(manifest.get("trigger", {}))


def serves_http(spec, manifest):
    deployed = set(deployed_components(spec, manifest))
    return any(t.get("component") in deployed for t in manifest.get("trigger", {}).get("http", []))


TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def used_variables(spec, manifest):
    """Application variables a SpinApp's components, their triggers and the application's trigger
    settings (e.g. the Redis address) refer to."""
    deployed = set(deployed_components(spec, manifest))
    parts = [manifest.get("component", {}).get(c, {}) for c in deployed]
    parts += [t for triggers in manifest.get("trigger", {}).values() for t in triggers
              if t.get("component") in deployed]
    parts.append(manifest.get("application", {}).get("trigger", {}))
    return set(TEMPLATE.findall(str(parts)))


def binding(app, variable):
    """How a SpinApp binds a variable (its entry without the name), or None when unbound."""
    for entry in app.get("spec", {}).get("variables", []):
        if entry.get("name") == variable:
            return {k: v for k, v in entry.items() if k != "name"}
    return None


def check_spinapps(spinapps, manifests, declared_stores):
    """Problems of each SpinApp against the manifest of its artifact (and, for artifacts other than
    spin.toml, against the services' SpinApps)."""
    problems = []
    artifacts = {name: artifact_of(app) for name, app in spinapps.items()}
    for name, app in spinapps.items():
        spec = app.get("spec", {})
        artifact = artifacts[name]
        if artifact is None:
            problems.append(f"SpinApp/{name}: image {spec.get('image')!r} is no known artifact "
                            f"({', '.join(sorted(ARTIFACTS))})")
            continue
        manifest = manifests[artifact]
        components = manifest.get("component", {})
        app_variables = manifest.get("variables", {})
        deployed = deployed_components(spec, manifest)
        used = used_variables(spec, manifest)
        # Spin's Redis trigger exits when Redis drops its connection, and Spin then stops every
        # trigger of the process: Redis triggers get an artifact (and pods) of their own.
        types = trigger_types(manifest)
        if "redis" in types and len(types) > 1:
            problems.append(f"SpinApp/{name}: its artifact ({artifact}) mixes Redis and "
                            f"{', '.join(sorted(types - {'redis'}))} triggers")
        if spec.get("checks") and not serves_http(spec, manifest):
            problems.append(f"SpinApp/{name}: `checks` on a SpinApp serving no HTTP: every probe "
                            "would fail (liveness would restart healthy pods)")
        for component in spec.get("components", []):
            if component not in components:
                problems.append(f"SpinApp/{name}: component {component!r} is not in {artifact}")
        for component in deployed:
            for store in components.get(component, {}).get("key_value_stores", []):
                if store != "default" and store not in declared_stores:
                    problems.append(f"SpinApp/{name}: key-value store {store!r} of {component} "
                                    "is not in deploy/runtime-config.production.toml")
        bound = {v.get("name") for v in spec.get("variables", [])}
        for variable in sorted(bound - set(app_variables)):
            problems.append(f"SpinApp/{name}: variable {variable!r} is not declared in {artifact}")
        for variable, decl in app_variables.items():
            if decl.get("required") and variable not in bound and variable in used:
                problems.append(f"SpinApp/{name}: required variable {variable!r} is not bound")
        # Secrets fail closed: production, and every secret or jwt_* variable its components use
        # bound (an unbound one would run with the manifest's public development default).
        environment = [v for v in spec.get("variables", []) if v.get("name") == "shopnow_environment"]
        if [v.get("value") for v in environment] != ["production"]:
            problems.append(f"SpinApp/{name}: shopnow_environment must be bound to 'production'")
        for variable, decl in app_variables.items():
            if not (decl.get("secret") or variable.startswith("jwt_")) or variable in bound:
                continue
            if variable in used and not decl.get("required"):
                problems.append(f"SpinApp/{name}: secret or jwt_* variable {variable!r} is not "
                                f"bound: it would run with {artifact}'s public development default")
        if spec.get("enableAutoscaling") and spec.get("replicas") is not None:
            problems.append(f"SpinApp/{name}: replicas is set but the autoscaler owns it")
        if artifact == SERVICES_ARTIFACT:
            continue
        # Another artifact of the same wasm (the consumers): it must see the services' databases,
        # streams and settings, so each variable is bound as the services' SpinApps using it bind
        # it, or left at its default where they all leave it.
        services = manifests[SERVICES_ARTIFACT]
        for variable in sorted(used & set(services.get("variables", {}))):
            mine = binding(app, variable)
            theirs = {}
            for other, other_app in spinapps.items():
                if artifacts[other] != SERVICES_ARTIFACT:
                    continue
                if variable in used_variables(other_app.get("spec", {}), services):
                    value = binding(other_app, variable)
                    if value is not None:
                        theirs[other] = value
            if mine is None and theirs:
                problems.append(f"SpinApp/{name}: variable {variable!r} is unbound, but "
                                f"SpinApp/{min(theirs)} binds it: {theirs[min(theirs)]}")
            elif mine is not None and not theirs:
                problems.append(f"SpinApp/{name}: variable {variable!r} is bound, but every "
                                "SpinApp of spin.toml using it leaves it at its default")
            for other, value in sorted(theirs.items()):
                if mine is not None and value != mine:
                    problems.append(f"SpinApp/{name}: variable {variable!r} is bound as {mine}, "
                                    f"SpinApp/{other} binds it as {value}")
    return problems


def check_shared_variables(manifests):
    """Variables declared in several manifests mean the same: same default, same secrecy (a
    manifest may make one required instead of defaulting it)."""
    problems = []
    names = sorted(manifests)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a = manifests[first].get("variables", {})
            b = manifests[second].get("variables", {})
            for variable in sorted(set(a) & set(b)):
                if "default" in a[variable] and "default" in b[variable] \
                        and a[variable]["default"] != b[variable]["default"]:
                    problems.append(f"variable {variable!r}: default {a[variable]['default']!r} in "
                                    f"{first}, {b[variable]['default']!r} in {second}")
                if bool(a[variable].get("secret")) != bool(b[variable].get("secret")):
                    problems.append(f"variable {variable!r}: secret in one of {first} and "
                                    f"{second} only")
    return problems


def selects(selector, labels):
    """Whether a label selector (matchLabels, matchExpressions) selects a pod with `labels`."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def check_silent_ingress(docs, spinapps, manifests):
    """A SpinApp serving no HTTP answers nobody: no NetworkPolicy may admit ingress to its pods
    (SpinKube still gives it a Service)."""
    problems = []
    for name, app in spinapps.items():
        artifact = artifact_of(app)
        spec = app.get("spec", {})
        if artifact is None or serves_http(spec, manifests[artifact]):
            continue
        labels = spec.get("podLabels", {})
        for path, doc in docs:
            if doc.get("kind") != "NetworkPolicy":
                continue
            policy = doc.get("spec", {})
            if policy.get("ingress") and selects(policy.get("podSelector", {}), labels):
                problems.append(f"{path}: NetworkPolicy/{doc.get('metadata', {}).get('name', '?')} "
                                f"admits ingress to SpinApp {name}, which serves no HTTP")
    return problems


def check_spin_routes(manifest):
    """Route sets Spin 4.0.2 cannot order: it sorts routes with routefinder 0.5.4, whose
    comparison is not consistent when a route holds a dot, so a catch-all `/...` beside such a
    route can outrank other components' routes (docs/storefront.md, "Routes on Spin")."""
    routes = [t.get("route") for t in manifest.get("trigger", {}).get("http", [])]
    routes = [r for r in routes if isinstance(r, str)]
    dotted = [r for r in routes if "." in r.removesuffix("/...")]
    if "/..." in routes and dotted:
        return [f"spin.toml: a catch-all route \"/...\" beside {', '.join(dotted)}: Spin 4.0.2 may "
                "send other components' requests to it; list the catch-all's paths instead"]
    return []


def pod_specs(doc):
    """The pod specs a workload document defines (its templates), or none."""
    kind, spec = doc.get("kind"), doc.get("spec", {})
    if kind == "Pod":
        return [spec]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return [spec.get("template", {}).get("spec", {})]
    if kind == "CronJob":
        return [spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})]
    return []


def missing_resources(resources):
    """What of cpu and memory requests and limits a `resources` block lacks."""
    return [f"{part}.{resource}" for part in ("requests", "limits")
            for resource in ("cpu", "memory")
            if not (resources or {}).get(part, {}).get(resource)]


def check_resources(docs):
    """Every container, and every SpinApp, has CPU and memory requests and limits: the scheduler
    packs by requests, a limit bounds a runaway, and KEDA's CPU trigger needs the request."""
    problems = []
    for path, doc in docs:
        where = f"{path}: {doc.get('kind')}/{name_of(doc)}"
        if doc.get("kind") == "SpinApp":
            missing = missing_resources(doc.get("spec", {}).get("resources"))
            if missing:
                problems.append(f"{where}: resources lack {', '.join(missing)}")
        for spec in pod_specs(doc):
            for container in spec.get("initContainers", []) + spec.get("containers", []):
                missing = missing_resources(container.get("resources"))
                if missing:
                    problems.append(f"{where}: container {container.get('name')!r} resources "
                                    f"lack {', '.join(missing)}")
    return problems


def check_secrets(docs, manifests):
    """Secrets are referenced, never written: no Secret with data, no credential-like variable
    (or variable its manifest marks secret) with a literal value, no password in a ConfigMap."""
    problems = []
    for path, doc in docs:
        kind = doc.get("kind")
        where = f"{path}: {kind}/{name_of(doc)}"
        if kind == "Secret" and (doc.get("data") or doc.get("stringData")):
            problems.append(f"{where}: a Secret with data in the manifests; reference one "
                            "(secretKeyRef, loadFromSecret) and create it from the secret manager")
        if kind == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if PASSWORD_IN_URL.search(str(value)):
                    problems.append(f"{where}: {key} holds a URL with a password")
        literals = []
        if kind == "SpinApp":
            artifact = artifact_of(doc)
            declared = manifests.get(artifact, {}).get("variables", {}) if artifact else {}
            for variable in doc.get("spec", {}).get("variables", []):
                if "value" in variable:
                    secret = declared.get(variable.get("name"), {}).get("secret")
                    literals.append((variable.get("name", ""), secret))
        for spec in pod_specs(doc):
            for container in spec.get("initContainers", []) + spec.get("containers", []):
                literals += [(env.get("name", ""), False) for env in container.get("env", [])
                             if "value" in env]
        for name, secret in literals:
            if secret or CREDENTIAL_NAME.search(name):
                problems.append(f"{where}: {name} has a literal value; a credential comes from a "
                                "Secret (valueFrom.secretKeyRef)")
    return problems


def config_refs(doc):
    """Every (ConfigMap name, key) a SpinApp's variables or a pod's environment reads."""
    refs = []
    if doc.get("kind") == "SpinApp":
        refs += [v.get("valueFrom", {}).get("configMapKeyRef")
                 for v in doc.get("spec", {}).get("variables", [])]
    for spec in pod_specs(doc):
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            refs += [e.get("valueFrom", {}).get("configMapKeyRef") for e in container.get("env", [])]
    return [(r.get("name"), r.get("key")) for r in refs if r and not r.get("optional")]


def check_config_refs(docs):
    """Every ConfigMap key a workload reads is rendered (or the ConfigMap is one written outside
    these manifests, EXTERNAL_CONFIGMAPS): a missing one keeps the pod from starting."""
    problems = []
    maps = {(namespace_of(d), name_of(d)): d.get("data") or {} for _, d in docs
            if d.get("kind") == "ConfigMap"}
    for path, doc in docs:
        for name, key in config_refs(doc):
            if name in EXTERNAL_CONFIGMAPS:
                continue
            data = maps.get((namespace_of(doc), name))
            if data is None:
                problems.append(f"{path}: {doc.get('kind')}/{name_of(doc)} reads ConfigMap "
                                f"{name}, which is not rendered")
            elif key not in data:
                problems.append(f"{path}: {doc.get('kind')}/{name_of(doc)} reads key {key!r} of "
                                f"ConfigMap {name}, which has none")
    return problems


def scalers(docs):
    """Every autoscaler: (label, (target kind, target name), minimum replicas)."""
    found = []
    for _, doc in docs:
        kind, spec = doc.get("kind"), doc.get("spec", {})
        ref = spec.get("scaleTargetRef", {})
        target = (ref.get("kind", "Deployment"), ref.get("name"))
        if kind == "HorizontalPodAutoscaler":
            found.append((f"HPA/{name_of(doc)}", target, spec.get("minReplicas", 1)))
        elif kind == "ScaledObject":
            found.append((f"ScaledObject/{name_of(doc)}", target, spec.get("minReplicaCount", 0)))
        elif kind == "HTTPScaledObject":
            found.append((f"HTTPScaledObject/{name_of(doc)}", target,
                          spec.get("replicas", {}).get("min", 0)))
    return found


def check_scalers(docs, spinapps, where):
    """One scaler per target, each on a SpinApp (the Deployment SpinKube makes of it) that lets
    an autoscaler own its replicas, and a scaler for every SpinApp that does. Two would fight:
    KEDA makes an HPA from each ScaledObject (an HTTPScaledObject makes a ScaledObject), and its
    webhook refuses a ScaledObject whose target already has an HPA."""
    problems = []
    deployments = {name_of(d) for _, d in docs if d.get("kind") in ("Deployment", "StatefulSet")}
    by_target = {}
    for label, (kind, name), _ in scalers(docs):
        by_target.setdefault((kind, name), []).append(label)
        if kind != "Deployment" or (name not in spinapps and name not in deployments):
            problems.append(f"{where}: {label} targets {kind}/{name}, which is no SpinApp's "
                            "Deployment")
        elif name in spinapps and not spinapps[name]["spec"].get("enableAutoscaling"):
            problems.append(f"{where}: {label} targets SpinApp {name} without enableAutoscaling")
    for _, doc in docs:
        if doc.get("kind") == "HTTPScaledObject":
            ref = doc.get("spec", {}).get("scaleTargetRef", {})
            if ref.get("service") != ref.get("name"):
                problems.append(f"{where}: HTTPScaledObject/{name_of(doc)} sends to Service "
                                f"{ref.get('service')!r}, not the Service of {ref.get('name')!r}")
    for (kind, name), labels in sorted(by_target.items()):
        if len(labels) > 1:
            problems.append(f"{where}: {kind}/{name} is the target of {' and '.join(labels)}: "
                            "one scaler per target")
    for name, app in sorted(spinapps.items()):
        if app["spec"].get("enableAutoscaling") and ("Deployment", name) not in by_target:
            problems.append(f"{where}: SpinApp/{name} leaves its replicas to an autoscaler, and "
                            "none targets it")
    return problems


def region_role(docs):
    """`role` of ConfigMap shopnow-region (active or passive), or None."""
    for _, doc in docs:
        if doc.get("kind") == "ConfigMap" and name_of(doc).startswith("shopnow-region"):
            return (doc.get("data") or {}).get("role")
    return None


def check_region(docs, spinapps, where):
    """An active region keeps every scaler at three or more (a replica per zone: losing a zone
    leaves two); a passive one lets every public SpinApp scale to zero and runs no CronJob (its
    databases are read-only replicas)."""
    role = region_role(docs)
    if role not in ("active", "passive"):
        return [f"{where}: ConfigMap shopnow-region must say role=active or role=passive "
                f"(found {role!r})"]
    problems = []
    found = scalers(docs)
    if role == "active":
        for label, _, minimum in found:
            if minimum < ACTIVE_MINIMUM:
                problems.append(f"{where}: {label} has minimum {minimum} in an active region "
                                f"(at least {ACTIVE_MINIMUM}: one per zone)")
        return problems
    for name in sorted(routed_spinapps(docs, spinapps)):
        if not any(target == ("Deployment", name) and minimum == 0 for _, target, minimum in found):
            problems.append(f"{where}: public SpinApp/{name} has no scaler with minimum 0 in a "
                            "passive region")
    for _, doc in docs:
        if doc.get("kind") == "CronJob" and not doc.get("spec", {}).get("suspend"):
            problems.append(f"{where}: CronJob/{name_of(doc)} is not suspended in a passive region "
                            "(its databases are read-only replicas)")
    return problems


def check_selectors(docs, spinapps, where):
    """Disruption budgets and network policies of namespace shopnow select pods that these
    manifests define (the data tier's select pods its operators make, which are not rendered)."""
    problems = []
    # Pod label sets that exist: SpinApps' podLabels and workload templates' labels.
    pod_labels = [app["spec"].get("podLabels", {}) for app in spinapps.values()]
    for _, doc in docs:
        kind, spec = doc.get("kind"), doc.get("spec", {})
        if kind in ("Job", "Deployment", "StatefulSet", "DaemonSet"):
            pod_labels.append(spec.get("template", {}).get("metadata", {}).get("labels", {}))
        if kind == "CronJob":
            pod_labels.append(spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
                              .get("metadata", {}).get("labels", {}))
    for _, doc in docs:
        kind, spec = doc.get("kind"), doc.get("spec", {})
        if kind in ("PodDisruptionBudget", "NetworkPolicy") and namespace_of(doc) == "shopnow":
            selector = (spec.get("selector") or spec.get("podSelector") or {}).get("matchLabels", {})
            if selector and not any(selector.items() <= labels.items() for labels in pod_labels):
                problems.append(f"{where}: {kind}/{name_of(doc)} selects no pods defined here: "
                                f"{selector}")
    return problems


def validate_documents(where, documents, manifests, declared_stores, schemas):
    """Every problem of one rendered overlay (`where` names it in the messages)."""
    docs = [(where, doc) for doc in documents]
    problems = []
    spinapps = {}
    for _, doc in docs:
        problems += schemas.problems(f"{where}: {doc.get('kind')}/{name_of(doc)}", doc)
        if doc.get("kind") == "SpinApp":
            spinapps[name_of(doc)] = doc
    problems += [f"{where}: {p}" for p in check_spinapps(spinapps, manifests, declared_stores)]
    problems += check_silent_ingress(docs, spinapps, manifests)
    problems += [p if p.startswith(where) else f"{where}: {p}"
                 for p in check_http_routes(docs, spinapps, manifests[SERVICES_ARTIFACT])]
    problems += [f"{where}: {p}" for p in
                 check_storefront_identity(docs, spinapps, manifests[SERVICES_ARTIFACT])]
    problems += check_resources(docs)
    problems += check_secrets(docs, manifests)
    problems += check_config_refs(docs)
    problems += check_scalers(docs, spinapps, where)
    problems += check_region(docs, spinapps, where)
    problems += check_selectors(docs, spinapps, where)
    return problems


def check_postgres_urls():
    """PostgreSQL URLs written anywhere under deploy/ (templates, examples, runtime config):
    Spin's client knows sslmode disable/prefer/require only, and `require` is the one that both
    encrypts and verifies the chain and host name (docs/operations.md, "TLS to PostgreSQL").
    deploy/dr/ is left out: the failover drill's PostgreSQL runs on loopback, never deployed."""
    problems = []
    for path in sorted((ROOT / "deploy").rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".toml", ".env", ".md") \
                or path.is_relative_to(ROOT / "deploy" / "dr"):
            continue
        for url in re.findall(r"postgres(?:ql)?://[^\s\"'`]+", path.read_text()):
            mode = re.search(r"[?&]sslmode=([a-z-]+)", url)
            if not mode or mode.group(1) != "require":
                problems.append(f"{path.relative_to(ROOT)}: {url}: PostgreSQL URLs must say "
                                "sslmode=require (Spin rejects verify-full; prefer/disable may "
                                "skip TLS)")
    return problems


def main():
    manifests = load_manifests()
    runtime = tomllib.loads((ROOT / "deploy" / "runtime-config.production.toml").read_text())
    declared_stores = set(runtime.get("key_value_store", {}))
    schemas = Schemas()
    problems, checked = [], 0
    found = overlays()
    if not found:
        problems.append("deploy/kubernetes/overlays holds no overlay (a kustomization.yaml each)")
    for name, overlay in found.items():
        try:
            documents = render(overlay)
        except RenderError as error:
            if shutil.which("kubectl") is None:
                print(error, file=sys.stderr)
                return 2
            problems.append(str(error))
            continue
        checked += len(documents)
        problems += validate_documents(str(overlay.relative_to(ROOT)), documents, manifests,
                                       declared_stores, schemas)
    problems += check_shared_variables(manifests)
    for artifact in manifests.values():
        problems += check_spin_routes(artifact)
    problems += check_postgres_urls()

    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(found)} overlays rendered, {checked} manifests checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
