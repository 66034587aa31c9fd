#!/usr/bin/env python3
"""Tests of deploy/validate.py: the shipped HTTPRoute and SpinApps pass; every way a route could
expose `/internal` (or miss a public route) is caught, and so is each way the consumers' SpinApp
could drift from spin-consumers.toml or from the services' SpinApps. Run by
scripts/validate-deploy."""
import copy
import pathlib
import sys
import tomllib
import unittest

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import validate  # noqa: E402

ROOT = validate.ROOT
GATEWAY = ROOT / "deploy" / "kubernetes" / "platform" / "gateway.yaml"


def spinapps():
    apps = {}
    for path in (ROOT / "deploy" / "kubernetes").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "SpinApp":
                apps[doc["metadata"]["name"]] = doc
    return apps


def route(*rules):
    return ("test.yaml", {"kind": "HTTPRoute", "metadata": {"name": "t"}, "spec": {"rules": list(rules)}})


def rule(backend, *paths):
    return {"matches": [{"path": {"type": t, "value": v}} for t, v in paths],
            "backendRefs": [{"name": backend, "port": 80}]}


class SpinRoutes(unittest.TestCase):
    def test_the_shipped_routes_pass(self):
        manifest = tomllib.loads((ROOT / "spin.toml").read_text())
        self.assertEqual(validate.check_spin_routes(manifest), [])

    def test_a_catch_all_beside_a_dotted_route_is_refused(self):
        def manifest(*routes):
            return {"trigger": {"http": [{"route": r, "component": "c"} for r in routes]}}
        self.assertTrue(validate.check_spin_routes(manifest("/...", "/.well-known/jwks.json")))
        self.assertEqual(validate.check_spin_routes(manifest("/...", "/v1/users/...")), [])
        self.assertEqual(validate.check_spin_routes(manifest("/", "/.well-known/jwks.json")), [])


class EdgeRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = tomllib.loads((ROOT / "spin.toml").read_text())
        cls.apps = spinapps()
        cls.shipped = [(GATEWAY, d) for d in yaml.safe_load_all(GATEWAY.read_text()) if d]

    def problems(self, *docs):
        return validate.check_http_routes(list(docs), self.apps, self.manifest)

    def test_the_shipped_route_exposes_exactly_the_public_api(self):
        self.assertEqual(self.problems(*self.shipped), [])

    def test_routes_that_could_reach_internal_are_refused(self):
        shipped = self.shipped[1]
        for bad in (
            rule("orders", ("PathPrefix", "/")),
            rule("orders", ("PathPrefix", "/internal")),
            rule("orders", ("PathPrefix", "/internal/v1/orders")),
            rule("orders", ("Exact", "/internal/v1/orders/sweep")),
            rule("orders", ("RegularExpression", "/v1/.*")),
            {"backendRefs": [{"name": "orders", "port": 80}]},
        ):
            with self.subTest(bad=bad):
                problems = self.problems(shipped, route(bad))
                self.assertTrue(problems, f"{bad} was accepted")

    def test_a_private_spinapp_or_a_missing_public_route_is_refused(self):
        self.assertTrue(self.problems(route(rule("catalog-internal", ("PathPrefix", "/v1/products")))))
        self.assertIn("public route /v1/orders of orders is not routed by any HTTPRoute",
                      self.problems(route(rule("identity", ("PathPrefix", "/v1/users")))))


def kubernetes_docs():
    docs = []
    for path in sorted((ROOT / "deploy" / "kubernetes").rglob("*.yaml")):
        docs += [(path.relative_to(ROOT), d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def variables(app):
    return {v["name"]: v for v in app["spec"]["variables"]}


class SpinAppRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifests = validate.load_manifests()
        runtime = tomllib.loads((ROOT / "deploy" / "runtime-config.production.toml").read_text())
        cls.stores = set(runtime["key_value_store"])
        cls.docs = kubernetes_docs()

    def setUp(self):
        self.apps = copy.deepcopy(spinapps())
        self.consumers = self.apps["shopnow-consumers"]
        self.manifests = copy.deepcopy(type(self).manifests)

    def problems(self):
        return (validate.check_spinapps(self.apps, self.manifests, self.stores)
                + validate.check_shared_variables(self.manifests)
                + validate.check_silent_ingress(self.docs, self.apps, self.manifests))

    def assertProblem(self, text):
        problems = self.problems()
        self.assertTrue(any(text in p for p in problems), f"no problem with {text!r}: {problems}")

    def unbind(self, app, name):
        app["spec"]["variables"] = [v for v in app["spec"]["variables"] if v["name"] != name]

    def test_the_shipped_spinapps_pass(self):
        self.assertEqual(self.problems(), [])

    def test_the_consumers_run_the_consumers_artifact(self):
        self.assertEqual(validate.artifact_of(self.consumers), "spin-consumers.toml")
        self.assertFalse(validate.serves_http(self.consumers["spec"],
                                              self.manifests["spin-consumers.toml"]))

    def test_an_unknown_image_is_refused(self):
        self.consumers["spec"]["image"] = "ghcr.io/shopnow/other:0.1.0"
        self.assertProblem("is no known artifact")

    def test_the_required_redis_address_must_be_bound(self):
        self.unbind(self.consumers, "events_redis_url")
        self.assertProblem("required variable 'events_redis_url' is not bound")

    def test_a_variable_the_consumers_manifest_does_not_declare_is_refused(self):
        self.consumers["spec"]["variables"].append(copy.deepcopy(
            variables(self.apps["orders"])["orders_cursor_secret"]))
        self.assertProblem("variable 'orders_cursor_secret' is not declared in spin-consumers.toml")

    def test_an_unbound_secret_is_refused(self):
        self.unbind(self.consumers, "catalog_cursor_secret")
        self.assertProblem("'catalog_cursor_secret' is not bound: it would run with")

    def test_a_binding_unlike_the_services_is_refused(self):
        variables(self.consumers)["orders_database_url"]["valueFrom"]["secretKeyRef"]["name"] = \
            "catalog-secrets"
        self.assertProblem("variable 'orders_database_url' is bound as")

    def test_a_variable_the_services_bind_and_the_consumers_do_not_is_refused(self):
        self.unbind(self.consumers, "orders_database_host")
        self.assertProblem(
            "variable 'orders_database_host' is unbound, but SpinApp/orders binds it")

    def test_a_variable_every_service_leaves_at_its_default_must_stay_so(self):
        self.consumers["spec"]["variables"].append({"name": "events_stream_prefix", "value": "x"})
        self.assertProblem("variable 'events_stream_prefix' is bound, but every SpinApp")

    def test_defaults_and_secrecy_of_shared_variables_must_agree(self):
        shared = self.manifests["spin-consumers.toml"]["variables"]
        shared["events_stream_prefix"]["default"] = "other"
        shared["orders_database_url"]["secret"] = False
        self.assertProblem(
            "variable 'events_stream_prefix': default 'other' in spin-consumers.toml")
        self.assertProblem("variable 'orders_database_url': secret in one of")

    def test_an_artifact_mixing_redis_and_http_triggers_is_refused(self):
        consumers = self.manifests["spin-consumers.toml"]
        consumers["trigger"]["http"] = [{"route": "/...", "component": "orders-consumer"}]
        self.assertProblem("SpinApp/shopnow-consumers: its artifact (spin-consumers.toml) mixes")
        services = self.manifests["spin.toml"]
        services["trigger"]["redis"] = [{"channel": "c", "component": "orders"}]
        self.assertProblem("SpinApp/orders: its artifact (spin.toml) mixes")

    def test_checks_on_a_spinapp_serving_no_http_are_refused(self):
        self.consumers["spec"]["checks"] = copy.deepcopy(self.apps["orders"]["spec"]["checks"])
        self.assertProblem("SpinApp/shopnow-consumers: `checks` on a SpinApp serving no HTTP")

    def test_ingress_to_a_spinapp_serving_no_http_is_refused(self):
        docs = copy.deepcopy(self.docs)
        for _, doc in docs:
            if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"] == "shopnow-consumers":
                doc["spec"]["ingress"] = [{"from": [{"podSelector": {}}]}]
        self.docs = docs
        self.assertProblem("admits ingress to SpinApp shopnow-consumers")


if __name__ == "__main__":
    unittest.main()
