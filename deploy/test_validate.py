#!/usr/bin/env python3
"""Tests of deploy/validate.py's edge rules: the shipped HTTPRoute passes, and every way a route
could expose `/internal` (or miss a public route) is caught. Run by scripts/validate-deploy."""
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


if __name__ == "__main__":
    unittest.main()
